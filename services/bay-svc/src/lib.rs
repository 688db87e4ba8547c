//! bay-svc: baymodels (cluster templates) and node records now; bays and bay certificates
//! follow.
//!
//! Layers, from the inside out: `domain` (types, validation, ports; no I/O), `app` (use
//! cases with policy and tenancy), `store` (sea-orm repositories, migrations, outbox),
//! `grpc` (the tonic services). [`run`] and [`serve`] compose them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use magnum_bay_driver::BayDriver;
use magnum_common::Shutdown;
use magnum_db::DatabaseConfig;
use magnum_driver_kubernetes::{KubernetesConfig, KubernetesDriver};
use magnum_driver_swarm::{SwarmConfig, SwarmDriver};
use magnum_grpc::{AuthClientConfig, Authenticator, GrpcServer};
use magnum_pki::SealerConfig;
use magnum_proto::bay::v1::bay_model_service_server::BayModelServiceServer;
use magnum_proto::bay::v1::bay_service_server::BayServiceServer;
use magnum_proto::bay::v1::certificate_service_server::CertificateServiceServer;
use magnum_proto::bay::v1::magnum_service_service_server::MagnumServiceServiceServer;
use magnum_proto::bay::v1::node_group_service_server::NodeGroupServiceServer;
use magnum_proto::bay::v1::node_service_server::NodeServiceServer;
use magnum_proto::bay::v1::quota_service_server::QuotaServiceServer;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub mod app;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod store;
pub mod worker;

pub use error::{Error, Result};
pub use worker::{HealthConfig, WorkerConfig};

/// bay-svc's configuration: the `[bay]` section (`MAGNUM_BAY__*`). The defaults run the
/// embedded mode.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Where Prometheus scrapes `GET /metrics` (HTTP); none when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the baymodels, bays, nodes (and the outbox) live.
    pub database: DatabaseConfig,
    /// The bus: operations to the workers, events to the mesh.
    pub bus: magnum_bus::BusConfig,
    /// How callers are authenticated (identity-svc).
    pub auth: AuthClientConfig,
    /// Policy rules overriding Magnum's defaults (`[policy] policy_file`).
    pub policy: magnum_policy::PolicyConfig,
    /// The key that seals bay CA keys and bay credentials at rest (`[bay.secrets]`).
    pub secrets: SealerConfig,
    /// Development only: with no key configured, generate one in this file (and reuse it).
    /// Unset in production, where a missing key stops the service at start-up.
    pub dev_secret_key_file: Option<PathBuf>,
    /// The Docker engine pool of swarm bays (`[bay.swarm]`); no engines = no swarm bays.
    pub swarm: SwarmConfig,
    /// The host cluster of kubernetes bays (`[bay.kubernetes]`); no kubeconfig = no
    /// kubernetes bays.
    pub kubernetes: KubernetesConfig,
    pub worker: WorkerConfig,
    pub health: HealthConfig,
    pub certificates: CertificateConfig,
    /// Minutes a bay create may take when the request asks for the default (`null`);
    /// 0 = no limit.
    pub default_create_timeout: u32,
    /// The bays a project may have when no quota is stored for it (Magnum's
    /// `max_clusters_per_project`, 20).
    pub default_bay_quota: u32,
    /// `/v1/mservices`: a replica whose last heartbeat is older than this is down
    /// (Magnum's `service_down_time`, 180 s; replicas beat every 10 s).
    pub service_down_time_secs: u64,
}

/// `[bay.certificates]`: validity of bay CAs and of the certificates they sign.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertificateConfig {
    pub ca_validity_days: u32,
    pub cert_validity_days: u32,
}

impl Default for CertificateConfig {
    fn default() -> Self {
        Self {
            ca_validity_days: 3650,
            cert_validity_days: 365,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9521)),
            metrics_listen: None,
            database: DatabaseConfig {
                url: "sqlite://data/bay.db".to_owned(),
                schema: "bay".to_owned(),
                ..DatabaseConfig::default()
            },
            bus: magnum_bus::BusConfig::default(),
            auth: AuthClientConfig::default(),
            policy: magnum_policy::PolicyConfig::default(),
            secrets: SealerConfig::default(),
            dev_secret_key_file: None,
            swarm: SwarmConfig::default(),
            kubernetes: KubernetesConfig::default(),
            worker: WorkerConfig::default(),
            health: HealthConfig::default(),
            certificates: CertificateConfig::default(),
            default_create_timeout: 0,
            default_bay_quota: 20,
            service_down_time_secs: 180,
        }
    }
}

/// Runs bay-svc until `shutdown`: connects the bus, binds `config.listen` and serves.
pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let bus = magnum_bus::connect(&config.bus)
        .await
        .context("cannot connect to the bus")?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    serve(config, listener, bus, shutdown).await
}

/// The drivers the configuration asks for.
async fn drivers(config: &Config) -> anyhow::Result<app::Drivers> {
    let mut drivers: Vec<Arc<dyn BayDriver>> = Vec::new();
    if !config.swarm.engines.is_empty() {
        let swarm = SwarmDriver::new(config.swarm.clone()).context("invalid [bay.swarm]")?;
        drivers.push(Arc::new(swarm));
    }
    if config.kubernetes.kubeconfig.is_some() {
        let kubernetes = KubernetesDriver::new(config.kubernetes.clone())
            .await
            .context("invalid [bay.kubernetes]")?;
        drivers.push(Arc::new(kubernetes));
    }
    let coes: Vec<&str> = drivers.iter().map(|driver| driver.coe()).collect();
    tracing::info!(?coes, "bay drivers");
    Ok(app::Drivers::new(drivers))
}

