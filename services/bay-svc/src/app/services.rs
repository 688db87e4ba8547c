//! The Magnum services use case (`/v1/mservices`): every replica's last heartbeat from
//! the bus's registry, up or down by its age. Admins only.

use std::sync::Arc;

use chrono::{Duration, Utc};
use magnum_bus::Bus;
use magnum_common::RequestContext;
use magnum_policy::{Policy, ResourceGuard};

use crate::domain::service::{self, ServiceReplica};
use crate::error::{Error, Result};

/// The replicas of every service.
#[derive(Clone)]
pub struct MagnumServices {
    bus: Arc<dyn Bus>,
    guard: ResourceGuard,
    /// How old a last heartbeat may be for its replica to count as up.
    down_time: Duration,
}

impl MagnumServices {
    pub fn new(bus: Arc<dyn Bus>, policy: Policy, down_time: std::time::Duration) -> Self {
        Self {
            bus,
            guard: ResourceGuard::new(policy, "magnum-service"),
            down_time: Duration::from_std(down_time).unwrap_or(Duration::MAX),
        }
    }

    /// Every replica with its state, ordered by binary and host.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, ctx: &RequestContext) -> Result<Vec<(ServiceReplica, &'static str)>> {
        self.guard.enforce("get_all", ctx, None)?;
        let beats = self
            .bus
            .heartbeats()
            .await
            .map_err(|error| Error::RegistryUnavailable(Box::new(error)))?;
        let now = Utc::now();
        let replicas = beats
            .into_iter()
            .map(|beat| ServiceReplica {
                id: beat.id,
                host: beat.host,
                binary: beat.binary,
                report_count: beat.report_count,
                created_at: beat.created_at,
                updated_at: beat.updated_at,
            })
            .collect();
        Ok(service::sorted(replicas)
            .into_iter()
            .map(|replica| {
                let state = replica.state(now, self.down_time).as_str();
                (replica, state)
            })
            .collect())
    }
}
