//! container-svc: Docker containers on swarm bays.
//!
//! Layers, from the inside out: `domain` (types, validation, ports; no I/O), `app` (use
//! cases with policy and tenancy), `store` (sea-orm repository, migrations), `engine`
//! (the bay's Docker engines), `bays` (bay-svc, called with the caller's credentials),
//! `grpc` (the tonic service), `events` (bay deletions from the bus), `sweeper` (creates
//! their replica abandoned). [`run`] and
//! [`serve`] compose them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use magnum_common::Shutdown;
use magnum_db::DatabaseConfig;
use magnum_driver_swarm::SwarmConfig;
use magnum_grpc::{AuthClientConfig, Authenticator, GrpcServer};
use magnum_proto::container::v1::container_service_server::ContainerServiceServer;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub mod app;
pub mod bays;
pub mod domain;
pub mod engine;
pub mod error;
pub mod events;
pub mod grpc;
pub mod store;
pub mod sweeper;

pub use error::{Error, Result};

/// container-svc's configuration: the `[container]` section (`MAGNUM_CONTAINER__*`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Where Prometheus scrapes `GET /metrics` (HTTP); none when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the container records live.
    pub database: DatabaseConfig,
    /// The bus: bay deletions arrive on it.
    pub bus: magnum_bus::BusConfig,
    /// How callers are authenticated (identity-svc).
    pub auth: AuthClientConfig,
    /// Policy rules overriding Magnum's defaults.
    pub policy: magnum_policy::PolicyConfig,
    /// bay-svc's gRPC address (bays are looked up with the caller's credentials).
    pub bay_url: String,
    /// The Docker engine pool of swarm bays: the same entries as bay-svc's `[bay.swarm]`
    /// (bay nodes are pool entry names).
    pub swarm: SwarmConfig,
    /// The most bytes of logs (and of command output) one call returns.
    pub logs_max_bytes: usize,
    /// Seconds a command may run when the request asks for the default.
    pub execute_timeout_secs: u64,
    /// Bound on every Docker call, in seconds.
    pub docker_timeout_secs: u64,
    /// How long a create may work on the engine, in seconds. A record still `Creating`
    /// this long plus `docker_timeout_secs` after it was made lost its replica: the sweep
    /// settles it (Stopped if its Docker container exists, else Error).
    pub create_timeout_secs: u64,
    /// Seconds between sweeps for abandoned creates (each replica sweeps).
    pub sweep_interval_secs: u64,
    /// How old, in milliseconds, an engine's container states may be when a list shows
    /// them (lists ask each engine at most this often).
    pub status_max_age_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9523)),
            metrics_listen: None,
            database: DatabaseConfig {
                url: "sqlite://data/container.db".to_owned(),
                schema: "container".to_owned(),
                ..DatabaseConfig::default()
            },
            bus: magnum_bus::BusConfig::default(),
            auth: AuthClientConfig::default(),
            policy: magnum_policy::PolicyConfig::default(),
            bay_url: "http://127.0.0.1:9521".to_owned(),
            swarm: SwarmConfig::default(),
            logs_max_bytes: 1024 * 1024,
            execute_timeout_secs: 30,
            docker_timeout_secs: 60,
            create_timeout_secs: 120,
            sweep_interval_secs: 30,
            status_max_age_ms: 2000,
        }
    }
}

/// Runs container-svc until `shutdown`: connects the bus, binds `config.listen`, serves.
pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let bus = magnum_bus::connect(&config.bus)
        .await
        .context("cannot connect to the bus")?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    serve(config, listener, bus, shutdown).await
}

/// Serves on `listener` with `bus` until `shutdown`: migrates the database, consumes bay
/// deletions and runs the gRPC server.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    bus: Arc<dyn magnum_bus::Bus>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let policy = config.policy.load().context("invalid policy")?;
    config
        .swarm
        .validate()
        .context("invalid [container.swarm]")?;
    let db = magnum_db::connect_and_migrate::<store::Migrator>(&config.database)
        .await
        .context("cannot prepare the database")?;
    let authenticator = Authenticator::new(
        magnum_grpc::client::channel(&config.auth.identity_url)?,
        &config.auth,
    );
    let bays = bays::GrpcBays::new(magnum_bay_client::BayClient::new(
        magnum_grpc::client::channel(&config.bay_url).context("invalid bay_url")?,
    ));
    let docker_timeout = Duration::from_secs(config.docker_timeout_secs.max(1));
    let create_timeout = Duration::from_secs(config.create_timeout_secs.max(1));
    let engines = engine::Engines::new(
        &config.swarm,
        docker_timeout,
        Duration::from_millis(config.status_max_age_ms),
    );
    let containers = app::Containers::new(
        Arc::new(store::SqlContainerRepository::new(db.clone())),
        Arc::new(bays),
        Arc::new(engines),
        policy,
        app::Limits {
            logs_max_bytes: config.logs_max_bytes.max(1),
            execute_timeout: Duration::from_secs(config.execute_timeout_secs.max(1)),
            create_timeout,
            abandoned_after: create_timeout + docker_timeout,
        },
    );

    let background = shutdown.child_token();
    let sidecars = magnum_grpc::sidecars::Sidecars::start(
        "magnum-container-svc",
        magnum_bus::presence::Registry::Bus(bus.clone()),
        config.metrics_listen,
        background.clone(),
    )
    .await?;
    let deletions = tokio::spawn(events::run_bay_deletions(
        bus,
        containers.clone(),
        background.clone(),
    ));

    let sweeper = tokio::spawn(sweeper::run(
        containers.clone(),
        Duration::from_secs(config.sweep_interval_secs.max(1)),
        background.clone(),
    ));

    tracing::info!(addr = %listener.local_addr()?, "container-svc listening");
    let served = GrpcServer::new(Some(authenticator))
        .add_service(ContainerServiceServer::new(grpc::ContainerApi::new(
            containers,
        )))
        .serve(listener, shutdown)
        .await;

    background.cancel();
    sidecars.join().await;
    for (task, name) in [(deletions, "bay deletions"), (sweeper, "sweeper")] {
        if let Err(error) = task.await {
            tracing::error!(%error, "{name} task failed");
        }
    }
    if let Err(error) = db.close().await {
        tracing::warn!(%error, "closing the database failed");
    }
    served.context("gRPC server failed")
}

#[cfg(test)]
#[path = "lib_test.rs"]
mod tests;
