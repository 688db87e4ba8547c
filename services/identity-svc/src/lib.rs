//! identity-svc: answers "who is this token?" for every other service.
//!
//! Backends: `noauth` (development: every request is the configured identity, which
//! `X-Project-Id` / `X-User-Id` / `X-Roles` may override, as in Magnum's noauth). Keystone
//! validation arrives with the Identity issue.

mod backend;
mod grpc;

use std::net::SocketAddr;

use magnum_common::Shutdown;
use magnum_grpc::GrpcServer;
use magnum_proto::identity::v1::identity_service_server::IdentityServiceServer;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub use backend::{NoAuthConfig, NoAuthValidator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Development only: no token is checked.
    #[default]
    Noauth,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: SocketAddr,
    pub mode: Mode,
    pub noauth: NoAuthConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9520)),
            mode: Mode::Noauth,
            noauth: NoAuthConfig::default(),
        }
    }
}

/// Binds `config.listen` and serves until `shutdown`.
pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    serve(config, listener, shutdown).await
}

/// Serves on an already bound listener (the all-in-one binary and tests bind their own).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, mode = ?config.mode, "identity-svc listening");
    if config.mode == Mode::Noauth {
        tracing::warn!("no-auth mode: every caller is trusted; never use this in production");
    }
    let validator = NoAuthValidator::new(config.noauth);
    // identity-svc is the one that validates: it does not authenticate its own callers.
    GrpcServer::new(None)
        .add_service(IdentityServiceServer::new(grpc::IdentityGrpc::new(
            validator,
        )))
        .serve(listener, shutdown)
        .await?;
    Ok(())
}
