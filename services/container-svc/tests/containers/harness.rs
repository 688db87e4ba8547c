//! The world of a container test: identity-svc in no-auth mode, bay-svc with a swarm pool
//! of two entries on the test engine, container-svc on top, each on a fresh Postgres
//! schema, and a swarm bay ready to take containers.

use std::process::{Command, Stdio};
use std::sync::Arc;

use magnum_bus::BusConfig;
use magnum_common::{RequestContext, Shutdown};
use magnum_driver_swarm::{EngineConfig, SwarmConfig};
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::bay::v1 as bay_pb;
use magnum_proto::container::v1 as pb;
use magnum_proto::container::v1::container_service_client::ContainerServiceClient;
use magnum_testkit::bays::{Bays, retry_unavailable};
use tokio::net::TcpListener;
use tonic::Status;

/// A container spec on `bay` with a name, 64m of memory and `GREETING=hello`.
pub fn spec(bay: &str, image: &str, command: &str) -> pb::ContainerSpec {
    pb::ContainerSpec {
        name: Some(magnum_testkit::unique_name("c")),
        image: image.to_owned(),
        bay_uuid: bay.to_owned(),
        command: Some(command.to_owned()),
        memory: Some("64m".to_owned()),
        environment: std::collections::HashMap::from([("GREETING".to_owned(), "hello".to_owned())]),
        ..Default::default()
    }
}

pub use magnum_testkit::bays::WAIT;

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

/// Removes whatever the test's projects left on the engine, when the test ends.
struct DockerCleanup {
    projects: Vec<String>,
}

impl Drop for DockerCleanup {
    fn drop(&mut self) {
        for project in &self.projects {
            let label = format!("label=magnum.project={project}");
            for id in docker_lines(&["ps", "-aq", "--filter", &label]) {
                let _ = docker(&["rm", "-f", &id]);
            }
            for id in docker_lines(&["network", "ls", "-q", "--filter", &label]) {
                let _ = docker(&["network", "rm", &id]);
            }
        }
    }
}

