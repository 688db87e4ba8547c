//! The bus side of bay operations: consume `magnum.ops.bay.*` from a durable consumer
//! shared by every replica, run each operation, acknowledge it when done; and the periodic
//! health check. Translation only: what an operation does is `app::Operations`.

use std::sync::Arc;
use std::time::Duration;

use magnum_bus::{Bus, ConsumerSpec, Delivery};
use magnum_common::Shutdown;
use magnum_proto::events::v1::BayOperation;
use prost::Message as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;

use crate::app::{Handled, HealthChecks, Heartbeat, Operations};
use crate::store::BAY_OPERATIONS_FILTER;

/// The durable consumer every bay-svc replica shares: each operation goes to one of them.
const DURABLE: &str = "bay-worker";

/// `[bay.worker]`: how this replica runs bay operations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Run operations in this replica (an API-only replica may turn it off).
    pub enabled: bool,
    /// Operations run at once (on different bays).
    pub concurrency: usize,
    /// A bay's lease lasts this long unless renewed; a dead worker's bay is taken over
    /// after it.
    pub lease_secs: u64,
    /// An unacknowledged message is redelivered after this long (renewed while running).
    pub ack_wait_secs: u64,
    /// How soon an operation of a busy bay is offered again.
    pub retry_delay_ms: u64,
    /// On shutdown, how long running operations may take to finish before they are
    /// abandoned (their leases expire and another replica carries on).
    pub drain_secs: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            concurrency: 16,
            lease_secs: 30,
            ack_wait_secs: 30,
            retry_delay_ms: 1000,
            drain_secs: 20,
        }
    }
}

/// `[bay.health]`: the periodic health check of complete bays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// Seconds between checks of one bay; 0 turns checking off.
    pub interval_secs: u64,
    /// How long one driver check may take.
    pub timeout_secs: u64,
    /// Checks run at once.
    pub concurrency: usize,
    /// Bays claimed per round.
    pub batch: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            interval_secs: 60,
            timeout_secs: 10,
            concurrency: 8,
            batch: 100,
        }
    }
}

struct DeliveryHeartbeat<'a>(&'a Delivery);

#[async_trait::async_trait]
impl Heartbeat for DeliveryHeartbeat<'_> {
    async fn beat(&self) {
        if let Err(error) = self.0.progress().await {
            tracing::warn!(%error, "cannot extend the operation's delivery");
        }
    }
}

/// Consumes bay operations until `shutdown`, then lets running ones finish (bounded by
/// `drain_secs`).
pub async fn run_operations(
    bus: Arc<dyn Bus>,
    operations: Operations,
    config: WorkerConfig,
    shutdown: Shutdown,
) {
    let mut spec = ConsumerSpec::new(DURABLE, BAY_OPERATIONS_FILTER);
    spec.ack_wait = Duration::from_secs(config.ack_wait_secs.max(1));
    let retry = Duration::from_millis(config.retry_delay_ms);
    let mut subscription = loop {
        match bus.consume(spec.clone()).await {
            Ok(subscription) => break subscription,
            Err(error) => {
                tracing::warn!(%error, "cannot consume bay operations; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(retry.max(Duration::from_secs(1))) => {}
                }
            }
        }
    };
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut running = JoinSet::new();
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else {
            break;
        };
        // Finished handlers are reaped here rather than raced against `next`: cancelling a
        // pull that has just received a message would strand it until its ack_wait.
        while let Some(joined) = running.try_join_next() {
            report(joined);
        }
        let next = tokio::select! {
            () = shutdown.cancelled() => break,
            next = subscription.next() => next,
        };
        match next {
            None => {
                tracing::error!("the bay operations feed ended");
                break;
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "cannot receive bay operations");
                tokio::time::sleep(retry).await;
            }
            Some(Ok(delivery)) => {
                let operations = operations.clone();
                running.spawn(async move {
                    handle(&operations, delivery, retry).await;
                    drop(slot);
                });
            }
        }
    }
    let drain = tokio::time::timeout(Duration::from_secs(config.drain_secs), async {
        while let Some(joined) = running.join_next().await {
            report(joined);
        }
    });
    // While the running ones finish, an operation already on its way to this replica (a
    // pull request it sent) is handed back to the others instead of waiting out ack_wait.
    let ((), drained) = tokio::join!(subscription.release(magnum_bus::PULL_EXPIRY), drain);
    if drained.is_err() {
        tracing::warn!(
            left = running.len(),
            "abandoning running bay operations; their leases expire and another worker takes over"
        );
        running.abort_all();
    }
}

/// A crashed handler leaves its message unacknowledged and its lease held: both run out
/// and the operation is taken over, as if the process had died.
fn report(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "a bay operation handler crashed; the operation will be redelivered");
    }
}

async fn handle(operations: &Operations, delivery: Delivery, retry: Duration) {
    let Some(id) = operation_id(&delivery.message.payload) else {
        tracing::error!(subject = %delivery.message.subject, "dropping an unreadable bay operation");
        if let Err(error) = delivery.term().await {
            tracing::warn!(%error, "cannot drop the message");
        }
        return;
    };
    // The operation continues the trace of the request that asked for it (through the
    // outbox and the bus message's headers).
    let span =
        tracing::info_span!("bay_operation", subject = %delivery.message.subject, operation = %id);
    magnum_telemetry::set_parent_from_map(&span, &delivery.message.headers);
    let outcome = operations
        .run(id, &DeliveryHeartbeat(&delivery))
        .instrument(span)
        .await;
    let acked = match outcome {
        Ok(Handled::Done) => {
            fail::fail_point!("bay-worker-before-ack");
            delivery.ack().await
        }
        Ok(Handled::Retry(delay)) => delivery.nak(Some(delay)).await,
        Err(error) => {
            tracing::warn!(%error, operation = %id, "bay operation failed; it will be retried");
            delivery.nak(Some(retry)).await
        }
    };
    if let Err(error) = acked {
        // Redelivered later; finished operations are recognised then.
        tracing::warn!(%error, operation = %id, "cannot settle the operation's message");
    }
}

fn operation_id(payload: &[u8]) -> Option<Uuid> {
    let operation = BayOperation::decode(payload).ok()?;
    Uuid::parse_str(&operation.operation_id).ok()
}

/// Checks bays' health every `interval_secs` until `shutdown`.
pub async fn run_health_checks(checks: HealthChecks, config: HealthConfig, shutdown: Shutdown) {
    if config.interval_secs == 0 {
        return;
    }
    let interval = Duration::from_secs(config.interval_secs);
    // Rounds come more often than each bay's interval, so a bay is checked close to it.
    let round = (interval / 4).max(Duration::from_millis(250));
    loop {
        match checks
            .run_once(interval, config.batch, config.concurrency)
            .await
        {
            Ok(checked) if checked > 0 => tracing::debug!(checked, "bay health checked"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "bay health round failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(round) => {}
        }
    }
}
