//! The tenant matrix against real Keystone: every baymodel and container verb, over REST
//! and gRPC, as the owner, another project's member and an admin; and the tokens that
//! must not get in.
//! Tenant B gets 404 (not 403) on A's private objects, so existence does not leak.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use magnum_integration_tests::{Keystone, Response, StatusCode, TestMesh, baymodel_body};
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::{
    BayModelSpec, DeleteBayModelRequest, GetBayModelRequest, ListBayModelsRequest,
    UpdateBayModelRequest,
};
use magnum_proto::common::v1::ListOptions;
use magnum_proto::container::v1::container_service_client::ContainerServiceClient;
use magnum_proto::container::v1::{
    ContainerActionRequest, DeleteContainerRequest, GetContainerRequest, ListContainersRequest,
};
use reqwest::Method;
use serde_json::{Value, json};

struct Tokens {
    alice: String,
    bob: String,
    admin: String,
}

async fn start() -> (TestMesh, Keystone, Tokens) {
    let keystone = Keystone::get();
    let mesh = TestMesh::start_keystone(&keystone, "127.0.0.1:0").await;
    let tokens = Tokens {
        alice: keystone.token("ALICE").await,
        bob: keystone.token("BOB").await,
        admin: keystone.token("ADMIN").await,
    };
    (mesh, keystone, tokens)
}

