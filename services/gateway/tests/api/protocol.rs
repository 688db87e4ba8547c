//! What every route shares: routing quirks, public documents, request ids, error
//! documents, authentication, microversions and body rules.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::support::{BAD_TOKEN, get, harness, harness_with, post, request, send};

fn public_request(uri: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header("host", "gw.example:9511")
        .header("x-auth-token", BAD_TOKEN)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn version_documents_are_public() {
    let h = harness().await;
    let root = send(&h.app, public_request("/")).await;
    assert_eq!(root.status, StatusCode::OK);
    assert_eq!(root.body["name"], "OpenStack Magnum API");
    let version = &root.body["versions"][0];
    assert_eq!(version["id"], "v1");
    assert_eq!(version["status"], "CURRENT");
    assert_eq!(version["min_version"], "1.1");
    assert_eq!(version["max_version"], "1.12");
    assert_eq!(
        version["links"],
        json!([{"href": "http://gw.example:9511/v1/", "rel": "self"}])
    );
    assert_eq!(root.body["default_version"], *version);
    assert_eq!(
        root.header("openstack-api-version"),
        "",
        "no version headers on /"
    );

    for uri in ["/v1", "/v1/"] {
        let v1 = send(&h.app, public_request(uri)).await;
        assert_eq!(v1.status, StatusCode::OK, "{uri}");
        assert_eq!(v1.body["id"], "v1");
        assert_eq!(
            v1.body["media_types"],
            json!([{"base": "application/json", "type": "application/vnd.openstack.magnum.v1+json"}])
        );
        assert_eq!(v1.body["links"][1]["rel"], "describedby");
        assert_eq!(v1.body["links"][1]["type"], "text/html");
        assert_eq!(
            v1.body["baymodels"],
            json!([
                {"href": "http://gw.example:9511/v1/baymodels/", "rel": "self"},
                {"href": "http://gw.example:9511/baymodels/", "rel": "bookmark"}
            ])
        );
        assert_eq!(v1.header("openstack-api-version"), "container-infra 1.1");
    }

    let health = send(&h.app, public_request("/healthcheck")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.text, "OK");

    let openapi = send(&h.app, public_request("/openapi.json")).await;
    assert_eq!(openapi.status, StatusCode::OK);
    assert_eq!(openapi.header("content-type"), "application/json");
    assert!(openapi.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(openapi.body["paths"]["/v1/baymodels/{ident}"]["patch"].is_object());
}

#[tokio::test]
async fn resources_need_a_valid_token() {
    let h = harness().await;
    let reply = send(&h.app, public_request("/v1/baymodels")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error()["code"], "client");
    assert_eq!(
        reply.detail(),
        "The request you have made requires authentication."
    );
    assert!(h.baymodels.recorded.lock().unwrap().calls.is_empty());
}

#[tokio::test]
async fn every_response_has_a_request_id_that_reaches_the_services() {
    let h = harness().await;
    let first = get(&h.app, "/v1/baymodels").await;
    let second = get(&h.app, "/").await;
    let id = first.header("x-openstack-request-id");
    assert!(id.starts_with("req-"), "{id}");
    assert!(uuid::Uuid::parse_str(&id[4..]).is_ok(), "{id}");
    assert_ne!(id, second.header("x-openstack-request-id"));
    let (token, forwarded_id) = h
        .baymodels
        .recorded
        .lock()
        .unwrap()
        .last_metadata
        .clone()
        .unwrap();
    assert_eq!(token, "tok");
    assert_eq!(forwarded_id, id);
}

#[tokio::test]
async fn unversioned_paths_empty_segments_and_trailing_slashes() {
    let h = harness().await;
    let model = h.baymodels.insert("m1");
    for uri in [
        format!("/baymodels/{}", model.uuid),
        format!("/v1/baymodels/{}/", model.uuid),
        format!("//v1//baymodels//{}", model.uuid),
    ] {
        let reply = get(&h.app, &uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert_eq!(reply.body["uuid"], model.uuid.as_str());
    }
    let listed = get(&h.app, "/v1/baymodels/?limit=1").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["baymodels"].as_array().unwrap().len(), 1);
    let detail = get(&h.app, "/baymodels/detail/").await;
    assert_eq!(detail.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_routes_detail_of_an_item_and_wrong_methods() {
    let h = harness().await;
    let model = h.baymodels.insert("m1");
    let nested = get(&h.app, &format!("/v1/baymodels/{}/detail", model.uuid)).await;
    assert_eq!(nested.status, StatusCode::NOT_FOUND);
    assert_eq!(nested.error()["code"], "client");
    let unknown = get(&h.app, "/v1/nothing-here").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.detail(), "The resource could not be found.");
    assert_eq!(
        unknown.header("openstack-api-version"),
        "container-infra 1.1",
        "version headers on every /v1 response"
    );

    let wrong = send(&h.app, request(Method::PUT, "/v1/baymodels", None)).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong.detail(),
        "The method is not allowed for the requested URL."
    );
    assert!(
        wrong.header("allow").contains("POST"),
        "{:?}",
        wrong.headers
    );
    let wrong_item = send(
        &h.app,
        request(
            Method::POST,
            &format!("/v1/baymodels/{}", model.uuid),
            Some(json!({})),
        ),
    )
    .await;
    assert_eq!(wrong_item.status, StatusCode::METHOD_NOT_ALLOWED);
    wrong_item.error();
}

#[tokio::test]
async fn microversion_negotiation_and_headers() {
    let h = harness().await;
    let with_header = |name: &'static str, value: &'static str| {
        Request::builder()
            .uri("/v1/baymodels")
            .header("x-auth-token", "tok")
            .header(name, value)
            .body(Body::empty())
            .unwrap()
    };

    let latest = send(
        &h.app,
        with_header("OpenStack-API-Version", "container-infra latest"),
    )
    .await;
    assert_eq!(latest.status, StatusCode::OK);
    assert_eq!(
        latest.header("openstack-api-version"),
        "container-infra 1.12"
    );
    assert_eq!(
        latest.header("openstack-api-minimum-version"),
        "container-infra 1.1"
    );
    assert_eq!(
        latest.header("openstack-api-maximum-version"),
        "container-infra 1.12"
    );
    assert_eq!(latest.header("x-openstack-magnum-api-version"), "1.12");
    assert_eq!(
        latest.header("x-openstack-magnum-api-minimum-version"),
        "1.1"
    );
    assert_eq!(
        latest.header("x-openstack-magnum-api-maximum-version"),
        "1.12"
    );
    assert!(latest.header("vary").contains("OpenStack-API-Version"));

    let none = get(&h.app, "/v1/baymodels").await;
    assert_eq!(none.header("openstack-api-version"), "container-infra 1.1");

    let liberty = send(&h.app, with_header("X-OpenStack-Magnum-API-Version", "1.1")).await;
    assert_eq!(liberty.status, StatusCode::OK);
    assert_eq!(liberty.header("x-openstack-magnum-api-version"), "1.1");

    let too_new = send(
        &h.app,
        with_header("OpenStack-API-Version", "container-infra 1.13"),
    )
    .await;
    assert_eq!(too_new.status, StatusCode::NOT_ACCEPTABLE);
    let entry = too_new.error();
    assert_eq!(entry["code"], "magnum.microversion-unsupported");
    assert_eq!(entry["title"], "Requested microversion is unsupported");
    assert_eq!(entry["min_version"], "1.1");
    assert_eq!(entry["max_version"], "1.12");
    assert!(
        entry["detail"]
            .as_str()
            .unwrap()
            .contains("The supported version range is: [1.1, 1.12]")
    );
    assert_eq!(
        too_new.header("openstack-api-maximum-version"),
        "container-infra 1.12"
    );

    let wrong_service = send(&h.app, with_header("OpenStack-API-Version", "compute 2.1")).await;
    assert_eq!(wrong_service.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        wrong_service.detail(),
        "Invalid service type for OpenStack-API-Version header"
    );
    assert_eq!(wrong_service.error()["code"], "client");

    let garbage = send(
        &h.app,
        with_header("OpenStack-API-Version", "container-infra one"),
    )
    .await;
    assert_eq!(garbage.status, StatusCode::NOT_ACCEPTABLE);
    assert!(h.baymodels.recorded.lock().unwrap().calls.len() <= 3);

    let public = send(
        &h.app,
        Request::builder()
            .uri("/healthcheck")
            .header("OpenStack-API-Version", "container-infra 9.9")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        public.status,
        StatusCode::OK,
        "versions only matter under /v1"
    );
}

#[tokio::test]
async fn request_body_rules() {
    let h = harness().await;
    let raw = |content_type: &'static str, body: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/v1/baymodels")
            .header("x-auth-token", "tok")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let form = send(
        &h.app,
        raw("application/x-www-form-urlencoded", "coe=swarm"),
    )
    .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    form.error();

    let broken = send(&h.app, raw("application/json; charset=utf-8", "{\"coe\": ")).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.detail(), "Request is not in valid JSON format");
    assert_eq!(
        broken.error()["title"],
        "Request is not in valid JSON format"
    );

    let empty = send(&h.app, raw("application/json", "")).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.detail(), "Missing argument: \"baymodel\"");
}

