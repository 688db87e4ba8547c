//! `/v1/nodes` through the router, against the in-memory bay-svc.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{calls, delete, get, harness, patch, post};

const HOST: &str = "http://gw.example:9511";

#[tokio::test]
async fn create_accepts_the_liberty_client_body_with_nulls() {
    // 0.2.1/1.1.0 `node-create` with no options.
    let h = harness().await;
    let reply = post(&h.app, "/v1/nodes", json!({"type": null, "image_id": null})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.header("content-type"), "application/json");
    let uuid = reply.body["uuid"].as_str().unwrap();
    assert_eq!(reply.header("location"), format!("{HOST}/v1/nodes/{uuid}"));
    assert_eq!(
        reply.body,
        json!({
            "uuid": uuid, "type": null, "image_id": null, "ironic_node_id": null,
            "links": [
                {"href": format!("{HOST}/v1/nodes/{uuid}"), "rel": "self"},
                {"href": format!("{HOST}/nodes/{uuid}"), "rel": "bookmark"}
            ],
            "created_at": "2016-08-29T06:51:31+00:00", "updated_at": null
        })
    );
    let spec = {
        let nodes = h.nodes.nodes.lock().unwrap();
        nodes[0].clone()
    };
    assert_eq!(spec.r#type, None, "null is not given");

    let full = post(
        &h.app,
        "/nodes",
        json!({
            "uuid": "27e3153e-d5bf-4b7e-b517-fb518e17f34c", "type": "bare",
            "image_id": "fedora", "ironic_node_id": "ir-1"
        }),
    )
    .await;
    assert_eq!(full.status, StatusCode::CREATED, "{}", full.text);
    assert_eq!(full.body["uuid"], "27e3153e-d5bf-4b7e-b517-fb518e17f34c");
    assert_eq!(full.body["type"], "bare");
    assert_eq!(full.body["image_id"], "fedora");
    assert_eq!(full.body["ironic_node_id"], "ir-1");
}

#[tokio::test]
async fn create_body_rules() {
    let h = harness().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"type": "virt", "name": "n1"}),
            "Unknown attribute for argument node: name",
        ),
        (
            json!({"type": "virt", "links": null}),
            "Invalid input for field/attribute links. Value: 'None'. Cannot set read only field.",
        ),
        (json!({"updated_at": "x"}), "Cannot set read only field."),
        (
            json!({"type": 3}),
            "Invalid input for field/attribute type. Value: '3'. Wrong type.",
        ),
        (json!(["virt"]), "Expected 'object', got 'list'"),
    ];
    for (body, expected) in cases {
        let reply = post(&h.app, "/v1/nodes", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            reply.detail().contains(expected),
            "{body}: {}",
            reply.detail()
        );
    }
    assert!(
        !calls(&h.nodes.recorded).contains_key("create"),
        "refused before bay-svc"
    );
}

#[tokio::test]
async fn duplicates_are_409() {
    let h = harness().await;
    let existing = h.nodes.insert("bare", Some("ir-1"));
    let taken = post(&h.app, "/v1/nodes", json!({"ironic_node_id": "ir-1"})).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    assert!(
        taken
            .detail()
            .starts_with("Instance ir-1 is already associated with a node"),
        "{}",
        taken.detail()
    );
    let same_uuid = post(&h.app, "/v1/nodes", json!({"uuid": existing.uuid})).await;
    assert_eq!(same_uuid.status, StatusCode::CONFLICT);
    assert_eq!(
        same_uuid.detail(),
        format!("A node with UUID {} already exists.", existing.uuid)
    );

    let other = h.nodes.insert("virt", None);
    let stolen = patch(
        &h.app,
        &format!("/v1/nodes/{}", other.uuid),
        json!([{"op": "add", "path": "/ironic_node_id", "value": "ir-1"}]),
    )
    .await;
    assert_eq!(stolen.status, StatusCode::CONFLICT, "{}", stolen.text);
}

