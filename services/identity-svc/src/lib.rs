//! identity-svc: answers "who is this token?" for every other service.
//!
//! Backends:
//! - `keystone`: tokens are validated by Keystone v3 (`keystone` module), with a bounded
//!   cache so Keystone sees about one validation per token per `cache_ttl_secs`.
//! - `noauth` (development only; refused with `profile = "production"`): every request
//!   is the configured identity, which `X-Project-Id` / `X-User-Id` / `X-Roles` may
//!   override, as in Magnum's noauth.

mod backend;
mod config;
mod error;
mod grpc;
mod keystone;

use anyhow::Context as _;
use magnum_common::Shutdown;
use magnum_grpc::GrpcServer;
use magnum_proto::identity::v1::identity_service_server::IdentityServiceServer;
use tokio::net::TcpListener;

pub use backend::{Backend, NoAuthConfig, NoAuthValidator};
pub use config::{Config, KeystoneConfig, Mode, Profile, Secret};
pub use error::{IdentityError, KeystoneFault, UNAUTHENTICATED_MESSAGE, UNAVAILABLE_MESSAGE};
pub use keystone::{KeystoneValidator, ValidatorStats};

/// Binds `config.listen` and serves until `shutdown`.
pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    // Refuse a bad configuration before taking the port.
    config
        .validate()
        .context("invalid identity configuration")?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("identity-svc: cannot listen on {}", config.listen))?;
    serve(config, listener, shutdown).await
}

/// Serves on an already bound listener (the all-in-one binary and tests bind their own).
/// Fails at once on a configuration `Config::validate` refuses.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let backend = Backend::from_config(&config).context("invalid identity configuration")?;
    tracing::info!(addr = %listener.local_addr()?, mode = ?config.mode, profile = ?config.profile, "identity-svc listening");
    match &backend {
        Backend::NoAuth(_) => {
            tracing::warn!(
                "NO-AUTH MODE: identity-svc trusts every caller and checks no token; \
                 development only, never expose this deployment"
            );
        }
        Backend::Keystone(validator) => {
            tracing::info!(
                auth_url = config.keystone.auth_url,
                user = config.keystone.username,
                cache_ttl_secs = config.keystone.cache_ttl_secs,
                "validating tokens with Keystone"
            );
            // Log in now so a wrong password shows at start-up; requests retry on their own.
            let validator = validator.clone();
            tokio::spawn(async move {
                if let Err(error) = validator.warm_up().await {
                    tracing::error!(
                        error = %magnum_common::error::ErrorChain(&error),
                        "cannot log in to Keystone yet; token validations fail until it works"
                    );
                }
            });
        }
    }
    let background = shutdown.child_token();
    let sidecars = magnum_grpc::sidecars::Sidecars::start(
        "magnum-identity-svc",
        magnum_bus::presence::Registry::Config(config.bus.clone()),
        config.metrics_listen,
        background.clone(),
    )
    .await?;
    // identity-svc is the one that validates: it does not authenticate its own callers.
    let served = GrpcServer::new(None)
        .add_service(IdentityServiceServer::new(grpc::IdentityGrpc::new(backend)))
        .serve(listener, shutdown)
        .await;
    background.cancel();
    sidecars.join().await;
    served?;
    Ok(())
}
