//! Bay deletions from the bus: a deleted bay's container records go with it (the swarm
//! driver already removed its Docker containers).

use std::sync::Arc;

use magnum_bus::Bus;
use tokio_util::sync::CancellationToken;

use crate::app::Containers;

/// The durable consumer's name (shared by replicas).
pub const DURABLE: &str = "container-svc";

/// Consumes bay deletions until `stop`.
pub async fn run_bay_deletions(bus: Arc<dyn Bus>, containers: Containers, stop: CancellationToken) {
    magnum_bay_client::deletions::consume(bus, DURABLE, stop, |bay| {
        let containers = containers.clone();
        async move { containers.bay_deleted(bay).await }
    })
    .await;
}
