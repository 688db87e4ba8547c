#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn engine(name: &str, url: &str) -> Engine {
    Engine::new(
        EngineConfig {
            name: name.to_owned(),
            url: url.to_owned(),
            ..Default::default()
        },
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
}

async fn body_json(request: BollardRequest) -> serde_json::Value {
    let bytes = request.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn network_create_requests_ask_to_check_duplicates() {
    let request = http::Request::post("http://engine/v1.41/networks/create")
        .body(bollard::body_full(bytes::Bytes::from_static(
            br#"{"Name":"n","Driver":"bridge"}"#,
        )))
        .unwrap();
    assert_eq!(
        body_json(with_check_duplicate(request)).await,
        serde_json::json!({"Name": "n", "Driver": "bridge", "CheckDuplicate": true})
    );
}

#[tokio::test]
async fn other_requests_are_left_alone() {
    let request = http::Request::post("http://engine/v1.41/containers/create")
        .body(bollard::body_full(bytes::Bytes::from_static(
            br#"{"Image":"x"}"#,
        )))
        .unwrap();
    assert_eq!(
        body_json(with_check_duplicate(request)).await,
        serde_json::json!({"Image": "x"})
    );
}

#[tokio::test]
async fn a_missing_socket_is_unreachable_and_named() {
    let engine = engine("node-b", "unix:///nonexistent-magnum-test/nope.sock");
    let err = engine.ping().await.unwrap_err();
    let DriverError::Unavailable(message) = err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(
        message.starts_with(
            "Docker engine node-b (unix:///nonexistent-magnum-test/nope.sock) is unreachable: "
        ),
        "{message}"
    );
}

#[tokio::test]
async fn the_engine_refuses_a_second_network_of_the_same_name() {
    let engine = engine("node-a", &magnum_testkit::docker::host());
    engine.ping().await.unwrap();
    let docker = engine.client().await.unwrap();
    let bay = Uuid::new_v4();
    let request = NetworkCreateRequest {
        name: network_name(bay),
        labels: Some(HashMap::from([(
            labels::BAY_UUID.to_owned(),
            bay.to_string(),
        )])),
        ..Default::default()
    };
    let first = docker.create_network(request.clone()).await;
    let second = docker.create_network(request).await;
    engine.purge_bay(bay).await.unwrap();
    first.unwrap();
    assert!(
        matches!(
            second,
            Err(DockerError::DockerResponseServerError {
                status_code: 409,
                ..
            })
        ),
        "{second:?}"
    );
    assert!(engine.bay_networks(bay).await.unwrap().is_empty());
}

#[tokio::test]
async fn ensure_bay_network_finds_what_it_made() {
    let engine = engine("node-a", &magnum_testkit::docker::host());
    let bay = Uuid::new_v4();
    let made = engine.ensure_bay_network(bay, "project-1").await;
    let found = engine.ensure_bay_network(bay, "project-1").await;
    let networks = engine.bay_networks(bay).await;
    engine.purge_bay(bay).await.unwrap();
    let made = made.unwrap();
    assert_eq!(found.unwrap(), made);
    assert_eq!(made.name, network_name(bay));
    assert!(made.gateway.is_some());
    let networks = networks.unwrap();
    assert_eq!(networks.len(), 1);
    let labels = networks[0].labels.clone().unwrap();
    assert_eq!(labels[labels::MANAGED], "true");
    assert_eq!(labels[labels::BAY_UUID], bay.to_string());
    assert_eq!(labels[labels::PROJECT], "project-1");
    assert_eq!(labels[labels::ENGINE], "node-a");
}
