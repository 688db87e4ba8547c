//! `/v1/bays` through the router, against the in-memory bay-svc, at API 1.1 (no header:
//! 0.2.1, 1.1.0) and at `latest` (2.17.0), and at 1.2 where that differs.

use axum::http::{Method, StatusCode};
use magnum_proto::bay::v1::BayStatus;
use serde_json::{Value, json};

use crate::support::{Harness, Reply, at, calls, delete, get, harness, keys, request, send};

const LIBERTY_FIELDS: &[&str] = &[
    "api_address",
    "bay_create_timeout",
    "baymodel_id",
    "created_at",
    "discovery_url",
    "links",
    "master_addresses",
    "master_count",
    "name",
    "node_addresses",
    "node_count",
    "status",
    "status_reason",
    "updated_at",
    "uuid",
];

const NEWTON_FIELDS: &[&str] = &[
    "api_address",
    "bay_create_timeout",
    "baymodel_id",
    "coe_version",
    "container_version",
    "created_at",
    "discovery_url",
    "docker_volume_size",
    "fixed_network",
    "fixed_subnet",
    "flavor_id",
    "floating_ip_enabled",
    "labels",
    "links",
    "master_addresses",
    "master_count",
    "master_flavor_id",
    "master_lb_enabled",
    "name",
    "node_addresses",
    "node_count",
    "stack_id",
    "status",
    "status_reason",
    "updated_at",
    "uuid",
];

