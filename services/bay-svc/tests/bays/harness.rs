//! The world of a bay test: a fresh Postgres schema, a JetStream stream prefix (or a
//! private nats-server), identity-svc in no-auth mode, and any number of bay-svc instances
//! on top of them, called through tonic clients. Plus what the tests look at from outside:
//! the Docker engine, the events stream, the database rows.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use magnum_bus::{Bus, BusConfig, ConsumerSpec, Subscription};
use magnum_common::{RequestContext, Shutdown};
use magnum_db::DatabaseConfig;
use magnum_driver_swarm::{EngineConfig, SwarmConfig};
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::bay_service_client::BayServiceClient;
use magnum_proto::bay::v1::certificate_service_client::CertificateServiceClient;
use magnum_proto::events::v1::{BayDeleted, BayStatusChanged};
use prost::Message as _;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tonic::{Code, Status};

/// How long a test waits for something that should happen (a poll, never a timing
/// assertion).
pub const WAIT: Duration = Duration::from_secs(90);

/// Deletes a test's JetStream streams when it ends (also when it panics).
struct StreamCleanup {
    url: String,
    prefix: String,
}

impl Drop for StreamCleanup {
    fn drop(&mut self) {
        let url = self.url.clone();
        let upper = self.prefix.to_ascii_uppercase();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let connect = async_nats::ConnectOptions::new()
                    .connection_timeout(Duration::from_secs(2))
                    .connect(url);
                if let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(5), connect).await
                {
                    let js = async_nats::jetstream::new(client);
                    for stream in ["MAGNUM_OPS", "MAGNUM_EVENTS"] {
                        let _ = js.delete_stream(format!("{upper}_{stream}")).await;
                    }
                    let _ = js.delete_key_value(format!("{upper}_SERVICES")).await;
                }
            });
        })
        .join();
    }
}

/// Removes whatever a test's projects left on the Docker engine (networks and containers
/// labelled with the project), when the test ends.
struct DockerCleanup {
    projects: Vec<String>,
}

impl Drop for DockerCleanup {
    fn drop(&mut self) {
        for project in &self.projects {
            let label = format!("label=magnum.project={project}");
            for id in docker_lines(&["ps", "-aq", "--filter", &label]) {
                docker_quiet(&["rm", "-f", &id]);
            }
            for id in docker_lines(&["network", "ls", "-q", "--filter", &label]) {
                docker_quiet(&["network", "rm", &id]);
            }
        }
    }
}

/// Shared by every instance of one test.
pub struct Env {
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    /// The sealing key every instance shares (they open each other's CA keys).
    pub key: String,
    /// Two projects, unique to this test: `alice` owns the bays, `bob` must not see them.
    pub alice: RequestContext,
    pub bob: RequestContext,
    identity_url: String,
    identity_shutdown: Shutdown,
    _streams: Option<StreamCleanup>,
    _docker: DockerCleanup,
    /// Fail points are process-wide: under plain `cargo test` (threads) this makes the
    /// tests of this binary take turns, and each starts with none configured. Under
    /// nextest (a process per test) it costs nothing.
    _scenario: fail::FailScenario<'static>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.identity_shutdown.cancel();
    }
}

pub fn caller(project: &str) -> RequestContext {
    RequestContext {
        user_id: format!("{project}-user"),
        user_name: String::new(),
        project_id: project.to_owned(),
        project_name: String::new(),
        roles: vec!["member".to_owned()],
        is_admin: false,
        request_id: format!("req-{}", uuid::Uuid::new_v4()),
        auth_token: "any-token".to_owned(),
    }
}

impl Env {
    /// On the shared JetStream server, with a prefix of its own.
    pub async fn jetstream() -> Self {
        let bus = BusConfig {
            url: magnum_testkit::nats_url(),
            prefix: magnum_testkit::unique_name("bay"),
        };
        let cleanup = StreamCleanup {
            url: bus.url.clone(),
            prefix: bus.prefix.clone(),
        };
        Self::with_bus(bus, Some(cleanup)).await
    }

    /// On an in-process bus of its own.
    pub async fn in_process() -> Self {
        let bus = BusConfig {
            url: format!("memory://{}", magnum_testkit::unique_name("bay")),
            prefix: String::new(),
        };
        Self::with_bus(bus, None).await
    }

    /// On a bus the caller brings (e.g. a private nats-server).
    pub async fn on_bus(bus: BusConfig) -> Self {
        Self::with_bus(bus, None).await
    }

