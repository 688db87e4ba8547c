//! `/v1/certificates` through the router, against the in-memory bay-svc.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use magnum_proto::bay::v1::BayStatus;
use serde_json::{Value, json};

use crate::support::{
    Harness, Reply, at, fake_ca, fake_signed, get, harness, keys, post, request, send,
};

const CSR: &str = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";

fn links(uuid: &str) -> Value {
    json!([
        {"href": format!("http://gw.example:9511/v1/certificates/{uuid}"), "rel": "self"},
        {"href": format!("http://gw.example:9511/certificates/{uuid}"), "rel": "bookmark"}
    ])
}

/// `PATCH /v1/certificates/<ident>` as 2.x/4.x send it: no body, octet-stream.
fn rotation(ident: &str) -> Request<Body> {
    Request::builder()
        .method(Method::PATCH)
        .uri(format!("/v1/certificates/{ident}"))
        .header("host", "gw.example:9511")
        .header("x-auth-token", "tok")
        .header("content-type", "application/octet-stream")
        .body(Body::empty())
        .unwrap()
}

async fn sign_at(h: &Harness, version: Option<&str>, body: Value) -> Reply {
    let plain = request(Method::POST, "/v1/certificates", Some(body));
    send(
        &h.app,
        match version {
            Some(version) => at(version, plain),
            None => plain,
        },
    )
    .await
}

