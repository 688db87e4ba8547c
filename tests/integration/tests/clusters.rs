//! The modern API over REST (Postgres + JetStream, swarm clusters on the test Docker
//! engine): clusters and cluster templates are the bays and baymodels of the same
//! records; quotas are enforced; stats count; errors speak of clusters; operations newer
//! than the negotiated microversion are 406.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use magnum_integration_tests::{
    ADMIN, ALICE, BOB, Response, StatusCode, Tenant, TestMesh, wait_for,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn at(
    mesh: &TestMesh,
    version: &str,
    method: Method,
    path: &str,
    tenant: &Tenant,
    body: Option<Value>,
) -> Response {
    let mut request = mesh.request(method, path, tenant).header(
        "OpenStack-API-Version",
        format!("container-infra {version}"),
    );
    if let Some(body) = body {
        request = request.json(&body);
    }
    Response::read(request.send().await.unwrap()).await
}

async fn latest(
    mesh: &TestMesh,
    method: Method,
    path: &str,
    tenant: &Tenant,
    body: Option<Value>,
) -> Response {
    at(mesh, "latest", method, path, tenant, body).await
}

fn template_body(name: &str) -> Value {
    json!({"name": name, "coe": "swarm", "image_id": "fedora-atomic", "labels": {"tier": "gold"}})
}

async fn wait_status(mesh: &TestMesh, cluster: &str, status: &str) -> Response {
    wait_for(
        mesh,
        &format!("/v1/clusters/{cluster}"),
        &ALICE,
        Duration::from_secs(60),
        |response| response.body["status"] == status,
    )
    .await
}