    async fn with_bus(bus: BusConfig, streams: Option<StreamCleanup>) -> Self {
        let scenario = fail::FailScenario::setup();
        let identity_shutdown = Shutdown::new();
        let identity_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let identity_url = format!("http://{}", identity_listener.local_addr().unwrap());
        tokio::spawn(identity_svc::serve(
            identity_svc::Config::default(),
            identity_listener,
            identity_shutdown.clone(),
        ));
        let alice = caller(&magnum_testkit::unique_name("alice"));
        let bob = caller(&magnum_testkit::unique_name("bob"));
        Self {
            database: magnum_testkit::postgres_config(),
            bus,
            key: magnum_pki::generate_key_base64().unwrap(),
            _docker: DockerCleanup {
                projects: vec![alice.project_id.clone(), bob.project_id.clone()],
            },
            alice,
            bob,
            identity_url,
            identity_shutdown,
            _streams: streams,
            _scenario: scenario,
        }
    }

    /// A configuration with short worker timings, health checks off and no drivers.
    pub fn config(&self) -> bay_svc::Config {
        let mut config = bay_svc::Config {
            database: self.database.clone(),
            bus: self.bus.clone(),
            ..bay_svc::Config::default()
        };
        config.auth.identity_url = self.identity_url.clone();
        config.secrets.key = Some(self.key.clone());
        config.worker.ack_wait_secs = 2;
        config.worker.lease_secs = 2;
        config.worker.retry_delay_ms = 200;
        config.worker.drain_secs = 5;
        config.health.interval_secs = 0;
        config
    }

    /// [`Env::config`] with a swarm pool of three entries on the test engine.
    pub fn swarm_config(&self) -> bay_svc::Config {
        let mut config = self.config();
        config.swarm = swarm_pool();
        config
    }

    /// Starts an instance on its own connection to the bus.
    pub async fn start(&self, config: bay_svc::Config) -> Instance {
        let bus = magnum_bus::connect(&config.bus).await.unwrap();
        self.start_on(config, bus).await
    }

    pub async fn start_on(&self, config: bay_svc::Config, bus: Arc<dyn Bus>) -> Instance {
        let shutdown = Shutdown::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(bay_svc::serve(
            config,
            listener,
            Arc::clone(&bus),
            shutdown.clone(),
        ));
        let channel = magnum_grpc::client::channel(&format!("http://{address}")).unwrap();
        let instance = Instance {
            channel,
            _bus: bus,
            shutdown,
            task,
        };
        // Answering = started (migrated, serving).
        retry_unavailable(|| async {
            instance
                .bays()
                .list_bays(magnum_grpc::client::request(
                    &self.alice,
                    pb::ListBaysRequest::default(),
                ))
                .await
        })
        .await
        .unwrap();
        instance
    }

    /// A consumer of bay status events (and deletions), created now: it sees every event
    /// from the start of the stream.
    pub async fn events(&self, name: &str) -> EventLog {
        let bus = magnum_bus::connect(&self.bus).await.unwrap();
        // A delivery lost with a bus connection comes back after the ack wait: keep it short.
        let spec = |durable: String, filter: &str| ConsumerSpec {
            ack_wait: Duration::from_secs(2),
            ..ConsumerSpec::new(durable, filter)
        };
        let status = bus
            .consume(spec(format!("{name}-status"), "magnum.events.bay.status"))
            .await
            .unwrap();
        let deleted = bus
            .consume(spec(format!("{name}-deleted"), "magnum.events.bay.deleted"))
            .await
            .unwrap();
        EventLog {
            _bus: bus,
            status,
            deleted,
            statuses: Vec::new(),
            deletions: Vec::new(),
            ids: HashSet::new(),
        }
    }

    /// The test's database, for looking at rows.
    pub async fn db(&self) -> DatabaseConnection {
        magnum_db::connect(&self.database).await.unwrap()
    }
}

/// Retries `call` while the server is not answering yet.
pub async fn retry_unavailable<T, F, Fut>(call: F) -> Result<T, Status>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        match call().await {
            Err(status) if status.code() == Code::Unavailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other.map(tonic::Response::into_inner),
        }
    }
}

/// Three pool entries, all on the one test engine.
pub fn swarm_pool() -> SwarmConfig {
    let url = magnum_testkit::docker::host();
    SwarmConfig {
        engines: ["node-a", "node-b", "node-c"]
            .into_iter()
            .map(|name| EngineConfig {
                name: name.to_owned(),
                url: url.clone(),
                ..EngineConfig::default()
            })
            .collect(),
        ..SwarmConfig::default()
    }
}

