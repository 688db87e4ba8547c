//! Magnum's path quirks (spec §1.1), applied before routing: empty segments and trailing
//! slashes are ignored, and a first segment that is not a known top-level entry gets
//! `v1` put in front, so `bookmark` links (`/baymodels/<uuid>`) resolve.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;

/// First segments served as they are; anything else is a `/v1` path.
const TOP_LEVEL: [&str; 3] = ["v1", "healthcheck", "openapi.json"];

/// The path a request is routed on, or `None` when it is already normal.
pub fn normalize_path(path: &str) -> Option<String> {
    let mut segments = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .peekable();
    let first = segments.peek().copied();
    let prefixed = first.is_some_and(|first| !TOP_LEVEL.contains(&first));
    let already_normal = !prefixed
        && !path.contains("//")
        && (path == "/" || !path.ends_with('/'))
        && path.starts_with('/');
    if already_normal {
        return None;
    }
    let mut normal = String::with_capacity(path.len() + 3);
    if prefixed {
        normal.push_str("/v1");
    }
    for segment in segments {
        normal.push('/');
        normal.push_str(segment);
    }
    if normal.is_empty() {
        normal.push('/');
    }
    Some(normal)
}

/// Rewrites the request URI to its normal path, keeping the query.
pub fn normalize_request(mut request: Request) -> Request {
    if let Some(path) = normalize_path(request.uri().path()) {
        let path_and_query = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut parts = request.uri().clone().into_parts();
        // The new path only holds characters of the old one, so it parses; if it ever
        // did not, routing the original path is the safe fallback.
        if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

#[cfg(test)]
#[path = "routing_test.rs"]
mod tests;
