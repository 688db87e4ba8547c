//! Client side: channels to other services, and requests that carry the caller.

use std::time::Duration;

use magnum_common::RequestContext;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::Endpoint;

use crate::retry::RetryUnsent;

use crate::{GrpcError, metadata};

/// The channel every service calls others with.
pub type GrpcChannel = RetryUnsent;

/// A channel that connects on first use and reconnects by itself, so a service can start
/// before the services it calls; calls a draining replica never received are sent again.
pub fn channel(url: &str) -> Result<GrpcChannel, GrpcError> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|source| GrpcError::InvalidEndpoint {
            url: url.to_owned(),
            source,
        })?
        .connect_timeout(Duration::from_secs(5))
        // A hung service must not hold callers forever (Magnum's RPC timeout was 60 s).
        .timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    Ok(RetryUnsent::new(endpoint.connect_lazy()))
}

/// A request made on behalf of `ctx`: its token, request id, identity hints (used only in
/// no-auth mode) and the current trace context travel in the metadata.
pub fn request<T>(ctx: &RequestContext, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let md = request.metadata_mut();
    insert(md, metadata::AUTH_TOKEN, &ctx.auth_token);
    insert(md, metadata::REQUEST_ID, &ctx.request_id);
    insert(md, metadata::PROJECT_ID, &ctx.project_id);
    insert(md, metadata::USER_ID, &ctx.user_id);
    insert(md, metadata::ROLES, &ctx.roles.join(","));
    let mut trace_headers = http::HeaderMap::new();
    magnum_telemetry::inject_into_headers(&mut trace_headers);
    for (name, value) in &trace_headers {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(name.as_str().as_bytes()),
            MetadataValue::try_from(value.as_bytes()),
        ) {
            md.insert(key, value);
        }
    }
    request
}

fn insert(md: &mut tonic::metadata::MetadataMap, key: &'static str, value: &str) {
    if value.is_empty() {
        return;
    }
    // A value that is not valid header text (it never came from a header) is left out.
    if let Ok(value) = MetadataValue::try_from(value) {
        md.insert(key, value);
    }
}
