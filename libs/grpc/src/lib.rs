//! gRPC plumbing shared by every service: the server builder (health, reflection, auth,
//! tracing, graceful shutdown), the auth client with its cache, and client channels that
//! carry the caller's identity and trace context to the next hop.

pub mod auth;
pub mod client;
pub mod entrypoint;
pub mod metadata;
pub mod metrics;
pub mod retry;
pub mod server;
pub mod sidecars;

pub use auth::{AuthClientConfig, Authenticator, Credentials};
pub use server::GrpcServer;

use magnum_common::RequestContext;

/// The caller of a gRPC request, as the auth layer established it.
pub fn context<T>(request: &tonic::Request<T>) -> Result<RequestContext, tonic::Status> {
    request
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .ok_or_else(|| tonic::Status::unauthenticated("Authentication required"))
}

#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    #[error("invalid endpoint url {url:?}")]
    InvalidEndpoint {
        url: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("gRPC server failed")]
    Serve(#[source] tonic::transport::Error),
    #[error("cannot serve metrics on {listen}")]
    MetricsListen {
        listen: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl magnum_common::ServiceError for GrpcError {
    fn code(&self) -> magnum_common::ErrorCode {
        magnum_common::ErrorCode::Internal
    }
}
