//! Graceful scaling. Two replicas of bay-svc and two of container-svc run as real
//! processes (`src/bin/it-*.rs`: the services' own `main`), each pair on one Postgres
//! schema, all on one JetStream prefix and the test Docker engine's swarm pool. While
//! requests and bay operations are in flight on replica `a` of each service, `a` gets
//! SIGTERM, as the kubelet sends it when a Deployment scales down or rolls. Every request
//! must succeed, every bay and every container must be made exactly once, and the stopped
//! replicas must exit 0 within their grace period.
//!
//! What is in flight at the signal is made certain rather than hoped for: the test holds
//! `SHARE` locks on the services' tables (`bay_leases`: workers wait to claim operations;
//! `bays`, `containers`: creates wait to insert), waits until Postgres shows the expected
//! requests of replica `a` queued behind them (each replica's connections carry its own
//! `application_name`), sends the signals, waits until `a` stops accepting connections, and
//! only then lets the queued work go on. Audit triggers the test adds to the services'
//! tables record every state change with the replica that made it, which is how "exactly
//! once" and "finished by the replica that started it" are checked, next to the events
//! stream and the Docker engine.
//!
//! Clients: the test talks gRPC to the replicas directly, round-robin per request. A
//! request the replica certainly did not take (connection or stream refused, or the
//! connection already going away when the request was to be written: see `never_sent`)
//! is the one failure it retries, on the other replica, after which it sends that replica
//! nothing more: that is what a Kubernetes Service gives its clients once the terminating
//! pod has left its endpoints.
//! container-svc reaches bay-svc through a TCP balancer standing in for the `bay-svc`
//! Service; the stopped bay-svc replica is taken out of it before the signal.
//!
//! The tests at the end each pin down one drain problem this test found in the services
//! (now fixed): what went wrong, where, and how it showed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use magnum_bus::{BusConfig, ConsumerSpec};
use magnum_common::{RequestContext, Shutdown};
use magnum_db::DatabaseConfig;
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_integration_tests::processes::{Balancer, ServiceProcess, free_loopback_addr};
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::bay_service_client::BayServiceClient;
use magnum_proto::container::v1 as cpb;
use magnum_proto::container::v1::container_service_client::ContainerServiceClient;
use magnum_proto::events::v1::BayStatusChanged;
use prost::Message as _;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tonic::{Code, Status};

/// Bound on every wait for something that should happen.
const WAIT: Duration = Duration::from_secs(60);
/// How long a stopped replica may take to exit after SIGTERM (container-svc's
/// `terminationGracePeriodSeconds`; bay-svc's is 45 s, for a `drain_secs` of 20 s, which is
/// 10 s here).
const GRACE: Duration = Duration::from_secs(30);
/// Most bays created while workers wait on their leases, one at a time, until replica
/// `a`'s worker holds one of their operations.
const WORKER_WAVE_MAX: usize = 4;
/// Bays whose create requests wait in the replicas' API at the signal.
const API_WAVE: usize = 4;
/// Bays created after the signal.
const AFTER_WAVE: usize = 3;
/// Containers created before the locks, while they wait at the signal, and after it.
const CONTAINERS_BEFORE: usize = 4;
const CONTAINERS_DURING: usize = 4;
const CONTAINERS_AFTER: usize = 12;

const BAY_A: &str = "bay-svc-a";
const BAY_B: &str = "bay-svc-b";
const CONTAINER_A: &str = "container-svc-a";
const CONTAINER_B: &str = "container-svc-b";

// ---------------------------------------------------------------------------------------
// Cleanup, whatever happens
// ---------------------------------------------------------------------------------------

/// Removes what the test's project left on the Docker engine, deletes its JetStream
/// streams and stops the in-process identity-svc, also when the test panics; removes the
/// logs unless it does. Part of [`World`], which is declared before the processes, so they
/// are killed first.
struct Cleanup {
    project: String,
    bus: BusConfig,
    identity: Shutdown,
    /// The processes' logs and configuration: kept when the test fails.
    dir: PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.identity.cancel();
        if std::thread::panicking() {
            eprintln!("scaling: logs kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        let label = format!("label=magnum.project={}", self.project);
        for id in docker_lines(&["ps", "-aq", "--filter", &label]) {
            let _ = docker(&["rm", "-f", &id]);
        }
        for id in docker_lines(&["network", "ls", "-q", "--filter", &label]) {
            let _ = docker(&["network", "rm", &id]);
        }
        let url = self.bus.url.clone();
        let upper = self.bus.prefix.to_ascii_uppercase();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let connect = async_nats::ConnectOptions::new()
                    .connection_timeout(Duration::from_secs(2))
                    .connect(url);
                if let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(5), connect).await
                {
                    let jetstream = async_nats::jetstream::new(client);
                    for stream in ["MAGNUM_OPS", "MAGNUM_EVENTS"] {
                        let _ = jetstream.delete_stream(format!("{upper}_{stream}")).await;
                    }
                }
            });
        })
        .join();
    }
}

fn docker(args: &[&str]) -> std::process::Output {
    std::process::Command::new("docker")
        .env("DOCKER_HOST", magnum_testkit::docker::host())
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run docker {args:?}: {error}"))
}