/// A request at `version` (`None`: no header, i.e. API 1.1).
async fn call(
    h: &Harness,
    version: Option<&str>,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> Reply {
    let plain = request(method, uri, body);
    let request = match version {
        Some(version) => at(version, plain),
        None => plain,
    };
    send(&h.app, request).await
}

/// What python-magnumclient 1.1.0's `bay-create` sends.
fn liberty_create_body(baymodel: &str) -> Value {
    json!({
        "name": null, "baymodel_id": baymodel, "node_count": "2", "discovery_url": null,
        "bay_create_timeout": null
    })
}

fn patch_node_count(count: Value) -> Value {
    json!([{"op": "replace", "path": "/node_count", "value": count}])
}

#[tokio::test]
async fn create_at_1_1_returns_201_with_the_liberty_bay_and_location() {
    let h = harness().await;
    let model = h.baymodels.insert("k8s-model");
    let reply = call(
        &h,
        None,
        Method::POST,
        "/v1/bays",
        Some(liberty_create_body(&model.uuid)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.header("content-type"), "application/json");
    let uuid = reply.body["uuid"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        format!("http://gw.example:9511/v1/bays/{uuid}")
    );
    assert_eq!(keys(&reply.body), LIBERTY_FIELDS);
    assert_eq!(reply.body["status"], "CREATE_IN_PROGRESS");
    assert_eq!(reply.body["node_count"], 2);
    assert_eq!(reply.body["master_count"], 1);
    assert_eq!(reply.body["baymodel_id"], model.uuid.as_str());
    assert_eq!(reply.body["node_addresses"], json!([]));
    assert_eq!(
        reply.body["links"],
        json!([
            {"href": format!("http://gw.example:9511/v1/bays/{uuid}"), "rel": "self"},
            {"href": format!("http://gw.example:9511/bays/{uuid}"), "rel": "bookmark"}
        ])
    );
    let spec = h.bays.creates.lock().unwrap()[0].clone();
    assert_eq!(spec.baymodel_ident, model.uuid);
    assert_eq!(spec.node_count, Some(2));
    assert_eq!(spec.name, None);
    assert_eq!(
        spec.bay_create_timeout, None,
        "an explicit null asks for the server default"
    );

    // By baymodel name, timeout absent: Liberty's attribute default 0 is sent and shown.
    let reply = call(
        &h,
        None,
        Method::POST,
        "/bays",
        Some(json!({"baymodel_id": "k8s-model", "name": "b1", "master_count": 1})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["bay_create_timeout"], 0);
    assert_eq!(reply.body["baymodel_id"], model.uuid.as_str());
    assert_eq!(
        h.bays.creates.lock().unwrap()[1].bay_create_timeout,
        Some(0)
    );
}

#[tokio::test]
async fn create_at_1_2_and_later_returns_202_with_the_uuid() {
    let h = harness().await;
    h.baymodels.insert("k8s-model");
    for version in ["1.2", "latest"] {
        // What 2.17.0's bay-create sends.
        let body = json!({
            "name": "k8s", "baymodel_id": "k8s-model", "node_count": 1, "master_count": 1,
            "discovery_url": null, "bay_create_timeout": 60
        });
        let reply = call(&h, Some(version), Method::POST, "/v1/bays", Some(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::ACCEPTED,
            "{version}: {}",
            reply.text
        );
        assert_eq!(keys(&reply.body), ["uuid"]);
        assert!(reply.headers.get("location").is_none());
        let uuid = reply.body["uuid"].as_str().unwrap();
        let shown = call(
            &h,
            Some(version),
            Method::GET,
            &format!("/v1/bays/{uuid}"),
            None,
        )
        .await;
        assert_eq!(shown.body["bay_create_timeout"], 60);
        assert_eq!(shown.body["status"], "CREATE_IN_PROGRESS");
    }
    // Absent timeout after 1.1: Newton's attribute default; null: the server's default.
    let reply = call(
        &h,
        Some("latest"),
        Method::POST,
        "/v1/bays",
        Some(json!({"baymodel_id": "k8s-model", "labels": {"a": "b"}, "docker_volume_size": "3"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let reply = call(
        &h,
        Some("1.2"),
        Method::POST,
        "/v1/bays",
        Some(json!({"baymodel_id": "k8s-model", "bay_create_timeout": null})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let creates = h.bays.creates.lock().unwrap().clone();
    assert_eq!(creates[2].bay_create_timeout, Some(60));
    assert_eq!(creates[2].docker_volume_size, Some(3));
    assert_eq!(creates[2].labels.clone().unwrap().values["a"], "b");
    assert_eq!(creates[3].bay_create_timeout, None);
}

#[tokio::test]
async fn create_body_rules() {
    let h = harness().await;
    let model = h.baymodels.insert("m");
    let uuid = model.uuid.as_str();
    let cases: Vec<(Option<&str>, Value, &str)> = vec![
        (
            None,
            json!({"baymodel_id": uuid, "bogus": 1, "labels": {}}),
            "Unknown attribute for argument bay: bogus, labels",
        ),
        (
            Some("latest"),
            json!({"baymodel_id": uuid, "bogus": 1, "project_id": "p"}),
            "Unknown attribute for argument bay: bogus, project_id",
        ),
        (
            None,
            json!({"name": "x", "node_count": "2"}),
            "Invalid input for field/attribute baymodel_id. Value: 'None'. Mandatory field missing.",
        ),
        (
            Some("latest"),
            json!({"baymodel_id": null}),
            "Invalid input for field/attribute baymodel_id. Value: 'None'. Mandatory field missing.",
        ),
        (
            None,
            json!({"baymodel_id": uuid, "api_address": null}),
            "Invalid input for field/attribute api_address. Value: 'None'. Cannot set read only field.",
        ),
        (
            Some("latest"),
            json!({"baymodel_id": uuid, "stack_id": "s"}),
            "Cannot set read only field.",
        ),
        (
            None,
            json!({"baymodel_id": uuid, "node_count": "0"}),
            "Invalid input for field/attribute node_count. Value: '0'. Value should be greater or equal to 1",
        ),
        (
            None,
            json!({"baymodel_id": uuid, "master_count": 0}),
            "Value should be greater or equal to 1",
        ),
        (
            None,
            json!({"baymodel_id": uuid, "bay_create_timeout": "-1"}),
            "Value should be greater or equal to 0",
        ),
        (
            None,
            json!({"baymodel_id": uuid, "node_count": "two"}),
            "Invalid input for field/attribute node_count. Value: 'two'. Value should be an integer",
        ),
        (
            None,
            json!({"baymodel_id": uuid, "name": ""}),
            "Value should have a minimum character requirement of 1",
        ),
        (
            Some("latest"),
            json!({"baymodel_id": uuid, "name": "n".repeat(256)}),
            "Value should have a maximum character requirement of 255",
        ),
        (
            None,
            json!(["baymodel_id"]),
            "Expected 'object', got 'list'",
        ),
    ];
    for (version, body, expected) in cases {
        let reply = call(&h, version, Method::POST, "/v1/bays", Some(body)).await;
        reply.assert_error(StatusCode::BAD_REQUEST, expected);
        assert_eq!(reply.error()["code"], "client");
    }
    let reply = call(&h, None, Method::POST, "/v1/bays", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.detail(), "Missing argument: \"bay\"");
    assert!(
        !calls(&h.bays.recorded).contains_key("create"),
        "refused before bay-svc"
    );

    // Ignored on input: the server sets them.
    let reply = call(
        &h,
        None,
        Method::POST,
        "/v1/bays",
        Some(
            json!({"baymodel_id": uuid, "uuid": "27e3153e-d5bf-4b7e-b517-fb518e17f34c",
                    "status": "CREATE_COMPLETE", "status_reason": "fine"}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_ne!(reply.body["uuid"], "27e3153e-d5bf-4b7e-b517-fb518e17f34c");
    assert_eq!(reply.body["status"], "CREATE_IN_PROGRESS");
    assert_eq!(reply.body["status_reason"], Value::Null);
}

#[tokio::test]
async fn an_unknown_baymodel_is_a_400_and_an_ambiguous_one_a_409() {
    let h = harness().await;
    for version in [None, Some("latest")] {
        let reply = call(
            &h,
            version,
            Method::POST,
            "/v1/bays",
            Some(liberty_create_body("nope")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(reply.detail(), "Baymodel nope could not be found.");
        assert_eq!(reply.error()["title"], "Baymodel nope could not be found");
    }
    h.baymodels.insert("twin");
    h.baymodels.insert("twin");
    let reply = call(
        &h,
        None,
        Method::POST,
        "/v1/bays",
        Some(liberty_create_body("twin")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.detail(),
        "Multiple baymodels exist with same name. Please use the baymodel uuid instead."
    );
    assert!(h.bays.bays.lock().unwrap().is_empty());
}

#[tokio::test]
async fn show_has_each_versions_fields() {
    let h = harness().await;
    let bay = h.bays.insert("b1", BayStatus::CreateComplete);
    let liberty = get(&h.app, &format!("/v1/bays/{}", bay.uuid)).await;
    assert_eq!(liberty.status, StatusCode::OK);
    assert_eq!(keys(&liberty.body), LIBERTY_FIELDS);
    assert_eq!(liberty.body["status"], "CREATE_COMPLETE");
    assert_eq!(liberty.body["created_at"], "2016-08-29T06:51:31+00:00");
    for version in ["1.2", "latest"] {
        let newton = call(&h, Some(version), Method::GET, "/v1/bays/b1", None).await;
        assert_eq!(newton.status, StatusCode::OK);
        assert_eq!(keys(&newton.body), NEWTON_FIELDS, "{version}");
        assert_eq!(newton.body["stack_id"], format!("stack-{}", bay.uuid));
        assert_eq!(newton.body["floating_ip_enabled"], true);
    }
    // The bookmark link resolves.
    let bookmark = get(&h.app, &format!("/bays/{}", bay.uuid)).await;
    assert_eq!(bookmark.status, StatusCode::OK);

    let failed = h.bays.insert("broken", BayStatus::CreateFailed);
    let shown = call(
        &h,
        Some("latest"),
        Method::GET,
        &format!("/v1/bays/{}", failed.uuid),
        None,
    )
    .await;
    assert_eq!(shown.body["status"], "CREATE_FAILED");
    assert_eq!(shown.body["bay_faults"], json!({"default-worker": "boom"}));
    let liberty = get(&h.app, "/v1/bays/broken").await;
    assert!(liberty.body.get("bay_faults").is_none());

    let unknown = h.bays.insert("fresh", BayStatus::Unspecified);
    let shown = get(&h.app, &format!("/v1/bays/{}", unknown.uuid)).await;
    assert_eq!(shown.body["status"], Value::Null);

    let missing = get(&h.app, "/v1/bays/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.detail(), "Bay nope could not be found.");
}

#[tokio::test]
async fn list_has_summary_items_and_detail_full_ones() {
    let h = harness().await;
    let first = h.bays.insert("a", BayStatus::CreateComplete);
    h.bays.insert("b", BayStatus::CreateInProgress);

    let liberty = get(&h.app, "/v1/bays").await;
    assert_eq!(liberty.status, StatusCode::OK);
    assert!(liberty.body.get("next").is_none());
    assert_eq!(liberty.body["bays"].as_array().unwrap().len(), 2);
    assert_eq!(
        keys(&liberty.body["bays"][0]),
        [
            "bay_create_timeout",
            "baymodel_id",
            "links",
            "master_count",
            "name",
            "node_count",
            "status",
            "uuid"
        ]
    );
    let newton = call(&h, Some("latest"), Method::GET, "/v1/bays", None).await;
    assert_eq!(
        keys(&newton.body["bays"][0]),
        [
            "bay_create_timeout",
            "baymodel_id",
            "docker_volume_size",
            "flavor_id",
            "labels",
            "links",
            "master_count",
            "master_flavor_id",
            "name",
            "node_count",
            "stack_id",
            "status",
            "uuid"
        ]
    );
    let detail = get(&h.app, "/v1/bays/detail").await;
    assert_eq!(keys(&detail.body["bays"][0]), LIBERTY_FIELDS);
    let detail = call(&h, Some("latest"), Method::GET, "/v1/bays/detail", None).await;
    assert_eq!(keys(&detail.body["bays"][0]), NEWTON_FIELDS);

    // 2.17.0 puts a slash before the query.
    let page = call(&h, Some("latest"), Method::GET, "/v1/bays/?limit=1", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["bays"].as_array().unwrap().len(), 1);
    assert_eq!(
        page.body["next"],
        format!(
            "http://gw.example:9511/v1/bays?sort_key=id&sort_dir=asc&limit=1&marker={}",
            first.uuid
        )
    );
    let page = get(&h.app, "/v1/bays/detail?limit=1&sort_dir=desc").await;
    assert!(page.body["next"].as_str().unwrap().starts_with(
        "http://gw.example:9511/v1/bays/detail?sort_key=id&sort_dir=desc&limit=1&marker="
    ));
    let refused = get(&h.app, "/v1/bays?limit=0").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.detail(), "Limit must be positive");
    let refused = get(&h.app, "/v1/bays?sort_key=bogus").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn patch_node_count_answers_per_version() {
    let h = harness().await;
    let bay = h.bays.insert("b1", BayStatus::CreateComplete);
    let path = format!("/v1/bays/{}", bay.uuid);

    let liberty = call(
        &h,
        None,
        Method::PATCH,
        "/v1/bays/b1",
        Some(patch_node_count(json!(3))),
    )
    .await;
    assert_eq!(liberty.status, StatusCode::OK, "{}", liberty.text);
    assert_eq!(keys(&liberty.body), LIBERTY_FIELDS);
    assert_eq!(liberty.body["node_count"], 3);
    assert_eq!(liberty.body["updated_at"], "2016-08-29T06:53:20+00:00");

    for (version, count) in [("1.2", json!("4")), ("latest", json!(5))] {
        let reply = call(
            &h,
            Some(version),
            Method::PATCH,
            &path,
            Some(patch_node_count(count)),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::ACCEPTED,
            "{version}: {}",
            reply.text
        );
        assert_eq!(reply.body, json!({"uuid": bay.uuid}));
    }
    let updates = h.bays.recorded.lock().unwrap().updates.clone();
    let sent: Vec<(String, i32, bool)> = updates
        .into_iter()
        .map(|u| (u.ident, u.node_count, u.rollback))
        .collect();
    assert_eq!(
        sent,
        [
            (bay.uuid.clone(), 3, false),
            (bay.uuid.clone(), 4, false),
            (bay.uuid.clone(), 5, false)
        ],
        "the uuid is sent, not the name"
    );
}

#[tokio::test]
async fn a_patch_that_changes_nothing_answers_without_an_update() {
    let h = harness().await;
    let bay = h.bays.insert("b1", BayStatus::CreateInProgress);
    let same = json!([
        {"op": "replace", "path": "/node_count", "value": 1},
        {"op": "replace", "path": "/name", "value": "b1"}
    ]);
    let liberty = call(&h, None, Method::PATCH, "/v1/bays/b1", Some(same.clone())).await;
    assert_eq!(liberty.status, StatusCode::OK, "{}", liberty.text);
    assert_eq!(liberty.body["uuid"], bay.uuid.as_str());
    assert_eq!(keys(&liberty.body), LIBERTY_FIELDS);
    let newton = call(&h, Some("latest"), Method::PATCH, "/v1/bays/b1", Some(same)).await;
    assert_eq!(newton.status, StatusCode::ACCEPTED);
    assert_eq!(newton.body, json!({"uuid": bay.uuid}));
    assert!(!calls(&h.bays.recorded).contains_key("update"));
}

#[tokio::test]
async fn only_node_count_may_change() {
    let h = harness().await;
    h.bays.insert("b1", BayStatus::CreateComplete);
    let cases: Vec<(Option<&str>, Value, &str)> = vec![
        (
            None,
            json!([{"op": "replace", "path": "/name", "value": "b2"}]),
            "cannot change bay property(ies) name.",
        ),
        (
            Some("latest"),
            json!([{"op": "replace", "path": "/master_count", "value": 3},
                   {"op": "replace", "path": "/name", "value": "b2"},
                   {"op": "replace", "path": "/node_count", "value": 2}]),
            "cannot change bay property(ies) name, master_count.",
        ),
        (
            None,
            json!([{"op": "replace", "path": "/status", "value": "CREATE_FAILED"}]),
            "cannot change bay property(ies) status.",
        ),
        (
            Some("latest"),
            json!([{"op": "replace", "path": "/labels", "value": "{'a': 'b'}"}]),
            "cannot change bay property(ies) labels.",
        ),
        (
            None,
            json!([{"op": "replace", "path": "/labels", "value": "{'a': 'b'}"}]),
            "Couldn't apply patch",
        ),
        (
            None,
            json!([{"op": "replace", "path": "/api_address", "value": "x"}]),
            "'/api_address' is an internal attribute and can not be updated",
        ),
        (
            Some("latest"),
            json!([{"op": "replace", "path": "/stack_id", "value": "x"}]),
            "'/stack_id' is an internal attribute and can not be updated",
        ),
        (
            None,
            json!([{"op": "remove", "path": "/baymodel_id"}]),
            "'/baymodel_id' is a mandatory attribute and can not be removed",
        ),
        (
            None,
            json!([{"op": "remove", "path": "/node_count"}]),
            "'/node_count' is a mandatory attribute and can not be removed",
        ),
        (
            None,
            json!([{"op": "replace", "path": "/node_count", "value": 0}]),
            "Invalid input for field/attribute node_count. Value: '0'. Value should be greater or equal to 1",
        ),
        (
            None,
            json!({"op": "replace"}),
            "Expected 'list', got 'dict'",
        ),
    ];
    for (version, body, expected) in cases {
        call(&h, version, Method::PATCH, "/v1/bays/b1", Some(body))
            .await
            .assert_error(StatusCode::BAD_REQUEST, expected);
    }
    assert!(!calls(&h.bays.recorded).contains_key("update"));
}

#[tokio::test]
async fn bay_svc_refusals_are_400() {
    let h = harness().await;
    h.bays.insert("creating", BayStatus::CreateInProgress);
    h.bays.insert("busy", BayStatus::CreateComplete);
    for version in [None, Some("latest")] {
        let reply = call(
            &h,
            version,
            Method::PATCH,
            "/v1/bays/creating",
            Some(patch_node_count(json!(2))),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            reply.detail(),
            "Updating a bay when stack status is \"CREATE_IN_PROGRESS\" is not supported."
        );
        let reply = call(
            &h,
            version,
            Method::PATCH,
            "/v1/bays/busy",
            Some(patch_node_count(json!(2))),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(
            reply
                .detail()
                .ends_with("already has an operation in progress.")
        );
    }
    let missing = call(
        &h,
        None,
        Method::PATCH,
        "/v1/bays/nope",
        Some(patch_node_count(json!(2))),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.detail(), "Bay nope could not be found.");
}

#[tokio::test]
async fn rollback_is_read_from_1_3_on() {
    let h = harness().await;
    let bay = h.bays.insert("b1", BayStatus::CreateComplete);
    let mut count = 1;
    let mut send_patch = async |version: Option<&str>, query: &str| {
        count += 1;
        call(
            &h,
            version,
            Method::PATCH,
            &format!("/v1/bays/b1/{query}"),
            Some(patch_node_count(json!(count))),
        )
        .await
    };
    // 2.17.0's `bay-update --rollback`: a slash before the query.
    let reply = send_patch(Some("latest"), "?rollback=True").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let reply = send_patch(Some("1.3"), "?rollback=no").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    // Before 1.3 the parameter is not part of the API and is ignored, valid or not.
    let reply = send_patch(Some("1.2"), "?rollback=True").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let reply = send_patch(None, "?rollback=maybe").await;
    assert_eq!(reply.status, StatusCode::OK);
    let rollbacks: Vec<bool> = h
        .bays
        .recorded
        .lock()
        .unwrap()
        .updates
        .iter()
        .map(|u| u.rollback)
        .collect();
    assert_eq!(rollbacks, [true, false, false, false]);

    let reply = send_patch(Some("latest"), "?rollback=maybe").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.detail().starts_with(
            "Invalid input for field/attribute rollback. Value: 'maybe'. Unrecognized value 'maybe'"
        ),
        "{}",
        reply.detail()
    );
    assert_eq!(h.bays.recorded.lock().unwrap().updates.len(), 4);
    assert_eq!(h.bays.recorded.lock().unwrap().updates[0].ident, bay.uuid);
}

#[tokio::test]
async fn delete_answers_204_at_every_version() {
    let h = harness().await;
    h.bays.insert("a", BayStatus::CreateInProgress);
    let b = h.bays.insert("b", BayStatus::CreateFailed);
    let reply = delete(&h.app, "/v1/bays/a").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.text.is_empty());
    let reply = call(
        &h,
        Some("latest"),
        Method::DELETE,
        &format!("/v1/bays/{}", b.uuid),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(h.bays.bays.lock().unwrap().is_empty());
    let again = delete(&h.app, "/v1/bays/a").await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.detail(), "Bay a could not be found.");
}
