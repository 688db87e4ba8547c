//! Prometheus metrics: after real traffic through the mesh (Postgres, JetStream, a swarm
//! bay on the test Docker engine), `GET /metrics` on the gateway's `metrics_listen` shows
//! request counts and latencies by route and code (REST and gRPC), bus lag, outbox depth,
//! cache lookups and driver call latencies, with Prometheus-style names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use magnum_integration_tests::{ALICE, StatusCode, TestMesh, mesh_config, wait_for};
use reqwest::Method;
use serde_json::json;

/// A sample line of `metric` carrying every `label="value"` pair, if any.
fn sample<'a>(text: &'a str, metric: &str, labels: &[(&str, &str)]) -> Option<&'a str> {
    text.lines().find(|line| {
        let Some(rest) = line.strip_prefix(metric) else {
            return false;
        };
        (rest.starts_with('{') || rest.starts_with(' '))
            && labels
                .iter()
                .all(|(name, value)| rest.contains(&format!("{name}=\"{value}\"")))
    })
}

fn free_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn metrics_describe_the_traffic() {
    let mut config = mesh_config(magnum_integration_tests::Storage::Postgres, true);
    let metrics_addr = free_port();
    config.gateway.metrics_listen = Some(metrics_addr);
    let mesh = TestMesh::start_config(config).await;

    let model = mesh
        .call(
            Method::POST,
            "/v1/baymodels",
            &ALICE,
            Some(json!({
                "name": "m", "coe": "swarm", "image_id": "fedora", "keypair_id": "k"
            })),
        )
        .await;
    assert_eq!(model.status, StatusCode::CREATED, "{}", model.text);
    let bay = mesh
        .call(
            Method::POST,
            "/v1/bays",
            &ALICE,
            Some(json!({"name": "b", "baymodel_id": "m"})),
        )
        .await;
    assert_eq!(bay.status, StatusCode::CREATED, "{}", bay.text);
    wait_for(
        &mesh,
        "/v1/bays/b",
        &ALICE,
        Duration::from_secs(60),
        |response| response.body["status"] == "CREATE_COMPLETE",
    )
    .await;
    let missing = mesh.call(Method::GET, "/v1/bays/nope", &ALICE, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let response = mesh
        .http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();

    let expected: &[(&str, &[(&str, &str)])] = &[
        (
            "http_server_requests_total",
            &[
                ("method", "POST"),
                ("route", "/v1/baymodels"),
                ("status", "201"),
            ],
        ),
        (
            "http_server_requests_total",
            &[
                ("method", "GET"),
                ("route", "/v1/bays/{ident}"),
                ("status", "404"),
            ],
        ),
        (
            "http_server_request_duration_seconds_bucket",
            &[("route", "/v1/bays"), ("le", "0.005")],
        ),
        (
            "grpc_server_handled_total",
            &[
                ("grpc_service", "magnum.bay.v1.BayModelService"),
                ("grpc_method", "CreateBayModel"),
                ("grpc_code", "OK"),
            ],
        ),
        (
            "grpc_server_handled_total",
            &[
                ("grpc_service", "magnum.bay.v1.BayService"),
                ("grpc_method", "GetBay"),
                ("grpc_code", "NotFound"),
            ],
        ),
        (
            "grpc_server_handling_seconds_count",
            &[("grpc_method", "CreateBay")],
        ),
        ("magnum_outbox_pending_messages", &[]),
        ("magnum_outbox_published_messages_total", &[]),
        ("magnum_bus_delivery_lag_seconds_count", &[]),
        ("magnum_bus_consumer_pending_messages", &[]),
        (
            "magnum_cache_requests_total",
            &[("cache", "caller_identities"), ("result", "hit")],
        ),
        (
            "magnum_driver_call_duration_seconds_count",
            &[
                ("coe", "swarm"),
                ("operation", "create"),
                ("outcome", "succeeded"),
            ],
        ),
    ];
    for (metric, labels) in expected {
        assert!(
            sample(&text, metric, labels).is_some(),
            "no {metric} {labels:?} in:\n{text}"
        );
    }

    // Prometheus naming: snake_case, counters end in _total, durations in _seconds.
    for line in text.lines().filter(|line| line.starts_with("# TYPE ")) {
        let mut words = line.split_whitespace().skip(2);
        let (name, kind) = (words.next().unwrap(), words.next().unwrap());
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{line}"
        );
        match kind {
            "counter" => assert!(name.ends_with("_total"), "{line}"),
            "histogram" => assert!(name.ends_with("_seconds"), "{line}"),
            _ => {}
        }
    }

    mesh.call(Method::DELETE, "/v1/bays/b", &ALICE, None).await;
    wait_for(
        &mesh,
        "/v1/bays/b",
        &ALICE,
        Duration::from_secs(60),
        |response| response.status == StatusCode::NOT_FOUND,
    )
    .await;
    mesh.stop().await;
}