fn docker_lines(args: &[&str]) -> Vec<String> {
    let output = docker(args);
    assert!(output.status.success(), "docker {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// How many Docker objects (`ps -a` or `network ls`) of the project carry each value of
/// `label`.
fn docker_labelled(kind: &[&str], project: &str, label: &str) -> BTreeMap<String, usize> {
    let filter = format!("label=magnum.project={project}");
    let format = format!("{{{{.Label \"{label}\"}}}}");
    let mut args = kind.to_vec();
    args.extend(["--filter", &filter, "--format", &format]);
    let mut counts = BTreeMap::new();
    for value in docker_lines(&args) {
        *counts.entry(value).or_insert(0) += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------
// The client: round-robin over replicas, retrying refused connections elsewhere
// ---------------------------------------------------------------------------------------

struct Replica {
    name: &'static str,
    channel: Channel,
    /// It refused a request (see [`never_sent`]): the client sends it nothing more.
    down: AtomicBool,
    /// Answers it gave.
    served: AtomicUsize,
    /// Answers it gave to requests sent before the stop signal, received after it.
    drained: AtomicUsize,
    /// Requests it did not take (retried on another replica).
    refused: AtomicUsize,
}

/// The replicas of one service, as a client of its Kubernetes Service sees them.
struct Replicas {
    replicas: Vec<Replica>,
    next: AtomicUsize,
    /// Set just before the stop signals are sent.
    stopping: Arc<AtomicBool>,
}

/// Whether the request certainly never reached the replica's service code, so that
/// sending it to another replica cannot do anything twice. Both cases are raised by the
/// client's own transport (statuses a server sends carry no source error, so an
/// UNAVAILABLE or CANCELLED a service answered itself is never retried here):
/// - UNAVAILABLE: the connection was refused, or the HTTP/2 stream was (REFUSED_STREAM)
///   (a keep-alive timeout would show the same way, but none can happen on loopback in
///   the time of this test);
/// - CANCELLED with hyper's "canceled" error: the connection was going away (the replica
///   sent GOAWAY when it began to drain) before the request was written to it; hyper hands
///   such a request back unsent. gRPC clients retry both transparently (gRPC's retry design,
///   A6), and so do hyper's own pooled clients; tonic's `Channel` does not, which is why
///   the test's client does it (see `a_caller_of_a_draining_bay_svc_loses_no_request`).
fn never_sent(status: &Status) -> bool {
    let source = std::error::Error::source(status);
    match status.code() {
        Code::Unavailable => source.is_some(),
        Code::Cancelled => {
            let mut cause = source;
            while let Some(error) = cause {
                if error
                    .downcast_ref::<hyper::Error>()
                    .is_some_and(hyper::Error::is_canceled)
                {
                    return true;
                }
                cause = error.source();
            }
            false
        }
        _ => false,
    }
}

impl Replicas {
    fn new(stopping: Arc<AtomicBool>, replicas: &[(&'static str, SocketAddr)]) -> Self {
        Self {
            replicas: replicas
                .iter()
                .map(|&(name, addr)| Replica {
                    name,
                    channel: magnum_grpc::client::channel(&format!("http://{addr}")).unwrap(),
                    down: AtomicBool::new(false),
                    served: AtomicUsize::new(0),
                    drained: AtomicUsize::new(0),
                    refused: AtomicUsize::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
            stopping,
        }
    }

    /// Sends the request built by `call` to the next replica; one that did not take it
    /// ([`never_sent`]) is skipped from then on and the request goes to the next. Any other
    /// error is the answer.
    async fn call<T, F, Fut>(&self, call: F) -> Result<T, Status>
    where
        F: Fn(Channel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let start = self.next.fetch_add(1, Ordering::SeqCst);
        let count = self.replicas.len();
        let mut refusals = Vec::new();
        for offset in 0..count {
            let replica = &self.replicas[(start + offset) % count];
            if replica.down.load(Ordering::SeqCst) {
                continue;
            }
            let sent_before_stop = !self.stopping.load(Ordering::SeqCst);
            match call(replica.channel.clone()).await {
                Ok(response) => {
                    replica.served.fetch_add(1, Ordering::SeqCst);
                    if sent_before_stop && self.stopping.load(Ordering::SeqCst) {
                        replica.drained.fetch_add(1, Ordering::SeqCst);
                    }
                    return Ok(response.into_inner());
                }
                Err(status) if never_sent(&status) => {
                    replica.refused.fetch_add(1, Ordering::SeqCst);
                    replica.down.store(true, Ordering::SeqCst);
                    refusals.push(format!("{}: {}", replica.name, status.message()));
                }
                Err(status) => {
                    return Err(Status::new(
                        status.code(),
                        format!("{} answered: {}", replica.name, status.message()),
                    ));
                }
            }
        }
        Err(Status::unavailable(format!(
            "every replica refused: {refusals:?}"
        )))
    }

    fn replica(&self, name: &str) -> &Replica {
        self.replicas
            .iter()
            .find(|replica| replica.name == name)
            .unwrap()
    }

    fn summary(&self) -> String {
        self.replicas
            .iter()
            .map(|replica| {
                format!(
                    "{}: {} served ({} sent before the stop, answered after it), {} refused",
                    replica.name,
                    replica.served.load(Ordering::SeqCst),
                    replica.drained.load(Ordering::SeqCst),
                    replica.refused.load(Ordering::SeqCst)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn describe(status: &Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

/// The load: creates through the replicas, each an owned future (so waves run as tasks).
#[derive(Clone)]
struct Load {
    bays: Arc<Replicas>,
    containers: Arc<Replicas>,
    ctx: Arc<RequestContext>,
    baymodel: String,
}

impl Load {
    /// Creates a bay (one node); the bay's uuid, or what went wrong.
    fn create_bay(&self, name: String) -> impl Future<Output = Result<String, String>> + 'static {
        let this = self.clone();
        async move {
            let spec = pb::BaySpec {
                name: Some(name.clone()),
                baymodel_ident: this.baymodel.clone(),
                node_count: Some(1),
                ..Default::default()
            };
            let created = this
                .bays
                .call(|channel| {
                    let request = magnum_grpc::client::request(
                        &this.ctx,
                        pb::CreateBayRequest {
                            spec: Some(spec.clone()),
                        },
                    );
                    async move { BayServiceClient::new(channel).create_bay(request).await }
                })
                .await
                .map_err(|status| format!("create bay {name}: {}", describe(&status)))?;
            let bay = created
                .bay
                .ok_or_else(|| format!("create bay {name}: no bay in the answer"))?;
            Ok(bay.uuid)
        }
    }

    /// Creates a container with a uuid of the client's choosing on `bay`.
    fn create_container(
        &self,
        bay: String,
        uuid: String,
    ) -> impl Future<Output = Result<String, String>> + 'static {
        let this = self.clone();
        async move {
            let spec = cpb::ContainerSpec {
                uuid: Some(uuid.clone()),
                name: Some(format!("c-{}", &uuid[..8])),
                image: magnum_testkit::docker::image(),
                bay_uuid: bay,
                command: Some("sleep 300".to_owned()),
                ..Default::default()
            };
            let created = this
                .containers
                .call(|channel| {
                    let request = magnum_grpc::client::request(
                        &this.ctx,
                        cpb::CreateContainerRequest {
                            spec: Some(spec.clone()),
                        },
                    );
                    async move {
                        ContainerServiceClient::new(channel)
                            .create_container(request)
                            .await
                    }
                })
                .await
                .map_err(|status| format!("create container {uuid}: {}", describe(&status)))?;
            if created.uuid != uuid || created.status() != cpb::ContainerStatus::Stopped {
                return Err(format!("create container {uuid}: answered {created:?}"));
            }
            Ok(created.uuid)
        }
    }

    async fn get_bay(&self, uuid: &str) -> Result<pb::Bay, Status> {
        self.bays
            .call(|channel| {
                let request = magnum_grpc::client::request(
                    &self.ctx,
                    pb::GetBayRequest {
                        ident: uuid.to_owned(),
                    },
                );
                async move { BayServiceClient::new(channel).get_bay(request).await }
            })
            .await
    }

    /// Polls until no bay of `uuids` is in progress any more; their last states.
    async fn settled_bays(&self, uuids: &[String]) -> Vec<pb::Bay> {
        let deadline = Instant::now() + WAIT;
        loop {
            let mut bays = Vec::new();
            for uuid in uuids {
                let bay = self
                    .get_bay(uuid)
                    .await
                    .unwrap_or_else(|status| panic!("get bay {uuid}: {}", describe(&status)));
                bays.push(bay);
            }
            let busy: Vec<&pb::Bay> = bays
                .iter()
                .filter(|bay| {
                    matches!(
                        bay.status(),
                        pb::BayStatus::CreateInProgress
                            | pb::BayStatus::UpdateInProgress
                            | pb::BayStatus::DeleteInProgress
                    )
                })
                .collect();
            if busy.is_empty() {
                return bays;
            }
            assert!(
                Instant::now() < deadline,
                "bays still in progress after {WAIT:?}: {:?}",
                busy.iter()
                    .map(|bay| (&bay.uuid, bay.status()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Runs `futures` together as a task.
fn spawn_all<F>(futures: Vec<F>) -> JoinHandle<Vec<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(futures::future::join_all(futures))
}

/// Runs `futures` as a task, `concurrency` at a time.
fn spawn_buffered<F>(futures: Vec<F>, concurrency: usize) -> JoinHandle<Vec<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(
        futures::stream::iter(futures)
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>(),
    )
}

// ---------------------------------------------------------------------------------------
// Postgres: locks that hold work at a known place, and what the replicas did
// ---------------------------------------------------------------------------------------

/// A lock on a table, held by an open transaction (`SHARE`: reads go on, writes queue;
/// `ACCESS EXCLUSIVE`: everything queues).
struct TableLock {
    table: &'static str,
    transaction: DatabaseTransaction,
    pid: i32,
}

async fn lock_table(db: &DatabaseConnection, table: &'static str) -> TableLock {
    lock_table_in(db, table, "SHARE").await
}

async fn lock_table_in(db: &DatabaseConnection, table: &'static str, mode: &str) -> TableLock {
    let transaction = db.begin().await.unwrap();
    transaction
        .execute_unprepared(&format!("LOCK TABLE {table} IN {mode} MODE"))
        .await
        .unwrap_or_else(|error| panic!("cannot lock {table}: {error}"));
    let row = transaction
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_backend_pid() AS pid",
        ))
        .await
        .unwrap()
        .unwrap();
    let pid = row.try_get::<i32>("", "pid").unwrap();
    TableLock {
        table,
        transaction,
        pid,
    }
}

impl TableLock {
    async fn release(self) {
        self.transaction
            .rollback()
            .await
            .unwrap_or_else(|error| panic!("cannot release the lock on {}: {error}", self.table));
    }
}

/// The backends waiting behind `lock` (directly, or behind one that waits on it, as
/// creates of one project queue on its quota lock), counted by `application_name`.
async fn waiting_behind(db: &DatabaseConnection, lock: &TableLock) -> BTreeMap<String, i64> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH RECURSIVE blocked(pid) AS ( \
                 SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) \
               UNION \
                 SELECT waiting.pid FROM pg_stat_activity waiting \
                 JOIN blocked ON blocked.pid = ANY(pg_blocking_pids(waiting.pid)) \
             ) \
             SELECT activity.application_name AS name, count(*) AS n \
             FROM pg_stat_activity activity JOIN blocked USING (pid) \
             GROUP BY activity.application_name",
            [lock.pid.into()],
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (
                row.try_get::<String>("", "name").unwrap(),
                row.try_get::<i64>("", "n").unwrap(),
            )
        })
        .collect()
}

/// Polls until at least `count` backends wait behind `lock`, and `replica` has at least
/// one of them; what waits then.
async fn wait_queued(
    db: &DatabaseConnection,
    lock: &TableLock,
    count: usize,
    replica: &str,
) -> BTreeMap<String, i64> {
    let deadline = Instant::now() + WAIT;
    loop {
        let waiting = waiting_behind(db, lock).await;
        let total: i64 = waiting.values().sum();
        if usize::try_from(total).unwrap() >= count && waiting.get(replica).copied() >= Some(1) {
            return waiting;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} backends (one of {replica} at least) waiting on {}; waiting: {waiting:?}",
            lock.table
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until at least `count` backends wait behind `lock`; what waits then.
async fn wait_queued_any(
    db: &DatabaseConnection,
    lock: &TableLock,
    count: usize,
) -> BTreeMap<String, i64> {
    let deadline = Instant::now() + WAIT;
    loop {
        let waiting = waiting_behind(db, lock).await;
        if usize::try_from(waiting.values().sum::<i64>()).unwrap() >= count {
            return waiting;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} backends waiting on {}; waiting: {waiting:?}",
            lock.table
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Records, in the service's schema, every change of `column` in `table` with the
/// `application_name` of the connection that made it (the replica), committed or not at
/// all, like the change itself.
async fn audit(db: &DatabaseConnection, schema: &str, table: &str, column: &str) {
    db.execute_unprepared(&format!(
        "CREATE TABLE IF NOT EXISTS \"{schema}\".scaling_audit ( \
             id bigserial PRIMARY KEY, \
             tbl text NOT NULL, \
             uuid text NOT NULL, \
             value text, \
             app text NOT NULL); \
         CREATE OR REPLACE FUNCTION \"{schema}\".scaling_audit() RETURNS trigger \
         LANGUAGE plpgsql AS $$ \
         DECLARE \
             changed text := to_jsonb(NEW) ->> TG_ARGV[0]; \
         BEGIN \
             IF TG_OP = 'INSERT' OR changed IS DISTINCT FROM (to_jsonb(OLD) ->> TG_ARGV[0]) THEN \
                 INSERT INTO \"{schema}\".scaling_audit (tbl, uuid, value, app) \
                 VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> 'uuid', changed, \
                         current_setting('application_name')); \
             END IF; \
             RETURN NULL; \
         END $$; \
         CREATE TRIGGER scaling_audit AFTER INSERT OR UPDATE ON \"{schema}\".{table} \
         FOR EACH ROW EXECUTE FUNCTION \"{schema}\".scaling_audit('{column}');"
    ))
    .await
    .unwrap_or_else(|error| panic!("cannot audit {schema}.{table}: {error}"));
}

/// One audited change: its order, the value written, and the replica that wrote it.
#[derive(Debug, Clone)]
struct Change {
    id: i64,
    value: String,
    by: String,
}

/// Per uuid, the values `table`'s audited column took, in order.
async fn audited(db: &DatabaseConnection, table: &str) -> HashMap<String, Vec<Change>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, uuid, coalesce(value, '') AS value, app FROM scaling_audit \
             WHERE tbl = $1 ORDER BY id",
            [table.into()],
        ))
        .await
        .unwrap();
    let mut changes: HashMap<String, Vec<Change>> = HashMap::new();
    for row in rows {
        changes
            .entry(row.try_get::<String>("", "uuid").unwrap())
            .or_default()
            .push(Change {
                id: row.try_get::<i64>("", "id").unwrap(),
                value: row.try_get::<String>("", "value").unwrap(),
                by: row.try_get::<String>("", "app").unwrap(),
            });
    }
    changes
}

fn values(changes: &[Change]) -> Vec<&str> {
    changes.iter().map(|change| change.value.as_str()).collect()
}

/// The last audited change so far: what comes after it happened later.
async fn audit_mark(db: &DatabaseConnection) -> i64 {
    count(db, "SELECT coalesce(max(id), 0) AS n FROM scaling_audit").await
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}

/// Each bay's status events on the stream (read from its start; a redelivered message
/// counts once), once every bay of `bays` has its CREATE_COMPLETE and nothing more came
/// for a second. Call it when the outbox is empty: every event is on the stream then.
async fn status_events(bus: &BusConfig, bays: &[String]) -> HashMap<String, Vec<String>> {
    let bus = magnum_bus::connect(bus).await.unwrap();
    let mut feed = bus
        .consume(ConsumerSpec::new(
            "scaling-check",
            "magnum.events.bay.status",
        ))
        .await
        .unwrap();
    let mut ids = HashSet::new();
    let mut statuses: HashMap<String, Vec<String>> = HashMap::new();
    let deadline = Instant::now() + WAIT;
    loop {
        let complete = bays.iter().all(|bay| {
            statuses
                .get(bay)
                .is_some_and(|seen| seen.iter().any(|status| status == "CREATE_COMPLETE"))
        });
        match tokio::time::timeout(Duration::from_secs(1), feed.next()).await {
            Err(_) if complete => return statuses,
            Err(_) => {}
            Ok(None) => panic!("the events feed ended"),
            Ok(Some(Err(error))) => eprintln!("events feed: {error}"),
            Ok(Some(Ok(delivery))) => {
                delivery.ack().await.unwrap();
                if ids.insert(delivery.message.id.clone()) {
                    let event = BayStatusChanged::decode(delivery.message.payload.clone()).unwrap();
                    statuses
                        .entry(event.bay_uuid)
                        .or_default()
                        .push(event.status);
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "the events stream never showed every bay complete: {statuses:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The processes
// ---------------------------------------------------------------------------------------

fn with_application_name(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

/// The service binary to run: this package's copy of it (`src/bin/it-*.rs`, always
/// fresh), or `<MAGNUM_TEST_BIN_DIR>/<shipped>` (e.g. `target/release/bay-svc`) to test
/// binaries built elsewhere.
fn bin(shipped: &str, built: &'static str) -> PathBuf {
    match std::env::var_os("MAGNUM_TEST_BIN_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join(shipped),
        _ => PathBuf::from(built),
    }
}

/// One test's world: a Postgres schema for bay-svc and one for container-svc, a JetStream
/// prefix, a project, identity-svc (no-auth) in the test process (nothing here stops it),
/// the balancer standing in for the `bay-svc` Service (container-svc's `bay_url`; it
/// starts with no endpoint), and the configuration file every replica reads. Declare it
/// before the processes: they are killed before it cleans up.
struct World {
    project: String,
    bus: BusConfig,
    bay_db: DatabaseConfig,
    container_db: DatabaseConfig,
    dir: PathBuf,
    config: PathBuf,
    balancer: Balancer,
    ctx: Arc<RequestContext>,
    _cleanup: Cleanup,
}

impl World {
    async fn new() -> Self {
        let project = magnum_testkit::unique_name("scaling");
        let bus = BusConfig {
            url: magnum_testkit::nats_url(),
            prefix: magnum_testkit::unique_name("scale"),
        };
        let bay_db = magnum_testkit::postgres_config();
        let container_db = magnum_testkit::postgres_config();
        let dir = magnum_integration_tests::temp_dir();
        let identity_shutdown = Shutdown::new();
        let identity_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let identity = identity_listener.local_addr().unwrap();
        tokio::spawn(identity_svc::serve(
            identity_svc::Config::default(),
            identity_listener,
            identity_shutdown.clone(),
        ));
        let cleanup = Cleanup {
            project: project.clone(),
            bus: bus.clone(),
            identity: identity_shutdown,
            dir: dir.clone(),
        };
        let balancer = Balancer::start(Vec::new()).await;
        let config = dir.join("magnum.toml");
        let text = format!(
            r#"# Written by tests/integration/tests/scaling.rs; every replica reads it.
[bus]
url = "{bus_url}"
prefix = "{prefix}"

[auth]
identity_url = "http://{identity}"

[telemetry]
log_format = "pretty"
log_filter = "info"

[[swarm.engines]]
name = "node-1"
url = "{docker}"

[[swarm.engines]]
name = "node-2"
url = "{docker}"

[bay]
default_create_timeout = 0

[bay.database]
url = "{bay_url}"
schema = "{bay_schema}"
max_connections = 12

[bay.secrets]
key = "{key}"

# Short enough for a test: a message a stopping replica took and dropped comes back after
# ack_wait_secs (see an_operation_published_during_a_drain_is_not_held_until_ack_wait).
# Long enough that no lease runs out while the test holds the workers at their claim
# (renewals come every third of lease_secs, which is within ack_wait_secs).
[bay.worker]
lease_secs = 15
ack_wait_secs = 10
retry_delay_ms = 200
drain_secs = 10

[bay.health]
interval_secs = 0

[container]
# The stand-in for the `bay-svc` Kubernetes Service.
bay_url = "http://{balancer}"

[container.database]
url = "{container_url}"
schema = "{container_schema}"
max_connections = 12
"#,
            bus_url = bus.url,
            prefix = bus.prefix,
            docker = magnum_testkit::docker::host(),
            bay_url = bay_db.url,
            bay_schema = bay_db.schema,
            key = magnum_pki::generate_key_base64().unwrap(),
            balancer = balancer.addr,
            container_url = container_db.url,
            container_schema = container_db.schema,
        );
        std::fs::write(&config, text).unwrap();
        let ctx = Arc::new(RequestContext {
            user_id: format!("{project}-user"),
            user_name: String::new(),
            project_id: project.clone(),
            project_name: String::new(),
            roles: vec!["member".to_owned()],
            is_admin: false,
            request_id: format!("req-{}", uuid::Uuid::new_v4()),
            auth_token: "any-token".to_owned(),
        });
        Self {
            project,
            bus,
            bay_db,
            container_db,
            dir,
            config,
            balancer,
            ctx,
            _cleanup: cleanup,
        }
    }

    /// Starts a replica of `section`'s service (`bay` or `container`) named `name`: the
    /// shared configuration, a listen address of its own, its own `application_name` on
    /// the shared database (which tells its connections apart), and the `MAGNUM_*`
    /// settings in `extra`.
    fn replica(
        &self,
        program: &Path,
        section: &str,
        database: &DatabaseConfig,
        name: &str,
        extra: &[(&str, &str)],
    ) -> ServiceProcess {
        let addr = free_loopback_addr();
        let upper = section.to_ascii_uppercase();
        let mut env = vec![
            (
                "MAGNUM_CONFIG".to_owned(),
                self.config.display().to_string(),
            ),
            (format!("MAGNUM_{upper}__LISTEN"), addr.to_string()),
            (
                format!("MAGNUM_{upper}__DATABASE__URL"),
                with_application_name(&database.url, name),
            ),
        ];
        env.extend(
            extra
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
        );
        ServiceProcess::spawn(name, program, addr, &env, &self.dir)
    }

    fn bay_svc(&self, name: &str) -> ServiceProcess {
        self.bay_svc_with(name, &[])
    }

    fn bay_svc_with(&self, name: &str, extra: &[(&str, &str)]) -> ServiceProcess {
        let program = bin("bay-svc", env!("CARGO_BIN_EXE_it-bay-svc"));
        self.replica(&program, "bay", &self.bay_db, name, extra)
    }

    fn container_svc(&self, name: &str) -> ServiceProcess {
        let program = bin("container-svc", env!("CARGO_BIN_EXE_it-container-svc"));
        self.replica(&program, "container", &self.container_db, name, &[])
    }

    /// The services' tables, as the test looks at them.
    async fn rows(&self) -> (DatabaseConnection, DatabaseConnection) {
        (
            magnum_db::connect(&self.bay_db).await.unwrap(),
            magnum_db::connect(&self.container_db).await.unwrap(),
        )
    }

    /// A swarm baymodel and a complete bay of it, created through `bays`; the load on it.
    async fn load_on_a_bay(
        &self,
        bays: &Arc<Replicas>,
        containers: &Arc<Replicas>,
    ) -> (Load, String) {
        let ctx = &self.ctx;
        let baymodel = bays
            .call(|channel| {
                let request = magnum_grpc::client::request(
                    ctx,
                    pb::CreateBayModelRequest {
                        spec: Some(pb::BayModelSpec {
                            name: Some("scaling-swarm".to_owned()),
                            coe: Some("swarm".to_owned()),
                            image_id: Some("fedora-atomic".to_owned()),
                            keypair_id: Some("default".to_owned()),
                            ..Default::default()
                        }),
                    },
                );
                async move {
                    BayModelServiceClient::new(channel)
                        .create_bay_model(request)
                        .await
                }
            })
            .await
            .unwrap_or_else(|status| panic!("create the baymodel: {}", describe(&status)))
            .uuid;
        let load = Load {
            bays: Arc::clone(bays),
            containers: Arc::clone(containers),
            ctx: Arc::clone(ctx),
            baymodel,
        };
        let bay = load
            .create_bay("scaling-base".to_owned())
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let settled = load.settled_bays(std::slice::from_ref(&bay)).await;
        assert_eq!(
            settled[0].status(),
            pb::BayStatus::CreateComplete,
            "the containers' bay: {:?}",
            settled[0]
        );
        (load, bay)
    }
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopped_mid_load_drains_and_nothing_is_lost_or_doubled() {
    let started = Instant::now();
    let world = World::new().await;
    // Replica a of each first, then b: replicas starting together on a fresh schema can
    // fail (`replicas_starting_together_on_a_fresh_schema_all_serve` below).
    let mut bay_a = world.bay_svc(BAY_A);
    let mut container_a = world.container_svc(CONTAINER_A);
    bay_a.wait_serving(WAIT).await;
    container_a.wait_serving(WAIT).await;
    let mut bay_b = world.bay_svc(BAY_B);
    let mut container_b = world.container_svc(CONTAINER_B);
    bay_b.wait_serving(WAIT).await;
    container_b.wait_serving(WAIT).await;
    world.balancer.add(bay_a.addr);
    world.balancer.add(bay_b.addr);
    eprintln!(
        "scaling: 4 service processes serving after {:?}",
        started.elapsed()
    );

    // What the test looks at: the tables, audited from now on.
    let (bay_rows, container_rows) = world.rows().await;
    audit(&bay_rows, &world.bay_db.schema, "bay_operations", "state").await;
    audit(&bay_rows, &world.bay_db.schema, "bays", "status").await;
    audit(
        &container_rows,
        &world.container_db.schema,
        "containers",
        "status",
    )
    .await;

    let stopping = Arc::new(AtomicBool::new(false));
    let bays = Arc::new(Replicas::new(
        Arc::clone(&stopping),
        &[(BAY_A, bay_a.addr), (BAY_B, bay_b.addr)],
    ));
    let containers = Arc::new(Replicas::new(
        Arc::clone(&stopping),
        &[
            (CONTAINER_A, container_a.addr),
            (CONTAINER_B, container_b.addr),
        ],
    ));
    let (load, base) = world.load_on_a_bay(&bays, &containers).await;
    let ctx = &world.ctx;
    let project = &world.project;

    let mut failures: Vec<String> = Vec::new();
    let mut container_uuids: Vec<String> = Vec::new();
    let new_container = |uuids: &mut Vec<String>| {
        let uuid = uuid::Uuid::new_v4().to_string();
        uuids.push(uuid.clone());
        load.create_container(base.clone(), uuid)
    };

    // Containers on both replicas, nothing in the way.
    let before: Vec<_> = (0..CONTAINERS_BEFORE)
        .map(|_| new_container(&mut container_uuids))
        .collect();
    for outcome in spawn_all(before).await.unwrap() {
        failures.extend(outcome.err());
    }

    // Bay operations held in the workers: each create is accepted, its operation goes to
    // a worker, and the worker waits to take the bay's lease. One at a time, until
    // replica a's worker holds one (JetStream hands operations to whichever asked first).
    let leases = lock_table(&bay_rows, "bay_leases").await;
    let mut bay_uuids = vec![base.clone()];
    let mut held_operations = BTreeMap::new();
    for index in 0..WORKER_WAVE_MAX {
        let uuid = load
            .create_bay(format!("scaling-op-{index}"))
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        bay_uuids.push(uuid);
        held_operations = wait_queued_any(&bay_rows, &leases, index + 1).await;
        if held_operations.contains_key(BAY_A) {
            break;
        }
    }
    assert!(
        held_operations.contains_key(BAY_A),
        "{BAY_A}'s worker took none of {WORKER_WAVE_MAX} operations: {held_operations:?}"
    );

    // Requests held in the replicas' API: bay creates wait to insert their bay, container
    // creates (after asking bay-svc for the bay) to insert their record.
    let bays_lock = lock_table(&bay_rows, "bays").await;
    let containers_lock = lock_table(&container_rows, "containers").await;
    let api_wave = spawn_all(
        (0..API_WAVE)
            .map(|index| load.create_bay(format!("scaling-api-{index}")))
            .collect(),
    );
    let during = spawn_all(
        (0..CONTAINERS_DURING)
            .map(|_| new_container(&mut container_uuids))
            .collect(),
    );
    let held_bays = wait_queued(&bay_rows, &bays_lock, API_WAVE, BAY_A).await;
    let held_containers = wait_queued(
        &container_rows,
        &containers_lock,
        CONTAINERS_DURING,
        CONTAINER_A,
    )
    .await;
    eprintln!(
        "scaling: at the signal, waiting in Postgres: operations {held_operations:?}, \
         bay creates {held_bays:?}, container creates {held_containers:?}"
    );

    // The stop: the bay-svc pod leaves the Service's endpoints, both get SIGTERM.
    let bay_mark = audit_mark(&bay_rows).await;
    let container_mark = audit_mark(&container_rows).await;
    stopping.store(true, Ordering::SeqCst);
    let signalled = Instant::now();
    world.balancer.remove(bay_a.addr);
    bay_a.terminate();
    container_a.terminate();
    let deadline = Instant::now() + WAIT;
    while !(bay_a.refuses_connections().await && container_a.refuses_connections().await) {
        assert!(
            Instant::now() < deadline,
            "the stopped replicas still accept connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // They no longer accept anything, and what they had is still waiting: let it go on,
    // and keep the load coming.
    leases.release().await;
    bays_lock.release().await;
    containers_lock.release().await;
    let after_bays = spawn_all(
        (0..AFTER_WAVE)
            .map(|index| load.create_bay(format!("scaling-after-{index}")))
            .collect(),
    );
    let after_containers = spawn_buffered(
        (0..CONTAINERS_AFTER)
            .map(|_| new_container(&mut container_uuids))
            .collect(),
        4,
    );
    for wave in [api_wave, after_bays] {
        let outcomes = tokio::time::timeout(WAIT, wave)
            .await
            .expect("bay creates answered in time")
            .unwrap();
        for outcome in outcomes {
            match outcome {
                Ok(uuid) => bay_uuids.push(uuid),
                Err(error) => failures.push(error),
            }
        }
    }
    for wave in [during, after_containers] {
        let outcomes = tokio::time::timeout(WAIT, wave)
            .await
            .expect("container creates answered in time")
            .unwrap();
        failures.extend(outcomes.into_iter().filter_map(Result::err));
    }

    // Every request succeeded; the stopped replicas answered what they had and exited 0.
    assert!(
        failures.is_empty(),
        "requests failed around the stop:\n{}",
        failures.join("\n")
    );
    for process in [&mut bay_a, &mut container_a] {
        let status = process.wait_exit(signalled + GRACE).await;
        assert!(
            status.success(),
            "{} exited with {status} after SIGTERM; its log:\n{}",
            process.name,
            process.log_tail(40)
        );
    }
    eprintln!(
        "scaling: stopped replicas exited; bay-svc {}; container-svc {}",
        bays.summary(),
        containers.summary()
    );
    for (replicas, stopped, held) in [
        (&bays, BAY_A, held_bays[BAY_A]),
        (&containers, CONTAINER_A, held_containers[CONTAINER_A]),
    ] {
        let replica = replicas.replica(stopped);
        let drained = i64::try_from(replica.drained.load(Ordering::SeqCst)).unwrap();
        assert!(
            drained >= held,
            "{stopped} had {held} requests waiting at the signal and answered {drained} of them"
        );
    }

    // Every bay was created exactly once: one final status, reached once, by the worker
    // that claimed its operation, which ran once; one network on the engine.
    let settled = load.settled_bays(&bay_uuids).await;
    let failed: Vec<_> = settled
        .iter()
        .filter(|bay| bay.status() != pb::BayStatus::CreateComplete)
        .map(|bay| (&bay.uuid, bay.status(), &bay.status_reason))
        .collect();
    assert!(failed.is_empty(), "bays not created: {failed:?}");
    // Requests went on reaching the stopped replicas until they refused a connection, and
    // those went to the survivors.
    for (replicas, stopped) in [(&bays, BAY_A), (&containers, CONTAINER_A)] {
        assert!(
            replicas.replica(stopped).refused.load(Ordering::SeqCst) >= 1,
            "no request reached {stopped} after it stopped: {}",
            replicas.summary()
        );
    }
    let operations = count(
        &bay_rows,
        "SELECT count(*) AS n FROM bay_operations WHERE kind = 'create' AND state = 'done' AND attempts = 1",
    )
    .await;
    assert_eq!(
        usize::try_from(operations).unwrap(),
        bay_uuids.len(),
        "each bay's create operation ran once and is done"
    );
    let bay_changes = audited(&bay_rows, "bays").await;
    for uuid in &bay_uuids {
        let changes = bay_changes.get(uuid).cloned().unwrap_or_default();
        assert_eq!(
            values(&changes),
            ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"],
            "bay {uuid}'s statuses as written: {changes:?}"
        );
    }
    // What the stopped replica did after the signal: the creates it had accepted...
    let accepted_in_drain = bay_changes
        .values()
        .filter(|changes| changes[0].id > bay_mark && changes[0].by == BAY_A)
        .count();
    assert!(
        i64::try_from(accepted_in_drain).unwrap() >= held_bays[BAY_A],
        "{BAY_A} had {} bay creates waiting at the signal and stored {accepted_in_drain}",
        held_bays[BAY_A]
    );
    // ...and the operations its worker held: claimed, run and finished by the same
    // replica, each operation once.
    let operation_changes = audited(&bay_rows, "bay_operations").await;
    let mut drained_operations = 0;
    for (operation, changes) in &operation_changes {
        assert_eq!(
            values(changes),
            ["pending", "running", "done"],
            "operation {operation}: {changes:?}"
        );
        assert_eq!(
            changes[1].by, changes[2].by,
            "operation {operation} was finished by another replica than the one that claimed it: {changes:?}"
        );
        if changes[1].id > bay_mark && changes[1].by == BAY_A {
            drained_operations += 1;
        }
    }
    assert!(
        drained_operations >= held_operations[BAY_A],
        "{BAY_A}'s worker held {} operations at the signal and ran {drained_operations} of them",
        held_operations[BAY_A]
    );
    let networks = docker_labelled(&["network", "ls"], project, "magnum.bay.uuid");
    let expected: BTreeMap<String, usize> =
        bay_uuids.iter().map(|uuid| (uuid.clone(), 1)).collect();
    assert_eq!(networks, expected, "one Docker network per bay");
    let deadline = Instant::now() + WAIT;
    while count(&bay_rows, "SELECT count(*) AS n FROM outbox").await > 0 {
        assert!(Instant::now() < deadline, "the outbox never emptied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = status_events(&world.bus, &bay_uuids).await;
    for uuid in &bay_uuids {
        assert_eq!(
            events.get(uuid).map(Vec::as_slice).unwrap_or_default(),
            ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"],
            "bay {uuid}'s status events"
        );
    }

    // Every container exists once, on record and on the engine, made by one replica.
    let container_changes = audited(&container_rows, "containers").await;
    assert_eq!(
        container_changes.len(),
        container_uuids.len(),
        "container records: {container_changes:?}"
    );
    for uuid in &container_uuids {
        let changes = container_changes.get(uuid).cloned().unwrap_or_default();
        assert_eq!(
            values(&changes),
            ["Creating", "Stopped"],
            "container {uuid}: {changes:?}"
        );
        assert_eq!(
            changes[0].by, changes[1].by,
            "container {uuid} was settled by another replica than its creator: {changes:?}"
        );
    }
    let created_in_drain = container_changes
        .values()
        .filter(|changes| changes[0].id > container_mark && changes[0].by == CONTAINER_A)
        .count();
    assert!(
        i64::try_from(created_in_drain).unwrap() >= held_containers[CONTAINER_A],
        "{CONTAINER_A} had {} container creates waiting at the signal and made {created_in_drain}",
        held_containers[CONTAINER_A]
    );
    let records = count(
        &container_rows,
        "SELECT count(*) AS n FROM containers WHERE status = 'Stopped'",
    )
    .await;
    assert_eq!(usize::try_from(records).unwrap(), container_uuids.len());
    let on_engine = docker_labelled(&["ps", "-a"], project, "magnum.container.uuid");
    let expected: BTreeMap<String, usize> = container_uuids
        .iter()
        .map(|uuid| (uuid.clone(), 1))
        .collect();
    assert_eq!(on_engine, expected, "one Docker container per container");
    eprintln!(
        "scaling: {} bays and {} containers, each made once, after {:?}",
        bay_uuids.len(),
        container_uuids.len(),
        started.elapsed()
    );

    // Clean up through the survivors, and they stop as gracefully.
    for uuid in &container_uuids {
        containers
            .call(|channel| {
                let request = magnum_grpc::client::request(
                    ctx,
                    cpb::DeleteContainerRequest {
                        ident: uuid.clone(),
                        force: true,
                    },
                );
                async move {
                    ContainerServiceClient::new(channel)
                        .delete_container(request)
                        .await
                }
            })
            .await
            .unwrap_or_else(|status| panic!("delete container {uuid}: {}", describe(&status)));
    }
    for uuid in &bay_uuids {
        bays.call(|channel| {
            let request = magnum_grpc::client::request(
                ctx,
                pb::DeleteBayRequest {
                    ident: uuid.clone(),
                },
            );
            async move { BayServiceClient::new(channel).delete_bay(request).await }
        })
        .await
        .unwrap_or_else(|status| panic!("delete bay {uuid}: {}", describe(&status)));
    }
    let deadline = Instant::now() + WAIT;
    for uuid in &bay_uuids {
        loop {
            match load.get_bay(uuid).await {
                Err(status) if status.code() == Code::NotFound => break,
                Err(status) => panic!("get bay {uuid}: {}", describe(&status)),
                Ok(bay) => assert!(
                    Instant::now() < deadline,
                    "bay {uuid} never went away: {bay:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        docker_labelled(&["ps", "-a"], project, "magnum.container.uuid"),
        BTreeMap::new(),
        "containers left on the engine"
    );
    assert_eq!(
        docker_labelled(&["network", "ls"], project, "magnum.bay.uuid"),
        BTreeMap::new(),
        "networks left on the engine"
    );
    let stopped = Instant::now();
    bay_b.terminate();
    container_b.terminate();
    for process in [&mut bay_b, &mut container_b] {
        let status = process.wait_exit(stopped + GRACE).await;
        assert!(status.success(), "{} exited with {status}", process.name);
    }
    eprintln!("scaling: done after {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------
// What the scaling test found, each fixed and kept as a test
// ---------------------------------------------------------------------------------------

/// container-svc calls bay-svc through the `bay-svc` Service. Its channel's connection
/// goes to replica a; a starts terminating (it leaves the Service, gets SIGTERM, sends
/// GOAWAY on its connections) while a call of container-svc is still in flight on it. The
/// next call container-svc makes must go to replica b.
///
/// It did not: tonic's `Channel` hands the call to the connection that is going away,
/// hyper gives it back unsent as "canceled" ("operation was canceled", with hyper's
/// `Canceled` error as the source), and `magnum_grpc::client::channel` neither retries it
/// nor reconnects first, so the container create fails (bay-client maps CANCELLED to
/// INTERNAL). The same holds for every caller built on `magnum_grpc::client::channel`:
/// the gateway towards each service, k8s-svc and container-svc towards bay-svc, every
/// service towards identity-svc. Fixed by `magnum_grpc::retry::RetryUnsent`, which sends
/// such a never-sent call again once the channel has reconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_of_a_draining_bay_svc_loses_no_request() {
    let world = World::new().await;
    let mut bay_a = world.bay_svc(BAY_A);
    let mut container = world.container_svc(CONTAINER_A);
    bay_a.wait_serving(WAIT).await;
    container.wait_serving(WAIT).await;
    let mut bay_b = world.bay_svc(BAY_B);
    bay_b.wait_serving(WAIT).await;
    // a alone behind the Service when container-svc first calls it: its connection goes
    // to a.
    world.balancer.add(bay_a.addr);
    let stopping = Arc::new(AtomicBool::new(false));
    let bays = Arc::new(Replicas::new(Arc::clone(&stopping), &[(BAY_B, bay_b.addr)]));
    let containers = Arc::new(Replicas::new(
        Arc::clone(&stopping),
        &[(CONTAINER_A, container.addr)],
    ));
    let (load, base) = world.load_on_a_bay(&bays, &containers).await;
    let new_uuid = || uuid::Uuid::new_v4().to_string();
    load.create_container(base.clone(), new_uuid())
        .await
        .unwrap_or_else(|error| panic!("{error}"));

    // b is ready, a is terminating: new connections go to b.
    world.balancer.add(bay_b.addr);
    world.balancer.remove(bay_a.addr);
    // A call of container-svc in flight on a (GetBay waits for the bays table), then
    // SIGTERM: a drains it, and its connection to container-svc is going away.
    let (bay_rows, _) = world.rows().await;
    let lock = lock_table_in(&bay_rows, "bays", "ACCESS EXCLUSIVE").await;
    let first = tokio::spawn(load.create_container(base.clone(), new_uuid()));
    wait_queued(&bay_rows, &lock, 1, BAY_A).await;
    let signalled = Instant::now();
    bay_a.terminate();
    let deadline = Instant::now() + WAIT;
    while !bay_a.refuses_connections().await {
        assert!(
            Instant::now() < deadline,
            "{BAY_A} still accepts connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // container-svc's next call to bay-svc: it fails at once, or reaches b and waits
    // there behind the lock like the first.
    let second = tokio::spawn(load.create_container(base.clone(), new_uuid()));
    let deadline = Instant::now() + WAIT;
    while !second.is_finished() && !waiting_behind(&bay_rows, &lock).await.contains_key(BAY_B) {
        assert!(
            Instant::now() < deadline,
            "the second create neither failed nor reached {BAY_B}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    lock.release().await;
    let first = first.await.unwrap();
    let second = second.await.unwrap();
    let status = bay_a.wait_exit(signalled + GRACE).await;
    assert!(status.success(), "{BAY_A} exited with {status}");
    assert!(first.is_ok(), "the call in flight on {BAY_A}: {first:?}");
    assert!(
        second.is_ok(),
        "container-svc's next call to bay-svc was lost to the replica that was going away: {second:?}"
    );
}

/// A Deployment's replicas start together, e.g. the first time, on an empty schema. Both
/// must come up.
///
/// They did not, often: `magnum_db::connect` ran `CREATE SCHEMA IF NOT EXISTS` before
/// `connect_and_migrate` takes its advisory lock, and two of those at once can fail with
/// `duplicate key value violates unique constraint "pg_namespace_nspname_index"` (Postgres
/// checks "if not exists" before inserting the catalog row); the replica exits 1 with
/// "cannot prepare the database" and Kubernetes restarts it. Seen here on the first try
/// with two bay-svc processes. Fixed: the create takes a per-schema advisory lock. Five
/// rounds of two bay-svc and two container-svc replicas, each round on fresh schemas.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_on_a_fresh_schema_all_serve() {
    for _ in 0..5 {
        let world = World::new().await;
        let mut processes = [
            world.bay_svc(BAY_A),
            world.bay_svc(BAY_B),
            world.container_svc(CONTAINER_A),
            world.container_svc(CONTAINER_B),
        ];
        for process in &mut processes {
            process.wait_serving(WAIT).await;
        }
        let signalled = Instant::now();
        for process in &processes {
            process.terminate();
        }
        for process in &mut processes {
            let status = process.wait_exit(signalled + GRACE).await;
            assert!(status.success(), "{} exited with {status}", process.name);
        }
    }
}

/// A client watching bays (`WatchBays`, a server stream) on the replica that gets SIGTERM.
/// The replica must still stop within its grace period, ending the watch so that the
/// client can watch again on another replica.
///
/// It did not stop at all: `GrpcServer::serve` drains with tonic's graceful shutdown,
/// which waits for every connection to close, and the watch stream (`grpc::BayWatch`, a
/// bus subscription) never ends on shutdown; the background tasks and the process wait
/// for it until the kubelet's SIGKILL after `terminationGracePeriodSeconds` (exit 137).
/// Any open watch (the gateway's, or a platform team's client) does this to every
/// scale-down and rolling update of bay-svc. Fixed: watches end when shutdown starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_does_not_keep_a_stopping_bay_svc_alive() {
    let world = World::new().await;
    let mut bay = world.bay_svc(BAY_A);
    bay.wait_serving(WAIT).await;
    let channel = magnum_grpc::client::channel(&format!("http://{}", bay.addr)).unwrap();
    let mut watch = BayServiceClient::new(channel)
        .watch_bays(magnum_grpc::client::request(
            &world.ctx,
            pb::WatchBaysRequest {
                ident: String::new(),
            },
        ))
        .await
        .unwrap_or_else(|status| panic!("watch bays: {}", describe(&status)))
        .into_inner();
    let signalled = Instant::now();
    bay.terminate();
    let ended = tokio::time::timeout(GRACE, watch.message())
        .await
        .unwrap_or_else(|_| panic!("the watch on {BAY_A} did not end within {GRACE:?} of SIGTERM"));
    assert!(
        matches!(&ended, Ok(None))
            || matches!(&ended, Err(status) if status.code() == Code::Unavailable),
        "the watch ended with {ended:?}"
    );
    let status = bay.wait_exit(signalled + GRACE).await;
    assert!(status.success(), "{BAY_A} exited with {status}");
}

/// An operation published while a bay-svc replica is stopping must go to a worker that
/// runs it, not wait for its `ack_wait` to run out.
///
/// It waited: the worker loop (`worker::run_operations`) stopped calling `next` on SIGTERM,
/// but the pull request `next` had sent (`magnum_bus` JetStream subscription, one message,
/// 5 s expiry) is still waiting at the server. The next operation published within those
/// seconds, while the replica drains, is delivered to it and never read: it comes back
/// only after `ack_wait_secs` (30 s by default; 60 s here), to another replica. Operations
/// are not lost or doubled, but a bay created during a rolling update can take that much
/// longer. (container-svc's consumer of bay deletions stopped the same way.) Fixed:
/// `Subscription::release` naks what the leftover request brings, for another replica.
///
/// Here: replica a's worker is kept draining (it holds an operation that waits for the
/// test's lock on `bay_leases`) while three bays are created through replica b; JetStream
/// hands one of their operations to a's leftover pull request. Every bay must then be
/// complete well within `ack_wait`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_published_during_a_drain_is_not_held_until_ack_wait() {
    let world = World::new().await;
    let long_ack_wait = [
        ("MAGNUM_BAY__WORKER__ACK_WAIT_SECS", "60"),
        ("MAGNUM_BAY__WORKER__LEASE_SECS", "30"),
    ];
    let mut bay_a = world.bay_svc_with(BAY_A, &long_ack_wait);
    let mut container = world.container_svc(CONTAINER_A);
    bay_a.wait_serving(WAIT).await;
    container.wait_serving(WAIT).await;
    let mut bay_b = world.bay_svc_with(BAY_B, &long_ack_wait);
    bay_b.wait_serving(WAIT).await;
    world.balancer.add(bay_b.addr);
    let stopping = Arc::new(AtomicBool::new(false));
    // The test talks to b only: a's API is not what this is about.
    let bays = Arc::new(Replicas::new(Arc::clone(&stopping), &[(BAY_B, bay_b.addr)]));
    let containers = Arc::new(Replicas::new(
        Arc::clone(&stopping),
        &[(CONTAINER_A, container.addr)],
    ));
    let (load, _) = world.load_on_a_bay(&bays, &containers).await;
    let (bay_rows, _) = world.rows().await;

    // a's worker holds an operation (waiting for its lease), so a drains for a while.
    let leases = lock_table(&bay_rows, "bay_leases").await;
    let mut uuids = Vec::new();
    for index in 0..WORKER_WAVE_MAX {
        uuids.push(
            load.create_bay(format!("drain-held-{index}"))
                .await
                .unwrap_or_else(|error| panic!("{error}")),
        );
        let waiting = wait_queued_any(&bay_rows, &leases, index + 1).await;
        if waiting.contains_key(BAY_A) {
            break;
        }
    }
    assert!(
        waiting_behind(&bay_rows, &leases).await.contains_key(BAY_A),
        "{BAY_A}'s worker took none of the operations"
    );
    let signalled = Instant::now();
    bay_a.terminate();
    let deadline = Instant::now() + WAIT;
    while !bay_a.refuses_connections().await {
        assert!(
            Instant::now() < deadline,
            "{BAY_A} still accepts connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Published while a drains.
    for index in 0..3 {
        uuids.push(
            load.create_bay(format!("drain-new-{index}"))
                .await
                .unwrap_or_else(|error| panic!("{error}")),
        );
    }
    leases.release().await;
    let status = bay_a.wait_exit(signalled + GRACE).await;
    assert!(status.success(), "{BAY_A} exited with {status}");

    // Creates take well under a second here; a stranded operation takes ack_wait (60 s).
    let bound = Duration::from_secs(20);
    let deadline = Instant::now() + bound;
    loop {
        let mut busy = Vec::new();
        for uuid in &uuids {
            let bay = load
                .get_bay(uuid)
                .await
                .unwrap_or_else(|status| panic!("get bay {uuid}: {}", describe(&status)));
            if bay.status() == pb::BayStatus::CreateInProgress {
                busy.push(uuid.clone());
            }
        }
        if busy.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bays still CREATE_IN_PROGRESS {bound:?} after the stop (their operations wait for \
             ack_wait at a replica that stopped pulling): {busy:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
