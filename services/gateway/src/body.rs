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
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn headers(content_type: Option<&'static str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(value) = content_type {
            map.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
        }
        map
    }

    async fn read(
        content_type: Option<&'static str>,
        body: &'static str,
    ) -> Result<Option<Value>, Error> {
        read_json(&headers(content_type), Body::from(body), 64).await
    }

    #[tokio::test]
    async fn json_media_types_ignore_parameters() {
        for content_type in [
            Some("application/json"),
            Some("Application/JSON; charset=UTF-8"),
            None,
        ] {
            assert_eq!(
                read(content_type, r#"{"a": 1}"#).await.unwrap(),
                Some(json!({"a": 1}))
            );
        }
    }

    #[tokio::test]
    async fn other_media_types_are_415_unless_the_body_is_empty() {
        assert!(matches!(
            read(Some("application/x-www-form-urlencoded"), "a=1").await,
            Err(Error::UnsupportedMediaType(_))
        ));
        assert_eq!(
            read(Some("application/octet-stream"), "").await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn invalid_json_is_400() {
        let error = read(Some("application/json"), "{nope").await.unwrap_err();
        assert_eq!(error.to_string(), "Request is not in valid JSON format");
    }

    #[tokio::test]
    async fn oversized_bodies_are_413_whether_declared_or_streamed() {
        let long = "x".repeat(65);
        let mut declared = headers(Some("application/json"));
        declared.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_static("100000000"),
        );
        assert!(matches!(
            read_json(&declared, Body::from("{}"), 64).await,
            Err(Error::PayloadTooLarge { limit: 64 })
        ));
        assert!(matches!(
            read_json(&headers(None), Body::from(long), 64).await,
            Err(Error::PayloadTooLarge { limit: 64 })
        ));
    }
}
