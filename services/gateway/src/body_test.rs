//! Unit tests of `body`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
