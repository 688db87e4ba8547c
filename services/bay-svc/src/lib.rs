//! bay-svc: baymodels (cluster templates) and node records now; bays and bay certificates
//! follow.
//!
//! Layers, from the inside out: `domain` (types, validation, ports; no I/O), `app` (use
//! cases with policy and tenancy), `store` (sea-orm repositories, migrations, outbox),
//! `grpc` (the tonic services). [`run`] and [`serve`] compose them.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use magnum_common::Shutdown;
use magnum_db::DatabaseConfig;
use magnum_grpc::{AuthClientConfig, Authenticator, GrpcServer};
use magnum_proto::bay::v1::bay_model_service_server::BayModelServiceServer;
use magnum_proto::bay::v1::bay_service_server::{BayService, BayServiceServer};
use magnum_proto::bay::v1::certificate_service_server::{
    CertificateService, CertificateServiceServer,
};
use magnum_proto::bay::v1::node_service_server::NodeServiceServer;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub mod app;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod store;

pub use error::{Error, Result};

/// bay-svc's configuration: the `[bay]` section (`MAGNUM_BAY__*`). The defaults run the
/// embedded mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Where the baymodels, nodes (and the outbox) live.
    pub database: DatabaseConfig,
    /// The bus the outbox relay publishes events to.
    pub bus: magnum_bus::BusConfig,
    /// How callers are authenticated (identity-svc).
    pub auth: AuthClientConfig,
    /// Policy rules overriding Magnum's defaults (`[policy] policy_file`).
    pub policy: magnum_policy::PolicyConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9521)),
            database: DatabaseConfig {
                url: "sqlite://data/bay.db".to_owned(),
                schema: "bay".to_owned(),
                ..DatabaseConfig::default()
            },
            bus: magnum_bus::BusConfig::default(),
            auth: AuthClientConfig::default(),
            policy: magnum_policy::PolicyConfig::default(),
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

/// Serves on `listener` with `bus` until `shutdown` (the all-in-one binary and tests
/// bring their own listener and bus): migrates the database, runs the outbox relay and
/// the gRPC server, and stops both gracefully.
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

    // The relay outlives the server by nothing: it stops once the server has drained.
    let relay_shutdown = shutdown.child_token();
    let relay = magnum_bus::outbox::Relay::new(db.clone(), bus);
    let repository =
        store::SqlBayModelRepository::new(db.clone()).with_outbox_notifier(relay.notifier());
    let relay_task = relay.spawn(relay_shutdown.clone());
    let baymodels = app::BayModels::new(Arc::new(repository), policy.clone());
    let nodes = app::Nodes::new(Arc::new(store::SqlNodeRepository::new(db.clone())), policy);

    tracing::info!(addr = %listener.local_addr()?, "bay-svc listening");
    let served = GrpcServer::new(Some(authenticator))
        .add_service(BayModelServiceServer::new(grpc::BayModelApi::new(
            baymodels,
        )))
        .add_service(BayServiceServer::new(NotYetImplemented))
        .add_service(NodeServiceServer::new(grpc::NodeApi::new(nodes)))
        .add_service(CertificateServiceServer::new(NotYetImplemented))
        .serve(listener, shutdown)
        .await;

    relay_shutdown.cancel();
    if let Err(error) = relay_task.await {
        tracing::error!(%error, "outbox relay task failed");
    }
    if let Err(error) = db.close().await {
        tracing::warn!(%error, "closing the database failed");
    }
    served.context("gRPC server failed")
}

/// Bays and certificates answer UNIMPLEMENTED (the generated defaults) until
/// their issue lands.
struct NotYetImplemented;

impl BayService for NotYetImplemented {}
impl CertificateService for NotYetImplemented {}

#[cfg(test)]
#[path = "lib_test.rs"]
mod tests;
