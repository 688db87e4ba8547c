//! Links in representations (spec §1.6): `<base>` is the scheme and host the client used,
//! so links work through whatever address the client reached us on.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use serde::Serialize;
use utoipa::ToSchema;

/// A link object: `{"href", "rel"}` plus `type` when set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
    /// `self`, `bookmark`, `describedby` or `help`.
    pub rel: String,
    /// Only the `describedby` link has one (`text/html`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

impl Link {
    /// A link without a media type.
    pub fn new(href: impl Into<String>, rel: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            rel: rel.into(),
            media_type: None,
        }
    }
}

/// `scheme://host[:port]` of the request: the scheme from `X-Forwarded-Proto` (http when
/// absent or unrecognised), the host from `Host` (or the URI authority under HTTP/2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

/// Host used when the request names none we can trust (HTTP/1.0 without `Host`, or a
/// `Host` that is not a valid authority).
const FALLBACK_HOST: &str = "localhost";

impl BaseUrl {
    /// The base URL of a request with these headers and URI.
    pub fn from_request(headers: &HeaderMap, uri: &Uri) -> Self {
        let scheme = match headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
        {
            Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        // Parsing as an authority keeps anything that could break a URL or a header
        // (spaces, slashes, quotes) out of the links we build from it.
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<axum::http::uri::Authority>().ok())
            .filter(|a| !a.as_str().contains('@'))
            .map(|a| a.as_str().to_owned())
            .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
            .unwrap_or_else(|| FALLBACK_HOST.to_owned());
        Self(format!("{scheme}://{host}"))
    }

    /// `<base>`, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<base>/v1/<collection>/<id>`: the Location of a created object.
    pub fn resource_url(&self, collection: &str, id: &str) -> String {
        format!("{}/v1/{collection}/{id}", self.0)
    }

    /// The `self` and `bookmark` links of an object.
    pub fn resource_links(&self, collection: &str, id: &str) -> Vec<Link> {
        vec![
            Link::new(self.resource_url(collection, id), "self"),
            Link::new(format!("{}/{collection}/{id}", self.0), "bookmark"),
        ]
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_request(&parts.headers, &parts.uri))
    }
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters pass unchanged).
pub fn encode_query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
#[path = "links_test.rs"]
mod tests;