#[tokio::test]
async fn list_gives_summaries_and_detail_full_items() {
    let h = harness().await;
    let node = h.nodes.insert("virt", Some("ir-7"));

    let list = get(&h.app, "/v1/nodes").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.body.get("next").is_none(), "next only on a full page");
    assert_eq!(
        list.body["nodes"],
        json!([{
            "uuid": node.uuid, "type": "virt", "image_id": "fedora", "ironic_node_id": "ir-7",
            "links": [
                {"href": format!("{HOST}/v1/nodes/{}", node.uuid), "rel": "self"},
                {"href": format!("{HOST}/nodes/{}", node.uuid), "rel": "bookmark"}
            ]
        }])
    );

    let detail = get(&h.app, "/v1/nodes/detail").await;
    assert_eq!(detail.status, StatusCode::OK);
    let item = &detail.body["nodes"][0];
    assert_eq!(item["uuid"], node.uuid.as_str());
    assert_eq!(item["created_at"], "2016-08-29T06:51:31+00:00");
    assert_eq!(item["updated_at"], Value::Null);
    assert!(item.get("project_id").is_none());
    assert!(item.get("name").is_none());
}

#[tokio::test]
async fn show_takes_uuids_only() {
    let h = harness().await;
    let node = h.nodes.insert("virt", None);
    let shown = get(&h.app, &format!("/v1/nodes/{}", node.uuid)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert_eq!(shown.body["type"], "virt");
    assert!(shown.body["links"].is_array());
    assert!(shown.body.get("ironic_node_id").is_some());

    // Liberty's uuid type: case and dashes do not matter.
    let upper = node.uuid.to_uppercase().replace('-', "");
    let lenient = get(&h.app, &format!("/v1/nodes/{upper}")).await;
    assert_eq!(lenient.status, StatusCode::OK, "{}", lenient.text);
    assert_eq!(lenient.body["uuid"], node.uuid.as_str());

    let by_name = get(&h.app, "/v1/nodes/my-node").await;
    assert_eq!(by_name.status, StatusCode::BAD_REQUEST);
    assert_eq!(by_name.detail(), "Expected a uuid but received my-node.");
    for refused in [
        patch(
            &h.app,
            "/v1/nodes/my-node",
            json!([{"op": "replace", "path": "/type", "value": "bare"}]),
        )
        .await,
        delete(&h.app, "/v1/nodes/my-node").await,
    ] {
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.detail(), "Expected a uuid but received my-node.");
    }
    let made = calls(&h.nodes.recorded);
    assert_eq!(made.get("get"), Some(&2));
    assert_eq!(made.len(), 1, "names never reach bay-svc: {made:?}");

    let missing_uuid = "0b1e9b6c-4c43-4a3c-9f5e-2d1e1d3f7a10";
    let missing = get(&h.app, &format!("/v1/nodes/{missing_uuid}")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.detail(),
        format!("Node {missing_uuid} could not be found.")
    );
}

