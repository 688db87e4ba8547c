//! Service presence: every replica of every service records a heartbeat in the bus's
//! registry (JetStream: a key-value bucket whose entries expire [`REGISTRY_TTL`] after
//! their last write; in-process: a map with the same expiry), and `/v1/mservices` reads
//! it. A replica that stops cleanly removes its entry; one that dies stops beating and
//! shows as down until the entry expires.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::{Bus, BusConfig};

/// How long a replica's last heartbeat is kept: a dead replica is listed (as down) this
/// long, then forgotten.
pub const REGISTRY_TTL: Duration = Duration::from_secs(24 * 3600);

/// How often a replica beats (Magnum's `report_interval`).
pub const REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// One replica's last heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The registry key: `<binary>.<host>.<instance>` (unique per replica).
    pub key: String,
    /// A number for Magnum's integer `id`, fixed for the replica's life.
    pub id: i64,
    /// Where the replica runs (the host name; a pod's name on Kubernetes).
    pub host: String,
    /// What runs, e.g. `magnum-bay-svc`.
    pub binary: String,
    /// Heartbeats sent so far, this one included.
    pub report_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Heartbeat {
    /// The first heartbeat of a new replica of `binary` on this host.
    pub fn first(binary: &str) -> Self {
        let host = hostname::get()
            .ok()
            .and_then(|name| name.into_string().ok())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        let instance = uuid::Uuid::new_v4();
        let key = format!(
            "{binary}.{}.{}",
            registry_key_part(&host),
            instance.simple()
        );
        // 48 random bits: positive in every JSON number reader.
        let id = instance.as_u64_pair().0 >> 16;
        let now = Utc::now();
        Self {
            key,
            id: i64::try_from(id).unwrap_or_default(),
            host,
            binary: binary.to_owned(),
            report_count: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The next heartbeat of the same replica.
    fn next(&self) -> Self {
        Self {
            report_count: self.report_count + 1,
            updated_at: Utc::now(),
            ..self.clone()
        }
    }
}

/// Host names may hold characters registry keys cannot (`[-/_=.a-zA-Z0-9]` only).
fn registry_key_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where the heartbeats go: a bus the service already has, or a configuration to connect
/// with (services that use the bus for nothing else; they keep serving while it is down).
pub enum Registry {
    Bus(Arc<dyn Bus>),
    Config(BusConfig),
}

/// Beats every `interval` as `binary` until `stop`, then removes the replica's entry.
/// Failures are logged and retried at the next beat: presence never stops a service.
pub fn spawn(
    registry: Registry,
    binary: &'static str,
    interval: Duration,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (mut bus, config) = match registry {
            Registry::Bus(bus) => (Some(bus), None),
            Registry::Config(config) => (None, Some(config)),
        };
        let mut beat = Heartbeat::first(binary);
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(100)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticker.tick() => {}
            }
            if bus.is_none()
                && let Some(config) = &config
            {
                match crate::connect(config).await {
                    Ok(connected) => bus = Some(connected),
                    Err(error) => {
                        tracing::warn!(%error, binary, "no bus for the service heartbeat yet");
                        continue;
                    }
                }
            }
            let Some(connected) = &bus else {
                continue;
            };
            beat = beat.next();
            if let Err(error) = connected.record_heartbeat(&beat).await {
                tracing::warn!(%error, binary, "cannot record the service heartbeat");
            }
        }
        if let Some(connected) = bus
            && beat.report_count > 0
            && let Err(error) = connected.forget_heartbeat(&beat.key).await
        {
            tracing::warn!(%error, binary, "cannot remove the service heartbeat");
        }
    })
}