async fn wait_gone(mesh: &TestMesh, cluster: &str) {
    wait_for(
        mesh,
        &format!("/v1/clusters/{cluster}"),
        &ALICE,
        Duration::from_secs(60),
        |response| response.status == StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn clusters_are_bays_and_templates_are_baymodels() {
    let mesh = TestMesh::start().await;

    // A template needs no keypair; a baymodel still does.
    let template = latest(
        &mesh,
        Method::POST,
        "/v1/clustertemplates",
        &ALICE,
        Some(template_body("tmpl")),
    )
    .await;
    assert_eq!(template.status, StatusCode::CREATED, "{}", template.text);
    assert_eq!(template.body["project_id"], ALICE.project);
    assert_eq!(template.body["keypair_id"], Value::Null);
    assert!(
        template.body["links"][0]["href"]
            .as_str()
            .unwrap()
            .contains("/v1/clustertemplates/")
    );
    let template_uuid = template.body["uuid"].as_str().unwrap().to_owned();
    let mut no_keypair = template_body("model");
    no_keypair["keypair_id"] = Value::Null;
    let refused = latest(
        &mesh,
        Method::POST,
        "/v1/baymodels",
        &ALICE,
        Some(no_keypair),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let as_baymodel = latest(&mesh, Method::GET, "/v1/baymodels/tmpl", &ALICE, None).await;
    assert_eq!(as_baymodel.body["uuid"], template_uuid.as_str());

    // Create with merged labels; the answer is 202 {"uuid"}.
    let accepted = latest(
        &mesh,
        Method::POST,
        "/v1/clusters",
        &ALICE,
        Some(
            json!({"name": "c1", "cluster_template_id": "tmpl", "node_count": 1,
                    "labels": {"extra": "1"}, "merge_labels": true}),
        ),
    )
    .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
    let uuid = accepted.body["uuid"].as_str().unwrap().to_owned();
    let shown = wait_status(&mesh, "c1", "CREATE_COMPLETE").await;
    assert_eq!(shown.body["uuid"], uuid.as_str());
    assert_eq!(shown.body["cluster_template_id"], template_uuid.as_str());
    assert_eq!(shown.body["labels"], json!({"tier": "gold", "extra": "1"}));
    assert_eq!(shown.body["labels_added"], json!({"extra": "1"}));
    assert_eq!(shown.body["labels_skipped"], json!({}));
    assert_eq!(shown.body["merge_labels"], false);
    assert_eq!(shown.body["create_timeout"], 60);
    assert_eq!(shown.body["project_id"], ALICE.project);

    // The same record under /v1/bays.
    let bay = latest(
        &mesh,
        Method::GET,
        &format!("/v1/bays/{uuid}"),
        &ALICE,
        None,
    )
    .await;
    assert_eq!(bay.body["name"], "c1");
    assert_eq!(bay.body["baymodel_id"], template_uuid.as_str());
    let listed = latest(&mesh, Method::GET, "/v1/clusters", &ALICE, None).await;
    let item = &listed.body["clusters"][0];
    assert_eq!(item["uuid"], uuid.as_str());
    assert!(
        item.get("health_status").is_some() && item.get("api_address").is_none(),
        "summary: {item}"
    );

    // Stats, then resize (1.7+) through the worker group.
    let stats = latest(&mesh, Method::GET, "/v1/stats", &ALICE, None).await;
    assert_eq!(stats.body, json!({"clusters": 1, "nodes": 2}));
    let foreign = latest(
        &mesh,
        Method::GET,
        &format!("/v1/stats?project_id={}", ALICE.project),
        &BOB,
        None,
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.text);
    let bad_type = latest(&mesh, Method::GET, "/v1/stats?type=nodes", &ALICE, None).await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST);

    let old = at(
        &mesh,
        "1.6",
        Method::POST,
        "/v1/clusters/c1/actions/resize",
        &ALICE,
        Some(json!({"node_count": 2})),
    )
    .await;
    assert_eq!(old.status, StatusCode::NOT_ACCEPTABLE, "{}", old.text);
    let master = latest(
        &mesh,
        Method::POST,
        "/v1/clusters/c1/actions/resize",
        &ALICE,
        Some(json!({"node_count": 2, "nodegroup": "default-master"})),
    )
    .await;
    assert_eq!(master.status, StatusCode::BAD_REQUEST, "{}", master.text);
    let resized = latest(
        &mesh,
        Method::POST,
        "/v1/clusters/c1/actions/resize",
        &ALICE,
        Some(json!({"node_count": 2})),
    )
    .await;
    assert_eq!(resized.status, StatusCode::ACCEPTED, "{}", resized.text);
    assert_eq!(resized.body, json!({"uuid": uuid}));
    wait_status(&mesh, "c1", "UPDATE_COMPLETE").await;

    // Node groups (1.9+), trailing slash as the clients send it.
    let old = at(
        &mesh,
        "1.8",
        Method::GET,
        "/v1/clusters/c1/nodegroups/",
        &ALICE,
        None,
    )
    .await;
    assert_eq!(old.status, StatusCode::NOT_ACCEPTABLE);
    let groups = latest(
        &mesh,
        Method::GET,
        "/v1/clusters/c1/nodegroups/?role=worker",
        &ALICE,
        None,
    )
    .await;
    assert_eq!(
        groups.body["nodegroups"].as_array().unwrap().len(),
        1,
        "{}",
        groups.text
    );
    assert_eq!(groups.body["nodegroups"][0]["node_count"], 2);
    assert_eq!(groups.body["nodegroups"][0]["image_id"], "fedora-atomic");
    let deleting = latest(
        &mesh,
        Method::DELETE,
        "/v1/clusters/c1/nodegroups/default-worker",
        &ALICE,
        None,
    )
    .await;
    assert_eq!(deleting.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        deleting.error_detail(),
        "Deleting a default nodegroup is not supported."
    );

    // Errors in the modern words, and body references.
    let missing = latest(&mesh, Method::GET, "/v1/clusters/nope", &ALICE, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error_detail(), "Cluster nope could not be found.");
    let bob = latest(&mesh, Method::GET, "/v1/clusters/c1", &BOB, None).await;
    assert_eq!(
        bob.status,
        StatusCode::NOT_FOUND,
        "other projects see nothing"
    );
    let in_use = latest(
        &mesh,
        Method::DELETE,
        "/v1/clustertemplates/tmpl",
        &ALICE,
        None,
    )
    .await;
    assert_eq!(in_use.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        in_use.error_detail(),
        "ClusterTemplate tmpl is referenced by one or multiple clusters."
    );
    for (version, status) in [
        ("1.9", StatusCode::BAD_REQUEST),
        ("1.10", StatusCode::NOT_FOUND),
    ] {
        let unknown = at(
            &mesh,
            version,
            Method::POST,
            "/v1/clusters",
            &ALICE,
            Some(json!({"cluster_template_id": "no-such"})),
        )
        .await;
        assert_eq!(unknown.status, status, "{version}: {}", unknown.text);
        assert_eq!(
            unknown.error_detail(),
            "ClusterTemplate no-such could not be found."
        );
    }
    for body in [
        json!({"cluster_template_id": "tmpl", "name": "1-starts-with-a-digit"}),
        json!({"cluster_template_id": "tmpl", "node_count": 0}),
        json!({"cluster_template_id": "tmpl", "status": "CREATE_COMPLETE"}),
    ] {
        let refused = latest(
            &mesh,
            Method::POST,
            "/v1/clusters",
            &ALICE,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            refused.text
        );
    }
    let patched = latest(
        &mesh,
        Method::PATCH,
        "/v1/clusters/c1",
        &ALICE,
        Some(json!([{"op": "replace", "path": "/master_count", "value": 3}])),
    )
    .await;
    assert_eq!(patched.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        patched.error_detail(),
        "cannot change cluster property(ies) master_count."
    );

    // Credentials (1.12): found like any cluster, then refused with the reason.
    let old = at(
        &mesh,
        "1.11",
        Method::PATCH,
        "/v1/credentials/c1",
        &ALICE,
        None,
    )
    .await;
    assert_eq!(old.status, StatusCode::NOT_ACCEPTABLE);
    let rotated = latest(&mesh, Method::PATCH, "/v1/credentials/c1", &ALICE, None).await;
    assert_eq!(rotated.status, StatusCode::BAD_REQUEST, "{}", rotated.text);
    assert!(
        rotated.error_detail().contains("no cloud credentials"),
        "{}",
        rotated.text
    );
    let unknown = latest(&mesh, Method::PATCH, "/v1/credentials/nope", &ALICE, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let deleted = latest(&mesh, Method::DELETE, "/v1/clusters/c1", &ALICE, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    wait_gone(&mesh, "c1").await;
    let deleted = latest(
        &mesh,
        Method::DELETE,
        "/v1/clustertemplates/tmpl",
        &ALICE,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    mesh.stop().await;
}

#[tokio::test]
async fn quotas_are_enforced_on_create() {
    let mesh = TestMesh::start().await;
    latest(
        &mesh,
        Method::POST,
        "/v1/clustertemplates",
        &ALICE,
        Some(template_body("tmpl")),
    )
    .await;

    // Only admins set quotas; a project reads its own (the default until one is stored).
    let quota = json!({"project_id": ALICE.project, "resource": "Cluster", "hard_limit": 1});
    let refused = latest(
        &mesh,
        Method::POST,
        "/v1/quotas",
        &ALICE,
        Some(quota.clone()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let default = latest(
        &mesh,
        Method::GET,
        &format!("/v1/quotas/{}/Cluster", ALICE.project),
        &ALICE,
        None,
    )
    .await;
    assert_eq!(
        default.body,
        json!({"project_id": ALICE.project, "resource": "Cluster", "hard_limit": 20,
                                     "created_at": null, "updated_at": null})
    );
    let created = latest(&mesh, Method::POST, "/v1/quotas", &ADMIN, Some(quota)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert!(created.body["id"].as_i64().unwrap() > 0);

    let first = latest(
        &mesh,
        Method::POST,
        "/v1/clusters",
        &ALICE,
        Some(json!({"name": "first", "cluster_template_id": "tmpl"})),
    )
    .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    let second = latest(
        &mesh,
        Method::POST,
        "/v1/clusters",
        &ALICE,
        Some(json!({"name": "second", "cluster_template_id": "tmpl"})),
    )
    .await;
    assert_eq!(second.status, StatusCode::FORBIDDEN, "{}", second.text);
    assert_eq!(
        second.error_detail(),
        "Resource limit exceeded: You have reached the maximum clusters per project, 1. \
         You may delete a cluster to make room for a new one."
    );
    // Bays count against the same quota.
    let bay = latest(
        &mesh,
        Method::POST,
        "/v1/bays",
        &ALICE,
        Some(json!({"name": "bay", "baymodel_id": "tmpl"})),
    )
    .await;
    assert_eq!(bay.status, StatusCode::FORBIDDEN, "{}", bay.text);

    // A plain-object PATCH raises it (202 with the quota).
    let raised = latest(
        &mesh,
        Method::PATCH,
        &format!("/v1/quotas/{}/Cluster", ALICE.project),
        &ADMIN,
        Some(json!({"project_id": ALICE.project, "resource": "Cluster", "hard_limit": 2})),
    )
    .await;
    assert_eq!(raised.status, StatusCode::ACCEPTED, "{}", raised.text);
    assert_eq!(raised.body["hard_limit"], 2);
    let second = latest(
        &mesh,
        Method::POST,
        "/v1/clusters",
        &ALICE,
        Some(json!({"name": "second", "cluster_template_id": "tmpl"})),
    )
    .await;
    assert_eq!(second.status, StatusCode::ACCEPTED, "{}", second.text);
    let listed = latest(
        &mesh,
        Method::GET,
        "/v1/quotas?all_tenants=true",
        &ADMIN,
        None,
    )
    .await;
    assert!(listed.text.contains(ALICE.project), "{}", listed.text);
    let not_admin = latest(&mesh, Method::GET, "/v1/quotas", &ALICE, None).await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
    let removed = latest(
        &mesh,
        Method::DELETE,
        &format!("/v1/quotas/{}/Cluster", ALICE.project),
        &ADMIN,
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);

    for name in ["first", "second"] {
        wait_status(&mesh, name, "CREATE_COMPLETE").await;
        latest(
            &mesh,
            Method::DELETE,
            &format!("/v1/clusters/{name}"),
            &ALICE,
            None,
        )
        .await;
    }
    for name in ["first", "second"] {
        wait_gone(&mesh, name).await;
    }
    mesh.stop().await;
}

#[tokio::test]
async fn mservices_lists_every_service_of_the_mesh() {
    let mesh = TestMesh::start().await;
    let listed = wait_for(
        &mesh,
        "/v1/mservices",
        &ADMIN,
        Duration::from_secs(20),
        |response| {
            response.body["mservices"]
                .as_array()
                .is_some_and(|services| services.len() == 5)
        },
    )
    .await;
    let mut binaries: Vec<&str> = listed.body["mservices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|service| {
            assert_eq!(service["state"], "up", "{service}");
            assert_eq!(service["disabled"], false);
            assert!(service["id"].as_i64().unwrap() > 0);
            service["binary"].as_str().unwrap()
        })
        .collect();
    binaries.sort_unstable();
    assert_eq!(
        binaries,
        [
            "magnum-bay-svc",
            "magnum-container-svc",
            "magnum-gateway",
            "magnum-identity-svc",
            "magnum-k8s-svc"
        ]
    );
    let refused = mesh.call(Method::GET, "/v1/mservices", &ALICE, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    mesh.stop().await;
}

#[tokio::test]
async fn node_groups_resize_their_cluster() {
    let mesh = TestMesh::start().await;
    latest(
        &mesh,
        Method::POST,
        "/v1/clustertemplates",
        &ALICE,
        Some(template_body("tmpl")),
    )
    .await;
    let accepted = latest(
        &mesh,
        Method::POST,
        "/v1/clusters",
        &ALICE,
        Some(json!({"name": "ng", "cluster_template_id": "tmpl", "node_count": 1})),
    )
    .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
    wait_status(&mesh, "ng", "CREATE_COMPLETE").await;
    let groups = "/v1/clusters/ng/nodegroups";

    // A new worker group grows the cluster by its nodes.
    let created = latest(
        &mesh,
        Method::POST,
        groups,
        &ALICE,
        Some(json!({"name": "extra", "node_count": 1, "max_node_count": 1})),
    )
    .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    assert_eq!(created.body["name"], "extra");
    assert_eq!(created.body["is_default"], false);
    assert_eq!(
        created.body["image_id"], "fedora-atomic",
        "the template's image"
    );
    let shown = wait_status(&mesh, "ng", "UPDATE_COMPLETE").await;
    assert_eq!(shown.body["node_count"], 2, "default 1 + extra 1");
    let listed = latest(&mesh, Method::GET, &format!("{groups}/"), &ALICE, None).await;
    let counts: Vec<(String, i64)> = listed.body["nodegroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| {
            (
                group["name"].as_str().unwrap().to_owned(),
                group["node_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("default-master".to_owned(), 1),
            ("default-worker".to_owned(), 1),
            ("extra".to_owned(), 1)
        ]
    );

    // Refusals, in Magnum's words.
    let taken = latest(
        &mesh,
        Method::POST,
        groups,
        &ALICE,
        Some(json!({"name": "extra"})),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    let master = latest(
        &mesh,
        Method::POST,
        groups,
        &ALICE,
        Some(json!({"name": "m", "role": "master"})),
    )
    .await;
    assert_eq!(master.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        master.error_detail(),
        "Creating master nodegroups is currently not supported."
    );
    let bounds = latest(
        &mesh,
        Method::POST,
        groups,
        &ALICE,
        Some(json!({"name": "b", "node_count": 1, "min_node_count": 2})),
    )
    .await;
    assert_eq!(bounds.status, StatusCode::CONFLICT, "{}", bounds.text);
    let outside = latest(
        &mesh,
        Method::POST,
        "/v1/clusters/ng/actions/resize",
        &ALICE,
        Some(json!({"node_count": 2, "nodegroup": "extra"})),
    )
    .await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        outside.error_detail(),
        "Resizing extra outside the allowed range: min_node_count = 0, max_node_count = 1"
    );

    // Limits change by patch; other paths are refused.
    let patched = latest(
        &mesh,
        Method::PATCH,
        &format!("{groups}/extra"),
        &ALICE,
        Some(json!([{"op": "remove", "path": "/max_node_count"}])),
    )
    .await;
    assert_eq!(patched.status, StatusCode::ACCEPTED, "{}", patched.text);
    assert_eq!(patched.body["max_node_count"], Value::Null);
    let renamed = latest(
        &mesh,
        Method::PATCH,
        &format!("{groups}/extra"),
        &ALICE,
        Some(json!([{"op": "replace", "path": "/name", "value": "x"}])),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST);
    let fixed = latest(
        &mesh,
        Method::PATCH,
        &format!("{groups}/default-worker"),
        &ALICE,
        Some(json!([{"op": "replace", "path": "/max_node_count", "value": 5}])),
    )
    .await;
    assert_eq!(fixed.status, StatusCode::BAD_REQUEST);

    // Resizing the group to 0 shrinks the cluster; deleting it then changes nothing.
    let resized = latest(
        &mesh,
        Method::POST,
        "/v1/clusters/ng/actions/resize",
        &ALICE,
        Some(json!({"node_count": 0, "nodegroup": "extra"})),
    )
    .await;
    assert_eq!(resized.status, StatusCode::ACCEPTED, "{}", resized.text);
    wait_for(
        &mesh,
        "/v1/clusters/ng",
        &ALICE,
        Duration::from_secs(60),
        |response| response.body["status"] == "UPDATE_COMPLETE" && response.body["node_count"] == 1,
    )
    .await;
    let deleted = latest(
        &mesh,
        Method::DELETE,
        &format!("{groups}/extra"),
        &ALICE,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let default = latest(
        &mesh,
        Method::DELETE,
        &format!("{groups}/default-worker"),
        &ALICE,
        None,
    )
    .await;
    assert_eq!(default.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        default.error_detail(),
        "Deleting a default nodegroup is not supported."
    );
    let listed = latest(&mesh, Method::GET, groups, &ALICE, None).await;
    assert_eq!(listed.body["nodegroups"].as_array().unwrap().len(), 2);
    let bob = latest(&mesh, Method::GET, groups, &BOB, None).await;
    assert_eq!(bob.status, StatusCode::NOT_FOUND);

    latest(&mesh, Method::DELETE, "/v1/clusters/ng", &ALICE, None).await;
    wait_gone(&mesh, "ng").await;
    mesh.stop().await;
}
