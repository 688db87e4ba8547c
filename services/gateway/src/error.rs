//! The gateway's one error type, and the one place where a failure becomes an HTTP status
//! and a Magnum error document (`{"errors": [...]}`, spec §1.9).
//!
//! A handler's error response carries an [`ErrorReport`] in its extensions and no body; the
//! envelope layer (which knows the request id) renders every error body, including the
//! ones axum produces itself (404, 405, rejections).

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use magnum_common::ErrorCode;
use magnum_common::error::ErrorChain;
use serde::Serialize;
use utoipa::ToSchema;

use crate::links::Link;
use crate::microversion::{MAX_VERSION, MIN_VERSION};

/// Where clients read about microversions (Magnum links the compute guide too).
const MICROVERSION_HELP_URL: &str =
    "http://docs.openstack.org/api-guide/compute/microversions.html";

/// Everything that can go wrong in the gateway, at start-up or while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request breaks a wire rule (body, query, patch): 400 with Magnum's message.
    #[error("{0}")]
    BadRequest(String),
    /// No such route or object: 404.
    #[error("{0}")]
    NotFound(String),
    /// The body is larger than `max_body_bytes`: 413.
    #[error("The request body is larger than the limit of {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    /// A non-empty body that is not JSON: 415.
    #[error("The request media type {0} is not supported; send application/json.")]
    UnsupportedMediaType(String),
    /// A microversion header that cannot be parsed or names another service: 406.
    #[error("{0}")]
    InvalidVersionHeader(String),
    /// A well-formed microversion outside the supported range: 406 in the microversion
    /// error form (with `min_version`/`max_version`).
    #[error("{0}")]
    VersionNotSupported(String),
    /// A backend service answered with an error (or could not be reached).
    #[error("{}", .0.message())]
    Upstream(tonic::Status),
    /// A bug on our side; the details are logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
    /// The configuration cannot be used.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A backend endpoint URL is invalid.
    #[error(transparent)]
    Endpoint(#[from] magnum_grpc::GrpcError),
    /// Binding or serving the HTTP listener failed.
    #[error("cannot serve HTTP on {address}")]
    Serve {
        address: String,
        #[source]
        source: std::io::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        Self::Upstream(status)
    }
}

/// The HTTP status for a gRPC code: the only gRPC -> HTTP table of the gateway.
pub fn http_status(code: tonic::Code) -> StatusCode {
    match ErrorCode::from_grpc(code) {
        ErrorCode::InvalidArgument | ErrorCode::FailedPrecondition => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::QuotaExceeded => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What the client is told about a gRPC failure. Services send caller-safe messages; a
/// status that carries a source error was made by our own client stack (connect
/// failure, broken stream), so its text may name internal addresses and is replaced.
fn upstream_detail(status: &tonic::Status, http: StatusCode) -> Cow<'_, str> {
    if std::error::Error::source(status).is_none() && !status.message().is_empty() {
        return Cow::Borrowed(status.message());
    }
    tracing::warn!(code = ?status.code(), error = %status, "backend call failed");
    Cow::Owned(default_detail(http).to_owned())
}

/// The detail for an error that came with no text of its own.
pub(crate) fn default_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "The request is not valid.",
        StatusCode::UNAUTHORIZED => "Authentication required.",
        StatusCode::FORBIDDEN => "Access was denied to this resource.",
        StatusCode::NOT_FOUND => "The resource could not be found.",
        StatusCode::METHOD_NOT_ALLOWED => "The method is not allowed for the requested URL.",
        StatusCode::NOT_ACCEPTABLE => "The requested representation is not available.",
        StatusCode::CONFLICT => "The request conflicts with the current state of the resource.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "The request media type is not supported.",
        StatusCode::NOT_IMPLEMENTED => "The operation is not implemented.",
        StatusCode::SERVICE_UNAVAILABLE => {
            "The service is temporarily unavailable; please retry later."
        }
        StatusCode::GATEWAY_TIMEOUT => "A backend service did not answer in time.",
        // Magnum's wording; the request id in the error body finds the logged details.
        _ => "Your request could not be handled because of a problem in the server.",
    }
}

impl Error {
    /// A failure of a call that resolved an object named in the request *body* (a bay's
    /// `baymodel_id`, a certificate's bay): the object not existing is the client's
    /// mistake, so NOT_FOUND becomes 400 with the same text (spec §1.4); every other
    /// status maps as usual.
    pub fn from_reference(status: tonic::Status) -> Self {
        if status.code() == tonic::Code::NotFound
            && std::error::Error::source(&status).is_none()
            && !status.message().is_empty()
        {
            Self::BadRequest(status.message().to_owned())
        } else {
            Self::Upstream(status)
        }
    }

