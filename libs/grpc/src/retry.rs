//! Transparent retry of calls the callee never received (gRPC's "transparent retry"):
//! a replica that is draining answers GOAWAY, and a call that raced it comes back from
//! hyper as "canceled" (never written) or from the server as REFUSED_STREAM (never
//! started). Such a call is safe to send again whatever it does, and the channel's
//! reconnect reaches another replica; any other failure is the caller's to see.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use tonic::body::Body;
use tonic::transport::Channel;
use tower::{Service, ServiceExt as _};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Attempts of one call, the first included.
const ATTEMPTS: u32 = 4;
/// Pause before a retry, doubled each time (the reconnect needs a moment).
const BASE_DELAY: Duration = Duration::from_millis(25);

/// A [`Channel`] that sends a call again when the callee never received it.
#[derive(Clone, Debug)]
pub struct RetryUnsent {
    inner: Channel,
}

impl RetryUnsent {
    pub fn new(inner: Channel) -> Self {
        Self { inner }
    }
}

/// Did the callee never see this request?
pub fn never_sent(error: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(hyper) = error.downcast_ref::<hyper::Error>()
            && hyper.is_canceled()
        {
            return true;
        }
        if let Some(h2) = error.downcast_ref::<h2::Error>()
            && h2.reason() == Some(h2::Reason::REFUSED_STREAM)
        {
            return true;
        }
        current = error.source();
    }
    false
}

impl Service<http::Request<Body>> for RetryUnsent {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The ready channel takes this call; its clone waits for the next.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        let mut later = self.inner.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            // Our calls send one message (unary, or a server stream's request): keep it
            // to send again.
            let bytes: Bytes = body.collect().await?.to_bytes();
            let rebuild = || {
                http::Request::from_parts(
                    parts.clone(),
                    Body::new(http_body_util::Full::new(bytes.clone())),
                )
            };
            let mut attempt = 1;
            let mut outcome = ready.call(rebuild()).await;
            loop {
                match outcome {
                    Err(error) if attempt < ATTEMPTS && never_sent(&error) => {
                        tracing::debug!(attempt, %error, "the callee never got the call; sending it again");
                        tokio::time::sleep(BASE_DELAY * 2u32.pow(attempt - 1)).await;
                        attempt += 1;
                        let channel = later.ready().await?;
                        outcome = channel.call(rebuild()).await;
                    }
                    other => return other.map_err(Into::into),
                }
            }
        })
    }
}
