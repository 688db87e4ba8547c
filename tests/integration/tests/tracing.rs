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
