//! The whole mesh in one process: every service's `serve`, wired over loopback gRPC, one
//! shared bus. The `magnum` binary (the embedded default) and the integration tests both
//! start the system through `Mesh::start`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use magnum_bus::{Bus, BusConfig};
use magnum_common::Shutdown;
use magnum_common::config::{Dict, Loader, Value};
use magnum_grpc::AuthClientConfig;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Every service's configuration, as the all-in-one process runs them.
#[derive(Debug, Clone, Default)]
pub struct MeshConfig {
    pub gateway: gateway::Config,
    pub identity: identity_svc::Config,
    pub bay: bay_svc::Config,
    pub k8s: k8s_svc::Config,
    pub container: container_svc::Config,
    /// The one bus all services share (in-process unless configured otherwise).
    pub bus: BusConfig,
}

impl MeshConfig {
    /// Sections `[gateway]`, `[identity]`, `[bay]`, `[k8s]`, `[container]` and `[bus]`.
    pub fn load(loader: &Loader) -> anyhow::Result<Self> {
        // The same top-level tables each service binary takes as defaults (its main.rs).
        Ok(Self {
            gateway: loader.service_section("gateway", &["auth", "bus"])?,
            identity: loader.service_section("identity", &["bus"])?,
            bay: loader.service_section("bay", &["auth", "bus", "policy", "swarm"])?,
            k8s: loader.service_section("k8s", &["auth", "bus", "policy"])?,
            container: loader.service_section("container", &["auth", "bus", "policy", "swarm"])?,
            bus: loader.section("bus")?,
        })
    }
}

/// Defaults of the embedded mode: loopback only, state under `data_dir`.
pub fn embedded_defaults(data_dir: &Path) -> Dict {
    let mut root = Dict::new();
    let mut section = |name: &str, entries: Vec<(&str, Value)>| {
        let dict: Dict = entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        root.insert(name.to_owned(), Value::from(dict));
    };
    // One process, one metrics registry: the gateway's endpoint shows every service.
    section(
        "gateway",
        vec![
            ("listen", Value::from("127.0.0.1:9511")),
            ("metrics_listen", Value::from("127.0.0.1:9512")),
        ],
    );
    section("identity", vec![("listen", Value::from("127.0.0.1:9520"))]);
    let bay_db: Dict = [(
        "url".to_owned(),
        Value::from(format!("sqlite://{}/bay.db", data_dir.display())),
    )]
    .into_iter()
    .collect();
    let mut bay = vec![
        ("listen", Value::from("127.0.0.1:9521")),
        ("database", Value::from(bay_db)),
        // Development: the sealing key is generated on first run and kept beside the data.
        (
            "dev_secret_key_file",
            Value::from(data_dir.join("bay-secret.key").display().to_string()),
        ),
    ];
    if let Some(url) = local_docker_engine() {
        // Top level: the pool is shared by bay-svc (networks) and container-svc (containers).
        let engine: Dict = [
            ("name".to_owned(), Value::from("local")),
            ("url".to_owned(), Value::from(url)),
        ]
        .into_iter()
        .collect();
        section(
            "swarm",
            vec![("engines", Value::from(vec![Value::from(engine)]))],
        );
    }
    if let Some(kubeconfig) = local_kubeconfig() {
        let kubernetes: Dict = [(
            "kubeconfig".to_owned(),
            Value::from(kubeconfig.display().to_string()),
        )]
        .into_iter()
        .collect();
        bay.push(("kubernetes", Value::from(kubernetes)));
    }
    section("bay", bay);
    let k8s_db: Dict = [(
        "url".to_owned(),
        Value::from(format!("sqlite://{}/k8s.db", data_dir.display())),
    )]
    .into_iter()
    .collect();
    section(
        "k8s",
        vec![
            ("listen", Value::from("127.0.0.1:9522")),
            ("database", Value::from(k8s_db)),
        ],
    );
    let container_db: Dict = [(
        "url".to_owned(),
        Value::from(format!("sqlite://{}/container.db", data_dir.display())),
    )]
    .into_iter()
    .collect();
    section(
        "container",
        vec![
            ("listen", Value::from("127.0.0.1:9523")),
            ("database", Value::from(container_db)),
        ],
    );
    root
}

/// The local Docker engine, when there is one: `DOCKER_HOST`, else the default socket if
/// it exists. It becomes the embedded mode's only swarm pool member.
fn local_docker_engine() -> Option<String> {
    if let Ok(host) = std::env::var("DOCKER_HOST")
        && !host.is_empty()
    {
        return Some(host);
    }
    let socket = Path::new("/var/run/docker.sock");
    socket
        .exists()
        .then(|| format!("unix://{}", socket.display()))
}

