//! The conformance suite against the in-process bus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestBus;
use magnum_bus::{BusConfig, connect};

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