/// Two entries on the one test engine.
pub fn swarm_pool() -> SwarmConfig {
    let url = magnum_testkit::docker::host();
    SwarmConfig {
        engines: ["node-a", "node-b"]
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

pub struct World {
    pub alice: RequestContext,
    pub bob: RequestContext,
    bay_channel: Channel,
    container_channel: Channel,
    container_config: container_svc::Config,
    bus: Arc<dyn magnum_bus::Bus>,
    container_svc: tokio::task::JoinHandle<()>,
    /// Stops the current container-svc's background tasks (its serve task is aborted).
    container_stop: Shutdown,
    shutdown: Shutdown,
    _docker: DockerCleanup,
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.container_svc.abort();
        self.container_stop.cancel();
    }
}

async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Serves container-svc until the task is aborted (a dying process) or `shutdown`.
async fn spawn_container_svc(
    config: &container_svc::Config,
    bus: &Arc<dyn magnum_bus::Bus>,
    shutdown: &Shutdown,
) -> (tokio::task::JoinHandle<()>, Channel) {
    let (listener, url) = listen().await;
    let config = config.clone();
    let bus = Arc::clone(bus);
    let shutdown = shutdown.clone();
    let task = tokio::spawn(async move {
        if let Err(error) = container_svc::serve(config, listener, bus, shutdown).await {
            panic!("container-svc failed: {error:?}");
        }
    });
    (task, magnum_grpc::client::channel(&url).unwrap())
}

impl World {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with container-svc's configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut container_svc::Config)) -> Self {
        let shutdown = Shutdown::new();
        let bus_config = BusConfig {
            url: format!("memory://{}", magnum_testkit::unique_name("container")),
            prefix: String::new(),
        };
        let bus = magnum_bus::connect(&bus_config).await.unwrap();

        let (identity_listener, identity_url) = listen().await;
        tokio::spawn(identity_svc::serve(
            identity_svc::Config::default(),
            identity_listener,
            shutdown.clone(),
        ));

        let (bay_listener, bay_url) = listen().await;
        let mut bay_config = bay_svc::Config {
            database: magnum_testkit::postgres_config(),
            bus: bus_config.clone(),
            swarm: swarm_pool(),
            ..bay_svc::Config::default()
        };
        bay_config.auth.identity_url = identity_url.clone();
        bay_config.secrets.key = Some(magnum_pki::generate_key_base64().unwrap());
        bay_config.health.interval_secs = 0;
        tokio::spawn(bay_svc::serve(
            bay_config,
            bay_listener,
            Arc::clone(&bus),
            shutdown.clone(),
        ));

        let mut config = container_svc::Config {
            database: magnum_testkit::postgres_config(),
            bus: bus_config,
            bay_url: bay_url.clone(),
            swarm: swarm_pool(),
            execute_timeout_secs: 20,
            status_max_age_ms: 200,
            ..container_svc::Config::default()
        };
        config.auth.identity_url = identity_url;
        adjust(&mut config);
        let container_stop = shutdown.child_token();
        let (container_svc, container_channel) =
            spawn_container_svc(&config, &bus, &container_stop).await;

        let alice = caller(&magnum_testkit::unique_name("alice"));
        let bob = caller(&magnum_testkit::unique_name("bob"));
        let world = Self {
            _docker: DockerCleanup {
                projects: vec![alice.project_id.clone(), bob.project_id.clone()],
            },
            alice,
            bob,
            bay_channel: magnum_grpc::client::channel(&bay_url).unwrap(),
            container_channel,
            container_config: config,
            bus,
            container_svc,
            container_stop,
            shutdown,
        };
        // Answering = started (migrated, serving).
        world.wait_until_answering().await;
        world
    }

    /// Kills container-svc where it stands (its tasks are dropped, as in a dying process)
    /// and starts a new one on the same database.
    pub async fn restart_container_svc(&mut self) {
        self.container_svc.abort();
        let _ = (&mut self.container_svc).await;
        // What it had spawned dies with it.
        self.container_stop.cancel();
        self.container_stop = self.shutdown.child_token();
        let (task, channel) =
            spawn_container_svc(&self.container_config, &self.bus, &self.container_stop).await;
        self.container_svc = task;
        self.container_channel = channel;
        self.wait_until_answering().await;
    }

    async fn wait_until_answering(&self) {
        let world = self;
        retry_unavailable(|| async {
            world
                .bay_fixture()
                .client()
                .list_bays(magnum_grpc::client::request(
                    &world.alice,
                    bay_pb::ListBaysRequest::default(),
                ))
                .await
        })
        .await
        .unwrap();
        retry_unavailable(|| async {
            world
                .containers()
                .list_containers(magnum_grpc::client::request(
                    &world.alice,
                    pb::ListContainersRequest::default(),
                ))
                .await
        })
        .await
        .unwrap();
    }

    pub fn containers(&self) -> ContainerServiceClient<Channel> {
        ContainerServiceClient::new(self.container_channel.clone())
    }

    fn bay_fixture(&self) -> Bays {
        Bays::new(self.bay_channel.clone())
    }

    /// A swarm baymodel and a bay of `nodes` workers, CREATE_COMPLETE.
    pub async fn swarm_bay(&self, caller: &RequestContext, nodes: i32) -> bay_pb::Bay {
        self.bay_fixture().complete(caller, "swarm", nodes).await
    }

    /// Deletes the bay and waits until it is gone.
    pub async fn delete_bay(&self, caller: &RequestContext, ident: &str) {
        self.bay_fixture().delete(caller, ident).await;
    }

    pub async fn create(
        &self,
        caller: &RequestContext,
        spec: pb::ContainerSpec,
    ) -> Result<pb::Container, Status> {
        self.containers()
            .create_container(magnum_grpc::client::request(
                caller,
                pb::CreateContainerRequest { spec: Some(spec) },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get(&self, caller: &RequestContext, ident: &str) -> Result<pb::Container, Status> {
        self.containers()
            .get_container(magnum_grpc::client::request(
                caller,
                pb::GetContainerRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn delete(
        &self,
        caller: &RequestContext,
        ident: &str,
        force: bool,
    ) -> Result<(), Status> {
        self.containers()
            .delete_container(magnum_grpc::client::request(
                caller,
                pb::DeleteContainerRequest {
                    ident: ident.to_owned(),
                    force,
                },
            ))
            .await
            .map(|_| ())
    }

    pub async fn execute(
        &self,
        caller: &RequestContext,
        ident: &str,
        command: &str,
    ) -> Result<pb::ExecuteInContainerResponse, Status> {
        self.containers()
            .execute_in_container(magnum_grpc::client::request(
                caller,
                pb::ExecuteInContainerRequest {
                    ident: ident.to_owned(),
                    command: command.to_owned(),
                    timeout_seconds: 0,
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list(&self, caller: &RequestContext, bay_ident: &str) -> Vec<pb::Container> {
        self.containers()
            .list_containers(magnum_grpc::client::request(
                caller,
                pb::ListContainersRequest {
                    bay_ident: bay_ident.to_owned(),
                    options: None,
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .containers
    }
}

pub fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .env("DOCKER_HOST", magnum_testkit::docker::host())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("docker CLI")
}

pub fn docker_lines(args: &[&str]) -> Vec<String> {
    let output = docker(args);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Ids of the Docker containers labelled as the container record `uuid`'s.
pub fn docker_containers_of(uuid: &str) -> Vec<String> {
    let label = format!("label=magnum.container.uuid={uuid}");
    docker_lines(&["ps", "-aq", "--filter", &label])
}
