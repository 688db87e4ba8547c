//! API microversions (spec §1.10): both header families are read, the negotiated version
//! is stored in the request's extensions for handlers, and every `/v1` response carries
//! both families' version headers.

use std::fmt;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// A `major.minor` API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The lowest version served, and the one used when the client asks for none.
pub const MIN_VERSION: ApiVersion = ApiVersion::new(1, 1);
/// The highest version served (`latest`): Magnum 2025.2's 1.12. Not 1.13+, which change
/// cluster representations that python-magnumclient 4.x does not know.
pub const MAX_VERSION: ApiVersion = ApiVersion::new(1, 12);

/// The service type in `OpenStack-API-Version` headers we write.
pub const SERVICE_TYPE: &str = "container-infra";
/// Service types accepted in requests (Magnum 22.0.0 accepts the long forms too).
const ACCEPTED_SERVICE_TYPES: [&str; 3] = [
    "container-infra",
    "container-infrastructure",
    "container-infrastructure-management",
];

/// The Newton+ header: `OpenStack-API-Version: container-infra 1.3`.
pub const OPENSTACK_API_VERSION: HeaderName = HeaderName::from_static("openstack-api-version");
const OPENSTACK_MIN: HeaderName = HeaderName::from_static("openstack-api-minimum-version");
const OPENSTACK_MAX: HeaderName = HeaderName::from_static("openstack-api-maximum-version");
/// The Liberty/Mitaka header: `X-OpenStack-Magnum-API-Version: 1.1`.
pub const MAGNUM_API_VERSION: HeaderName =
    HeaderName::from_static("x-openstack-magnum-api-version");
const MAGNUM_MIN: HeaderName = HeaderName::from_static("x-openstack-magnum-api-minimum-version");
const MAGNUM_MAX: HeaderName = HeaderName::from_static("x-openstack-magnum-api-maximum-version");

/// Decides the version of a request from its headers. The Newton+ header wins when both
/// families are present; no header at all means [`MIN_VERSION`].
pub fn negotiate(headers: &HeaderMap) -> Result<ApiVersion, Error> {
    if headers.contains_key(&OPENSTACK_API_VERSION) {
        return negotiate_openstack(headers);
    }
    if let Some(value) = headers.get(&MAGNUM_API_VERSION) {
        let requested = value.to_str().ok().and_then(parse_version).ok_or_else(|| {
            Error::InvalidVersionHeader(
                "Invalid value for X-OpenStack-Magnum-API-Version header".to_owned(),
            )
        })?;
        return check_range(requested);
    }
    Ok(MIN_VERSION)
}

fn negotiate_openstack(headers: &HeaderMap) -> Result<ApiVersion, Error> {
    // The header may name several services ("compute 2.1, container-infra 1.3") and may
    // be repeated; ours is the entry whose service type we answer to.
    let entry = headers
        .get_all(&OPENSTACK_API_VERSION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|entry| {
            let mut words = entry.split_whitespace();
            let service = words.next()?;
            ACCEPTED_SERVICE_TYPES
                .iter()
                .any(|accepted| service.eq_ignore_ascii_case(accepted))
                .then(|| (words.next(), words.next()))
        });
    let Some((version, extra)) = entry else {
        return Err(Error::InvalidVersionHeader(
            "Invalid service type for OpenStack-API-Version header".to_owned(),
        ));
    };
    let requested = version
        .filter(|_| extra.is_none())
        .and_then(parse_version)
        .ok_or_else(|| {
            Error::InvalidVersionHeader("Invalid value for OpenStack-API-Version header".to_owned())
        })?;
    check_range(requested)
}

/// `latest`, or `<major>.<minor>` with decimal numbers.
fn parse_version(text: &str) -> Option<ApiVersion> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("latest") {
        return Some(MAX_VERSION);
    }
    let (major, minor) = text.split_once('.')?;
    let number = |part: &str| {
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    Some(ApiVersion::new(number(major)?, number(minor)?))
}

fn check_range(requested: ApiVersion) -> Result<ApiVersion, Error> {
    if requested.major != MAX_VERSION.major {
        return Err(Error::VersionNotSupported(format!(
            "Mutually exclusive versions requested. Version {requested} requested but not \
             supported by this service. The supported version range is: \
             [{MIN_VERSION}, {MAX_VERSION}]."
        )));
    }
    if requested < MIN_VERSION || requested > MAX_VERSION {
        return Err(Error::VersionNotSupported(format!(
            "Version {requested} was requested but the minor version is not supported by \
             this service. The supported version range is: [{MIN_VERSION}, {MAX_VERSION}]."
        )));
    }
    Ok(requested)
}

/// Is this (normalised) path under `/v1`, where versions are negotiated?
fn is_versioned(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

/// Middleware: negotiates the version of `/v1` requests (406 when it cannot), stores the
/// [`ApiVersion`] in the request extensions and writes the version headers.
pub async fn negotiate_layer(mut request: Request, next: Next) -> Response {
    if !is_versioned(request.uri().path()) {
        return next.run(request).await;
    }
    match negotiate(request.headers()) {
        Ok(version) => {
            request.extensions_mut().insert(version);
            let mut response = next.run(request).await;
            write_headers(response.headers_mut(), Some(version));
            response
        }
        Err(error) => {
            let mut response = error.into_response();
            write_headers(response.headers_mut(), None);
            response
        }
    }
}

/// The range headers of both families, the negotiated version when there is one, and
/// `Vary`.
fn write_headers(headers: &mut HeaderMap, version: Option<ApiVersion>) {
    headers.insert(OPENSTACK_MIN, openstack_value(MIN_VERSION));
    headers.insert(OPENSTACK_MAX, openstack_value(MAX_VERSION));
    headers.insert(MAGNUM_MIN, plain_value(MIN_VERSION));
    headers.insert(MAGNUM_MAX, plain_value(MAX_VERSION));
    if let Some(version) = version {
        headers.insert(OPENSTACK_API_VERSION, openstack_value(version));
        headers.insert(MAGNUM_API_VERSION, plain_value(version));
    }
    headers.append(
        header::VARY,
        HeaderValue::from_static("OpenStack-API-Version, X-OpenStack-Magnum-API-Version"),
    );
}

// Version strings are digits and a dot, so these conversions cannot fail in practice;
// the fallbacks only keep the code free of panics.
fn openstack_value(version: ApiVersion) -> HeaderValue {
    HeaderValue::from_str(&format!("{SERVICE_TYPE} {version}"))
        .unwrap_or_else(|_| HeaderValue::from_static(SERVICE_TYPE))
}

fn plain_value(version: ApiVersion) -> HeaderValue {
    HeaderValue::from_str(&version.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
#[path = "microversion_test.rs"]
mod tests;
