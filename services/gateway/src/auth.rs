//! Authentication of every non-public route: the caller's token (and, in no-auth mode,
//! identity hints) goes to identity-svc through the caching [`Authenticator`]; the
//! resulting [`RequestContext`] is stored in the request extensions for handlers, which
//! forward it on their gRPC calls.
//!
//! [`Authenticator`]: magnum_grpc::Authenticator
//! [`RequestContext`]: magnum_common::RequestContext

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::WWW_AUTHENTICATE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use magnum_grpc::Credentials;
use magnum_grpc::metadata::parse_roles;

use crate::envelope::RequestId;
use crate::error::Error;
use crate::state::AppState;

/// Middleware: authenticates the request or answers 401 (bad token) / 503 (identity
/// service down).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_else(magnum_grpc::metadata::new_request_id);
    let credentials = credentials(request.headers(), request_id);
    match state.authenticator().authenticate(credentials).await {
        Ok(context) => {
            request.extensions_mut().insert(context);
            next.run(request).await
        }
        Err(status) => {
            let unauthenticated = status.code() == tonic::Code::Unauthenticated;
            let mut response = Error::from(status).into_response();
            if let (true, Some(value)) = (unauthenticated, state.www_authenticate()) {
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, value.clone());
            }
            response
        }
    }
}

/// What the caller presented: `X-Auth-Token`, plus `X-Project-Id`, `X-User-Id` and
/// `X-Roles`, which only no-auth mode uses.
fn credentials(headers: &HeaderMap, request_id: String) -> Credentials {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    Credentials {
        token: text("x-auth-token"),
        project_id: text("x-project-id"),
        user_id: text("x-user-id"),
        roles: parse_roles(&text("x-roles")),
        request_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_come_from_the_keystone_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-auth-token", HeaderValue::from_static(" tok "));
        headers.insert("x-project-id", HeaderValue::from_static("p"));
        headers.insert("x-roles", HeaderValue::from_static("Admin, member"));
        let credentials = credentials(&headers, "req-1".into());
        assert_eq!(credentials.token, "tok");
        assert_eq!(credentials.project_id, "p");
        assert_eq!(credentials.user_id, "");
        assert_eq!(credentials.roles, vec!["admin", "member"]);
        assert_eq!(credentials.request_id, "req-1");
    }
}
