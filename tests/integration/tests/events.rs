//! A baymodel change committed by bay-svc reaches the bus through the outbox: the event is
//! on JetStream after the REST call returns, with the caller's trace context.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use magnum_bus::ConsumerSpec;
use magnum_integration_tests::{ALICE, StatusCode, TestMesh, baymodel_body};
use magnum_proto::events::v1::{BayModelChanged, bay_model_changed::Change};
use prost::Message as _;
use reqwest::Method;

#[tokio::test]
async fn baymodel_changes_are_published_through_the_outbox() {
    let mesh = TestMesh::start().await;
    let bus = mesh.mesh.as_ref().unwrap().bus.clone();
    let mut events = bus
        .consume(ConsumerSpec::new("it-events", "magnum.events.baymodel.>"))
        .await
        .unwrap();

    let created = mesh
        .call(
            Method::POST,
            "/v1/baymodels",
            &ALICE,
            Some(baymodel_body("evented")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();
    let deleted = mesh
        .call(
            Method::DELETE,
            &format!("/v1/baymodels/{uuid}"),
            &ALICE,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("event within 10 s")
            .expect("subscription open")
            .unwrap();
        let event = BayModelChanged::decode(delivery.message.payload.clone()).unwrap();
        assert_eq!(event.baymodel_uuid, uuid);
        assert_eq!(event.project_id, "project-a");
        seen.push((delivery.message.subject.clone(), event.change()));
        delivery.ack().await.unwrap();
    }
    assert_eq!(
        seen,
        [
            ("magnum.events.baymodel.created".to_owned(), Change::Created),
            ("magnum.events.baymodel.deleted".to_owned(), Change::Deleted),
        ]
    );
    mesh.stop().await;
}
