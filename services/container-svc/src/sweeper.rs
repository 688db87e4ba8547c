//! The periodic sweep for creates abandoned by a replica that stopped mid-way; the first
//! runs at start-up, so a restarted replica settles its own.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::Containers;

/// Sweeps every `interval` until `stop`.
pub async fn run(containers: Containers, interval: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = containers.sweep_abandoned_creates().await {
            tracing::warn!(%error, "sweep for abandoned creates failed");
        }
    }
}
