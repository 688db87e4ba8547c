//! The outermost layer: gives each request its id (`x-openstack-request-id: req-<uuid>`,
//! also forwarded to the services), a tracing span joined to the caller's trace, and
//! renders every error response, ours and axum's alike, as a Magnum error document.

use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::error::{ErrorReport, default_detail};

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-openstack-request-id");

/// Most bytes of a framework error body kept as its detail.
const MAX_FRAMEWORK_DETAIL: usize = 4096;

/// The id of the current request, in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Middleware: request id, span, error rendering.
pub async fn envelope(mut request: Request, next: Next) -> Response {
    let request_id = magnum_grpc::metadata::new_request_id();
    let span = tracing::info_span!(
        "http_request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    magnum_telemetry::set_parent_from_headers(&span, request.headers());
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;

    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        response = render_error(response, &request_id).await;
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_ms, "request served");
        }
    });
    response
}

/// Writes the Magnum error document for an error response.
async fn render_error(response: Response, request_id: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let report = match parts.extensions.remove::<ErrorReport>() {
        Some(report) => report,
        // An error axum produced itself (404, 405, a rejection): keep its text.
        None => {
            let text = axum::body::to_bytes(body, MAX_FRAMEWORK_DETAIL)
                .await
                .ok()
                .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty());
            ErrorReport {
                status: parts.status,
                detail: text.unwrap_or_else(|| default_detail(parts.status).to_owned()),
                microversion: false,
            }
        }
    };
    let document = report.document(request_id);
    let bytes = match serde_json::to_vec(&document) {
        Ok(bytes) => bytes,
        // Serialising plain strings and numbers cannot fail; stay well-formed if it did.
        Err(_) => br#"{"errors":[]}"#.to_vec(),
    };
    parts.status = report.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(bytes))
}
