//! `/v1/baymodels` through the router, against the in-memory bay-svc.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{calls, delete, get, harness, patch, post};

/// What python-magnumclient 1.1.0's `baymodel-create` sends: many nulls, numbers as
/// strings.
fn liberty_create_body() -> Value {
    json!({
        "name": "k8s-model", "flavor_id": "m1.medium", "master_flavor_id": null,
        "image_id": "fedora-21-atomic-5", "keypair_id": "testkey",
        "external_network_id": "public", "fixed_network": null, "dns_nameserver": "8.8.8.8",
        "docker_volume_size": "5", "ssh_authorized_key": null, "coe": "kubernetes",
        "network_driver": null, "http_proxy": null, "https_proxy": null, "no_proxy": null,
        "labels": {"os_distro": "fedora-atomic"}, "tls_disabled": false, "public": "False",
        "registry_enabled": "false", "server_type": "vm"
    })
}

#[tokio::test]
async fn create_returns_201_with_location_and_the_full_object() {
    let h = harness().await;
    let reply = post(&h.app, "/v1/baymodels", liberty_create_body()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.header("content-type"), "application/json");
    let uuid = reply.body["uuid"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        format!("http://gw.example:9511/v1/baymodels/{uuid}")
    );
    let body = &reply.body;
    assert_eq!(body["name"], "k8s-model");
    assert_eq!(body["docker_volume_size"], 5);
    assert_eq!(body["public"], false);
    assert_eq!(body["master_flavor_id"], Value::Null);
    assert_eq!(body["floating_ip_enabled"], true);
    assert_eq!(body["cluster_distro"], "fedora-atomic");
    assert_eq!(body["labels"], json!({"os_distro": "fedora-atomic"}));
    assert_eq!(body["created_at"], "2016-08-29T06:51:31+00:00");
    assert_eq!(body["updated_at"], Value::Null);
    assert_eq!(
        body["links"],
        json!([
            {"href": format!("http://gw.example:9511/v1/baymodels/{uuid}"), "rel": "self"},
            {"href": format!("http://gw.example:9511/baymodels/{uuid}"), "rel": "bookmark"}
        ])
    );
    for hidden in ["project_id", "user_id", "driver"] {
        assert!(body.get(hidden).is_none(), "{hidden} must not be shown");
    }
    for field in [
        "fixed_subnet",
        "volume_driver",
        "docker_storage_driver",
        "insecure_registry",
        "master_lb_enabled",
        "hidden",
        "tags",
        "apiserver_port",
    ] {
        assert!(body.get(field).is_some(), "{field} missing");
    }
}

#[tokio::test]
async fn create_accepts_client_uuid_and_ignores_cluster_distro() {
    let h = harness().await;
    let mut body = liberty_create_body();
    body["uuid"] = json!("27e3153e-d5bf-4b7e-b517-fb518e17f34c");
    body["cluster_distro"] = json!("made-up");
    body["labels"] = json!({});
    let reply = post(&h.app, "/baymodels", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["uuid"], "27e3153e-d5bf-4b7e-b517-fb518e17f34c");
    assert_eq!(reply.body["cluster_distro"], Value::Null);
}