/// One running bay-svc.
pub struct Instance {
    pub channel: Channel,
    /// Kept open for as long as the instance runs.
    _bus: Arc<dyn Bus>,
    shutdown: Shutdown,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Instance {
    pub fn bays(&self) -> BayServiceClient<Channel> {
        BayServiceClient::new(self.channel.clone())
    }

    pub fn baymodels(&self) -> BayModelServiceClient<Channel> {
        BayModelServiceClient::new(self.channel.clone())
    }

    pub fn certificates(&self) -> CertificateServiceClient<Channel> {
        CertificateServiceClient::new(self.channel.clone())
    }

    /// Graceful stop; the instance must stop cleanly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let stopped = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("bay-svc stops");
        stopped.unwrap().unwrap();
    }

    pub async fn create_baymodel(
        &self,
        caller: &RequestContext,
        name: &str,
        coe: &str,
    ) -> pb::BayModel {
        let spec = pb::BayModelSpec {
            name: Some(name.to_owned()),
            coe: Some(coe.to_owned()),
            image_id: Some("ubuntu".to_owned()),
            keypair_id: Some("key".to_owned()),
            ..Default::default()
        };
        self.baymodels()
            .create_bay_model(magnum_grpc::client::request(
                caller,
                pb::CreateBayModelRequest { spec: Some(spec) },
            ))
            .await
            .unwrap()
            .into_inner()
    }

    pub async fn create_bay(
        &self,
        caller: &RequestContext,
        baymodel: &str,
        name: &str,
        node_count: i32,
    ) -> Result<pb::Bay, Status> {
        self.create_bay_with(
            caller,
            pb::BaySpec {
                name: Some(name.to_owned()),
                baymodel_ident: baymodel.to_owned(),
                node_count: Some(node_count),
                ..Default::default()
            },
        )
        .await
    }

    pub async fn create_bay_with(
        &self,
        caller: &RequestContext,
        spec: pb::BaySpec,
    ) -> Result<pb::Bay, Status> {
        let created = self
            .bays()
            .create_bay(magnum_grpc::client::request(
                caller,
                pb::CreateBayRequest { spec: Some(spec) },
            ))
            .await?
            .into_inner();
        assert!(created.operation.is_some());
        Ok(created.bay.unwrap())
    }

