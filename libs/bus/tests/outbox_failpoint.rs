//! The relay killed between commit and publish (fail point `outbox-relay-before-publish`):
//! the task dies with the panic, the row stays, and the next relay publishes it once.
//! Its own test binary with one test, since fail points are process-wide.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestDb, WAIT};
use magnum_bus::outbox::{self, Relay};
use magnum_bus::{BusConfig, Message, connect};
use magnum_db::DatabaseConfig;
use sea_orm::TransactionTrait;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

const FAIL_POINT: &str = "outbox-relay-before-publish";

async fn killed_before_publish(config: DatabaseConfig) {
    let bus = connect(&BusConfig {
        url: "memory://".into(),
        prefix: magnum_testkit::unique_name("fp"),
    })
    .await
    .unwrap();
    let db = TestDb::new(config).await;
    let mut sub = common::subscribe(&bus, common::spec("bay", "magnum.ops.bay.>")).await;
    let message = Message::new("magnum.ops.bay.create", "op").with_id("op-killed");
    let txn = db.db.begin().await.unwrap();
    outbox::enqueue(&txn, message.clone()).await.unwrap();
    txn.commit().await.unwrap();

    fail::cfg(FAIL_POINT, "panic").unwrap();
    let shutdown = CancellationToken::new();
    let relay =
        Relay::new(db.db.clone(), Arc::clone(&bus)).with_poll_interval(Duration::from_millis(20));
    let killed = relay.spawn(shutdown.clone());
    let outcome = timeout(WAIT, killed).await.expect("the relay task dies");
    assert!(
        outcome.is_err_and(|e| e.is_panic()),
        "the JoinHandle reports the panic"
    );
    assert_eq!(db.rows().await, 1, "the committed row stays");
    common::recv_none(&mut sub, Duration::from_millis(300)).await;

    // The "restarted process": a new relay and a new connection pool.
    fail::remove(FAIL_POINT);
    let restarted = TestDb::reconnect(&db).await;
    let handle = Relay::new(restarted, Arc::clone(&bus))
        .with_poll_interval(Duration::from_millis(20))
        .spawn(shutdown.clone());
    db.drained().await;
    let delivery = common::recv(&mut sub).await;
    assert_eq!(delivery.message, message);
    delivery.ack().await.unwrap();
    common::recv_none(&mut sub, Duration::from_millis(300)).await;

    shutdown.cancel();
    timeout(WAIT, handle).await.expect("relay stops").unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn relay_killed_before_publish_leaves_the_row_for_the_next_relay() {
    let scenario = fail::FailScenario::setup();
    killed_before_publish(magnum_testkit::sqlite_config()).await;
    killed_before_publish(magnum_testkit::postgres_config()).await;
    scenario.teardown();
}