#[tokio::test]
async fn create_body_rules() {
    let h = harness().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"coe": "swarm", "image_id": "i", "keypair_id": "k", "bogus": 1, "project_id": "p"}),
            "Unknown attribute for argument baymodel: bogus, project_id",
        ),
        (
            json!({"coe": "swarm", "image_id": "i", "keypair_id": "k", "links": null}),
            "Invalid input for field/attribute links. Value: 'None'. Cannot set read only field.",
        ),
        (
            json!({"coe": "swarm", "image_id": "i", "keypair_id": "k", "created_at": "x"}),
            "Cannot set read only field.",
        ),
        (
            json!({"coe": "swarm", "keypair_id": "k"}),
            "Invalid input for field/attribute image_id. Value: 'None'. Mandatory field missing.",
        ),
        (
            json!({"coe": "swarm", "image_id": "i", "keypair_id": "k", "labels": {"a": ["b"]}}),
            "Invalid input for field/attribute labels.",
        ),
        (
            json!({"coe": "swarm", "image_id": "i", "keypair_id": "k", "docker_volume_size": "five"}),
            "Invalid input for field/attribute docker_volume_size. Value: 'five'.",
        ),
        (
            json!({"coe": "swarm", "image_id": "i", "keypair_id": "k", "tls_disabled": "maybe"}),
            "Unrecognized value 'maybe'",
        ),
        (json!(["coe"]), "Expected 'object', got 'list'"),
    ];
    for (body, expected) in cases {
        let reply = post(&h.app, "/v1/baymodels", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            reply.detail().contains(expected),
            "{body}: {}",
            reply.detail()
        );
    }
    assert!(
        !calls(&h.baymodels.recorded).contains_key("create"),
        "refused before bay-svc"
    );

    // bay-svc's own validation comes back as it was sent.
    let reply = post(
        &h.app,
        "/v1/baymodels",
        json!({"coe": "mesos", "image_id": "i", "keypair_id": "k"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.detail(), "Requested COE type mesos is not supported.");
    assert_eq!(
        reply.error()["title"],
        "Requested COE type mesos is not supported"
    );
}

#[tokio::test]
async fn show_by_uuid_or_name_and_the_lookup_errors() {
    let h = harness().await;
    let model = h.baymodels.insert("unique");
    let by_uuid = get(&h.app, &format!("/v1/baymodels/{}", model.uuid)).await;
    assert_eq!(by_uuid.status, StatusCode::OK);
    assert_eq!(by_uuid.body["name"], "unique");
    assert!(by_uuid.body["links"].is_array());
    let by_name = get(&h.app, "/v1/baymodels/unique").await;
    assert_eq!(by_name.body["uuid"], model.uuid.as_str());

    let missing = get(&h.app, "/v1/baymodels/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.detail(), "Baymodel nope could not be found.");

    h.baymodels.insert("twin");
    h.baymodels.insert("twin");
    let ambiguous = get(&h.app, "/v1/baymodels/twin").await;
    assert_eq!(ambiguous.status, StatusCode::CONFLICT);
    assert_eq!(
        ambiguous.detail(),
        "Multiple baymodels exist with same name. Please use the baymodel uuid instead."
    );

    let encoded = get(&h.app, "/v1/baymodels/un%69que").await;
    assert_eq!(
        encoded.status,
        StatusCode::OK,
        "path idents are percent-decoded"
    );
}

#[tokio::test]
async fn list_and_detail_both_give_full_items() {
    // Newton+ servers list baymodels in full; Liberty's summary set is a subset of it.
    let h = harness().await;
    h.baymodels.insert("a");
    for path in ["/v1/baymodels", "/v1/baymodels/detail"] {
        let list = get(&h.app, path).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.get("next").is_none(), "next only on a full page");
        let item = &list.body["baymodels"][0];
        for key in [
            "uuid",
            "name",
            "image_id",
            "apiserver_port",
            "coe",
            "links",
            "public",
        ] {
            assert!(item.get(key).is_some(), "{path}: {key}");
        }
        assert_eq!(item["keypair_id"], "key");
        assert!(item.get("labels").is_some());
        assert!(item.get("project_id").is_none());
    }
}

#[tokio::test]
async fn pagination_follows_next_links() {
    let h = harness().await;
    let uuids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|name| h.baymodels.insert(name).uuid)
        .collect();

    let first = get(&h.app, "/v1/baymodels/?limit=2").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["baymodels"].as_array().unwrap().len(), 2);
    let next = first.body["next"].as_str().unwrap();
    assert_eq!(
        next,
        format!(
            "http://gw.example:9511/v1/baymodels?sort_key=id&sort_dir=asc&limit=2&marker={}",
            uuids[1]
        )
    );
    // Clients strip scheme and host and request the rest.
    let path = next.trim_start_matches("http://gw.example:9511");
    let second = get(&h.app, path).await;
    assert_eq!(second.body["baymodels"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["baymodels"][0]["uuid"], uuids[2].as_str());
    assert!(second.body.get("next").is_none());

    // A full last page still has a next link (Magnum cannot know nothing follows).
    let exact = get(&h.app, "/v1/baymodels/detail?limit=3&sort_dir=desc").await;
    assert_eq!(
        exact.body["next"],
        format!(
            "http://gw.example:9511/v1/baymodels/detail?sort_key=id&sort_dir=desc&limit=3&marker={}",
            uuids[0]
        )
    );
    let capped = get(&h.app, "/v1/baymodels?limit=5000").await;
    assert!(capped.body.get("next").is_none());

    let unknown_marker = get(&h.app, "/v1/baymodels?marker=nope").await;
    assert_eq!(unknown_marker.status, StatusCode::NOT_FOUND);
    let bad_sort = get(&h.app, "/v1/baymodels?sort_key=colour").await;
    assert_eq!(bad_sort.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad_sort.detail(),
        "The sort_key value \"colour\" is an invalid field for sorting"
    );
    let zero = get(&h.app, "/v1/baymodels/?limit=0").await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert_eq!(zero.detail(), "Limit must be positive");
}