    pub async fn get_bay(&self, caller: &RequestContext, ident: &str) -> Result<pb::Bay, Status> {
        self.bays()
            .get_bay(magnum_grpc::client::request(
                caller,
                pb::GetBayRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list_bays(&self, caller: &RequestContext) -> Vec<pb::Bay> {
        self.bays()
            .list_bays(magnum_grpc::client::request(
                caller,
                pb::ListBaysRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner()
            .bays
    }

    pub async fn update_bay(
        &self,
        caller: &RequestContext,
        ident: &str,
        node_count: i32,
    ) -> Result<pb::UpdateBayResponse, Status> {
        self.bays()
            .update_bay(magnum_grpc::client::request(
                caller,
                pb::UpdateBayRequest {
                    ident: ident.to_owned(),
                    node_count,
                    rollback: false,
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn delete_bay(
        &self,
        caller: &RequestContext,
        ident: &str,
    ) -> Result<pb::DeleteBayResponse, Status> {
        self.bays()
            .delete_bay(magnum_grpc::client::request(
                caller,
                pb::DeleteBayRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Polls the bay until `done` holds (panics after [`WAIT`], showing the last state).
    pub async fn wait_for(
        &self,
        caller: &RequestContext,
        ident: &str,
        what: &str,
        done: impl Fn(&pb::Bay) -> bool,
    ) -> pb::Bay {
        let deadline = Instant::now() + WAIT;
        loop {
            let bay = self.get_bay(caller, ident).await.unwrap();
            if done(&bay) {
                return bay;
            }
            assert!(
                Instant::now() < deadline,
                "bay {ident} never became {what}; last seen: {bay:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until the bay's status is `status`; panics if it settles elsewhere.
    pub async fn wait_status(
        &self,
        caller: &RequestContext,
        ident: &str,
        status: pb::BayStatus,
    ) -> pb::Bay {
        let bay = self
            .wait_for(caller, ident, status.as_str_name(), |bay| {
                bay.status() == status || is_final(bay.status())
            })
            .await;
        assert_eq!(
            bay.status(),
            status,
            "bay {ident} settled as {:?} ({:?})",
            bay.status(),
            bay.status_reason
        );
        bay
    }

    /// Polls until the bay is gone (NOT_FOUND).
    pub async fn wait_gone(&self, caller: &RequestContext, ident: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.get_bay(caller, ident).await {
                Err(status) if status.code() == Code::NotFound => return,
                Err(status) => panic!("get {ident}: {status:?}"),
                Ok(bay) => assert!(
                    Instant::now() < deadline,
                    "bay {ident} never went away; last seen: {bay:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn is_final(status: pb::BayStatus) -> bool {
    !matches!(
        status,
        pb::BayStatus::CreateInProgress
            | pb::BayStatus::UpdateInProgress
            | pb::BayStatus::DeleteInProgress
            | pb::BayStatus::Unspecified
    )
}

/// Bay events as a durable consumer of the test's events stream sees them.
pub struct EventLog {
    _bus: Arc<dyn Bus>,
    status: Box<dyn Subscription>,
    deleted: Box<dyn Subscription>,
    pub statuses: Vec<BayStatusChanged>,
    pub deletions: Vec<BayDeleted>,
    /// Message ids seen: a redelivery of the same message (at-least-once delivery) is not
    /// a second event; a second event has an id of its own.
    ids: HashSet<String>,
}

impl EventLog {
    /// Reads (and acks) what has arrived, until nothing more comes for `quiet`.
    pub async fn drain(&mut self, quiet: Duration) {
        loop {
            tokio::select! {
                next = self.status.next() => {
                    let Some(delivery) = self.fresh(next).await else { continue };
                    self.statuses.push(BayStatusChanged::decode(delivery.message.payload.clone()).unwrap());
                }
                next = self.deleted.next() => {
                    let Some(delivery) = self.fresh(next).await else { continue };
                    self.deletions.push(BayDeleted::decode(delivery.message.payload.clone()).unwrap());
                }
                () = tokio::time::sleep(quiet) => return,
            }
        }
    }

    /// Acks a delivery; `None` for a feed error (the bus reconnecting) or a message seen
    /// before.
    async fn fresh(
        &mut self,
        next: Option<Result<magnum_bus::Delivery, magnum_bus::BusError>>,
    ) -> Option<magnum_bus::Delivery> {
        let delivery = match next.expect("events feed open") {
            Ok(delivery) => delivery,
            Err(error) => {
                eprintln!("events feed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                return None;
            }
        };
        // Acked before it counts; a failed ack means it comes again (and is skipped then).
        let _ = delivery.ack().await;
        let id = delivery.message.id.clone();
        self.ids.insert(id).then_some(delivery)
    }

    /// Drains until `done` holds for what was seen (panics after [`WAIT`]), then a little
    /// more, so late duplicates would show.
    pub async fn drain_until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "events never showed {what}: {:?} {:?}",
                self.statuses,
                self.deletions
            );
            self.drain(Duration::from_millis(500)).await;
        }
        self.drain(Duration::from_secs(3)).await;
    }

    /// The statuses the bay went through, in order.
    pub fn statuses_of(&self, bay: &str) -> Vec<String> {
        self.statuses
            .iter()
            .filter(|event| event.bay_uuid == bay)
            .map(|event| event.status.clone())
            .collect()
    }

    pub fn count(&self, bay: &str, status: &str) -> usize {
        self.statuses_of(bay)
            .iter()
            .filter(|seen| *seen == status)
            .count()
    }

    pub fn deletions_of(&self, bay: &str) -> usize {
        self.deletions
            .iter()
            .filter(|event| event.bay_uuid == bay)
            .count()
    }
}

// ---- Docker, from outside ------------------------------------------------------------

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .env("DOCKER_HOST", magnum_testkit::docker::host())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("docker CLI")
}

fn docker_lines(args: &[&str]) -> Vec<String> {
    let output = docker(args);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

fn docker_quiet(args: &[&str]) {
    let _ = docker(args);
}

/// The names of the Docker networks labelled as the bay's.
pub fn bay_networks(bay: &str) -> BTreeSet<String> {
    let label = format!("label=magnum.bay.uuid={bay}");
    let output = docker(&["network", "ls", "--filter", &label, "--format", "{{.Name}}"]);
    assert!(output.status.success(), "docker network ls: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Removes the bay's networks by hand (as an operator or a failure would).
pub fn remove_bay_networks(bay: &str) {
    for network in bay_networks(bay) {
        let output = docker(&["network", "rm", &network]);
        assert!(output.status.success(), "docker network rm: {output:?}");
    }
}

// ---- The database, from outside ------------------------------------------------------

/// The attempts recorded for the bay's operations of `kind` (one number per operation).
pub async fn attempts(db: &DatabaseConnection, bay: &str, kind: &str) -> Vec<i64> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT CAST(attempts AS BIGINT) AS attempts FROM bay_operations \
                 WHERE bay_uuid = '{bay}' AND kind = '{kind}' ORDER BY id"
            ),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<i64>("", "attempts").unwrap())
        .collect()
}

pub async fn execute(db: &DatabaseConnection, sql: &str) -> u64 {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap()
    .rows_affected()
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A temporary directory path (not created).
pub fn temp_path(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(magnum_testkit::unique_name(prefix))
}
