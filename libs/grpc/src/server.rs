//! The gRPC server every service runs: its own services behind the context layer
//! (authentication + a tracing span per call), plus `grpc.health.v1` and reflection,
//! which need no token. Shutdown flips health to NOT_SERVING, stops accepting and lets
//! in-flight calls finish.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, Request, Response};
use magnum_common::Shutdown;
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::auth::{Authenticator, Credentials};
use crate::{GrpcError, metadata, metrics};

/// Builds and runs one service's gRPC server.
pub struct GrpcServer {
    authenticator: Option<Authenticator>,
    routes: RoutesBuilder,
    names: Vec<&'static str>,
}

impl GrpcServer {
    /// `authenticator` checks every call; `None` only for identity-svc itself, which is
    /// the one that answers the check.
    pub fn new(authenticator: Option<Authenticator>) -> Self {
        Self {
            authenticator,
            routes: RoutesBuilder::default(),
            names: Vec::new(),
        }
    }

    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Serves until `shutdown` is cancelled, then drains in-flight calls.
    pub async fn serve(self, listener: TcpListener, shutdown: Shutdown) -> Result<(), GrpcError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        // "" is the whole server: what a Kubernetes gRPC probe asks about by default.
        health.set_service_status("", ServingStatus::Serving).await;
        for name in &self.names {
            health
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(magnum_proto::FILE_DESCRIPTOR_SET)
            .build_v1()
            .ok();

        let mut routes = self.routes;
        routes.add_service(health_service);
        if let Some(reflection) = reflection {
            routes.add_service(reflection);
        }
        let names = self.names;
        let on_shutdown = async move {
            shutdown.cancelled().await;
            // Tell load balancers first, then stop accepting.
            for name in &names {
                health
                    .set_service_status(*name, ServingStatus::NotServing)
                    .await;
            }
            health
                .set_service_status("", ServingStatus::NotServing)
                .await;
        };
        tonic::transport::Server::builder()
            .layer(ContextLayer {
                authenticator: self.authenticator,
            })
            .add_routes(routes.routes())
            // Without TCP_NODELAY, small responses wait ~40 ms for a delayed ACK (Nagle).
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                on_shutdown,
            )
            .await
            .map_err(GrpcError::Serve)
    }
}

/// Authenticates each call and runs it in a span that continues the caller's trace.
#[derive(Clone)]
pub struct ContextLayer {
    authenticator: Option<Authenticator>,
}

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ContextService {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

#[derive(Clone)]
pub struct ContextService<S> {
    inner: S,
    authenticator: Option<Authenticator>,
}

/// Health checks and reflection are open: probes and tools have no token.
fn is_open(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.")
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn credentials(headers: &HeaderMap, request_id: String) -> Credentials {
    Credentials {
        token: header(headers, metadata::AUTH_TOKEN),
        project_id: header(headers, metadata::PROJECT_ID),
        user_id: header(headers, metadata::USER_ID),
        roles: metadata::parse_roles(&header(headers, metadata::ROLES)),
        request_id,
    }
}

impl<S> Service<Request<Body>> for ContextService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The ready service goes with this call; its clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let path = request.uri().path().to_owned();
        if is_open(&path) {
            return Box::pin(inner.call(request));
        }
        let authenticator = self.authenticator.clone();
        let mut request_id = header(request.headers(), metadata::REQUEST_ID);
        if request_id.is_empty() {
            request_id = metadata::new_request_id();
        }
        let span = tracing::info_span!("grpc", method = %path, request_id = %request_id, project_id = tracing::field::Empty);
        magnum_telemetry::set_parent_from_headers(&span, request.headers());
        let started = std::time::Instant::now();
        Box::pin(
            async move {
                if let Some(authenticator) = authenticator {
                    let creds = credentials(request.headers(), request_id);
                    match authenticator.authenticate(creds).await {
                        Ok(ctx) => {
                            tracing::Span::current().record("project_id", ctx.project_id.as_str());
                            request.extensions_mut().insert(ctx);
                        }
                        Err(status) => {
                            let code = metrics::code_name(status.code());
                            metrics::record_call(&path, code, started);
                            return Ok(status.into_http());
                        }
                    }
                }
                let response = inner.call(request).await?;
                // Failures are trailers-only responses with the status in the headers; a
                // success puts it in the trailers, after this point.
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok());
                metrics::record_call(&path, metrics::code_name(metrics::code_of(code)), started);
                Ok(response)
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
#[path = "server_test.rs"]
mod tests;