    /// The same error in the modern API's words: bay-svc speaks of bays and baymodels,
    /// `/v1/clusters` and `/v1/clustertemplates` answer with Magnum 22's texts ("Cluster x
    /// could not be found.", "Multiple clusters exist with same name. ..."). Only
    /// caller-safe backend messages are reworded; their codes stay.
    pub fn in_cluster_terms(self) -> Self {
        const TERMS: [(&str, &str); 8] = [
            ("for baymodel.", "for cluster template."),
            ("baymodel uuid", "clustertemplate uuid"),
            ("baymodels", "clustertemplates"),
            ("Baymodel ", "ClusterTemplate "),
            ("bay uuid", "cluster uuid"),
            ("bays", "clusters"),
            ("Bay ", "Cluster "),
            ("a bay ", "a cluster "),
        ];
        let reword = |message: &str| {
            TERMS.iter().fold(message.to_owned(), |text, (from, to)| {
                text.replace(from, to)
            })
        };
        match self {
            Self::Upstream(status) if std::error::Error::source(&status).is_none() => {
                Self::Upstream(tonic::Status::new(status.code(), reword(status.message())))
            }
            Self::BadRequest(message) => Self::BadRequest(reword(&message)),
            other => other,
        }
    }

    /// The HTTP status and the detail text the client sees.
    fn status_and_detail(&self) -> (StatusCode, Cow<'_, str>) {
        match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, Cow::Borrowed(message)),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, Cow::Borrowed(message)),
            Self::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, self.to_string().into())
            }
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, self.to_string().into())
            }
            Self::InvalidVersionHeader(message) | Self::VersionNotSupported(message) => {
                (StatusCode::NOT_ACCEPTABLE, Cow::Borrowed(message))
            }
            Self::Upstream(status) => {
                let http = http_status(status.code());
                (http, upstream_detail(status, http))
            }
            Self::Internal(_) | Self::Config(_) | Self::Endpoint(_) | Self::Serve { .. } => {
                tracing::error!(error = %ErrorChain(self), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Cow::Borrowed(default_detail(StatusCode::INTERNAL_SERVER_ERROR)),
                )
            }
        }
    }

    /// The report the envelope renders for this error.
    pub(crate) fn report(&self) -> ErrorReport {
        let (status, detail) = self.status_and_detail();
        ErrorReport {
            status,
            detail: detail.into_owned(),
            microversion: matches!(self, Self::VersionNotSupported(_)),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.report().into_response()
    }
}

/// An error response before its body is written: the envelope adds the request id and
/// renders it. Responses of status >= 400 without one get one made from their status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub status: StatusCode,
    pub detail: String,
    /// Rendered in the microversion form (`magnum.microversion-unsupported`).
    pub microversion: bool,
}

impl IntoResponse for ErrorReport {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl ErrorReport {
    /// The Magnum error document for this report.
    pub fn document(&self, request_id: &str) -> ErrorDocument {
        let (code, title, links, min_version, max_version) = if self.microversion {
            (
                "magnum.microversion-unsupported".to_owned(),
                "Requested microversion is unsupported".to_owned(),
                vec![Link::new(MICROVERSION_HELP_URL, "help")],
                Some(MIN_VERSION.to_string()),
                Some(MAX_VERSION.to_string()),
            )
        } else {
            let code = if self.status.is_server_error() {
                "server"
            } else {
                "client"
            };
            (
                code.to_owned(),
                title_of(&self.detail),
                Vec::new(),
                None,
                None,
            )
        };
        ErrorDocument {
            errors: vec![ErrorEntry {
                request_id: request_id.to_owned(),
                code,
                status: self.status.as_u16(),
                title,
                detail: self.detail.clone(),
                links,
                min_version,
                max_version,
            }],
        }
    }
}

/// Magnum's title is the detail up to (not including) its first full stop.
fn title_of(detail: &str) -> String {
    detail.split('.').next().unwrap_or_default().to_owned()
}

/// The body of every error response (Magnum's modern error shape, spec §1.9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDocument {
    /// Always exactly one entry.
    pub errors: Vec<ErrorEntry>,
}

/// One error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorEntry {
    /// The `x-openstack-request-id` of the request.
    #[schema(example = "req-0f5bd7b2-3f4c-4a5e-9a0e-0d6a4c1d2e3f")]
    pub request_id: String,
    /// `client` (4xx), `server` (5xx), or `magnum.microversion-unsupported` (406 on an
    /// unsupported version).
    pub code: String,
    /// The HTTP status.
    pub status: u16,
    /// The detail up to its first full stop.
    pub title: String,
    /// The message (Magnum's `faultstring`).
    pub detail: String,
    /// Empty, except the `help` link of microversion errors.
    pub links: Vec<Link>,
    /// Microversion errors only: the lowest supported version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// Microversion errors only: the highest supported version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
}

#[cfg(test)]
#[path = "error_test.rs"]
mod tests;