#[tokio::test]
async fn pagination_follows_next_links() {
    let h = harness().await;
    let uuids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|kind| h.nodes.insert(kind, None).uuid)
        .collect();

    let first = get(&h.app, "/v1/nodes/?limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["nodes"].as_array().unwrap().len(), 2);
    let next = first.body["next"].as_str().unwrap();
    assert_eq!(
        next,
        format!(
            "{HOST}/v1/nodes?sort_key=id&sort_dir=asc&limit=2&marker={}",
            uuids[1]
        )
    );
    let second = get(&h.app, next.trim_start_matches(HOST)).await;
    assert_eq!(second.body["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["nodes"][0]["uuid"], uuids[2].as_str());
    assert!(second.body.get("next").is_none());

    let detail = get(
        &h.app,
        "/v1/nodes/detail?limit=1&sort_key=type&sort_dir=desc",
    )
    .await;
    assert_eq!(detail.body["nodes"][0]["type"], "c");
    assert_eq!(
        detail.body["next"],
        format!(
            "{HOST}/v1/nodes/detail?sort_key=type&sort_dir=desc&limit=1&marker={}",
            uuids[2]
        )
    );

    let all_tenants = get(&h.app, "/v1/nodes?all_tenants=maybe").await;
    assert_eq!(all_tenants.status, StatusCode::BAD_REQUEST);
    let zero = get(&h.app, "/v1/nodes?limit=0").await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert_eq!(zero.detail(), "Limit must be positive");
    let bad_sort = get(&h.app, "/v1/nodes?sort_key=colour").await;
    assert_eq!(bad_sort.status, StatusCode::BAD_REQUEST);
    let unknown_marker = get(&h.app, "/v1/nodes?marker=nope").await;
    assert_eq!(unknown_marker.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn patch_translates_to_an_update_mask() {
    let h = harness().await;
    let node = h.nodes.insert("virt", None);
    let uri = format!("/v1/nodes/{}", node.uuid);
    let reply = patch(
        &h.app,
        &uri,
        json!([
            {"op": "replace", "path": "/type", "value": "bare"},
            {"op": "add", "path": "/ironic_node_id", "value": "ir-9"},
            {"op": "remove", "path": "/image_id"},
        ]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["type"], "bare");
    assert_eq!(reply.body["ironic_node_id"], "ir-9");
    assert_eq!(reply.body["image_id"], Value::Null);
    assert_eq!(reply.body["updated_at"], "2016-08-29T06:53:20+00:00");
    assert!(reply.body["links"].is_array());
    {
        let recorded = h.nodes.recorded.lock().unwrap();
        let update = recorded.updates.last().unwrap();
        assert_eq!(update.uuid, node.uuid);
        let mut mask = update.update_mask.clone().unwrap().paths;
        mask.sort();
        assert_eq!(mask, ["image_id", "ironic_node_id", "type"]);
        let spec = update.spec.clone().unwrap();
        assert_eq!(spec.r#type.as_deref(), Some("bare"));
        assert_eq!(spec.image_id, None, "named in the mask but unset: cleared");
    }

    // Nothing changed: the object, no update.
    let same = patch(
        &h.app,
        &uri,
        json!([{"op": "replace", "path": "/type", "value": "bare"}]),
    )
    .await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(calls(&h.nodes.recorded)["update"], 1);

    let cases: Vec<(Value, &str)> = vec![
        (
            json!([{"op": "replace", "path": "/uuid", "value": "x"}]),
            "'/uuid' is an internal attribute and can not be updated",
        ),
        (
            json!([{"op": "add", "path": "/name", "value": "x"}]),
            "Adding a new attribute /name to the root of the resource is not allowed.",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "x"}]),
            "Couldn't apply patch",
        ),
        (
            json!([{"op": "add", "path": "/type", "value": "x"}]),
            "The attribute /type has existed, please use 'replace' operation instead.",
        ),
        (json!({"op": "replace"}), "Expected 'list'"),
    ];
    for (body, expected) in cases {
        let reply = patch(&h.app, &uri, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            reply.detail().contains(expected),
            "{body}: {}",
            reply.detail()
        );
    }
    assert_eq!(calls(&h.nodes.recorded)["update"], 1);

    let missing = patch(
        &h.app,
        "/v1/nodes/0b1e9b6c-4c43-4a3c-9f5e-2d1e1d3f7a10",
        json!([{"op": "replace", "path": "/type", "value": "x"}]),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_is_204_then_404() {
    let h = harness().await;
    let node = h.nodes.insert("virt", None);
    let uri = format!("/v1/nodes/{}", node.uuid);
    let reply = delete(&h.app, &uri).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.text.is_empty());
    let again = delete(&h.app, &uri).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        again.detail(),
        format!("Node {} could not be found.", node.uuid)
    );
    assert!(
        get(&h.app, "/v1/nodes").await.body["nodes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn v1_lists_the_nodes_collection() {
    let h = harness().await;
    let v1 = get(&h.app, "/v1").await;
    assert_eq!(
        v1.body["nodes"],
        json!([
            {"href": format!("{HOST}/v1/nodes/"), "rel": "self"},
            {"href": format!("{HOST}/nodes/"), "rel": "bookmark"}
        ])
    );
}
