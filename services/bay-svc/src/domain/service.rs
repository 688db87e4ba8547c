//! Magnum services (`/v1/mservices`): the replicas of every service, each up while its
//! heartbeats keep coming (Magnum's `service_down_time` rule).

use chrono::{DateTime, Duration, Utc};

/// A replica as its last heartbeat described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceReplica {
    pub id: i64,
    pub host: String,
    pub binary: String,
    pub report_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether a replica is alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    Up,
    Down,
}

impl ServiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }
}

impl ServiceReplica {
    /// Up iff the last heartbeat is at most `down_time` old at `now`.
    pub fn state(&self, now: DateTime<Utc>, down_time: Duration) -> ServiceState {
        if now - self.updated_at <= down_time {
            ServiceState::Up
        } else {
            ServiceState::Down
        }
    }
}

/// Replicas in a stable order: by binary, then host, then id.
pub fn sorted(mut replicas: Vec<ServiceReplica>) -> Vec<ServiceReplica> {
    replicas.sort_by(|a, b| {
        (a.binary.as_str(), a.host.as_str(), a.id).cmp(&(b.binary.as_str(), b.host.as_str(), b.id))
    });
    replicas
}

#[cfg(test)]
#[path = "service_test.rs"]
mod tests;
