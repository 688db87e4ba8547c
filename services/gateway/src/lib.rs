//! The gateway: Magnum's v1 REST API (port 9511), wire-compatible with python-magnumclient
//! 0.2.1, 1.1.0, 2.17.0 and 4.x, translated to the gRPC services. It holds no business
//! rules: it applies the wire rules (routing quirks, microversions, body parsing,
//! JSON-patch, pagination, error documents) and forwards the caller's context.
//!
//! Layers, outermost first: [`envelope`] (request id, error bodies), [`routing`] (path
//! quirks), [`microversion`] (on `/v1`), then the routes; every resource route runs
//! [`auth`] first.

pub mod attributes;
pub mod auth;
pub mod body;
pub mod config;
pub mod envelope;
pub mod error;
pub mod links;
pub mod metrics;
pub mod microversion;
pub mod openapi;
pub mod pagination;
pub mod patch;
pub mod python_literal;
pub mod query;
pub mod routes;
pub mod routing;
pub mod state;
pub mod timestamps;
pub mod versions;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use axum::serve::ListenerExt;
use magnum_common::Shutdown;
use tokio::net::TcpListener;
use tower::Layer;
use tower::util::MapRequestLayer;

pub use config::Config;
pub use error::{Error, Result};
pub use state::AppState;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let resources = routes::router().route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ));
    let routed = Router::new()
        .route("/", get(versions::root))
        .route("/v1", get(versions::v1))
        .route("/healthcheck", get(versions::healthcheck))
        .route("/openapi.json", get(versions::openapi))
        .merge(resources)
        .fallback(not_found)
        .layer(middleware::from_fn(microversion::negotiate_layer))
        .layer(middleware::from_fn(metrics::track))
        .with_state(state);
    // Paths are normalised before routing, so this wraps the routed service rather than
    // being a layer of it (router layers run after the route is chosen).
    let normalized = MapRequestLayer::new(routing::normalize_request).layer(routed);
    Router::new()
        .fallback_service(normalized)
        .layer(middleware::from_fn(envelope::envelope))
}

async fn not_found() -> Error {
    Error::NotFound(error::default_detail(axum::http::StatusCode::NOT_FOUND).to_owned())
}

/// Serves the gateway on `listener` until `shutdown` is cancelled, then stops accepting
/// and lets in-flight requests finish.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let state = AppState::new(&config)?;
    let address = listener
        .local_addr()
        .map(|address| address.to_string())
        .unwrap_or_else(|_| config.listen.clone());
    tracing::info!(
        %address,
        bay_url = %config.bay_url,
        container_url = %config.container_url,
        "gateway listening"
    );
    let listener = listener.tap_io(|stream| {
        // Small JSON responses should not wait for Nagle's algorithm.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let background = shutdown.child_token();
    let sidecars = magnum_grpc::sidecars::Sidecars::start(
        "magnum-gateway",
        magnum_bus::presence::Registry::Config(config.bus.clone()),
        config.metrics_listen,
        background.clone(),
    )
    .await?;
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .map_err(|source| Error::Serve { address, source });
    background.cancel();
    sidecars.join().await;
    served?;
    tracing::info!("gateway stopped");
    Ok(())
}

/// Binds `config.listen` and serves until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|source| Error::Serve {
            address: config.listen.clone(),
            source,
        })?;
    serve(config, listener, shutdown).await
}
