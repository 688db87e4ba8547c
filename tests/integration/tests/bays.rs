//! Bays end to end through the gateway: REST at both microversion behaviours, the real
//! swarm driver on the test Docker engine, the kubernetes driver on the strict fake API
//! server, certificates checked by the real `openssl`, and tenancy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fake_kube_apiserver::{FakeKubeApiServer, Options};
use magnum_integration_tests::{
    ALICE, BOB, Response, Storage, Tenant, TestMesh, baymodel_body, mesh_config, temp_dir, wait_for,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const LATEST: (&str, &str) = ("OpenStack-API-Version", "container-infra latest");

/// Long enough for a driver on a busy machine; the poll returns as soon as it's there.
const SETTLE: Duration = Duration::from_secs(90);

async fn create_baymodel(mesh: &TestMesh, tenant: &Tenant, name: &str, coe: &str) -> String {
    let mut body = baymodel_body(name);
    body["coe"] = json!(coe);
    body["network_driver"] = Value::Null;
    let created = mesh
        .call(Method::POST, "/v1/baymodels", tenant, Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["uuid"].as_str().unwrap().to_owned()
}

async fn status_of(mesh: &TestMesh, tenant: &Tenant, uuid: &str, status: &str) -> Response {
    let path = format!("/v1/bays/{uuid}");
    wait_for(mesh, &path, tenant, SETTLE, |response| {
        response.body["status"] == status
    })
    .await
}

async fn gone(mesh: &TestMesh, tenant: &Tenant, uuid: &str) {
    let path = format!("/v1/bays/{uuid}");
    wait_for(mesh, &path, tenant, SETTLE, |response| {
        response.status == StatusCode::NOT_FOUND
    })
    .await;
}

#[tokio::test]
async fn swarm_bays_through_rest() {
    let mesh = TestMesh::start().await;
    let baymodel = create_baymodel(&mesh, &ALICE, "swarm-model", "swarm").await;

    // API 1.1, as python-magnumclient 1.1.0 sends it: numbers as strings, nulls.
    let created = mesh
        .call(
            Method::POST,
            "/v1/bays",
            &ALICE,
            Some(json!({
                "name": "swarm-one",
                "baymodel_id": baymodel,
                "node_count": "2",
                "discovery_url": null,
                "bay_create_timeout": null,
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();
    assert_eq!(created.body["status"], "CREATE_IN_PROGRESS");
    assert_eq!(created.body["node_count"], 2);
    assert!(
        created.headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/v1/bays/{uuid}"))
    );

    let complete = status_of(&mesh, &ALICE, &uuid, "CREATE_COMPLETE").await;
    let bay = &complete.body;
    assert!(
        bay["api_address"].as_str().unwrap().starts_with("unix://"),
        "{bay}"
    );
    assert_eq!(bay["node_addresses"].as_array().unwrap().len(), 2, "{bay}");
    assert_eq!(
        bay["master_addresses"].as_array().unwrap().len(),
        1,
        "{bay}"
    );

    // Another project sees nothing of it.
    let theirs = mesh
        .call(Method::GET, &format!("/v1/bays/{uuid}"), &BOB, None)
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    let their_list = mesh.call(Method::GET, "/v1/bays", &BOB, None).await;
    assert_eq!(their_list.body["bays"], json!([]));

    // A baymodel in use cannot go.
    let refused = mesh
        .call(
            Method::DELETE,
            &format!("/v1/baymodels/{baymodel}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused
            .error_detail()
            .contains("is referenced by one or multiple bays")
    );

    // Resize at 1.1: 200 with the bay.
    let resized = mesh
        .call(
            Method::PATCH,
            &format!("/v1/bays/{uuid}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/node_count", "value": 1}])),
        )
        .await;
    assert_eq!(resized.status, StatusCode::OK, "{}", resized.text);
    assert_eq!(resized.body["node_count"], 1);
    let updated = status_of(&mesh, &ALICE, &uuid, "UPDATE_COMPLETE").await;
    assert_eq!(updated.body["node_addresses"].as_array().unwrap().len(), 1);

    // Certificates: the bay's CA signs a CSR that the real openssl then verifies.
    let dir = temp_dir();
    let ca = mesh
        .call(
            Method::GET,
            &format!("/v1/certificates/{uuid}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(ca.status, StatusCode::OK, "{}", ca.text);
    let ca_pem = ca.body["pem"].as_str().unwrap().to_owned();
    let csr = std::fs::read_to_string(magnum_testkit::openssl::csr(&dir, "alice")).unwrap();
    let signed = mesh
        .call(
            Method::POST,
            "/v1/certificates",
            &ALICE,
            Some(json!({"bay_uuid": "swarm-one", "csr": csr})),
        )
        .await;
    assert_eq!(signed.status, StatusCode::CREATED, "{}", signed.text);
    assert_eq!(signed.body["bay_uuid"], uuid.as_str());
    assert!(magnum_testkit::openssl::verifies(
        &dir,
        &ca_pem,
        signed.body["pem"].as_str().unwrap()
    ));
    let garbage = mesh
        .call(
            Method::POST,
            "/v1/certificates",
            &ALICE,
            Some(json!({"bay_uuid": uuid, "csr": "not a csr"})),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST, "{}", garbage.text);

    // Delete: 204, then the bay goes, then its baymodel may go.
    let deleted = mesh
        .call(Method::DELETE, &format!("/v1/bays/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    gone(&mesh, &ALICE, &uuid).await;
    let freed = mesh
        .call(
            Method::DELETE,
            &format!("/v1/baymodels/{baymodel}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(freed.status, StatusCode::NO_CONTENT, "{}", freed.text);
    mesh.stop().await;
}

#[tokio::test]
async fn newer_clients_get_202_and_errors_are_magnums() {
    let mesh = TestMesh::start().await;
    let baymodel = create_baymodel(&mesh, &ALICE, "latest-model", "swarm").await;
    let latest = |method: Method, path: &str| {
        mesh.request(method, path, &ALICE)
            .header(LATEST.0, LATEST.1)
    };

    let accepted = Response::read(
        latest(Method::POST, "/v1/bays")
            .json(&json!({"name": "b202", "baymodel_id": "latest-model", "node_count": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text);
    let uuid = accepted.body["uuid"].as_str().unwrap().to_owned();
    status_of(&mesh, &ALICE, &uuid, "CREATE_COMPLETE").await;

    // An unknown baymodel is the caller's mistake: 400 with Magnum's text.
    let unknown = mesh
        .call(
            Method::POST,
            "/v1/bays",
            &ALICE,
            Some(json!({"baymodel_id": "no-such-model"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    assert_eq!(
        unknown.error_detail(),
        "Baymodel no-such-model could not be found."
    );
    // Another project's baymodel is as unknown.
    let foreign = mesh
        .call(
            Method::POST,
            "/v1/bays",
            &BOB,
            Some(json!({"baymodel_id": baymodel})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.text);

    // Only node_count may change.
    let renamed = mesh
        .call(
            Method::PATCH,
            &format!("/v1/bays/{uuid}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/name", "value": "other"}])),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST, "{}", renamed.text);

    let resize = Response::read(
        latest(Method::PATCH, &format!("/v1/bays/{uuid}"))
            .json(&json!([{"op": "replace", "path": "/node_count", "value": 2}]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resize.status, StatusCode::ACCEPTED, "{}", resize.text);
    assert_eq!(resize.body["uuid"], uuid.as_str());
    // While it runs, another update is refused as Magnum refuses it.
    let again = mesh
        .call(
            Method::PATCH,
            &format!("/v1/bays/{uuid}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/node_count", "value": 1}])),
        )
        .await;
    if again.status == StatusCode::BAD_REQUEST {
        assert!(
            again.error_detail().contains("is not supported"),
            "{}",
            again.text
        );
    }
    status_of(&mesh, &ALICE, &uuid, "UPDATE_COMPLETE").await;

    let deleted = mesh
        .call(Method::DELETE, &format!("/v1/bays/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    gone(&mesh, &ALICE, &uuid).await;
    mesh.stop().await;
}

#[tokio::test]
async fn kubernetes_bays_on_a_host_cluster() {
    let cluster = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let dir = temp_dir();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, cluster.kubeconfig_yaml(cluster.admin_token())).unwrap();
    let mut config = mesh_config(Storage::Postgres, true);
    config.bay.kubernetes.kubeconfig = Some(kubeconfig);
    let mesh = TestMesh::start_config(config).await;
    create_baymodel(&mesh, &ALICE, "k8s-model", "kubernetes").await;

    let created = mesh
        .call(
            Method::POST,
            "/v1/bays",
            &ALICE,
            Some(json!({"name": "k8s-one", "baymodel_id": "k8s-model", "node_count": 1})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();
    let complete = status_of(&mesh, &ALICE, &uuid, "CREATE_COMPLETE").await;
    assert_eq!(complete.body["api_address"], cluster.url().as_str());

    let namespaces = || async {
        let client = cluster.admin_client().await.unwrap();
        let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client);
        api.list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|ns| ns.metadata.name)
            .filter(|name| name.contains(&uuid))
            .count()
    };
    assert_eq!(namespaces().await, 1);

    let deleted = mesh
        .call(Method::DELETE, &format!("/v1/bays/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    gone(&mesh, &ALICE, &uuid).await;
    assert_eq!(
        namespaces().await,
        0,
        "nothing of the bay is left on the cluster"
    );
    mesh.stop().await;
}

#[tokio::test]
async fn bays_in_the_embedded_mode_sqlite_and_in_process_bus() {
    let mesh = TestMesh::start_with(Storage::Sqlite(temp_dir()), false).await;
    create_baymodel(&mesh, &ALICE, "embedded-swarm", "swarm").await;
    let mut uuids = Vec::new();
    for n in 0..4 {
        let created = mesh
            .call(
                Method::POST,
                "/v1/bays",
                &ALICE,
                Some(json!({"name": format!("embedded-{n}"), "baymodel_id": "embedded-swarm"})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        uuids.push(created.body["uuid"].as_str().unwrap().to_owned());
    }
    for uuid in &uuids {
        status_of(&mesh, &ALICE, uuid, "CREATE_COMPLETE").await;
    }
    for uuid in &uuids {
        let deleted = mesh
            .call(Method::DELETE, &format!("/v1/bays/{uuid}"), &ALICE, None)
            .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    }
    for uuid in &uuids {
        gone(&mesh, &ALICE, uuid).await;
    }
    mesh.stop().await;
}
