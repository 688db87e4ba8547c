//! k8s-svc: Kubernetes pods, services and replication controllers on kubernetes bays.
//!
//! Layers, from the inside out: `domain` (manifests, records, ports; no I/O), `app` (use
//! cases with policy and tenancy), `store` (sea-orm repository, migrations), `cluster` (the
//! bays' API servers through kube, with each bay's own credential), `bays` (bay-svc, as the
//! caller), `fetch` (`manifest_url`), `grpc` (the three tonic services), `events` (bay
//! deletions from the bus). [`run`] and [`serve`] compose them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use magnum_common::Shutdown;
use magnum_db::DatabaseConfig;
use magnum_grpc::{AuthClientConfig, Authenticator, GrpcServer};
use magnum_proto::k8s::v1::coe_service_service_server::CoeServiceServiceServer;
use magnum_proto::k8s::v1::pod_service_server::PodServiceServer;
use magnum_proto::k8s::v1::replication_controller_service_server::ReplicationControllerServiceServer;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub mod app;
pub mod bays;
pub mod cluster;
pub mod domain;
pub mod error;
pub mod fetch;
pub mod grpc;
pub mod store;

pub use error::{Error, Result};

/// The durable consumer of bay deletions (shared by replicas).
pub const DELETIONS_DURABLE: &str = "k8s-svc";

/// k8s-svc's configuration: the `[k8s]` section (`MAGNUM_K8S__*`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Where Prometheus scrapes `GET /metrics` (HTTP); none when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the object records live.
    pub database: DatabaseConfig,
    /// The bus: bay deletions arrive on it.
    pub bus: magnum_bus::BusConfig,
    /// How callers are authenticated (identity-svc).
    pub auth: AuthClientConfig,
    /// Policy rules overriding Magnum's defaults.
    pub policy: magnum_policy::PolicyConfig,
    /// bay-svc's gRPC address (bays and their credentials are asked for as the caller).
    pub bay_url: String,
    /// The largest manifest, inline or fetched, in bytes (Magnum's `max_manifest_size`).
    pub max_manifest_size: usize,
    /// Whether `manifest_url` is fetched. It makes the service fetch URLs users name:
    /// turn it off where that must not happen.
    pub manifest_url_enabled: bool,
    /// Bound on fetching a `manifest_url`, in seconds.
    pub manifest_url_timeout_secs: u64,
    /// Bound on every call to a bay's API server, in seconds.
    pub kubernetes_timeout_secs: u64,
    /// A record still being created this long after it was made lost its replica; the
    /// next caller to look settles it from the cluster, in seconds.
    pub create_timeout_secs: u64,
    /// How old, in milliseconds, a bay's object states may be when a list shows them
    /// (lists ask each bay's API server at most this often per kind).
    pub status_max_age_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9522)),
            metrics_listen: None,
            database: DatabaseConfig {
                url: "sqlite://data/k8s.db".to_owned(),
                schema: "k8s".to_owned(),
                ..DatabaseConfig::default()
            },
            bus: magnum_bus::BusConfig::default(),
            auth: AuthClientConfig::default(),
            policy: magnum_policy::PolicyConfig::default(),
            bay_url: "http://127.0.0.1:9521".to_owned(),
            max_manifest_size: 524_288,
            manifest_url_enabled: true,
            manifest_url_timeout_secs: 10,
            kubernetes_timeout_secs: 30,
            create_timeout_secs: 120,
            status_max_age_ms: 2000,
        }
    }
}

/// Runs k8s-svc until `shutdown`: connects the bus, binds `config.listen`, serves.
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
    let kubernetes_timeout = Duration::from_secs(config.kubernetes_timeout_secs.max(1));
    let clusters = cluster::KubeClusters::new(
        kubernetes_timeout,
        Duration::from_millis(config.status_max_age_ms),
    );
    let fetcher = fetch::ManifestFetcher::new(
        config.manifest_url_enabled,
        Duration::from_secs(config.manifest_url_timeout_secs.max(1)),
        config.max_manifest_size,
    )?;
    let objects = app::Objects::new(
        Arc::new(store::SqlObjectRepository::new(db.clone())),
        Arc::new(bays),
        Arc::new(clusters),
        fetcher,
        policy,
        app::Limits {
            max_manifest_bytes: config.max_manifest_size,
            abandoned_after: Duration::from_secs(config.create_timeout_secs.max(1))
                + kubernetes_timeout,
        },
    );

    let background = shutdown.child_token();
    let sidecars = magnum_grpc::sidecars::Sidecars::start(
        "magnum-k8s-svc",
        magnum_bus::presence::Registry::Bus(bus.clone()),
        config.metrics_listen,
        background.clone(),
    )
    .await?;
    let deletions = {
        let objects = objects.clone();
        tokio::spawn(magnum_bay_client::deletions::consume(
            bus,
            DELETIONS_DURABLE,
            background.clone(),
            move |bay| {
                let objects = objects.clone();
                async move { objects.bay_deleted(bay).await }
            },
        ))
    };

    tracing::info!(addr = %listener.local_addr()?, "k8s-svc listening");
    let api = grpc::KubernetesApi::new(objects);
    let served = GrpcServer::new(Some(authenticator))
        .add_service(PodServiceServer::new(api.clone()))
        .add_service(CoeServiceServiceServer::new(api.clone()))
        .add_service(ReplicationControllerServiceServer::new(api))
        .serve(listener, shutdown)
        .await;

    background.cancel();
    sidecars.join().await;
    if let Err(error) = deletions.await {
        tracing::error!(%error, "bay deletions task failed");
    }
    if let Err(error) = db.close().await {
        tracing::warn!(%error, "closing the database failed");
    }
    served.context("gRPC server failed")
}