#[tokio::test]
async fn oversized_bodies_are_413_without_being_buffered() {
    let h = harness_with(|config| config.max_body_bytes = 1024).await;
    // Declared length.
    let big = "x".repeat(10 * 1024 * 1024);
    let declared = Request::builder()
        .method(Method::POST)
        .uri("/v1/baymodels")
        .header("x-auth-token", "tok")
        .header("content-type", "application/json")
        .header("content-length", big.len().to_string())
        .body(Body::from(big))
        .unwrap();
    let reply = send(&h.app, declared).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error()["code"], "client");

    // Streamed without a length: refused after the first chunks past the limit, so the
    // producer below is never drained.
    let chunks = futures_chunks(10 * 1024, 1024);
    let streamed = Request::builder()
        .method(Method::PATCH)
        .uri("/v1/baymodels/x")
        .header("x-auth-token", "tok")
        .header("content-type", "application/json")
        .body(Body::from_stream(chunks))
        .unwrap();
    let reply = send(&h.app, streamed).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.detail().contains("1024 bytes"));
}

/// `count` chunks of `size` bytes, produced lazily (10 MiB at the sizes above).
fn futures_chunks(
    count: usize,
    size: usize,
) -> impl tokio_stream::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    tokio_stream::iter((0..count).map(move |_| Ok(bytes::Bytes::from(vec![b' '; size]))))
}

#[tokio::test]
async fn a_backend_that_is_down_is_503_without_internals() {
    let h = harness_with(|config| config.bay_url = "http://127.0.0.1:1".to_owned()).await;
    let reply = get(&h.app, "/v1/baymodels").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.error()["code"], "server");
    assert!(!reply.detail().contains("127.0.0.1"), "{}", reply.detail());
}

#[tokio::test]
async fn invalid_query_strings_are_400() {
    let h = harness().await;
    let reply = post(&h.app, "/v1/baymodels", json!([])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for uri in [
        "/v1/baymodels?limit=0",
        "/v1/baymodels?sort_dir=sideways",
        "/v1/baymodels?limit=x",
    ] {
        let reply = get(&h.app, uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        reply.error();
    }
}

#[tokio::test]
async fn framework_rejections_use_the_error_document() {
    let h = harness().await;
    let reply = get(&h.app, "/v1/baymodels/%FF").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error()["code"], "client");
    assert!(!reply.detail().is_empty());
}

#[tokio::test]
async fn head_requests_are_served() {
    let h = harness().await;
    let reply = send(
        &h.app,
        Request::builder()
            .method(Method::HEAD)
            .uri("/healthcheck")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("x-openstack-request-id").starts_with("req-"));
}
