//! Every /v1/baymodels endpoint and error path, over HTTP through the gateway, with the
//! real bay-svc on Postgres and the JetStream bus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_integration_tests::{ADMIN, ALICE, BOB, Response, StatusCode, TestMesh, baymodel_body};
use reqwest::Method;
use serde_json::{Value, json};

async fn create(mesh: &TestMesh, name: &str) -> Value {
    let response = mesh
        .call(
            Method::POST,
            "/v1/baymodels",
            &ALICE,
            Some(baymodel_body(name)),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.body
}

#[tokio::test]
async fn version_documents_are_public() {
    let mesh = TestMesh::start().await;
    let root = mesh.http.get(mesh.url("/")).send().await.unwrap();
    assert_eq!(root.status(), StatusCode::OK);
    let root: Value = root.json().await.unwrap();
    assert_eq!(root["versions"][0]["id"], "v1");
    assert_eq!(root["versions"][0]["max_version"], "1.12");

    let v1 = mesh.http.get(mesh.url("/v1")).send().await.unwrap();
    assert_eq!(v1.status(), StatusCode::OK);
    assert_eq!(
        v1.headers().get("openstack-api-maximum-version").unwrap(),
        "container-infra 1.12"
    );
    assert!(v1.headers().get("x-openstack-request-id").is_some());
    mesh.stop().await;
}

#[tokio::test]
async fn create_show_list_update_delete() {
    let mesh = TestMesh::start().await;
    let created = create(&mesh, "k8s-model").await;
    let uuid = created["uuid"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "k8s-model");
    assert_eq!(created["coe"], "kubernetes");
    assert_eq!(
        created["docker_volume_size"], 5,
        "integers sent as strings are accepted"
    );
    assert_eq!(created["network_driver"], "flannel");
    assert_eq!(created["server_type"], "vm");
    assert_eq!(created["public"], false);
    assert!(created["created_at"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(created["updated_at"], Value::Null);
    assert!(created.get("project_id").is_none());
    let links = created["links"].as_array().unwrap();
    assert!(
        links[0]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/baymodels/{uuid}"))
    );
    assert_eq!(links[1]["rel"], "bookmark");

    for ident in [uuid.as_str(), "k8s-model"] {
        let shown = mesh
            .call(Method::GET, &format!("/v1/baymodels/{ident}"), &ALICE, None)
            .await;
        assert_eq!(shown.status, StatusCode::OK);
        assert_eq!(shown.body["uuid"], uuid.as_str());
    }
    // Unversioned path: the root router adds v1.
    let shown = mesh
        .call(Method::GET, &format!("/baymodels/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(shown.status, StatusCode::OK);

    let list = mesh.call(Method::GET, "/v1/baymodels", &ALICE, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["baymodels"].as_array().unwrap().len(), 1);
    assert!(list.body.get("next").is_none());
    let detail = mesh
        .call(Method::GET, "/v1/baymodels/detail", &ALICE, None)
        .await;
    assert_eq!(detail.body["baymodels"][0]["keypair_id"], "default");

    let patched = mesh
        .call(
            Method::PATCH,
            &format!("/v1/baymodels/{uuid}"),
            &ALICE,
            Some(json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "replace", "path": "/labels", "value": "{'os_distro': 'fedora-atomic', 'x': '1'}"},
                {"op": "remove", "path": "/flavor_id"}
            ])),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["name"], "renamed");
    assert_eq!(patched.body["labels"]["x"], "1");
    assert_eq!(patched.body["cluster_distro"], "fedora-atomic");
    assert_eq!(patched.body["flavor_id"], Value::Null);
    assert!(patched.body["updated_at"].is_string());

    let deleted = mesh
        .call(
            Method::DELETE,
            &format!("/v1/baymodels/{uuid}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = mesh
        .call(Method::GET, &format!("/v1/baymodels/{uuid}"), &ALICE, None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.error_detail().contains("could not be found"));
    mesh.stop().await;
}

#[tokio::test]
async fn names_are_not_unique_so_ambiguous_lookups_conflict() {
    let mesh = TestMesh::start().await;
    create(&mesh, "twin").await;
    create(&mesh, "twin").await;
    let shown = mesh
        .call(Method::GET, "/v1/baymodels/twin", &ALICE, None)
        .await;
    assert_eq!(shown.status, StatusCode::CONFLICT);
    assert!(
        shown
            .error_detail()
            .contains("Multiple baymodels exist with same name")
    );
    let missing = mesh
        .call(Method::GET, "/v1/baymodels/nobody", &ALICE, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    mesh.stop().await;
}

#[tokio::test]
async fn pagination_follows_next_links_in_order() {
    let mesh = TestMesh::start().await;
    for i in 0..5 {
        create(&mesh, &format!("m{i}")).await;
    }
    let mut names = Vec::new();
    let mut path = "/v1/baymodels/?limit=2&sort_key=name&sort_dir=desc".to_owned();
    loop {
        let page = mesh.call(Method::GET, &path, &ALICE, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for item in page.body["baymodels"].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_owned());
        }
        let Some(next) = page.body.get("next").and_then(Value::as_str) else {
            break;
        };
        assert!(next.contains("marker="), "{next}");
        path = next
            .split_once(&mesh.gateway.to_string())
            .unwrap()
            .1
            .to_owned();
    }
    assert_eq!(names, ["m4", "m3", "m2", "m1", "m0"]);
    mesh.stop().await;
}

#[tokio::test]
async fn bad_list_parameters_are_client_errors() {
    let mesh = TestMesh::start().await;
    create(&mesh, "one").await;
    for (query, status) in [
        ("limit=0", StatusCode::BAD_REQUEST),
        ("limit=-1", StatusCode::BAD_REQUEST),
        ("limit=abc", StatusCode::BAD_REQUEST),
        ("sort_key=nonsense", StatusCode::BAD_REQUEST),
        ("sort_key=name;drop", StatusCode::BAD_REQUEST),
        ("sort_dir=sideways", StatusCode::BAD_REQUEST),
        ("marker=not-a-uuid", StatusCode::BAD_REQUEST),
        (
            "marker=0b6f7f0c-3f0a-4a5e-9f59-1f2d6c9d0a11",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = mesh
            .call(Method::GET, &format!("/v1/baymodels?{query}"), &ALICE, None)
            .await;
        assert_eq!(response.status, status, "{query}: {}", response.text);
        response.error_detail();
    }
    mesh.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_magnum_errors_not_panics() {
    let mesh = TestMesh::start().await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        mesh.request(Method::POST, "/v1/baymodels", &ALICE)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(Vec<u8>, &str, StatusCode)> = vec![
        (
            b"{not json".to_vec(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            b"[1, 2]".to_vec(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (b"".to_vec(), "application/json", StatusCode::BAD_REQUEST),
        (
            b"coe=kubernetes".to_vec(),
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            vec![b' '; 10 * 1024 * 1024],
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (body, content_type, status) in cases {
        let response = Response::read(post(body, content_type).await.unwrap()).await;
        assert_eq!(response.status, status, "{}", response.text);
        response.error_detail();
    }

    let mut unknown = baymodel_body("x");
    unknown["colour"] = json!("blue");
    let mut read_only = baymodel_body("x");
    read_only["created_at"] = json!(null);
    let mut missing = baymodel_body("x");
    missing.as_object_mut().unwrap().remove("coe");
    let mut bad_coe = baymodel_body("x");
    bad_coe["coe"] = json!("mesos");
    let mut bad_dns = baymodel_body("x");
    bad_dns["dns_nameserver"] = json!("not-an-ip");
    let mut bad_int = baymodel_body("x");
    bad_int["docker_volume_size"] = json!("five");
    let mut bad_bool = baymodel_body("x");
    bad_bool["public"] = json!("maybe");
    let mut long_name = baymodel_body("x");
    long_name["name"] = json!("n".repeat(256));
    let mut list_label = baymodel_body("x");
    list_label["labels"] = json!({"a": ["1", "2"]});
    for (body, needle) in [
        (unknown, "Unknown attribute"),
        (read_only, "read only"),
        (missing, "Mandatory field missing"),
        (bad_coe, "Requested COE type mesos is not supported"),
        (bad_dns, "dns_nameserver"),
        (bad_int, "docker_volume_size"),
        (bad_bool, "public"),
        (long_name, "name"),
        (list_label, "labels"),
    ] {
        let response = mesh
            .call(Method::POST, "/v1/baymodels", &ALICE, Some(body))
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{}",
            response.text
        );
        let detail = response.error_detail();
        assert!(
            detail.contains(needle),
            "{detail:?} should mention {needle:?}"
        );
    }
    // Nothing of the above was stored.
    let list = mesh.call(Method::GET, "/v1/baymodels", &ALICE, None).await;
    assert_eq!(list.body["baymodels"], json!([]));
    mesh.stop().await;
}

#[tokio::test]
async fn bad_patches_are_refused() {
    let mesh = TestMesh::start().await;
    let uuid = create(&mesh, "p").await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/baymodels/{uuid}");
    for patch in [
        json!({"op": "replace", "path": "/name", "value": "x"}),
        json!([{"op": "move", "path": "/name", "from": "/image_id"}]),
        json!([{"op": "replace", "path": "/uuid", "value": "0b6f7f0c-3f0a-4a5e-9f59-1f2d6c9d0a11"}]),
        json!([{"op": "replace", "path": "/created_at", "value": "now"}]),
        json!([{"op": "remove", "path": "/coe"}]),
        json!([{"op": "add", "path": "/name", "value": "exists"}]),
        json!([{"op": "add", "path": "/colour", "value": "blue"}]),
        json!([{"op": "replace", "path": "/docker_volume_size", "value": 3.5}]),
        json!([{"op": "replace", "path": "/coe", "value": "mesos"}]),
        json!([{"op": "replace", "path": "/labels", "value": "{'unterminated"}]),
        json!([{"op": "replace", "path": "bad path", "value": "x"}]),
    ] {
        let response = mesh
            .call(Method::PATCH, &path, &ALICE, Some(patch.clone()))
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{patch}: {}",
            response.text
        );
        response.error_detail();
    }
    let unchanged = mesh.call(Method::GET, &path, &ALICE, None).await;
    assert_eq!(unchanged.body["name"], "p");
    assert_eq!(unchanged.body["coe"], "kubernetes");
    mesh.stop().await;
}

#[tokio::test]
async fn tenants_see_only_their_own_and_public_baymodels() {
    let mesh = TestMesh::start().await;
    let private = create(&mesh, "alice-private").await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut public_body = baymodel_body("alice-public");
    public_body["public"] = json!(true);
    let public = mesh
        .call(Method::POST, "/v1/baymodels", &ALICE, Some(public_body))
        .await;
    assert_eq!(public.status, StatusCode::CREATED, "{}", public.text);
    let public = public.body["uuid"].as_str().unwrap().to_owned();

    let bob_list = mesh.call(Method::GET, "/v1/baymodels", &BOB, None).await;
    let names: Vec<&str> = bob_list.body["baymodels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice-public"]);

    let seen = mesh
        .call(Method::GET, &format!("/v1/baymodels/{private}"), &BOB, None)
        .await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND);
    let by_name = mesh
        .call(Method::GET, "/v1/baymodels/alice-private", &BOB, None)
        .await;
    assert_eq!(by_name.status, StatusCode::NOT_FOUND);
    let rename = json!([{"op": "replace", "path": "/name", "value": "stolen"}]);
    let changed = mesh
        .call(
            Method::PATCH,
            &format!("/v1/baymodels/{private}"),
            &BOB,
            Some(rename.clone()),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
    let deleted = mesh
        .call(
            Method::DELETE,
            &format!("/v1/baymodels/{private}"),
            &BOB,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);

    let read_public = mesh
        .call(Method::GET, &format!("/v1/baymodels/{public}"), &BOB, None)
        .await;
    assert_eq!(read_public.status, StatusCode::OK);
    let change_public = mesh
        .call(
            Method::PATCH,
            &format!("/v1/baymodels/{public}"),
            &BOB,
            Some(rename),
        )
        .await;
    assert_eq!(
        change_public.status,
        StatusCode::FORBIDDEN,
        "{}",
        change_public.text
    );
    let delete_public = mesh
        .call(
            Method::DELETE,
            &format!("/v1/baymodels/{public}"),
            &BOB,
            None,
        )
        .await;
    assert_eq!(delete_public.status, StatusCode::FORBIDDEN);

    // The owner's objects are untouched; an admin can read the private one.
    let still = mesh
        .call(
            Method::GET,
            &format!("/v1/baymodels/{private}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(still.body["name"], "alice-private");
    let admin = mesh
        .call(
            Method::GET,
            &format!("/v1/baymodels/{private}"),
            &ADMIN,
            None,
        )
        .await;
    assert_eq!(admin.status, StatusCode::OK);
    mesh.stop().await;
}

#[tokio::test]
async fn every_response_has_a_request_id_and_microversion_headers() {
    let mesh = TestMesh::start().await;
    for (path, version) in [
        ("/v1/baymodels", None),
        ("/v1/baymodels/nope", Some("container-infra latest")),
    ] {
        let mut request = mesh.request(Method::GET, path, &ALICE);
        if let Some(version) = version {
            request = request.header("OpenStack-API-Version", version);
        }
        let response = request.send().await.unwrap();
        let id = response
            .headers()
            .get("x-openstack-request-id")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(id.starts_with("req-"), "{id}");
        let negotiated = response
            .headers()
            .get("openstack-api-version")
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(
            negotiated,
            if version.is_some() {
                "container-infra 1.12"
            } else {
                "container-infra 1.1"
            }
        );
    }
    let unsupported = mesh
        .request(Method::GET, "/v1/baymodels", &ALICE)
        .header("OpenStack-API-Version", "container-infra 2.0")
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), StatusCode::NOT_ACCEPTABLE);
    mesh.stop().await;
}
