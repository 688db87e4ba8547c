//! container-svc: Docker containers on swarm bays.
//!
//! The contract is complete (proto/magnum/container/v1); the operations answer
//! UNIMPLEMENTED until the Containers issue lands. The server already runs the auth layer.

use std::net::SocketAddr;

use magnum_common::Shutdown;
use magnum_grpc::{AuthClientConfig, Authenticator, GrpcServer};
use magnum_proto::container::v1::container_service_server::{
    ContainerService, ContainerServiceServer,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: SocketAddr,
    pub auth: AuthClientConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9523)),
            auth: AuthClientConfig::default(),
        }
    }
}

/// Answers every call with UNIMPLEMENTED (the generated default) for now.
struct Containers;

impl ContainerService for Containers {}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    serve(config, listener, shutdown).await
}

pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "container-svc listening");
    let authenticator = Authenticator::new(
        magnum_grpc::client::channel(&config.auth.identity_url)?,
        &config.auth,
    );
    GrpcServer::new(Some(authenticator))
        .add_service(ContainerServiceServer::new(Containers))
        .serve(listener, shutdown)
        .await?;
    Ok(())
}
