//! Carrying out bay operations: claim the bay's lease, call the driver, record the outcome.
//!
//! Any number of workers (replicas) run this for the operations the bus hands them. The
//! lease makes it one operation per bay at a time; a dead holder's lease expires and the
//! redelivered operation is taken over. Drivers are idempotent, so a repeated call after a
//! crash finishes the job rather than doing it twice; a finished operation is never run
//! again (its row says so), so a late redelivery is harmless.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use magnum_bay_driver::{BayDriver, BayRef, Provisioned};
use magnum_pki::Sealer;
use uuid::Uuid;

use super::bays::{Drivers, seal_credential};
use super::now;
use crate::domain::bay::{Bay, BayNode, NodeRole, Operation, OperationKind, Outcome, Placement};
use crate::domain::event::{BayDeletedEvent, BayStatusEvent};
use crate::domain::ports::{Claim, Finish, OperationStore};
use crate::error::Result;

/// What the transport should do with the operation's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Finished (or nothing to do): acknowledge it.
    Done,
    /// The bay is busy: hand the message back to be delivered again after this long.
    Retry(Duration),
}

/// Keeps the transport's delivery alive while an operation runs (JetStream's "in
/// progress").
#[async_trait::async_trait]
pub trait Heartbeat: Send + Sync {
    async fn beat(&self);
}

/// Timing of the workers.
#[derive(Debug, Clone, Copy)]
pub struct OperationTiming {
    /// How long a lease lasts unless renewed (renewed every third of it).
    pub lease: Duration,
    /// How soon a busy bay's operation is offered again.
    pub retry_delay: Duration,
}

/// Runs operations for one worker process.
#[derive(Clone)]
pub struct Operations {
    store: Arc<dyn OperationStore>,
    drivers: Drivers,
    sealer: Arc<Sealer>,
    holder: String,
    timing: OperationTiming,
    /// Operations this process is running now.
    running: Arc<Mutex<HashSet<Uuid>>>,
}

impl Operations {
    /// `holder` names this process in leases; it must be unique among the workers.
    pub fn new(
        store: Arc<dyn OperationStore>,
        drivers: Drivers,
        sealer: Arc<Sealer>,
        holder: String,
        timing: OperationTiming,
    ) -> Self {
        Self {
            store,
            drivers,
            sealer,
            holder,
            timing,
            running: Arc::default(),
        }
    }

    /// Runs the operation `id`, if it is this worker's to run now.
    #[tracing::instrument(skip_all, fields(operation = %id))]
    pub async fn run(&self, id: Uuid, heartbeat: &dyn Heartbeat) -> Result<Handled> {
        // A redelivery of an operation this process still runs (its delivery timed out
        // meanwhile): the lease is this process's, so claiming would run it twice at once.
        let Some(_running) = Running::enter(&self.running, id) else {
            return Ok(Handled::Retry(self.timing.retry_delay));
        };
        let now = now();
        let until = now + lease_delta(self.timing.lease);
        match self.store.claim(id, &self.holder, until, now).await? {
            Claim::Settled => Ok(Handled::Done),
            Claim::Superseded => {
                tracing::info!("operation superseded by a later delete of its bay");
                Ok(Handled::Done)
            }
            Claim::Busy => Ok(Handled::Retry(self.timing.retry_delay)),
            Claim::Claimed {
                operation,
                bay,
                attempt,
            } => {
                tracing::info!(bay = %bay.uuid, kind = operation.kind.as_str(), attempt, "operation claimed");
                self.execute(&operation, &bay, heartbeat).await
            }
        }
    }

    async fn execute(
        &self,
        operation: &Operation,
        bay: &Bay,
        heartbeat: &dyn Heartbeat,
    ) -> Result<Handled> {
        fail::fail_point!("bay-worker-before-driver");
        let work = self.drive(operation, bay);
        let (outcome, credential) = tokio::select! {
            result = work => result,
            () = self.keep_lease(bay.uuid, heartbeat) => {
                tracing::warn!(bay = %bay.uuid, "lease lost mid-operation; leaving it to its new holder");
                return Ok(Handled::Done);
            }
        };
        let sealed_credential = match credential {
            Some(secret) => Some(seal_credential(&self.sealer, bay.uuid, &secret)?),
            None => None,
        };
        let now = now();
        let settled = bay.settle(operation.kind, &outcome, now);
        let status_event =
            (settled.status != bay.status).then(|| BayStatusEvent::of(&settled, now));
        let deleted_event = matches!(outcome, Outcome::Deleted).then(|| BayDeletedEvent {
            id: Uuid::now_v7(),
            bay_uuid: bay.uuid,
            project_id: bay.project_id.clone(),
            coe: bay.coe.as_str().to_owned(),
            occurred_at: now,
        });
        let finished = self
            .store
            .finish(Finish {
                operation,
                holder: &self.holder,
                bay: &settled,
                sealed_credential,
                status_event,
                deleted_event,
            })
            .await?;
        if finished {
            tracing::info!(bay = %bay.uuid, status = %settled.status, "operation finished");
        } else {
            tracing::warn!(bay = %bay.uuid, "lease lost before the outcome was recorded");
        }
        Ok(Handled::Done)
    }