#[tokio::test]
async fn show_returns_the_ca_under_both_keys() {
    let h = harness().await;
    let bay = h.bays.insert("b1", BayStatus::CreateComplete);
    let liberty = get(&h.app, &format!("/v1/certificates/{}", bay.uuid)).await;
    assert_eq!(liberty.status, StatusCode::OK, "{}", liberty.text);
    assert_eq!(liberty.header("content-type"), "application/json");
    assert_eq!(
        liberty.body,
        json!({
            "bay_uuid": bay.uuid, "cluster_uuid": bay.uuid, "pem": fake_ca(&bay.uuid, ""),
            "links": links(&bay.uuid)
        })
    );
    let latest = send(
        &h.app,
        at(
            "latest",
            request(Method::GET, "/v1/certificates/b1?ca_cert_type=etcd", None),
        ),
    )
    .await;
    assert_eq!(latest.status, StatusCode::OK);
    assert_eq!(
        keys(&latest.body),
        ["bay_uuid", "cluster_uuid", "links", "pem"]
    );
    assert_eq!(latest.body["pem"], fake_ca(&bay.uuid, "etcd"));
    let gets = h.certificates.gets.lock().unwrap().clone();
    assert_eq!(gets[1].bay_ident, "b1");
    assert_eq!(gets[1].ca_cert_type, "etcd");

    let missing = get(&h.app, "/v1/certificates/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.detail(), "Bay nope could not be found.");
}

#[tokio::test]
async fn sign_with_bay_uuid_or_cluster_uuid() {
    let h = harness().await;
    let bay = h.bays.insert("b1", BayStatus::CreateComplete);
    // 1.1.0's ca-sign.
    let reply = sign_at(&h, None, json!({"bay_uuid": bay.uuid, "csr": CSR})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert!(reply.headers.get("location").is_none(), "Magnum sets none");
    assert_eq!(
        reply.body,
        json!({
            "bay_uuid": bay.uuid, "cluster_uuid": bay.uuid, "csr": CSR,
            "pem": fake_signed(CSR), "links": links(&bay.uuid)
        })
    );
    // 2.17.0's ca-sign / bay-config, by name, with a CA type; `pem` is ignored.
    let reply = sign_at(
        &h,
        Some("latest"),
        json!({"cluster_uuid": "b1", "csr": CSR, "ca_cert_type": "etcd", "pem": "ignored"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["bay_uuid"], bay.uuid.as_str());
    assert_eq!(reply.body["cluster_uuid"], bay.uuid.as_str());
    assert_eq!(reply.body["ca_cert_type"], "etcd");
    // Both keys naming the same bay.
    let reply = sign_at(
        &h,
        None,
        json!({"bay_uuid": "b1", "cluster_uuid": "b1", "csr": CSR}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let signs = h.certificates.signs.lock().unwrap().clone();
    let sent: Vec<(&str, &str)> = signs
        .iter()
        .map(|s| (s.bay_ident.as_str(), s.ca_cert_type.as_str()))
        .collect();
    assert_eq!(sent, [(bay.uuid.as_str(), ""), ("b1", "etcd"), ("b1", "")]);
}

#[tokio::test]
async fn sign_body_rules() {
    let h = harness().await;
    h.bays.insert("b1", BayStatus::CreateComplete);
    h.bays.insert("b2", BayStatus::CreateComplete);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"csr": CSR}),
            "Invalid input for field/attribute cluster_uuid. Value: 'None'. Mandatory field missing.",
        ),
        (
            json!({"bay_uuid": null, "cluster_uuid": null, "csr": CSR}),
            "Mandatory field missing.",
        ),
        (
            json!({"bay_uuid": "b1", "cluster_uuid": "b2", "csr": CSR}),
            "bay_uuid b1 and cluster_uuid b2 differ",
        ),
        (
            json!({"bay_uuid": "b1"}),
            "Invalid input for field/attribute csr. Value: 'None'. Mandatory field missing.",
        ),
        (
            json!({"bay_uuid": "b1", "csr": ""}),
            "Invalid input for field/attribute csr. Value: ''. Value should have a minimum character requirement of 1",
        ),
        (
            json!({"bay_uuid": "b1", "csr": CSR, "bogus": 1}),
            "Unknown attribute for argument certificate: bogus",
        ),
        (
            json!({"bay_uuid": "b1", "csr": CSR, "links": []}),
            "Cannot set read only field.",
        ),
        (
            json!({"bay_uuid": "nope", "csr": CSR}),
            "Bay nope could not be found.",
        ),
        (
            json!({"bay_uuid": "b1", "csr": "not a csr"}),
            "The CSR is not a PEM certificate signing request.",
        ),
    ];
    for (body, expected) in cases {
        post(&h.app, "/v1/certificates", body)
            .await
            .assert_error(StatusCode::BAD_REQUEST, expected);
    }
    let reply = send(&h.app, request(Method::POST, "/v1/certificates", None)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.detail(), "Missing argument: \"certificate\"");

    h.bays.insert("twin", BayStatus::CreateComplete);
    h.bays.insert("twin", BayStatus::CreateComplete);
    let reply = post(
        &h.app,
        "/v1/certificates",
        json!({"cluster_uuid": "twin", "csr": CSR}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.detail(),
        "Multiple bays exist with same name. Please use the bay uuid instead."
    );
}

#[tokio::test]
async fn rotate_takes_no_body_and_answers_202_with_the_bay_uuid() {
    let h = harness().await;
    let bay = h.bays.insert("b1", BayStatus::CreateComplete);
    for request in [rotation("b1"), at("latest", rotation(&bay.uuid))] {
        let reply = send(&h.app, request).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        assert_eq!(reply.header("content-type"), "application/json");
        assert_eq!(reply.body, json!({"uuid": bay.uuid}));
    }
    // A body, whatever its type, is ignored.
    let with_body = request(
        Method::PATCH,
        "/v1/certificates/b1",
        Some(json!([{"op": "replace"}])),
    );
    let reply = send(&h.app, with_body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let rotated: Vec<String> = h
        .certificates
        .rotations
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.bay_ident.clone())
        .collect();
    assert_eq!(rotated, ["b1", bay.uuid.as_str(), "b1"]);

    h.bays.insert("no-tls", BayStatus::CreateComplete);
    let reply = send(&h.app, rotation("no-tls")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .detail()
            .starts_with("Rotating the CA certificate on a non-TLS bay")
    );
    let reply = send(&h.app, rotation("nope")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.detail(), "Bay nope could not be found.");
}

#[tokio::test]
async fn the_collection_itself_only_takes_post() {
    let h = harness().await;
    let reply = get(&h.app, "/v1/certificates").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("content-type"), "application/json");
    assert!(reply.body["errors"].is_array());
}
