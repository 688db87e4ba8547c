//! Containers through the gateway on the real Docker engine, and tenant network
//! isolation proven by real traffic: a container reaches its bay-mate and cannot reach a
//! container of another project's bay.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use magnum_integration_tests::{ALICE, BOB, Tenant, TestMesh, baymodel_body, wait_for};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SETTLE: Duration = Duration::from_secs(90);

async fn swarm_bay(mesh: &TestMesh, tenant: &Tenant, name: &str) -> String {
    let mut model = baymodel_body(&format!("{name}-model"));
    model["coe"] = json!("swarm");
    model["network_driver"] = Value::Null;
    let created = mesh
        .call(Method::POST, "/v1/baymodels", tenant, Some(model))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let bay = mesh
        .call(
            Method::POST,
            "/v1/bays",
            tenant,
            Some(json!({"name": name, "baymodel_id": format!("{name}-model")})),
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

/// A running busybox container on `bay`; returns its uuid.
async fn running(mesh: &TestMesh, tenant: &Tenant, bay: &str, name: &str, command: &str) -> String {
    let created = mesh
        .call(
            Method::POST,
            "/v1/containers",
            tenant,
            Some(json!({
                "name": name,
                "image": magnum_testkit::docker::image(),
                "bay_uuid": bay,
                "command": command,
                "memory": "64m",
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();
    let started = mesh
        .call(
            Method::PUT,
            &format!("/v1/containers/{uuid}/start"),
            tenant,
            None,
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    uuid
}

async fn exec(mesh: &TestMesh, tenant: &Tenant, container: &str, command: &str) -> String {
    let response = mesh
        .request(
            Method::PUT,
            &format!("/v1/containers/{container}/execute"),
            tenant,
        )
        .query(&[("command", command)])
        .send()
        .await
        .unwrap();
    let response = magnum_integration_tests::Response::read(response).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.body["output"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Fetches `url` from inside `container` and says how it went (`exit=<code>` at the end).
async fn fetch(mesh: &TestMesh, tenant: &Tenant, container: &str, url: &str) -> String {
    let command = format!("sh -c 'timeout 5 wget -q -O - {url}; echo exit=$?'");
    exec(mesh, tenant, container, &command).await
}

/// The container's address on its bay network, as the engine reports it.
fn address(container: &str) -> String {
    let output = std::process::Command::new("docker")
        .env("DOCKER_HOST", magnum_testkit::docker::host())
        .args([
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            &format!("magnum-{container}"),
        ])
        .output()
        .expect("docker inspect runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn containers_reach_their_bay_mates_and_not_other_bays() {
    let mesh = TestMesh::start().await;
    let alice_bay = swarm_bay(&mesh, &ALICE, "iso-alice").await;
    let bob_bay = swarm_bay(&mesh, &BOB, "iso-bob").await;

    let server = running(
        &mesh,
        &ALICE,
        &alice_bay,
        "web",
        "sh -c 'mkdir -p /tmp/www && echo isolated-hello > /tmp/www/index.html && httpd -f -p 8080 -h /tmp/www'",
    )
    .await;
    let mate = running(&mesh, &ALICE, &alice_bay, "mate", "sleep 300").await;
    let stranger = running(&mesh, &BOB, &bob_bay, "stranger", "sleep 300").await;
    let ip = address(&server);
    assert!(
        !ip.is_empty(),
        "the server has an address on its bay network"
    );

    // The bay-mate reaches it by address and by name (Docker's DNS on the bay network).
    let mut by_address = String::new();
    for _ in 0..20 {
        by_address = fetch(&mesh, &ALICE, &mate, &format!("http://{ip}:8080/")).await;
        if by_address.contains("isolated-hello") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(by_address.contains("isolated-hello"), "{by_address}");
    let by_name = fetch(
        &mesh,
        &ALICE,
        &mate,
        &format!("http://magnum-{server}:8080/"),
    )
    .await;
    assert!(by_name.contains("isolated-hello"), "{by_name}");

    // Another project's bay: no route to it, and its name does not resolve. The commands
    // ran (they report their exit code) and failed.
    let across = fetch(&mesh, &BOB, &stranger, &format!("http://{ip}:8080/")).await;
    assert!(
        !across.contains("isolated-hello"),
        "traffic crossed bays: {across}"
    );
    assert!(
        across.contains("exit=") && !across.contains("exit=0"),
        "{across}"
    );
    let across_by_name = fetch(
        &mesh,
        &BOB,
        &stranger,
        &format!("http://magnum-{server}:8080/"),
    )
    .await;
    assert!(
        !across_by_name.contains("isolated-hello"),
        "{across_by_name}"
    );
    assert!(
        across_by_name.contains("exit=") && !across_by_name.contains("exit=0"),
        "{across_by_name}"
    );

    // Bob cannot act on Alice's containers at all.
    let hidden = mesh
        .call(Method::GET, &format!("/v1/containers/{server}"), &BOB, None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);

    // Deleting the bays takes their containers along; nothing stays on the engine.
    for (tenant, bay) in [(&ALICE, &alice_bay), (&BOB, &bob_bay)] {
        let deleted = mesh
            .call(Method::DELETE, &format!("/v1/bays/{bay}"), tenant, None)
            .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
        wait_for(&mesh, &format!("/v1/bays/{bay}"), tenant, SETTLE, |r| {
            r.status == StatusCode::NOT_FOUND
        })
        .await;
    }
    for (tenant, container) in [(&ALICE, &server), (&ALICE, &mate), (&BOB, &stranger)] {
        wait_for(
            &mesh,
            &format!("/v1/containers/{container}"),
            tenant,
            SETTLE,
            |r| r.status == StatusCode::NOT_FOUND,
        )
        .await;
    }
    mesh.stop().await;
}