    /// Calls the driver; every failure becomes the bay's reason.
    async fn drive(&self, operation: &Operation, bay: &Bay) -> (Outcome, Option<Vec<u8>>) {
        let Some(driver) = self.drivers.get(bay.coe) else {
            return (
                Outcome::Failed(format!(
                    "No {} driver is configured in this deployment.",
                    bay.coe.as_str()
                )),
                None,
            );
        };
        let target = bay_ref(bay, operation);
        let started = std::time::Instant::now();
        let driven = self
            .drive_with(driver.as_ref(), operation, bay, &target)
            .await;
        let outcome = match &driven.0 {
            Outcome::Failed(_) => "failed",
            _ => "succeeded",
        };
        record_driver_call(bay.coe.as_str(), operation.kind.as_str(), outcome, started);
        driven
    }

    async fn drive_with(
        &self,
        driver: &dyn BayDriver,
        operation: &Operation,
        bay: &Bay,
        target: &BayRef,
    ) -> (Outcome, Option<Vec<u8>>) {
        match operation.kind {
            OperationKind::Create => self.create(driver, bay, target).await,
            OperationKind::Update => {
                let current = provisioned(&bay.placement);
                match driver.resize(target, &current).await {
                    Ok(resized) => provisioned_outcome(resized),
                    Err(error) => (Outcome::Failed(error.message().to_owned()), None),
                }
            }
            OperationKind::Delete => {
                let current =
                    (!bay.placement.driver_state.is_null()).then(|| provisioned(&bay.placement));
                match driver.delete(target, current.as_ref()).await {
                    Ok(()) => (Outcome::Deleted, None),
                    Err(error) => (Outcome::Failed(error.message().to_owned()), None),
                }
            }
        }
    }

    /// A create, bounded by the bay's create timeout.
    async fn create(
        &self,
        driver: &dyn BayDriver,
        bay: &Bay,
        target: &BayRef,
    ) -> (Outcome, Option<Vec<u8>>) {
        let timed_out = || {
            (
                Outcome::Failed(format!(
                    "Bay creation timed out after {} minutes.",
                    bay.create_timeout
                )),
                None,
            )
        };
        let result = match bay.create_deadline() {
            None => driver.create(target).await,
            Some(deadline) => {
                let Ok(left) = (deadline - now()).to_std() else {
                    return timed_out();
                };
                match tokio::time::timeout(left, driver.create(target)).await {
                    Ok(result) => result,
                    Err(_) => return timed_out(),
                }
            }
        };
        match result {
            Ok(made) => provisioned_outcome(made),
            Err(error) => (Outcome::Failed(error.message().to_owned()), None),
        }
    }

    /// Renews the lease (and the delivery) until it is lost; never returns otherwise.
    async fn keep_lease(&self, bay: Uuid, heartbeat: &dyn Heartbeat) {
        let period = self.timing.lease / 3;
        loop {
            tokio::time::sleep(period).await;
            let until = now() + lease_delta(self.timing.lease);
            match self.store.renew(bay, &self.holder, until).await {
                Ok(true) => heartbeat.beat().await,
                Ok(false) => return,
                // The database may come back before the lease runs out: keep trying.
                Err(error) => tracing::warn!(%error, "cannot renew the bay lease"),
            }
        }
    }
}

/// Marks an operation as running in this process until dropped (also when its task
/// panics, so a crashed operation's redelivery is taken up again).
struct Running {
    set: Arc<Mutex<HashSet<Uuid>>>,
    id: Uuid,
}

