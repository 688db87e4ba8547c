//! k8s-svc: Kubernetes pods, services and replication controllers on kubernetes bays.
//!
//! The contracts are complete (proto/magnum/k8s/v1); the operations answer UNIMPLEMENTED
//! until the Kubernetes-objects issue lands. The server already runs the auth layer.

use std::net::SocketAddr;

use magnum_common::Shutdown;
use magnum_grpc::{AuthClientConfig, Authenticator, GrpcServer};
use magnum_proto::k8s::v1::coe_service_service_server::{
    CoeServiceService, CoeServiceServiceServer,
};
use magnum_proto::k8s::v1::pod_service_server::{PodService, PodServiceServer};
use magnum_proto::k8s::v1::replication_controller_service_server::{
    ReplicationControllerService, ReplicationControllerServiceServer,
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
            listen: SocketAddr::from(([0, 0, 0, 0], 9522)),
            auth: AuthClientConfig::default(),
        }
    }
}

/// Answers every call with UNIMPLEMENTED (the generated default) for now.
struct KubernetesObjects;

impl PodService for KubernetesObjects {}
impl CoeServiceService for KubernetesObjects {}
impl ReplicationControllerService for KubernetesObjects {}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    serve(config, listener, shutdown).await
}

pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "k8s-svc listening");
    let authenticator = Authenticator::new(
        magnum_grpc::client::channel(&config.auth.identity_url)?,
        &config.auth,
    );
    GrpcServer::new(Some(authenticator))
        .add_service(PodServiceServer::new(KubernetesObjects))
        .add_service(CoeServiceServiceServer::new(KubernetesObjects))
        .add_service(ReplicationControllerServiceServer::new(KubernetesObjects))
        .serve(listener, shutdown)
        .await?;
    Ok(())
}
