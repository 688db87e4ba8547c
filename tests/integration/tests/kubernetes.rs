//! Pods, services and replication controllers on a kubernetes bay through the gateway,
//! against the strict fake API server as the host cluster (no real one can run where CI
//! runs), or the real cluster `MAGNUM_TEST_KUBECONFIG` names (docs/testing.md): the REST
//! forms every client version uses. python-magnumclient
//! 1.1.0's pod-, coe-service- and rc- commands run in `clients_keystone.rs` (1.1.0 only
//! finds the gateway through the catalog).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::api::core::v1::{Namespace, Pod, ReplicationController};
use kube::Api;
use magnum_integration_tests::manifests::{POD, RC, SERVICE};
use magnum_integration_tests::{
    ALICE, BOB, Storage, Tenant, TestMesh, baymodel_body, mesh_config, wait_for,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

const SETTLE: std::time::Duration = std::time::Duration::from_secs(90);

/// A kubernetes baymodel and bay of `tenant`, CREATE_COMPLETE; the bay's uuid.
async fn kubernetes_bay(mesh: &TestMesh, tenant: &Tenant, name: &str) -> String {
    let mut model = baymodel_body(&format!("{name}-model"));
    model["coe"] = json!("kubernetes");
    let created = mesh
        .call(Method::POST, "/v1/baymodels", tenant, Some(model))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let bay = mesh
        .call(
            Method::POST,
            "/v1/bays",
            tenant,
            Some(json!({"name": name, "baymodel_id": format!("{name}-model"), "node_count": 1})),
        )
        .await;
    assert_eq!(bay.status, StatusCode::CREATED, "{}", bay.text);
    let uuid = bay.body["uuid"].as_str().unwrap().to_owned();
    wait_for(mesh, &format!("/v1/bays/{uuid}"), tenant, SETTLE, |r| {
        r.body["status"] == "CREATE_COMPLETE"
    })
    .await;
    uuid
}

#[tokio::test]
async fn kubernetes_objects_through_rest() {
    let (cluster, kubeconfig) = magnum_integration_tests::host_cluster().await;
    let mut config = mesh_config(Storage::Postgres, true);
    config.bay.kubernetes.kubeconfig = Some(kubeconfig);
    let mesh = TestMesh::start_config(config).await;
    let bay = kubernetes_bay(&mesh, &ALICE, "kube-rest").await;
    let namespace = format!("magnum-{bay}");
    let admin = cluster.admin_client().await;

    // Create as 1.1.0 does: the manifest and an explicit null manifest_url.
    let created = mesh
        .call(
            Method::POST,
            "/v1/pods",
            &ALICE,
            Some(json!({"bay_uuid": bay, "manifest": POD, "manifest_url": null})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let pod = created.body["uuid"].as_str().unwrap().to_owned();
    assert!(
        created.headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/v1/pods/{pod}"))
    );
    assert_eq!(created.body["name"], "redis-master");
    assert_eq!(created.body["images"], json!(["redis"]));
    let live: Api<Pod> = Api::namespaced(admin.clone(), &namespace);
    let phase = live
        .get("redis-master")
        .await
        .unwrap()
        .status
        .and_then(|status| status.phase);
    assert_eq!(
        created.body["status"],
        json!(phase),
        "the status the cluster reports"
    );
    assert_eq!(
        created.body["manifest"], POD,
        "the create echoes the manifest"
    );

    // Every form of item URL: bay in the path (1.1.0), in the query, or absent (0.2.1).
    for path in [
        format!("/v1/pods/redis-master/{bay}"),
        format!("/v1/pods/{pod}/kube-rest"),
        format!("/v1/pods/{pod}?bay_ident={bay}"),
        format!("/v1/pods/{pod}"),
    ] {
        let shown = mesh.call(Method::GET, &path, &ALICE, None).await;
        assert_eq!(shown.status, StatusCode::OK, "{path}: {}", shown.text);
        assert_eq!(shown.body["uuid"], pod.as_str());
        assert!(
            shown.body.get("manifest").is_none(),
            "reads echo no manifest"
        );
    }
    let listed = mesh.call(Method::GET, "/v1/pods", &ALICE, None).await;
    let items = listed.body["pods"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.text);
    assert!(items[0].get("created_at").is_none(), "summary items");
    let detail = mesh
        .call(
            Method::GET,
            &format!("/v1/pods/detail?bay_ident={bay}"),
            &ALICE,
            None,
        )
        .await;
    assert!(
        detail.body["pods"][0].get("created_at").is_some(),
        "{}",
        detail.text
    );

    // Patches: a new manifest replaces the pod; read-only fields are refused.
    let patched = mesh
        .call(
            Method::PATCH,
            &format!("/v1/pods/{pod}/{bay}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/manifest",
                         "value": POD.replace("image: redis", "image: redis:7")}])),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["images"], json!(["redis:7"]));
    for (path, body) in [
        (
            "/v1/pods",
            json!({"bay_uuid": bay, "manifest": POD, "labels": {"a": "b"}}),
        ),
        (
            "/v1/pods",
            json!({"bay_uuid": bay, "manifest": "kind: Service\nmetadata: {name: x}"}),
        ),
        ("/v1/pods", json!({"bay_uuid": bay})),
    ] {
        let refused = mesh.call(Method::POST, path, &ALICE, Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        refused.error_detail();
    }
    let internal = mesh
        .call(
            Method::PATCH,
            &format!("/v1/pods/{pod}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/name", "value": "other"}])),
        )
        .await;
    assert_eq!(
        internal.status,
        StatusCode::BAD_REQUEST,
        "{}",
        internal.text
    );

    // Another project: 404 on every form, and its lists are empty.
    for path in [
        format!("/v1/pods/{pod}"),
        format!("/v1/pods/redis-master/{bay}"),
    ] {
        let hidden = mesh.call(Method::GET, &path, &BOB, None).await;
        assert_eq!(
            hidden.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            hidden.text
        );
        let kept = mesh.call(Method::DELETE, &path, &BOB, None).await;
        assert_eq!(kept.status, StatusCode::NOT_FOUND, "{path}: {}", kept.text);
    }
    let theirs = mesh.call(Method::GET, "/v1/pods", &BOB, None).await;
    assert_eq!(theirs.body["pods"], json!([]));
    let foreign = mesh
        .call(
            Method::POST,
            "/v1/pods",
            &BOB,
            Some(json!({"bay_uuid": bay, "manifest": POD})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.text);

    // Services show ports and the cluster IP.
    let service = mesh
        .call(
            Method::POST,
            "/v1/services",
            &ALICE,
            Some(json!({"bay_uuid": bay, "manifest": SERVICE, "manifest_url": null})),
        )
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{}", service.text);
    assert_eq!(
        service.body["ports"],
        json!([{"port": 88, "targetPort": 6379, "protocol": "TCP"}])
    );
    assert!(service.body["ip"].is_string(), "{}", service.text);
    assert_eq!(service.body["selector"], json!({"name": "redis-master"}));

    // RCs in 1.1.0's form (bay in the query after a trailing slash); /replicas scales.
    let rc = mesh
        .call(
            Method::POST,
            "/v1/rcs",
            &ALICE,
            Some(json!({"bay_uuid": bay, "manifest": RC, "manifest_url": null})),
        )
        .await;
    assert_eq!(rc.status, StatusCode::CREATED, "{}", rc.text);
    assert_eq!(rc.body["replicas"], 2);
    let listed = mesh
        .call(
            Method::GET,
            &format!("/v1/rcs/?bay_ident={bay}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(
        listed.body["rcs"].as_array().unwrap().len(),
        1,
        "{}",
        listed.text
    );
    let scaled = mesh
        .call(
            Method::PATCH,
            &format!("/v1/rcs/web/?bay_ident={bay}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/replicas", "value": "3"}])),
        )
        .await;
    assert_eq!(scaled.status, StatusCode::OK, "{}", scaled.text);
    assert_eq!(scaled.body["replicas"], 3);
    let rcs: Api<ReplicationController> = Api::namespaced(admin.clone(), &namespace);
    assert_eq!(
        rcs.get("web").await.unwrap().spec.unwrap().replicas,
        Some(3)
    );

    // A new manifest replaces an rc and a service in the cluster.
    let replaced = mesh
        .call(
            Method::PATCH,
            "/v1/rcs/web",
            &ALICE,
            Some(json!([{"op": "replace", "path": "/manifest",
                         "value": RC.replace("image: nginx", "image: nginx:1.27")}])),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.body["images"], json!(["nginx:1.27"]));
    assert_eq!(replaced.body["replicas"], 2, "the manifest's replicas");
    let moved = mesh
        .call(
            Method::PATCH,
            &format!("/v1/services/redis/{bay}"),
            &ALICE,
            Some(json!([{"op": "replace", "path": "/manifest",
                         "value": SERVICE.replace("\"port\": 88", "\"port\": 89")}])),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["ports"][0]["port"], 89);
    assert_eq!(
        moved.body["ip"], service.body["ip"],
        "the cluster IP is kept"
    );
    // A manifest naming another object is the cluster's 400, passed through.
    let renamed = mesh
        .call(
            Method::PATCH,
            "/v1/rcs/web",
            &ALICE,
            Some(json!([{"op": "replace", "path": "/manifest",
                         "value": RC.replace("name: web", "name: other")}])),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST, "{}", renamed.text);
    // A bay that is not the object's, or no bay at all, in the path: 404.
    let other_bay = kubernetes_bay(&mesh, &ALICE, "kube-other").await;
    for path in [
        format!("/v1/pods/{pod}/{other_bay}"),
        format!("/v1/rcs/web/?bay_ident={other_bay}"),
        "/v1/services/redis/no-such-bay".to_owned(),
    ] {
        let missing = mesh.call(Method::GET, &path, &ALICE, None).await;
        assert_eq!(
            missing.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            missing.text
        );
    }
    let deleted = mesh
        .call(
            Method::DELETE,
            &format!("/v1/bays/{other_bay}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);

    // Deleting the bay takes everything along, in the cluster and in the API.
    let deleted = mesh
        .call(Method::DELETE, &format!("/v1/bays/{bay}"), &ALICE, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    for path in [
        format!("/v1/pods/{pod}"),
        "/v1/services/redis".to_owned(),
        "/v1/rcs/web".to_owned(),
    ] {
        wait_for(&mesh, &path, &ALICE, SETTLE, |r| {
            r.status == StatusCode::NOT_FOUND
        })
        .await;
    }
    let namespaces: Api<Namespace> = Api::all(admin);
    assert!(namespaces.get_opt(&namespace).await.unwrap().is_none());
    mesh.stop().await;
}