impl Running {
    fn enter(set: &Arc<Mutex<HashSet<Uuid>>>, id: Uuid) -> Option<Self> {
        let entered = set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
        entered.then(|| Self {
            set: Arc::clone(set),
            id,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

fn lease_delta(lease: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::seconds(30))
}

/// The bay as its driver sees it; an update carries the count it asks for.
pub(crate) fn bay_ref(bay: &Bay, operation: &Operation) -> BayRef {
    let node_count = match operation.kind {
        OperationKind::Update => operation.node_count,
        OperationKind::Create | OperationKind::Delete => bay.node_count,
    };
    BayRef {
        uuid: bay.uuid,
        name: bay.name.clone(),
        project_id: bay.project_id.clone(),
        node_count,
        master_count: bay.master_count,
        labels: bay.labels.clone(),
    }
}

fn provisioned_outcome(made: Provisioned) -> (Outcome, Option<Vec<u8>>) {
    let placement = Placement {
        api_address: made.api_address,
        nodes: made
            .nodes
            .into_iter()
            .map(|node| BayNode {
                name: node.name,
                address: node.address,
                role: match node.role {
                    magnum_bay_driver::NodeRole::Master => NodeRole::Master,
                    magnum_bay_driver::NodeRole::Worker => NodeRole::Worker,
                },
                error: None,
            })
            .collect(),
        driver_state: made.state,
    };
    (Outcome::Provisioned(placement), made.credential)
}

/// What the driver made, as it handed it over (the credential stays sealed in the store).
pub(crate) fn provisioned(placement: &Placement) -> Provisioned {
    Provisioned {
        api_address: placement.api_address.clone(),
        nodes: placement
            .nodes
            .iter()
            .map(|node| magnum_bay_driver::NodeInfo {
                name: node.name.clone(),
                address: node.address.clone(),
                role: match node.role {
                    NodeRole::Master => magnum_bay_driver::NodeRole::Master,
                    NodeRole::Worker => magnum_bay_driver::NodeRole::Worker,
                },
            })
            .collect(),
        state: placement.driver_state.clone(),
        credential: None,
    }
}

/// Periodic health checks of complete bays.
#[derive(Clone)]
pub struct HealthChecks {
    store: Arc<dyn OperationStore>,
    drivers: Drivers,
    /// How long one driver check may take.
    pub timeout: Duration,
}

impl HealthChecks {
    pub fn new(store: Arc<dyn OperationStore>, drivers: Drivers, timeout: Duration) -> Self {
        Self {
            store,
            drivers,
            timeout,
        }
    }

    /// Claims up to `limit` bays not checked within `interval` and checks them,
    /// `concurrency` at a time. Returns how many were checked.
    pub async fn run_once(
        &self,
        interval: Duration,
        limit: u32,
        concurrency: usize,
    ) -> Result<usize> {
        use futures::StreamExt as _;
        let now = now();
        let due = self
            .store
            .claim_health_checks(now - lease_delta(interval), now, limit)
            .await?;
        let checked = due.len();
        futures::stream::iter(due)
            .for_each_concurrent(concurrency.max(1), |bay| async move {
                if let Err(error) = self.check(&bay).await {
                    tracing::warn!(bay = %bay.uuid, %error, "cannot record a health check");
                }
            })
            .await;
        Ok(checked)
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn check(&self, bay: &Bay) -> Result<()> {
        let Some(driver) = self.drivers.get(bay.coe) else {
            return Ok(());
        };
        let target = BayRef {
            uuid: bay.uuid,
            name: bay.name.clone(),
            project_id: bay.project_id.clone(),
            node_count: bay.node_count,
            master_count: bay.master_count,
            labels: bay.labels.clone(),
        };
        let current = provisioned(&bay.placement);
        let every_node = |reason: String| -> BTreeMap<String, String> {
            bay.placement
                .nodes
                .iter()
                .map(|node| (node.name.clone(), reason.clone()))
                .collect()
        };
        let started = std::time::Instant::now();
        let checked = tokio::time::timeout(self.timeout, driver.health(&target, &current)).await;
        let outcome = if matches!(checked, Ok(Ok(_))) {
            "succeeded"
        } else {
            "failed"
        };
        record_driver_call(bay.coe.as_str(), "health", outcome, started);
        let unhealthy = match checked {
            Ok(Ok(health)) => health
                .nodes
                .into_iter()
                .filter(|node| !node.healthy)
                .map(|node| {
                    let reason = node.reason.unwrap_or_else(|| "unhealthy".to_owned());
                    (node.name, reason)
                })
                .collect(),
            Ok(Err(error)) => every_node(error.message().to_owned()),
            Err(_) => every_node(format!(
                "health check timed out after {} s",
                self.timeout.as_secs()
            )),
        };
        if !unhealthy.is_empty() {
            tracing::warn!(?unhealthy, "bay unhealthy");
        }
        self.store.record_health(&bay.with_health(&unhealthy)).await
    }
}

/// `magnum_driver_call_duration_seconds{coe, operation, outcome}`: how long a bay
/// driver took, by what it did and whether it worked.
fn record_driver_call(
    coe: &'static str,
    operation: &'static str,
    outcome: &'static str,
    started: std::time::Instant,
) {
    metrics::histogram!(
        "magnum_driver_call_duration_seconds",
        "coe" => coe,
        "operation" => operation,
        "outcome" => outcome,
    )
    .record(started.elapsed().as_secs_f64());
}
