//! The crate's one error type, and its rendering as a `metav1.Status` body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Everything that can go wrong in the fake: API errors answered to a client as a
/// `metav1.Status`, and the few start-up / client-building failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error the API server answers with (4xx/5xx and a `Status` body).
    #[error("{} ({}): {}", .0.code, .0.reason, .0.message)]
    Api(Box<ApiError>),
    /// Binding or serving the listener failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The fake serves plain HTTP with no TLS, so it only listens on loopback.
    #[error("refusing to listen on {0}: the fake API server serves plain HTTP on loopback only")]
    NotLoopback(std::net::SocketAddr),
    /// Building a `kube` client for the fake failed.
    #[error("kube client: {0}")]
    Kube(#[from] kube::Error),
    /// The generated kubeconfig did not load (a bug in the fake).
    #[error("kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
}

/// The fields of a failure `metav1.Status`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code, repeated as `Status.code`.
    pub code: u16,
    /// `Status.reason` (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, ...).
    pub reason: &'static str,
    /// `Status.message`, in the real API server's wording.
    pub message: String,
    /// `Status.details`, when the real server sends them.
    pub details: Option<Value>,
}

/// One `StatusCause` of an `Invalid` (422) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, `FieldValueForbidden`,
    /// `FieldValueDuplicate`, `FieldValueNotFound`.
    pub reason: &'static str,
    /// JSON path of the field, e.g. `metadata.name`.
    pub field: String,
    /// Human text, e.g. `Invalid value: "Bad": a lowercase RFC 1123 label ...`.
    pub message: String,
}

impl Cause {
    /// `Invalid value: "<value>": <detail>`.
    pub fn invalid(field: impl Into<String>, value: &str, detail: &str) -> Self {
        Self {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {value:?}: {detail}"),
        }
    }
    /// `Invalid value: <value>: <detail>` for a value Go prints bare (numbers, and the `%#v`
    /// forms of slices, maps and structs, e.g. `[]string{"10.96.0.1"}`).
    pub fn invalid_raw(field: impl Into<String>, value: &str, detail: &str) -> Self {
        Self {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {value}: {detail}"),
        }
    }
    /// `Duplicate value: "<value>"`.
    pub fn duplicate(field: impl Into<String>, value: &str) -> Self {
        Self::duplicate_raw(field, &format!("{value:?}"))
    }
    /// `Duplicate value: <value>` for a value Go prints bare.
    pub fn duplicate_raw(field: impl Into<String>, value: &str) -> Self {
        Self {
            reason: "FieldValueDuplicate",
            field: field.into(),
            message: format!("Duplicate value: {value}"),
        }
    }
    /// `Not found: "<value>"`.
    pub fn not_found(field: impl Into<String>, value: &str) -> Self {
        Self {
            reason: "FieldValueNotFound",
            field: field.into(),
            message: format!("Not found: {value:?}"),
        }
    }
    /// `Required value: <detail>`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Required value".to_owned()
        } else {
            format!("Required value: {detail}")
        };
        Self {
            reason: "FieldValueRequired",
            field: field.into(),
            message,
        }
    }
    /// `Unsupported value: "<value>": supported values: "a", "b"`.
    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        Self {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!(
                "Unsupported value: {value:?}: supported values: {}",
                list.join(", ")
            ),
        }
    }
    /// `Forbidden: <detail>`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        Self {
            reason: "FieldValueForbidden",
            field: field.into(),
            message: format!("Forbidden: {detail}"),
        }
    }
}

/// `resource` or `resource.group`, as `schema.GroupResource.String()` prints it.
pub(crate) fn group_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    }
}

fn api(code: u16, reason: &'static str, message: String, details: Option<Value>) -> Error {
    Error::Api(Box::new(ApiError {
        code,
        reason,
        message,
        details,
    }))
}

fn named_details(group: &str, resource: &str, name: &str) -> Value {
    let mut d = json!({ "name": name, "kind": resource });
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

impl Error {
    /// 404 `<resource> "<name>" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        api(
            404,
            "NotFound",
            format!("{} {name:?} not found", group_resource(group, resource)),
            Some(named_details(group, resource, name)),
        )
    }
    /// 404 for a path the server does not serve.
    pub fn no_such_path() -> Self {
        api(
            404,
            "NotFound",
            "the server could not find the requested resource".to_owned(),
            Some(json!({})),
        )
    }
    /// 409 `<resource> "<name>" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        api(
            409,
            "AlreadyExists",
            format!(
                "{} {name:?} already exists",
                group_resource(group, resource)
            ),
            Some(named_details(group, resource, name)),
        )
    }
    /// 409 optimistic-concurrency conflict.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        api(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {name:?}: {why}",
                group_resource(group, resource)
            ),
            Some(named_details(group, resource, name)),
        )
    }
    /// The stale-resourceVersion conflict, word for word as the real server says it.
    pub fn stale(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }
    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        api(400, "BadRequest", message.into(), None)
    }
    /// 422 `<Kind>[.<group>] "<name>" is invalid: <causes>`.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let parts: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        // The real server's aggregate prints one error bare and several in brackets.
        let joined = if parts.len() == 1 {
            parts.join("")
        } else {
            format!("[{}]", parts.join(", "))
        };
        let mut details = json!({
            "name": name,
            "kind": kind,
            "causes": causes
                .iter()
                .map(|c| json!({ "reason": c.reason, "message": c.message, "field": c.field }))
                .collect::<Vec<_>>(),
        });
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        api(
            422,
            "Invalid",
            // schema.GroupKind.String(): `Kind.group`, or `Kind` for the core group.
            format!(
                "{} {name:?} is invalid: {joined}",
                if group.is_empty() {
                    kind.to_owned()
                } else {
                    format!("{kind}.{group}")
                }
            ),
            Some(details),
        )
    }
    /// 403 with the real authorizer's message shape.
    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let gr = group_resource(group, resource);
        let message = if name.is_empty() {
            format!("{gr} is forbidden: {why}")
        } else {
            format!("{gr} {name:?} is forbidden: {why}")
        };
        api(
            403,
            "Forbidden",
            message,
            Some(named_details(group, resource, name)),
        )
    }
    /// 401 for a missing, unknown or expired bearer token.
    pub fn unauthorized() -> Self {
        api(401, "Unauthorized", "Unauthorized".to_owned(), None)
    }
    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        api(405, "MethodNotAllowed", message.into(), Some(json!({})))
    }
    /// 415 for a body or patch media type the fake does not accept.
    pub fn unsupported_media_type(media_type: &str) -> Self {
        api(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json (got {media_type:?})"
            ),
            None,
        )
    }
    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        api(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(json!({ "causes": [{ "message": message }] })),
        )
    }

    /// The `Status` this error is answered with.
    pub fn status(&self) -> (u16, Value) {
        let e = match self {
            Error::Api(e) => (**e).clone(),
            other => ApiError {
                code: 500,
                reason: "InternalError",
                message: other.to_string(),
                details: None,
            },
        };
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": e.message,
            "reason": e.reason,
            "code": e.code,
        });
        if let Some(d) = e.details {
            body["details"] = d;
        }
        (e.code, body)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (code, body) = self.status();
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
