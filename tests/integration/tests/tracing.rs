//! W3C trace context crosses every hop: a REST request's `traceparent` reaches bay-svc
//! over gRPC and, through the outbox, the bus message's headers, with the same trace id.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use magnum_bus::ConsumerSpec;
use magnum_integration_tests::{ALICE, StatusCode, TestMesh, baymodel_body};
use reqwest::Method;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test]
async fn the_callers_trace_reaches_the_bus_message() {
    // One subscriber per test process (nextest runs each test in its own).
    let _telemetry =
        magnum_telemetry::init("integration", &magnum_telemetry::TelemetryConfig::default())
            .unwrap();
    let mesh = TestMesh::start().await;
    let bus = mesh.mesh.as_ref().unwrap().bus.clone();
    let mut events = bus
        .consume(ConsumerSpec::new("it-trace", "magnum.events.baymodel.>"))
        .await
        .unwrap();

    let response = mesh
        .request(Method::POST, "/v1/baymodels", &ALICE)
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .json(&baymodel_body("traced"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    let delivery = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("event within 10 s")
        .expect("subscription open")
        .unwrap();
    let traceparent = delivery
        .message
        .headers
        .get("traceparent")
        .expect("traceparent on the bus message");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(
        parts[1], TRACE_ID,
        "the bus message continues the caller's trace"
    );
    assert_ne!(parts[2], "00f067aa0ba902b7", "each hop adds its own span");
    delivery.ack().await.unwrap();
    mesh.stop().await;
}

/// The spans of one trace: span id -> (name, parent span id), from the in-memory exporter.
fn trace_spans(
    exporter: &opentelemetry_sdk::trace::InMemorySpanExporter,
    trace_id: &str,
) -> std::collections::HashMap<String, (String, String)> {
    exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|span| span.span_context.trace_id().to_string() == trace_id)
        .map(|span| {
            (
                span.span_context.span_id().to_string(),
                (span.name.to_string(), span.parent_span_id.to_string()),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_bay_create_is_one_connected_trace() {
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let _telemetry = magnum_telemetry::init_with_span_exporter(
        "integration",
        &magnum_telemetry::TelemetryConfig::default(),
        exporter.clone(),
    )
    .unwrap();
    let mesh = TestMesh::start().await;
    let mut model = baymodel_body("traced");
    model["coe"] = serde_json::json!("swarm");
    let created = mesh
        .call(Method::POST, "/v1/baymodels", &ALICE, Some(model))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    const CALLER_SPAN: &str = "00f067aa0ba902b7";
    let response = mesh
        .request(Method::POST, "/v1/bays", &ALICE)
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .json(&serde_json::json!({"name": "traced-bay", "baymodel_id": "traced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // The worker's Docker call ends the chain: wait for its span.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (spans, docker) = loop {
        let spans = trace_spans(&exporter, TRACE_ID);
        if let Some(docker) = spans
            .iter()
            .find(|(_, (name, _))| name == "docker")
            .map(|(id, _)| id.clone())
            && spans.values().any(|(name, _)| name == "http_request")
        {
            break (spans, docker);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no Docker call in the trace: {spans:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // From the Docker call up to the caller, every hop is a parent of the next.
    let mut chain = Vec::new();
    let mut current = docker;
    while let Some((name, parent)) = spans.get(&current) {
        chain.push(name.as_str());
        current = parent.clone();
    }
    assert_eq!(
        current, CALLER_SPAN,
        "the chain ends at the caller's span: {chain:?}"
    );
    let position = |hop: &str| {
        chain
            .iter()
            .position(|name| *name == hop)
            .unwrap_or_else(|| panic!("no {hop} span in {chain:?}"))
    };
    let hops = [
        "docker",
        "bay_operation",
        "outbox_publish",
        "grpc",
        "http_request",
    ];
    let positions: Vec<usize> = hops.iter().map(|hop| position(hop)).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "hops out of order: {chain:?}"
    );
    assert_eq!(chain.last(), Some(&"http_request"), "{chain:?}");

    let deleted = mesh
        .call(Method::DELETE, "/v1/bays/traced-bay", &ALICE, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    magnum_integration_tests::wait_for(
        &mesh,
        "/v1/bays/traced-bay",
        &ALICE,
        Duration::from_secs(60),
        |response| response.status == StatusCode::NOT_FOUND,
    )
    .await;
    mesh.stop().await;
}
