//! Request bodies (spec §1.3.1): JSON only, at most `max_body_bytes`, read incrementally so
//! an oversized body is refused after `max_body_bytes` bytes, never buffered whole.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use crate::error::Error;
use crate::state::AppState;

/// Media types WSME read as JSON (matched without parameters such as `charset`).
const JSON_MEDIA_TYPES: [&str; 3] = [
    "application/json",
    "text/javascript",
    "application/javascript",
];

/// A request body parsed as JSON; `None` when the body is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonBody(pub Option<Value>);

impl JsonBody {
    /// The body, or Magnum's missing-argument error naming the body argument.
    pub fn required(self, argument: &str) -> Result<Value, Error> {
        self.0
            .ok_or_else(|| Error::BadRequest(format!("Missing argument: \"{argument}\"")))
    }
}

impl FromRequest<AppState> for JsonBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        read_json(&parts.headers, body, state.max_body_bytes())
            .await
            .map(JsonBody)
    }
}

/// Reads and parses a body of at most `limit` bytes.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Option<Value>, Error> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Error::PayloadTooLarge { limit });
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return Err(Error::PayloadTooLarge { limit });
        }
        Err(error) => {
            tracing::debug!(%error, "request body could not be read");
            return Err(Error::BadRequest(
                "The request body could not be read.".to_owned(),
            ));
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    check_media_type(headers)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| Error::BadRequest("Request is not in valid JSON format".to_owned()))
}

/// A body without `Content-Type` is read as JSON (every client sends the header); any
/// other media type is refused with 415.
fn check_media_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let media_type = text.split(';').next().unwrap_or_default().trim();
    if JSON_MEDIA_TYPES
        .iter()
        .any(|json| media_type.eq_ignore_ascii_case(json))
    {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(media_type.to_owned()))
    }
}

#[cfg(test)]
#[path = "body_test.rs"]
mod tests;