#[tokio::test]
async fn patch_translates_to_an_update_mask() {
    let h = harness().await;
    let model = h.baymodels.insert("old");
    let reply = patch(
        &h.app,
        &format!("/v1/baymodels/{}", model.uuid),
        json!([
            {"op": "replace", "path": "/name", "value": "new"},
            {"op": "replace", "path": "/labels", "value": "{'k8s_version': 'v1.2', 'x': '1'}"},
            {"op": "add", "path": "/docker_volume_size", "value": "7"},
            {"op": "replace", "path": "/public", "value": "true"},
            {"op": "replace", "path": "/cluster_distro", "value": "ignored"},
        ]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["name"], "new");
    assert_eq!(
        reply.body["labels"],
        json!({"k8s_version": "v1.2", "x": "1"})
    );
    assert_eq!(reply.body["docker_volume_size"], 7);
    assert_eq!(reply.body["public"], true);
    assert_eq!(reply.body["updated_at"], "2016-08-29T06:53:20+00:00");
    assert!(reply.body["links"].is_array());

    let recorded = h.baymodels.recorded.lock().unwrap();
    let update = recorded.updates.last().unwrap();
    assert_eq!(update.ident, model.uuid);
    let mut mask = update.update_mask.clone().unwrap().paths;
    mask.sort();
    assert_eq!(mask, ["docker_volume_size", "labels", "name", "public"]);
    let spec = update.spec.clone().unwrap();
    assert_eq!(spec.name.as_deref(), Some("new"));
    assert_eq!(spec.docker_volume_size, Some(7));
    assert_eq!(spec.public, Some(true));
    assert_eq!(spec.coe, None, "unchanged fields are not sent");
}

#[tokio::test]
async fn patch_by_name_removes_by_clearing() {
    let h = harness().await;
    let model = h.baymodels.insert("named");
    let reply = patch(
        &h.app,
        "/v1/baymodels/named",
        json!([{"op": "remove", "path": "/name"}, {"op": "add", "path": "/tags", "value": "a,b"}]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["name"], Value::Null);
    assert_eq!(reply.body["tags"], "a,b");
    let recorded = h.baymodels.recorded.lock().unwrap();
    let update = recorded.updates.last().unwrap();
    assert_eq!(update.ident, model.uuid, "the resolved uuid is updated");
    let spec = update.spec.clone().unwrap();
    assert!(
        update
            .update_mask
            .as_ref()
            .unwrap()
            .paths
            .contains(&"name".to_owned())
    );
    assert_eq!(spec.name, None, "named in the mask but unset: cleared");
}

#[tokio::test]
async fn a_patch_that_changes_nothing_returns_the_object() {
    let h = harness().await;
    let model = h.baymodels.insert("same");
    let reply = patch(
        &h.app,
        &format!("/v1/baymodels/{}", model.uuid),
        json!([{"op": "replace", "path": "/name", "value": "same"}]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["name"], "same");
    assert!(!calls(&h.baymodels.recorded).contains_key("update"));
    let empty = patch(&h.app, &format!("/v1/baymodels/{}", model.uuid), json!([])).await;
    assert_eq!(empty.status, StatusCode::OK);
}

#[tokio::test]
async fn patch_rules() {
    let h = harness().await;
    let model = h.baymodels.insert("p");
    let uri = format!("/v1/baymodels/{}", model.uuid);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!([{"op": "remove", "path": "/coe"}]),
            "'/coe' is a mandatory attribute and can not be removed",
        ),
        (
            json!([{"op": "remove", "path": "/image_id"}]),
            "'/image_id' is a mandatory attribute",
        ),
        (
            json!([{"op": "remove", "path": "/keypair_id"}]),
            "'/keypair_id' is a mandatory attribute",
        ),
        (
            json!([{"op": "replace", "path": "/uuid", "value": "x"}]),
            "'/uuid' is an internal attribute and can not be updated",
        ),
        (
            json!([{"op": "replace", "path": "/created_at", "value": "x"}]),
            "internal attribute",
        ),
        (
            json!([{"op": "add", "path": "/name", "value": "x"}]),
            "The attribute /name has existed, please use 'replace' operation instead.",
        ),
        (
            json!([{"op": "add", "path": "/colour", "value": "x"}]),
            "Adding a new attribute /colour to the root of the resource is not allowed.",
        ),
        (
            json!([{"op": "replace", "path": "/colour", "value": "x"}]),
            "Couldn't apply patch",
        ),
        (
            json!([{"op": "move", "path": "/name", "from": "/coe"}]),
            "Unknown attribute for argument patch: from",
        ),
        (
            json!([{"op": "copy", "path": "/name"}]),
            "Value should be one of: add, replace, remove",
        ),
        (
            json!([{"op": "replace", "path": "/name"}]),
            "'add' and 'replace' operations needs value",
        ),
        (
            json!([{"op": "replace", "path": "/docker_volume_size", "value": 2.5}]),
            "Wrong type",
        ),
        (
            json!([{"op": "replace", "path": "/labels", "value": {"a": "b"}}]),
            "Wrong type",
        ),
        (
            json!([{"op": "replace", "path": "/labels", "value": "not a dict"}]),
            "Python literal dict",
        ),
        (
            json!([{"op": "replace", "path": "/docker_volume_size", "value": "lots"}]),
            "field/attribute docker_volume_size",
        ),
        (
            json!([{"op": "replace", "path": "bad path", "value": "x"}]),
            "should match the pattern",
        ),
        (json!({"op": "replace"}), "Expected 'list'"),
    ];
    for (body, expected) in cases {
        let reply = patch(&h.app, &uri, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert!(
            reply.detail().contains(expected),
            "{body}: {}",
            reply.detail()
        );
    }
    assert!(!calls(&h.baymodels.recorded).contains_key("update"));

    let missing = patch(
        &h.app,
        "/v1/baymodels/nope",
        json!([{"op": "replace", "path": "/name", "value": "x"}]),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let invalid_before_lookup = patch(
        &h.app,
        "/v1/baymodels/nope",
        json!([{"op": "remove", "path": "/coe"}]),
    )
    .await;
    assert_eq!(invalid_before_lookup.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn delete_is_204_and_refused_while_in_use() {
    let h = harness().await;
    let model = h.baymodels.insert("gone");
    let reply = delete(&h.app, &format!("/v1/baymodels/{}", model.uuid)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.text.is_empty());
    let again = delete(&h.app, &format!("/v1/baymodels/{}", model.uuid)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let used = h.baymodels.insert("in-use");
    let refused = delete(&h.app, "/v1/baymodels/in-use").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.detail(),
        format!(
            "Baymodel {} is referenced by one or multiple bays.",
            used.uuid
        )
    );
}
