//! Unit tests of `routing`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn normal_paths_are_left_alone() {
    for path in [
        "/",
        "/v1",
        "/v1/baymodels",
        "/v1/baymodels/detail",
        "/healthcheck",
        "/openapi.json",
    ] {
        assert_eq!(normalize_path(path), None, "{path}");
    }
}

#[test]
fn quirks() {
    let cases = [
        ("/v1/", "/v1"),
        ("/v1/baymodels/", "/v1/baymodels"),
        ("//v1//baymodels///x//", "/v1/baymodels/x"),
        ("/baymodels/x", "/v1/baymodels/x"),
        ("/baymodels", "/v1/baymodels"),
        ("/v2/x", "/v1/v2/x"),
        ("//", "/"),
        ("/healthcheck/", "/healthcheck"),
    ];
    for (path, expected) in cases {
        assert_eq!(normalize_path(path).as_deref(), Some(expected), "{path}");
    }
}

#[test]
fn the_query_survives() {
    let request = Request::builder()
        .uri("/baymodels/?limit=1&marker=x")
        .body(axum::body::Body::empty())
        .unwrap();
    let request = normalize_request(request);
    assert_eq!(request.uri().path(), "/v1/baymodels");
    assert_eq!(request.uri().query(), Some("limit=1&marker=x"));
}
