//! Liberty's /v1/nodes records through the gateway and bay-svc: uuid-only lookups,
//! a unique ironic_node_id, and tenancy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_integration_tests::{ALICE, BOB, StatusCode, TestMesh};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn nodes_are_records_of_their_project() {
    let mesh = TestMesh::start().await;
    // As python-magnumclient 1.1.0 sends it: nulls for what was not given.
    let created = mesh
        .call(
            Method::POST,
            "/v1/nodes",
            &ALICE,
            Some(json!({"type": "virt", "image_id": null})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();
    assert_eq!(created.body["type"], "virt");
    assert_eq!(created.body["image_id"], Value::Null);
    assert!(
        created
            .headers
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with(&format!("/v1/nodes/{uuid}"))
    );
    assert!(created.body["links"].is_array());

    let shown = mesh
        .call(Method::GET, &format!("/v1/nodes/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    let list = mesh.call(Method::GET, "/v1/nodes", &ALICE, None).await;
    assert_eq!(list.body["nodes"][0]["uuid"], uuid.as_str());
    let by_name = mesh
        .call(Method::GET, "/v1/nodes/some-name", &ALICE, None)
        .await;
    assert_eq!(by_name.status, StatusCode::BAD_REQUEST, "{}", by_name.text);
    assert!(by_name.error_detail().contains("Expected a uuid"));
    let named = mesh
        .call(
            Method::POST,
            "/v1/nodes",
            &ALICE,
            Some(json!({"name": "n"})),
        )
        .await;
    assert_eq!(
        named.status,
        StatusCode::BAD_REQUEST,
        "nodes have no name: {}",
        named.text
    );

    let patched = mesh
        .call(
            Method::PATCH,
            &format!("/v1/nodes/{uuid}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/ironic_node_id", "value": "ironic-1"}])),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["ironic_node_id"], "ironic-1");
    let duplicate = mesh
        .call(
            Method::POST,
            "/v1/nodes",
            &BOB,
            Some(json!({"type": "bare", "ironic_node_id": "ironic-1"})),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT, "{}", duplicate.text);

    for (method, body) in [
        (Method::GET, None),
        (
            Method::PATCH,
            Some(json!([{"op": "replace", "path": "/type", "value": "bare"}])),
        ),
        (Method::DELETE, None),
    ] {
        let theirs = mesh
            .call(method.clone(), &format!("/v1/nodes/{uuid}"), &BOB, body)
            .await;
        assert_eq!(
            theirs.status,
            StatusCode::NOT_FOUND,
            "bob {method}: {}",
            theirs.text
        );
    }
    let bob_list = mesh.call(Method::GET, "/v1/nodes", &BOB, None).await;
    assert_eq!(bob_list.body["nodes"], json!([]));

    let deleted = mesh
        .call(Method::DELETE, &format!("/v1/nodes/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = mesh
        .call(Method::GET, &format!("/v1/nodes/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    mesh.stop().await;
}
