//! Unit tests of `links`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use axum::http::HeaderValue;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn base_url_comes_from_host_and_forwarded_proto() {
    let uri = Uri::from_static("/v1/baymodels");
    assert_eq!(
        BaseUrl::from_request(&headers(&[("host", "h:9511")]), &uri).as_str(),
        "http://h:9511"
    );
    assert_eq!(
        BaseUrl::from_request(
            &headers(&[("host", "api.example"), ("x-forwarded-proto", "HTTPS")]),
            &uri
        )
        .as_str(),
        "https://api.example"
    );
    assert_eq!(
        BaseUrl::from_request(
            &headers(&[("host", "h"), ("x-forwarded-proto", "gopher")]),
            &uri
        )
        .as_str(),
        "http://h"
    );
}

#[test]
fn hostile_or_missing_hosts_fall_back() {
    let uri = Uri::from_static("/v1");
    for bad in ["a b", "h/x", "\"h\"", "u@h"] {
        let mut map = HeaderMap::new();
        map.insert("host", HeaderValue::from_str(bad).unwrap());
        assert_eq!(
            BaseUrl::from_request(&map, &uri).as_str(),
            "http://localhost"
        );
    }
    let absolute = Uri::from_static("http://h2.example:1/v1");
    assert_eq!(
        BaseUrl::from_request(&HeaderMap::new(), &absolute).as_str(),
        "http://h2.example:1"
    );
}

#[test]
fn resource_links_are_self_and_bookmark() {
    let base = BaseUrl("http://h:9511".into());
    let links = base.resource_links("baymodels", "u1");
    assert_eq!(links[0], Link::new("http://h:9511/v1/baymodels/u1", "self"));
    assert_eq!(
        links[1],
        Link::new("http://h:9511/baymodels/u1", "bookmark")
    );
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(encode_query_value("created_at"), "created_at");
    assert_eq!(encode_query_value("a&b=c d"), "a%26b%3Dc%20d");
}