/// The local kubeconfig, when there is one (`KUBECONFIG`, else `~/.kube/config`): the
/// embedded mode's host cluster for kubernetes bays.
fn local_kubeconfig() -> Option<std::path::PathBuf> {
    let candidate = match std::env::var_os("KUBECONFIG") {
        Some(path) if !path.is_empty() => std::path::PathBuf::from(path),
        _ => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".kube/config"),
    };
    candidate.is_file().then_some(candidate)
}

/// A running mesh: where each service listens, and the tasks serving them.
pub struct Mesh {
    pub gateway_addr: SocketAddr,
    pub identity_addr: SocketAddr,
    pub bay_addr: SocketAddr,
    pub k8s_addr: SocketAddr,
    pub container_addr: SocketAddr,
    pub bus: Arc<dyn Bus>,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
    shutdown: Shutdown,
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

async fn bind<A>(addr: A, service: &str) -> anyhow::Result<TcpListener>
where
    A: tokio::net::ToSocketAddrs + std::fmt::Display,
{
    TcpListener::bind(&addr)
        .await
        .with_context(|| format!("{service}: cannot listen on {addr}"))
}

impl Mesh {
    /// Binds every listener first, then points each service at the others' actual
    /// addresses (so port 0 works), then starts them all.
    pub async fn start(mut config: MeshConfig, shutdown: Shutdown) -> anyhow::Result<Self> {
        let identity_listener = bind(config.identity.listen, "identity-svc").await?;
        let bay_listener = bind(config.bay.listen, "bay-svc").await?;
        let k8s_listener = bind(config.k8s.listen, "k8s-svc").await?;
        let container_listener = bind(config.container.listen, "container-svc").await?;
        let gateway_listener = bind(config.gateway.listen.as_str(), "gateway").await?;
        let identity_addr = identity_listener.local_addr()?;
        let bay_addr = bay_listener.local_addr()?;
        let k8s_addr = k8s_listener.local_addr()?;
        let container_addr = container_listener.local_addr()?;
        let gateway_addr = gateway_listener.local_addr()?;

        let auth = |mut auth: AuthClientConfig| {
            auth.identity_url = url(identity_addr);
            auth
        };
        config.gateway.auth = auth(config.gateway.auth);
        config.gateway.bay_url = url(bay_addr);
        config.gateway.k8s_url = url(k8s_addr);
        config.gateway.container_url = url(container_addr);
        config.bay.auth = auth(config.bay.auth);
        config.k8s.auth = auth(config.k8s.auth);
        config.container.auth = auth(config.container.auth);
        config.container.bay_url = url(bay_addr);
        config.k8s.bay_url = url(bay_addr);

        let bus = magnum_bus::connect(&config.bus)
            .await
            .context("cannot connect to the bus")?;

        let mut tasks = JoinSet::new();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            (
                "identity-svc",
                identity_svc::serve(config.identity, identity_listener, stop).await,
            )
        });
        let (stop, bay_bus) = (shutdown.clone(), bus.clone());
        tasks.spawn(async move {
            (
                "bay-svc",
                bay_svc::serve(config.bay, bay_listener, bay_bus, stop).await,
            )
        });
        let (stop, k8s_bus) = (shutdown.clone(), bus.clone());
        tasks.spawn(async move {
            (
                "k8s-svc",
                k8s_svc::serve(config.k8s, k8s_listener, k8s_bus, stop).await,
            )
        });
        let (stop, container_bus) = (shutdown.clone(), bus.clone());
        tasks.spawn(async move {
            (
                "container-svc",
                container_svc::serve(config.container, container_listener, container_bus, stop)
                    .await,
            )
        });
        let stop = shutdown.clone();
        tasks.spawn(async move {
            (
                "gateway",
                gateway::serve(config.gateway, gateway_listener, stop).await,
            )
        });

        Ok(Self {
            gateway_addr,
            identity_addr,
            bay_addr,
            k8s_addr,
            container_addr,
            bus,
            tasks,
            shutdown,
        })
    }

    /// Runs until shutdown; if any service stops with an error, stops the others too and
    /// returns that error.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            let outcome = match joined {
                Ok((service, Ok(()))) => {
                    tracing::debug!(service, "service stopped");
                    Ok(())
                }
                Ok((service, Err(error))) => Err(error.context(format!("{service} failed"))),
                Err(join_error) => Err(anyhow::anyhow!(
                    "a service task panicked or was cancelled: {join_error}"
                )),
            };
            if let Err(error) = outcome {
                if !self.shutdown.is_cancelled() {
                    tracing::error!(error = format!("{error:#}"), "stopping every service");
                    self.shutdown.cancel();
                }
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops every service and waits for them.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }
}
