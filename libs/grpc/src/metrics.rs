//! Prometheus metrics of a gRPC service: what every call records (in the server's
//! context layer), and the small HTTP server that exposes `/metrics` on
//! `metrics_listen` (Prometheus scrapes HTTP, not gRPC).

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use magnum_common::Shutdown;
use tokio::net::TcpListener;

use crate::GrpcError;

/// Records one finished call: `grpc_server_handled_total` and
/// `grpc_server_handling_seconds`, by service, method and (for the count) status code.
pub(crate) fn record_call(path: &str, code: &str, started: Instant) {
    let (service, method) = split_path(path);
    metrics::counter!(
        "grpc_server_handled_total",
        "grpc_service" => service.to_owned(),
        "grpc_method" => method.to_owned(),
        "grpc_code" => code.to_owned(),
    )
    .increment(1);
    metrics::histogram!(
        "grpc_server_handling_seconds",
        "grpc_service" => service.to_owned(),
        "grpc_method" => method.to_owned(),
    )
    .record(started.elapsed().as_secs_f64());
}

/// `/magnum.bay.v1.BayService/GetBay` -> (`magnum.bay.v1.BayService`, `GetBay`).
fn split_path(path: &str) -> (&str, &str) {
    path.trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("unknown", "unknown"))
}

/// The status of a response from its `grpc-status` header (absent: OK, the code then
/// comes in the trailers of a success).
pub(crate) fn code_of(header: Option<&str>) -> tonic::Code {
    let number = header
        .and_then(|code| code.parse::<i32>().ok())
        .unwrap_or(0);
    tonic::Code::from_i32(number)
}

/// The name of a gRPC status code as Prometheus labels show it (`OK`, `NotFound`, ...).
pub(crate) fn code_name(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "Canceled",
        tonic::Code::Unknown => "Unknown",
        tonic::Code::InvalidArgument => "InvalidArgument",
        tonic::Code::DeadlineExceeded => "DeadlineExceeded",
        tonic::Code::NotFound => "NotFound",
        tonic::Code::AlreadyExists => "AlreadyExists",
        tonic::Code::PermissionDenied => "PermissionDenied",
        tonic::Code::ResourceExhausted => "ResourceExhausted",
        tonic::Code::FailedPrecondition => "FailedPrecondition",
        tonic::Code::Aborted => "Aborted",
        tonic::Code::OutOfRange => "OutOfRange",
        tonic::Code::Unimplemented => "Unimplemented",
        tonic::Code::Internal => "Internal",
        tonic::Code::Unavailable => "Unavailable",
        tonic::Code::DataLoss => "DataLoss",
        tonic::Code::Unauthenticated => "Unauthenticated",
    }
}

/// Binds `listen` (when set) and serves `GET /metrics` there until `shutdown`. Binding
/// fails the service's start; serving runs in the background.
pub(crate) async fn serve_metrics(
    listen: Option<SocketAddr>,
    shutdown: Shutdown,
) -> Result<Option<tokio::task::JoinHandle<()>>, GrpcError> {
    magnum_telemetry::metrics::install();
    let Some(listen) = listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| GrpcError::MetricsListen { listen, source })?;
    tracing::info!(addr = %listen, "metrics on /metrics");
    let app = Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(
                    header::CONTENT_TYPE,
                    magnum_telemetry::metrics::CONTENT_TYPE,
                )],
                magnum_telemetry::metrics::render(),
            )
        }),
    );
    Ok(Some(tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
        {
            tracing::error!(%error, "the metrics endpoint failed");
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_codes_become_labels() {
        assert_eq!(
            split_path("/magnum.bay.v1.BayService/GetBay"),
            ("magnum.bay.v1.BayService", "GetBay")
        );
        assert_eq!(split_path("garbage"), ("unknown", "unknown"));
        assert_eq!(code_name(code_of(None)), "OK");
        assert_eq!(code_name(code_of(Some("5"))), "NotFound");
        assert_eq!(code_name(code_of(Some("16"))), "Unauthenticated");
        assert_eq!(code_name(code_of(Some("x"))), "OK");
    }
}
