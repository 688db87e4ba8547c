//! The conformance suite against the in-process bus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestBus;
use futures::StreamExt;
use magnum_bus::{BusConfig, BusError, InProcessBus, Message, connect};

/// A bus of its own: `memory://` with a unique prefix is a separate process-wide bus, and
/// connecting again with the same config reaches the same one (a second "replica").
async fn new_bus() -> TestBus {
    let config = BusConfig {
        url: "memory://".into(),
        prefix: magnum_testkit::unique_name("mem"),
    };
    let bus = connect(&config).await.unwrap();
    TestBus::new(bus, config, None)
}

conformance_suite!(new_bus);

#[tokio::test]
async fn same_config_means_same_bus() {
    let a = new_bus().await;
    let b = connect(&a.config).await.unwrap();
    let mut sub = b
        .consume(common::spec("x", "magnum.events.>"))
        .await
        .unwrap();
    let sent = common::publish(&a.bus, "magnum.events.bay.deleted", "hi").await;
    assert_eq!(common::recv(&mut sub).await.message, sent);
}

#[tokio::test]
async fn a_lagging_watch_skips_and_says_so() {
    let t = new_bus().await;
    let mut stream = t.bus.subscribe("magnum.events.>").await.unwrap();
    let extra = 10;
    let mut last = None;
    for i in 0..InProcessBus::WATCH_BUFFER + extra {
        let message = Message::new("magnum.events.bay.updated", i.to_string());
        t.bus.publish(message.clone()).await.unwrap();
        last = Some(message);
    }
    match stream.next().await {
        Some(Err(BusError::Lagged { missed })) => {
            assert_eq!(missed, Some(u64::try_from(extra).unwrap()));
        }
        other => panic!("expected a Lagged, got {other:?}"),
    }
    // Then the oldest message still buffered, and on to the newest.
    let first = common::watched(&mut stream).await;
    assert_eq!(first.payload, extra.to_string().as_bytes());
    let mut newest = first;
    for _ in 1..InProcessBus::WATCH_BUFFER {
        newest = common::watched(&mut stream).await;
    }
    assert_eq!(Some(newest), last);
}
