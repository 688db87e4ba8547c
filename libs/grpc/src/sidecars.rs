//! What every service runs beside its API, the same way in each: the Prometheus
//! endpoint on `metrics_listen` and the heartbeat in the bus's service registry.

use std::net::SocketAddr;

use magnum_bus::presence::{self, Registry};
use magnum_common::Shutdown;
use tokio::task::JoinHandle;

use crate::GrpcError;

/// The running side tasks of one service.
pub struct Sidecars {
    metrics: Option<JoinHandle<()>>,
    presence: JoinHandle<()>,
}

impl Sidecars {
    /// Binds the metrics endpoint (when `metrics_listen` is set; binding failures stop the
    /// service's start) and starts beating as `binary`, both until `stop`.
    pub async fn start(
        binary: &'static str,
        registry: Registry,
        metrics_listen: Option<SocketAddr>,
        stop: Shutdown,
    ) -> Result<Self, GrpcError> {
        let metrics = crate::metrics::serve_metrics(metrics_listen, stop.clone()).await?;
        let presence = presence::spawn(registry, binary, presence::REPORT_INTERVAL, stop);
        Ok(Self { metrics, presence })
    }

    /// Waits for both to finish once `stop` is cancelled (a clean stop removes the
    /// replica's heartbeat).
    pub async fn join(self) {
        if let Some(metrics) = self.metrics
            && let Err(error) = metrics.await
        {
            tracing::error!(%error, "the metrics endpoint task failed");
        }
        if let Err(error) = self.presence.await {
            tracing::error!(%error, "the heartbeat task failed");
        }
    }
}