async fn call(
    mesh: &TestMesh,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Response {
    let mut request = mesh.http.request(method, mesh.url(path));
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    Response::read(request.send().await.unwrap()).await
}

fn names(list: &Response) -> Vec<String> {
    list.body["baymodels"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", list.text))
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tenants_are_isolated_over_rest() {
    let (mesh, keystone, tokens) = start().await;
    let alice = Some(tokens.alice.as_str());
    let bob = Some(tokens.bob.as_str());
    let admin = Some(tokens.admin.as_str());

    let private = call(
        &mesh,
        Method::POST,
        "/v1/baymodels",
        alice,
        Some(baymodel_body("a-private")),
    )
    .await;
    assert_eq!(private.status, StatusCode::CREATED, "{}", private.text);
    let private = private.body["uuid"].as_str().unwrap().to_owned();
    let mut public_body = baymodel_body("a-public");
    public_body["public"] = json!(true);
    let public = call(
        &mesh,
        Method::POST,
        "/v1/baymodels",
        alice,
        Some(public_body),
    )
    .await;
    assert_eq!(public.status, StatusCode::CREATED, "{}", public.text);
    let public = public.body["uuid"].as_str().unwrap().to_owned();

    // The owner's project is the token's, never the body's.
    let owner = keystone.user("ALICE");
    let shown = call(
        &mesh,
        Method::GET,
        &format!("/v1/baymodels/{private}"),
        alice,
        None,
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK);

    // Tenant B: 404 for every verb on A's private baymodel, by uuid and by name.
    let rename = json!([{"op": "replace", "path": "/name", "value": "taken"}]);
    for ident in [private.as_str(), "a-private"] {
        let path = format!("/v1/baymodels/{ident}");
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(rename.clone())),
            (Method::DELETE, None),
        ] {
            let response = call(&mesh, method.clone(), &path, bob, body).await;
            assert_eq!(
                response.status,
                StatusCode::NOT_FOUND,
                "bob {method} {path}: {}",
                response.text
            );
        }
    }
    for path in ["/v1/baymodels", "/v1/baymodels/detail"] {
        let list = call(&mesh, Method::GET, path, bob, None).await;
        assert_eq!(names(&list), ["a-public"], "{path}");
    }
    // Public: readable by B, changed only by its owner.
    let read = call(
        &mesh,
        Method::GET,
        &format!("/v1/baymodels/{public}"),
        bob,
        None,
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    for (method, body) in [
        (Method::PATCH, Some(rename.clone())),
        (Method::DELETE, None),
    ] {
        let response = call(&mesh, method, &format!("/v1/baymodels/{public}"), bob, body).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.text);
        assert!(response.error_detail().contains("Policy doesn't allow"));
    }
    // Only admins may list every project.
    let refused = call(
        &mesh,
        Method::GET,
        "/v1/baymodels?all_tenants=true",
        bob,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let everything = call(
        &mesh,
        Method::GET,
        "/v1/baymodels?all_tenants=true",
        admin,
        None,
    )
    .await;
    assert_eq!(everything.status, StatusCode::OK, "{}", everything.text);
    assert_eq!(names(&everything), ["a-private", "a-public"]);
    let own_only = call(&mesh, Method::GET, "/v1/baymodels", admin, None).await;
    assert_eq!(
        names(&own_only),
        ["a-public"],
        "without the switch an admin lists its own project"
    );
    let admin_reads = call(
        &mesh,
        Method::GET,
        &format!("/v1/baymodels/{private}"),
        admin,
        None,
    )
    .await;
    assert_eq!(admin_reads.status, StatusCode::OK);

    // A's objects are untouched; A can still change them.
    let patched = call(
        &mesh,
        Method::PATCH,
        &format!("/v1/baymodels/{private}"),
        alice,
        Some(rename),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(owner.project, "tenant-a");
    mesh.stop().await;
}

fn grpc_request<T>(token: Option<&str>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("x-auth-token", token.parse().unwrap());
    }
    // No-auth hints must count for nothing once Keystone decides.
    request
        .metadata_mut()
        .insert("x-project-id", "tenant-a".parse().unwrap());
    request
        .metadata_mut()
        .insert("x-roles", "admin".parse().unwrap());
    request
}

#[tokio::test]
async fn tenants_are_isolated_over_grpc() {
    let (mesh, _keystone, tokens) = start().await;
    let created = call(
        &mesh,
        Method::POST,
        "/v1/baymodels",
        Some(&tokens.alice),
        Some(baymodel_body("g-private")),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();

    let mut client = BayModelServiceClient::connect(format!("http://{}", mesh.bay))
        .await
        .unwrap();
    let bob = Some(tokens.bob.as_str());
    let get = client
        .get_bay_model(grpc_request(
            bob,
            GetBayModelRequest {
                ident: uuid.clone(),
            },
        ))
        .await;
    assert_eq!(get.unwrap_err().code(), tonic::Code::NotFound);
    let update = client
        .update_bay_model(grpc_request(
            bob,
            UpdateBayModelRequest {
                ident: uuid.clone(),
                spec: Some(BayModelSpec {
                    name: Some("taken".into()),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
            },
        ))
        .await;
    assert_eq!(update.unwrap_err().code(), tonic::Code::NotFound);
    let delete = client
        .delete_bay_model(grpc_request(
            bob,
            DeleteBayModelRequest {
                ident: uuid.clone(),
            },
        ))
        .await;
    assert_eq!(delete.unwrap_err().code(), tonic::Code::NotFound);
    let listed = client
        .list_bay_models(grpc_request(bob, ListBayModelsRequest { options: None }))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.baymodels.is_empty());
    let all = client
        .list_bay_models(grpc_request(
            bob,
            ListBayModelsRequest {
                options: Some(ListOptions {
                    all_projects: true,
                    ..Default::default()
                }),
            },
        ))
        .await;
    assert_eq!(all.unwrap_err().code(), tonic::Code::PermissionDenied);

    for token in [None, Some("garbage"), Some("")] {
        let status = client
            .get_bay_model(grpc_request(
                token,
                GetBayModelRequest {
                    ident: uuid.clone(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{token:?}");
    }
    let own = client
        .get_bay_model(grpc_request(
            Some(&tokens.alice),
            GetBayModelRequest {
                ident: uuid.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.name.as_deref(), Some("g-private"));
    let admin_all = client
        .list_bay_models(grpc_request(
            Some(&tokens.admin),
            ListBayModelsRequest {
                options: Some(ListOptions {
                    all_projects: true,
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(admin_all.baymodels.iter().any(|m| m.uuid == uuid));
    mesh.stop().await;
}

/// Flips one character in the middle of a token.
fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn bad_tokens_get_401_in_magnums_format() {
    let (mesh, keystone, tokens) = start().await;
    let tampered = tampered(&tokens.alice);
    for token in [
        None,
        Some(""),
        Some("garbage"),
        Some(tampered.as_str()),
        Some(&"x".repeat(10_000)),
    ] {
        let response = call(&mesh, Method::GET, "/v1/baymodels", token, None).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{:?}",
            token.map(|t| &t[..t.len().min(20)])
        );
        response.error_detail();
        let challenge = response
            .headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(challenge, format!("Keystone uri=\"{}\"", keystone.url()));
    }
    // Public documents need no token.
    assert_eq!(
        call(&mesh, Method::GET, "/", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(&mesh, Method::GET, "/v1", None, None).await.status,
        StatusCode::OK
    );

    // A revoked token stops working once the caches' TTL (1 s here) has passed.
    let doomed = keystone.token("BOB").await;
    let before = call(&mesh, Method::GET, "/v1/baymodels", Some(&doomed), None).await;
    assert_eq!(before.status, StatusCode::OK);
    keystone.revoke(&doomed).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let after = call(&mesh, Method::GET, "/v1/baymodels", Some(&doomed), None).await;
        if after.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(after.status, StatusCode::OK);
        assert!(
            tokio::time::Instant::now() < deadline,
            "revoked token still accepted after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Other tokens are unaffected.
    let still = call(&mesh, Method::GET, "/v1/baymodels", Some(&tokens.bob), None).await;
    assert_eq!(still.status, StatusCode::OK);
    mesh.stop().await;
}

/// Waits until `GET path` as `token` satisfies `done`.
async fn wait_until(
    mesh: &TestMesh,
    path: &str,
    token: &str,
    done: impl Fn(&Response) -> bool,
) -> Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let response = call(mesh, Method::GET, path, Some(token), None).await;
        if done(&response) {
            return response;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "GET {path}: {}",
            response.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A baymodel of `coe` and a one-node bay `name` of it, as `token`, CREATE_COMPLETE.
async fn complete_bay(mesh: &TestMesh, token: &str, coe: &str, name: &str) -> String {
    let mut model = baymodel_body(&format!("{name}-model"));
    model["coe"] = json!(coe);
    if coe == "swarm" {
        model["network_driver"] = Value::Null;
    }
    let created = call(
        mesh,
        Method::POST,
        "/v1/baymodels",
        Some(token),
        Some(model),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = json!({"name": name, "baymodel_id": format!("{name}-model"), "node_count": 1});
    let bay = call(mesh, Method::POST, "/v1/bays", Some(token), Some(body)).await;
    assert_eq!(bay.status, StatusCode::CREATED, "{}", bay.text);
    let bay = bay.body["uuid"].as_str().unwrap().to_owned();
    wait_until(mesh, &format!("/v1/bays/{bay}"), token, |r| {
        r.body["status"] == "CREATE_COMPLETE"
    })
    .await;
    bay
}

#[tokio::test]
async fn containers_follow_the_tenant_matrix() {
    let (mesh, _keystone, tokens) = start().await;
    let alice = Some(tokens.alice.as_str());
    let bob = Some(tokens.bob.as_str());
    let admin = Some(tokens.admin.as_str());

    let bay = complete_bay(&mesh, &tokens.alice, "swarm", "c-bay").await;
    let container_body = |name: &str| {
        json!({
            "name": name,
            "image": magnum_testkit::docker::image(),
            "bay_uuid": bay,
            "command": "sleep 300",
        })
    };
    let boxed = call(
        &mesh,
        Method::POST,
        "/v1/containers",
        alice,
        Some(container_body("a-box")),
    )
    .await;
    assert_eq!(boxed.status, StatusCode::CREATED, "{}", boxed.text);
    let uuid = boxed.body["uuid"].as_str().unwrap().to_owned();
    let started = call(
        &mesh,
        Method::PUT,
        &format!("/v1/containers/{uuid}/start"),
        alice,
        None,
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);

    // Tenant B: 404 for every verb and action, by uuid and by name.
    let rename = json!([{"op": "replace", "path": "/name", "value": "taken"}]);
    for ident in [uuid.as_str(), "a-box"] {
        let base = format!("/v1/containers/{ident}");
        let mut verbs = vec![
            (Method::GET, base.clone(), None),
            (Method::PATCH, base.clone(), Some(rename.clone())),
            (Method::DELETE, base.clone(), None),
            (Method::DELETE, format!("{base}?force=true"), None),
            (Method::GET, format!("{base}/logs"), None),
            (Method::PUT, format!("{base}/execute?command=ls"), None),
        ];
        for action in ["start", "stop", "reboot", "pause", "unpause"] {
            verbs.push((Method::PUT, format!("{base}/{action}"), None));
        }
        for (method, path, body) in verbs {
            let response = call(&mesh, method.clone(), &path, bob, body).await;
            assert_eq!(
                response.status,
                StatusCode::NOT_FOUND,
                "bob {method} {path}: {}",
                response.text
            );
            response.error_detail();
        }
    }
    for path in ["/v1/containers", "/v1/containers/detail"] {
        let listed = call(&mesh, Method::GET, path, bob, None).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        assert_eq!(listed.body["containers"], json!([]), "{path}");
    }
    // B cannot place containers on A's bay: to B it does not exist.
    let intruder = call(
        &mesh,
        Method::POST,
        "/v1/containers",
        bob,
        Some(container_body("b-box")),
    )
    .await;
    assert_eq!(
        intruder.status,
        StatusCode::BAD_REQUEST,
        "{}",
        intruder.text
    );
    assert!(intruder.error_detail().contains("could not be found"));
    let refused = call(
        &mesh,
        Method::GET,
        "/v1/containers?all_tenants=1",
        bob,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

    // Over gRPC, straight to container-svc, B's token gets the same answers.
    let mut client = ContainerServiceClient::connect(format!("http://{}", mesh.container))
        .await
        .unwrap();
    let get = || GetContainerRequest {
        ident: uuid.clone(),
    };
    assert_eq!(
        client
            .get_container(grpc_request(bob, get()))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    assert_eq!(
        client
            .pause_container(grpc_request(
                bob,
                ContainerActionRequest {
                    ident: uuid.clone()
                }
            ))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    assert_eq!(
        client
            .delete_container(grpc_request(
                bob,
                DeleteContainerRequest {
                    ident: uuid.clone(),
                    force: true
                }
            ))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::NotFound
    );
    let listed = client
        .list_containers(grpc_request(bob, ListContainersRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.containers.is_empty());
    let anonymous = client
        .get_container(grpc_request(None, get()))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    // An admin sees every project's containers with the switch, and A's by uuid.
    let everything = call(
        &mesh,
        Method::GET,
        "/v1/containers?all_tenants=1",
        admin,
        None,
    )
    .await;
    assert_eq!(everything.status, StatusCode::OK, "{}", everything.text);
    assert!(
        everything.body["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["uuid"] == uuid.as_str()),
        "{}",
        everything.text
    );
    let admin_reads = call(
        &mesh,
        Method::GET,
        &format!("/v1/containers/{uuid}"),
        admin,
        None,
    )
    .await;
    assert_eq!(admin_reads.status, StatusCode::OK, "{}", admin_reads.text);

    // A's container is untouched and still A's to run.
    let shown = call(
        &mesh,
        Method::GET,
        &format!("/v1/containers/{uuid}"),
        alice,
        None,
    )
    .await;
    assert_eq!(shown.body["status"], "Running", "{}", shown.text);
    let deleted = call(
        &mesh,
        Method::DELETE,
        &format!("/v1/bays/{bay}"),
        alice,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    wait_until(
        &mesh,
        &format!("/v1/containers/{uuid}"),
        &tokens.alice,
        |r| r.status == StatusCode::NOT_FOUND,
    )
    .await;
    mesh.stop().await;
}

#[tokio::test]
async fn kubernetes_objects_follow_the_tenant_matrix() {
    use magnum_integration_tests::manifests::{POD, RC, SERVICE};
    use magnum_proto::k8s::v1 as k8s;

    let (_cluster, kubeconfig) = magnum_integration_tests::host_cluster().await;
    let keystone = Keystone::get();
    let mesh = TestMesh::start_keystone_with(&keystone, "127.0.0.1:0", |config| {
        config.bay.kubernetes.kubeconfig = Some(kubeconfig);
    })
    .await;
    let tokens = Tokens {
        alice: keystone.token("ALICE").await,
        bob: keystone.token("BOB").await,
        admin: keystone.token("ADMIN").await,
    };
    let (alice, bob, admin) = (
        Some(tokens.alice.as_str()),
        Some(tokens.bob.as_str()),
        Some(tokens.admin.as_str()),
    );
    let bay = complete_bay(&mesh, &tokens.alice, "kubernetes", "k-bay").await;

    let rename = json!([{"op": "replace", "path": "/manifest", "value": POD}]);
    for (collection, manifest, name) in [
        ("pods", POD, "redis-master"),
        ("services", SERVICE, "redis"),
        ("rcs", RC, "web"),
    ] {
        let made = call(
            &mesh,
            Method::POST,
            &format!("/v1/{collection}"),
            alice,
            Some(json!({"bay_uuid": bay, "manifest": manifest})),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        let uuid = made.body["uuid"].as_str().unwrap().to_owned();

        // Tenant B: 404 for every verb, by uuid and by name, with or without the bay.
        for path in [
            format!("/v1/{collection}/{uuid}"),
            format!("/v1/{collection}/{name}"),
            format!("/v1/{collection}/{name}/{bay}"),
            format!("/v1/{collection}/{name}/?bay_ident={bay}"),
        ] {
            for (method, body) in [
                (Method::GET, None),
                (Method::PATCH, Some(rename.clone())),
                (Method::DELETE, None),
            ] {
                let response = call(&mesh, method.clone(), &path, bob, body).await;
                assert_eq!(
                    response.status,
                    StatusCode::NOT_FOUND,
                    "bob {method} {path}: {}",
                    response.text
                );
                response.error_detail();
            }
        }
        let theirs = call(&mesh, Method::GET, &format!("/v1/{collection}"), bob, None).await;
        assert_eq!(theirs.body[collection], json!([]), "{}", theirs.text);
        let refused = call(
            &mesh,
            Method::GET,
            &format!("/v1/{collection}?all_tenants=1"),
            bob,
            None,
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        let everything = call(
            &mesh,
            Method::GET,
            &format!("/v1/{collection}?all_tenants=1"),
            admin,
            None,
        )
        .await;
        assert!(
            everything.body[collection]
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["uuid"] == uuid.as_str()),
            "{}",
            everything.text
        );
        let owned = call(
            &mesh,
            Method::GET,
            &format!("/v1/{collection}/{uuid}"),
            alice,
            None,
        )
        .await;
        assert_eq!(owned.status, StatusCode::OK, "{}", owned.text);
    }

    // Over gRPC, straight to k8s-svc, B's token gets the same answers.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", mesh.k8s))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let reference = |ident: &str| {
        Some(k8s::ObjectRef {
            ident: ident.to_owned(),
            bay_ident: String::new(),
        })
    };
    let mut pods = k8s::pod_service_client::PodServiceClient::new(channel.clone());
    let hidden = pods
        .get_pod(grpc_request(
            bob,
            k8s::GetPodRequest {
                r#ref: reference("redis-master"),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let mut rcs =
        k8s::replication_controller_service_client::ReplicationControllerServiceClient::new(
            channel.clone(),
        );
    let scaled = rcs
        .update_replication_controller(grpc_request(
            bob,
            k8s::UpdateReplicationControllerRequest {
                r#ref: reference("web"),
                update: Some(k8s::ReplicationControllerUpdate {
                    manifest: None,
                    replicas: 9,
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["replicas".into()],
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(scaled.code(), tonic::Code::NotFound);
    let mut services = k8s::coe_service_service_client::CoeServiceServiceClient::new(channel);
    let listed = services
        .list_coe_services(grpc_request(bob, k8s::ListCoeServicesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.services.is_empty());
    let anonymous = services
        .get_coe_service(grpc_request(
            None,
            k8s::GetCoeServiceRequest {
                r#ref: reference("redis"),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    let deleted = call(
        &mesh,
        Method::DELETE,
        &format!("/v1/bays/{bay}"),
        alice,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    wait_until(&mesh, "/v1/pods/redis-master", &tokens.alice, |r| {
        r.status == StatusCode::NOT_FOUND
    })
    .await;
    mesh.stop().await;
}