/// Serves on `listener` with `bus` until `shutdown` (the all-in-one binary and tests
/// bring their own listener and bus): migrates the database, runs the outbox relay, the
/// operation workers, the health checks and the gRPC server, and stops them gracefully.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    bus: Arc<dyn magnum_bus::Bus>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let policy = config.policy.load().context("invalid policy")?;
    let sealer = Arc::new(
        config
            .secrets
            .load(config.dev_secret_key_file.as_deref())
            .context("invalid [bay.secrets]")?,
    );
    let drivers = drivers(&config).await?;
    let db = magnum_db::connect_and_migrate::<store::Migrator>(&config.database)
        .await
        .context("cannot prepare the database")?;
    let authenticator = Authenticator::new(
        magnum_grpc::client::channel(&config.auth.identity_url)?,
        &config.auth,
    );

    // Background work stops when the server has drained.
    let background = shutdown.child_token();
    let sidecars = magnum_grpc::sidecars::Sidecars::start(
        "magnum-bay-svc",
        magnum_bus::presence::Registry::Bus(bus.clone()),
        config.metrics_listen,
        background.clone(),
    )
    .await?;
    let relay = magnum_bus::outbox::Relay::new(db.clone(), bus.clone());
    let notifier = relay.notifier();
    let relay_task = relay.spawn(background.clone());
    let bay_store =
        Arc::new(store::SqlBayRepository::new(db.clone()).with_outbox_notifier(notifier.clone()));
    let baymodel_store =
        store::SqlBayModelRepository::new(db.clone()).with_outbox_notifier(notifier);
    let baymodels =
        app::BayModels::new(Arc::new(baymodel_store), bay_store.clone(), policy.clone());
    let nodes = app::Nodes::new(
        Arc::new(store::SqlNodeRepository::new(db.clone())),
        policy.clone(),
    );
    let pki = app::Pki {
        sealer: sealer.clone(),
        ca_validity_days: config.certificates.ca_validity_days,
        cert_validity_days: config.certificates.cert_validity_days,
    };
    let quotas = app::Quotas::new(
        Arc::new(store::SqlQuotaRepository::new(db.clone())),
        policy.clone(),
        config.default_bay_quota,
    );
    let bays = app::Bays::new(
        bay_store.clone(),
        baymodels.clone(),
        drivers.clone(),
        pki,
        quotas.clone(),
        policy.clone(),
        config.default_create_timeout,
    );

    let services = app::MagnumServices::new(
        bus.clone(),
        policy,
        Duration::from_secs(config.service_down_time_secs),
    );

    let mut workers = tokio::task::JoinSet::new();
    if config.worker.enabled {
        let holder = format!(
            "bay-svc-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let operations = app::Operations::new(
            bay_store.clone(),
            drivers.clone(),
            sealer,
            holder,
            app::OperationTiming {
                lease: Duration::from_secs(config.worker.lease_secs.max(1)),
                retry_delay: Duration::from_millis(config.worker.retry_delay_ms),
            },
        );
        workers.spawn(worker::run_operations(
            bus.clone(),
            operations,
            config.worker.clone(),
            background.clone(),
        ));
        let checks = app::HealthChecks::new(
            bay_store,
            drivers,
            Duration::from_secs(config.health.timeout_secs.max(1)),
        );
        workers.spawn(worker::run_health_checks(
            checks,
            config.health.clone(),
            background.clone(),
        ));
    }

    tracing::info!(addr = %listener.local_addr()?, "bay-svc listening");
    let served = GrpcServer::new(Some(authenticator))
        .add_service(BayModelServiceServer::new(grpc::BayModelApi::new(
            baymodels,
        )))
        .add_service(BayServiceServer::new(grpc::BayApi::new(
            bays.clone(),
            grpc::BayWatch::new(bus, shutdown.clone()),
        )))
        .add_service(NodeServiceServer::new(grpc::NodeApi::new(nodes)))
        .add_service(CertificateServiceServer::new(grpc::CertificateApi::new(
            bays.clone(),
        )))
        .add_service(NodeGroupServiceServer::new(grpc::NodeGroupApi::new(bays)))
        .add_service(QuotaServiceServer::new(grpc::QuotaApi::new(quotas)))
        .add_service(MagnumServiceServiceServer::new(
            grpc::MagnumServiceApi::new(services),
        ))
        .serve(listener, shutdown)
        .await;

    background.cancel();
    sidecars.join().await;
    while let Some(joined) = workers.join_next().await {
        if let Err(error) = joined {
            tracing::error!(%error, "a bay-svc worker task failed");
        }
    }
    if let Err(error) = relay_task.await {
        tracing::error!(%error, "outbox relay task failed");
    }
    if let Err(error) = db.close().await {
        tracing::warn!(%error, "closing the database failed");
    }
    served.context("gRPC server failed")
}

#[cfg(test)]
#[path = "lib_test.rs"]
mod tests;
