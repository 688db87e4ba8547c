//! The conformance suite: the same tests against every `Bus` implementation.
//! `conformance_suite!(new_bus)` expands to one `#[tokio::test]` per case, where
//! `new_bus()` returns a fresh, isolated [`TestBus`].

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use magnum_bus::outbox::{self, Relay, entity};
use magnum_bus::presence::Heartbeat;
use magnum_bus::{
    Bus, BusConfig, BusError, ConsumerSpec, Delivery, Message, MessageStream, Subscription, connect,
};
use magnum_db::DatabaseConfig;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);
/// The ack timeout of test consumers: short, so redelivery tests are quick.
pub const ACK_WAIT: Duration = Duration::from_secs(1);

/// A fresh bus, the config that reaches it again (a second replica), and whatever must
/// live as long as it (e.g. the cleanup of its JetStream streams).
pub struct TestBus {
    pub bus: Arc<dyn Bus>,
    pub config: BusConfig,
    _guard: Option<Box<dyn Any + Send>>,
}

impl TestBus {
    pub fn new(bus: Arc<dyn Bus>, config: BusConfig, guard: Option<Box<dyn Any + Send>>) -> Self {
        Self {
            bus,
            config,
            _guard: guard,
        }
    }
}

#[macro_export]
macro_rules! conformance_suite {
    ($new_bus:ident) => {
        $crate::conformance_suite!(@bus $new_bus;
            round_trip_keeps_payload_headers_and_id,
            duplicate_id_is_stored_once,
            nak_redelivers_now_or_after_the_delay,
            unacked_message_comes_back_after_ack_wait,
            term_stops_redelivery,
            max_deliver_is_respected,
            backoff_spaces_redeliveries,
            progress_extends_the_ack_timer,
            one_durable_shares_the_work,
            two_durables_each_get_everything,
            new_durable_starts_at_the_beginning,
            durable_resumes_after_resubscribing,
            filters_use_nats_wildcards,
            unknown_subjects_and_bad_specs_are_rejected,
            overlapping_ops_durables_are_rejected,
            every_watch_gets_every_message,
            watch_starts_after_the_call,
            watch_honours_its_filter,
            watching_operations_is_refused,
            dropped_and_idle_watches_do_not_block_publishing,
            heartbeats_replace_each_other_and_can_be_forgotten,
        );
        $crate::conformance_suite!(@db $new_bus;
            outbox_commit_is_published_once,
            outbox_rollback_is_never_published,
            outbox_relay_dying_after_publish_is_deduplicated,
        );
        #[tokio::test]
        async fn outbox_concurrent_relays_publish_each_row_once_postgres() {
            $crate::common::outbox_concurrent_relays_publish_each_row_once($new_bus().await).await;
        }
    };
    (@bus $new_bus:ident; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::common::$name($new_bus().await).await;
            }
        )*
    };
    (@db $new_bus:ident; $($name:ident),* $(,)?) => {
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::common::$name($new_bus().await, magnum_testkit::postgres_config()).await;
                }
            )*
        }
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::common::$name($new_bus().await, magnum_testkit::sqlite_config()).await;
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------------------------
// helpers

pub fn spec(durable: &str, filter: &str) -> ConsumerSpec {
    ConsumerSpec {
        ack_wait: ACK_WAIT,
        ..ConsumerSpec::new(durable, filter)
    }
}

pub async fn subscribe(bus: &Arc<dyn Bus>, spec: ConsumerSpec) -> Box<dyn Subscription> {
    bus.consume(spec).await.expect("consume")
}

/// The next delivery, within `WAIT`.
pub async fn recv(sub: &mut Box<dyn Subscription>) -> Delivery {
    match timeout(WAIT, sub.next()).await {
        Ok(Some(Ok(delivery))) => delivery,
        Ok(Some(Err(error))) => panic!("subscription error: {error}"),
        Ok(None) => panic!("subscription ended"),
        Err(_) => panic!("no delivery within {WAIT:?}"),
    }
}

/// Asserts that nothing is delivered for `window`.
pub async fn recv_none(sub: &mut Box<dyn Subscription>, window: Duration) {
    if let Ok(Some(item)) = timeout(window, sub.next()).await {
        panic!("expected no delivery, got {item:?}");
    }
}

pub async fn publish(bus: &Arc<dyn Bus>, subject: &str, payload: &str) -> Message {
    let message = Message::new(subject, payload.to_owned());
    bus.publish(message.clone()).await.expect("publish");
    message
}

fn text(delivery: &Delivery) -> String {
    String::from_utf8(delivery.message.payload.to_vec()).unwrap()
}

// ---------------------------------------------------------------------------------------
// the bus

pub async fn round_trip_keeps_payload_headers_and_id(t: TestBus) {
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let sent = Message::new("magnum.ops.bay.create", vec![0u8, 1, 2, 255])
        .with_id("op-1")
        .with_header("traceparent", traceparent)
        .with_header("x-openstack-request-id", "req-1");
    t.bus.publish(sent.clone()).await.unwrap();

    let got = recv(&mut sub).await;
    assert_eq!(got.message, sent);
    assert_eq!(got.attempt, 1);
    got.ack().await.unwrap();
    recv_none(&mut sub, Duration::from_millis(300)).await;
}

pub async fn duplicate_id_is_stored_once(t: TestBus) {
    let first = Message::new("magnum.events.bay.deleted", "first").with_id("same");
    t.bus.publish(first.clone()).await.unwrap();
    t.bus
        .publish(Message::new("magnum.events.bay.deleted", "second").with_id("same"))
        .await
        .unwrap();
    publish(&t.bus, "magnum.events.bay.deleted", "other").await;

    let mut sub = subscribe(&t.bus, spec("watcher", "magnum.events.>")).await;
    let a = recv(&mut sub).await;
    assert_eq!(a.message, first);
    a.ack().await.unwrap();
    let b = recv(&mut sub).await;
    assert_eq!(text(&b), "other");
    b.ack().await.unwrap();
    recv_none(&mut sub, Duration::from_millis(500)).await;
}

pub async fn nak_redelivers_now_or_after_the_delay(t: TestBus) {
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    let sent = publish(&t.bus, "magnum.ops.bay.create", "a").await;
    let first = recv(&mut sub).await;
    first.nak(None).await.unwrap();
    let second = recv(&mut sub).await;
    assert_eq!(second.message.id, sent.id);
    assert_eq!(second.attempt, 2);

    let delay = Duration::from_millis(600);
    let naked = Instant::now();
    second.nak(Some(delay)).await.unwrap();
    let third = recv(&mut sub).await;
    assert!(
        naked.elapsed() >= delay - Duration::from_millis(100),
        "redelivered after {:?}",
        naked.elapsed()
    );
    assert_eq!(third.message.id, sent.id);
    assert_eq!(third.attempt, 3);
    third.ack().await.unwrap();
    recv_none(&mut sub, Duration::from_millis(300)).await;
}

pub async fn unacked_message_comes_back_after_ack_wait(t: TestBus) {
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    let sent = publish(&t.bus, "magnum.ops.bay.create", "a").await;
    let first = recv(&mut sub).await;
    let delivered = Instant::now();
    drop(first);
    let again = recv(&mut sub).await;
    assert!(
        delivered.elapsed() >= ACK_WAIT - Duration::from_millis(200),
        "redelivered after {:?}",
        delivered.elapsed()
    );
    assert_eq!(again.message.id, sent.id);
    assert_eq!(again.attempt, 2);
    again.ack().await.unwrap();
}

pub async fn term_stops_redelivery(t: TestBus) {
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    publish(&t.bus, "magnum.ops.bay.create", "a").await;
    recv(&mut sub).await.term().await.unwrap();
    recv_none(&mut sub, ACK_WAIT + Duration::from_millis(500)).await;
}

pub async fn max_deliver_is_respected(t: TestBus) {
    let mut sub = subscribe(
        &t.bus,
        ConsumerSpec {
            max_deliver: 2,
            ..spec("bay", "magnum.ops.bay.>")
        },
    )
    .await;
    publish(&t.bus, "magnum.ops.bay.create", "a").await;
    let first = recv(&mut sub).await;
    first.nak(None).await.unwrap();
    let second = recv(&mut sub).await;
    assert_eq!(second.attempt, 2);
    second.nak(None).await.unwrap();
    recv_none(&mut sub, ACK_WAIT + Duration::from_millis(500)).await;
}

pub async fn backoff_spaces_redeliveries(t: TestBus) {
    let short = Duration::from_millis(300);
    let long = Duration::from_millis(1200);
    let mut sub = subscribe(
        &t.bus,
        ConsumerSpec {
            max_deliver: 3,
            backoff: vec![short, long],
            ..spec("bay", "magnum.ops.bay.>")
        },
    )
    .await;
    publish(&t.bus, "magnum.ops.bay.create", "a").await;
    let _first = recv(&mut sub).await;
    let t1 = Instant::now();
    let second = recv(&mut sub).await;
    let gap1 = t1.elapsed();
    let t2 = Instant::now();
    let third = recv(&mut sub).await;
    let gap2 = t2.elapsed();
    assert_eq!((second.attempt, third.attempt), (2, 3));
    assert!(
        gap1 >= short - Duration::from_millis(100),
        "first gap {gap1:?}"
    );
    assert!(
        gap2 >= long - Duration::from_millis(200),
        "second gap {gap2:?}"
    );
    assert!(gap2 > gap1, "gaps {gap1:?} then {gap2:?}");
}

pub async fn progress_extends_the_ack_timer(t: TestBus) {
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    publish(&t.bus, "magnum.ops.bay.create", "a").await;
    let delivery = recv(&mut sub).await;
    // Work for longer than ack_wait, reporting progress along the way.
    for _ in 0..3 {
        tokio::time::sleep(ACK_WAIT * 2 / 5).await;
        delivery.progress().await.unwrap();
    }
    recv_none(&mut sub, ACK_WAIT / 2).await;
    delivery.ack().await.unwrap();
    recv_none(&mut sub, ACK_WAIT).await;
}

pub async fn one_durable_shares_the_work(t: TestBus) {
    const COUNT: usize = 20;
    // Two replicas: separate connections, one durable.
    let replica = connect(&t.config).await.unwrap();
    let subs = vec![
        subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await,
        subscribe(&replica, spec("bay", "magnum.ops.bay.>")).await,
    ];
    let mut sent = BTreeSet::new();
    for i in 0..COUNT {
        sent.insert(
            publish(&t.bus, "magnum.ops.bay.create", &i.to_string())
                .await
                .id,
        );
    }
    let received = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + WAIT;
    let tasks: Vec<_> = subs
        .into_iter()
        .map(|mut sub| {
            let received = Arc::clone(&received);
            tokio::spawn(async move {
                let mut ids = Vec::new();
                while received.load(Ordering::SeqCst) < COUNT && Instant::now() < deadline {
                    if let Ok(Some(item)) = timeout(Duration::from_millis(100), sub.next()).await {
                        let delivery = item.unwrap();
                        delivery.ack().await.unwrap();
                        ids.push(delivery.message.id.clone());
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                }
                // Nothing more, e.g. no redelivery to this replica of what the other acked.
                recv_none(&mut sub, Duration::from_millis(300)).await;
                ids
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all.len(), COUNT, "each message exactly once");
    assert_eq!(all.into_iter().collect::<BTreeSet<_>>(), sent);
}

pub async fn two_durables_each_get_everything(t: TestBus) {
    let mut a = subscribe(&t.bus, spec("k8s", "magnum.events.>")).await;
    let mut b = subscribe(&t.bus, spec("container", "magnum.events.bay.>")).await;
    let mut sent = BTreeSet::new();
    for i in 0..5 {
        sent.insert(
            publish(&t.bus, "magnum.events.bay.deleted", &i.to_string())
                .await
                .id,
        );
    }
    for sub in [&mut a, &mut b] {
        let mut got = BTreeSet::new();
        for _ in 0..5 {
            let delivery = recv(sub).await;
            delivery.ack().await.unwrap();
            got.insert(delivery.message.id.clone());
        }
        assert_eq!(got, sent);
        recv_none(sub, Duration::from_millis(200)).await;
    }
}

pub async fn new_durable_starts_at_the_beginning(t: TestBus) {
    let before = publish(&t.bus, "magnum.events.bay.deleted", "before").await;
    let mut sub = subscribe(&t.bus, spec("late", "magnum.events.>")).await;
    let after = publish(&t.bus, "magnum.events.bay.deleted", "after").await;
    let first = recv(&mut sub).await;
    first.ack().await.unwrap();
    let second = recv(&mut sub).await;
    second.ack().await.unwrap();
    assert_eq!(
        (first.message.id, second.message.id),
        (before.id, after.id),
        "in stream order"
    );
}

pub async fn durable_resumes_after_resubscribing(t: TestBus) {
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    let done = publish(&t.bus, "magnum.ops.bay.create", "done").await;
    let unfinished = publish(&t.bus, "magnum.ops.bay.create", "unfinished").await;
    let first = recv(&mut sub).await;
    assert_eq!(first.message.id, done.id);
    first.ack().await.unwrap();
    let second = recv(&mut sub).await;
    assert_eq!(second.message.id, unfinished.id);
    // The process "crashes": the delivery is never settled and the subscription goes.
    drop(second);
    drop(sub);

    let later = publish(&t.bus, "magnum.ops.bay.create", "later").await;
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    let mut got = BTreeMap::new();
    for _ in 0..2 {
        let delivery = recv(&mut sub).await;
        delivery.ack().await.unwrap();
        got.insert(delivery.message.id.clone(), delivery.attempt);
    }
    assert_eq!(
        got,
        BTreeMap::from([(unfinished.id, 2), (later.id, 1)]),
        "the unacked one comes back, the acked one does not"
    );
    recv_none(&mut sub, Duration::from_millis(300)).await;
}

pub async fn filters_use_nats_wildcards(t: TestBus) {
    let mut one_token = subscribe(&t.bus, spec("one", "magnum.events.bay.*")).await;
    let mut any_kind = subscribe(&t.bus, spec("kinds", "magnum.events.*.deleted")).await;
    let bay = publish(&t.bus, "magnum.events.bay.deleted", "1").await;
    let node = publish(&t.bus, "magnum.events.node.deleted", "2").await;
    let deep = publish(&t.bus, "magnum.events.bay.x.y", "3").await;

    let got = recv(&mut one_token).await;
    assert_eq!(got.message.id, bay.id);
    got.ack().await.unwrap();
    recv_none(&mut one_token, Duration::from_millis(300)).await;

    let mut kinds = Vec::new();
    for _ in 0..2 {
        let delivery = recv(&mut any_kind).await;
        delivery.ack().await.unwrap();
        kinds.push(delivery.message.id.clone());
    }
    assert_eq!(kinds, vec![bay.id, node.id]);
    recv_none(&mut any_kind, Duration::from_millis(300)).await;
    let _ = deep;
}

pub async fn unknown_subjects_and_bad_specs_are_rejected(t: TestBus) {
    for subject in [
        "foo.bar",
        "magnum.other.x",
        "magnum.ops",
        "magnum.ops.*",
        "magnum.events.>",
    ] {
        let result = t.bus.publish(Message::new(subject, "x")).await;
        assert!(
            matches!(result, Err(BusError::InvalidSubject { .. })),
            "{subject}: {result:?}"
        );
    }
    let no_id = Message::new("magnum.ops.bay.create", "x").with_id("");
    assert!(matches!(
        t.bus.publish(no_id).await,
        Err(BusError::InvalidMessage(_))
    ));
    for filter in ["magnum.>", "foo.>", "magnum.ops.>.x"] {
        let result = t.bus.consume(spec("bad", filter)).await;
        assert!(
            matches!(result, Err(BusError::InvalidSubject { .. })),
            "{filter}"
        );
    }
    let result = t.bus.consume(spec("a.b", "magnum.ops.>")).await;
    assert!(matches!(result, Err(BusError::InvalidConsumer { .. })));
}

pub async fn overlapping_ops_durables_are_rejected(t: TestBus) {
    let _bay = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    let _k8s = subscribe(&t.bus, spec("k8s", "magnum.ops.k8s.>")).await;
    let result = t.bus.consume(spec("everything", "magnum.ops.>")).await;
    assert!(
        matches!(result, Err(BusError::InvalidConsumer { .. })),
        "{:?}",
        result.err()
    );
    // Another replica of the same durable is fine.
    let _bay_again = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    // Events have no such rule.
    let _a = subscribe(&t.bus, spec("a", "magnum.events.>")).await;
    let _b = subscribe(&t.bus, spec("b", "magnum.events.>")).await;
}

// ---------------------------------------------------------------------------------------
// watches

pub async fn watch(bus: &Arc<dyn Bus>, filter: &str) -> MessageStream {
    bus.subscribe(filter).await.expect("subscribe")
}

/// The next watched message, within `WAIT`.
pub async fn watched(stream: &mut MessageStream) -> Message {
    match timeout(WAIT, stream.next()).await {
        Ok(Some(Ok(message))) => message,
        Ok(Some(Err(error))) => panic!("watch error: {error}"),
        Ok(None) => panic!("watch ended"),
        Err(_) => panic!("no message within {WAIT:?}"),
    }
}

/// Asserts that nothing is watched for `window`.
pub async fn watched_none(stream: &mut MessageStream, window: Duration) {
    if let Ok(Some(item)) = timeout(window, stream.next()).await {
        panic!("expected nothing, got {item:?}");
    }
}

pub async fn every_watch_gets_every_message(t: TestBus) {
    let mut a = watch(&t.bus, "magnum.events.>").await;
    let mut b = watch(&t.bus, "magnum.events.bay.*").await;
    // A durable on the same subjects takes nothing away from the watches.
    let mut durable = subscribe(&t.bus, spec("k8s", "magnum.events.>")).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut sent = Vec::new();
    for i in 0..5 {
        let message = Message::new("magnum.events.bay.updated", i.to_string())
            .with_header("traceparent", traceparent);
        t.bus.publish(message.clone()).await.unwrap();
        sent.push(message);
    }
    for stream in [&mut a, &mut b] {
        for expected in &sent {
            assert_eq!(&watched(stream).await, expected, "in order, intact");
        }
        watched_none(stream, Duration::from_millis(200)).await;
    }
    for _ in 0..5 {
        recv(&mut durable).await.ack().await.unwrap();
    }
}

pub async fn watch_starts_after_the_call(t: TestBus) {
    publish(&t.bus, "magnum.events.bay.created", "before").await;
    let mut stream = watch(&t.bus, "magnum.events.>").await;
    let after = publish(&t.bus, "magnum.events.bay.deleted", "after").await;
    assert_eq!(watched(&mut stream).await, after);
    watched_none(&mut stream, Duration::from_millis(300)).await;
    // A duplicate id is not a new message for a watch either.
    t.bus.publish(after.clone()).await.unwrap();
    watched_none(&mut stream, Duration::from_millis(300)).await;
}

pub async fn watch_honours_its_filter(t: TestBus) {
    let mut bays = watch(&t.bus, "magnum.events.bay.*").await;
    let mut deletions = watch(&t.bus, "magnum.events.*.deleted").await;
    let bay = publish(&t.bus, "magnum.events.bay.deleted", "1").await;
    let node = publish(&t.bus, "magnum.events.node.deleted", "2").await;
    publish(&t.bus, "magnum.events.bay.x.y", "3").await;
    // Operations never reach a watch, even with a matching tail.
    publish(&t.bus, "magnum.ops.bay.deleted", "4").await;
    let created = publish(&t.bus, "magnum.events.bay.created", "5").await;

    assert_eq!(watched(&mut bays).await.id, bay.id);
    assert_eq!(watched(&mut bays).await.id, created.id);
    watched_none(&mut bays, Duration::from_millis(300)).await;
    assert_eq!(watched(&mut deletions).await.id, bay.id);
    assert_eq!(watched(&mut deletions).await.id, node.id);
    watched_none(&mut deletions, Duration::from_millis(300)).await;
}

pub async fn watching_operations_is_refused(t: TestBus) {
    for filter in [
        "magnum.ops.>",
        "magnum.ops.bay.create",
        "magnum.>",
        "foo.>",
        "magnum.events.>.x",
    ] {
        let result = t.bus.subscribe(filter).await;
        assert!(
            matches!(result, Err(BusError::InvalidSubject { .. })),
            "{filter}: {:?}",
            result.err().map(|e| e.to_string())
        );
    }
    let Err(error) = t.bus.subscribe("magnum.ops.>").await else {
        unreachable!()
    };
    assert!(error.to_string().contains("work queue"), "{error}");
}

pub async fn dropped_and_idle_watches_do_not_block_publishing(t: TestBus) {
    const COUNT: usize = 300;
    let dropped = watch(&t.bus, "magnum.events.>").await;
    drop(dropped);
    // Never read.
    let _idle = watch(&t.bus, "magnum.events.>").await;
    let mut reader = watch(&t.bus, "magnum.events.>").await;
    let sent = timeout(WAIT, async {
        let mut sent = Vec::new();
        for i in 0..COUNT {
            sent.push(
                publish(&t.bus, "magnum.events.bay.updated", &i.to_string())
                    .await
                    .id,
            );
        }
        sent
    })
    .await
    .expect("publishing is not held up by watches");
    for id in sent {
        assert_eq!(watched(&mut reader).await.id, id);
    }
}

// ---------------------------------------------------------------------------------------
// the outbox

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(outbox::Migration)]
    }
}

pub struct TestDb {
    pub db: DatabaseConnection,
    config: DatabaseConfig,
}

impl TestDb {
    pub async fn new(config: DatabaseConfig) -> Self {
        let db = magnum_db::connect_and_migrate::<Migrator>(&config)
            .await
            .expect("database");
        Self { db, config }
    }

    /// Another connection pool to the same database, as a restarted process would open.
    pub async fn reconnect(&self) -> DatabaseConnection {
        magnum_db::connect_and_migrate::<Migrator>(&self.config)
            .await
            .expect("database")
    }

    pub async fn rows(&self) -> u64 {
        entity::Entity::find().count(&self.db).await.unwrap()
    }

    /// Waits until the outbox is empty.
    pub async fn drained(&self) {
        let deadline = Instant::now() + WAIT;
        while self.rows().await > 0 {
            assert!(Instant::now() < deadline, "outbox not drained");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Drops the test's Postgres schema, or deletes its SQLite directory.
    pub async fn cleanup(self) {
        if let Some(file) = self.config.url.strip_prefix("sqlite://") {
            self.db.close().await.ok();
            if let Some(dir) = std::path::Path::new(file).parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        } else {
            use sea_orm::ConnectionTrait;
            let _ = self
                .db
                .execute_unprepared(&format!(
                    "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                    self.config.schema
                ))
                .await;
        }
    }
}

/// A bus that stores the message and then reports a failure: a relay "dying" between
/// the publish ack and the delete.
struct PublishThenFail(Arc<dyn Bus>);

#[async_trait]
impl Bus for PublishThenFail {
    async fn publish(&self, message: Message) -> Result<(), BusError> {
        self.0.publish(message).await?;
        Err(BusError::Unavailable {
            context: "simulated crash after the publish ack".into(),
            source: None,
        })
    }

    async fn consume(&self, spec: ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        self.0.consume(spec).await
    }

    async fn subscribe(&self, filter_subject: &str) -> Result<MessageStream, BusError> {
        self.0.subscribe(filter_subject).await
    }

    async fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<(), BusError> {
        self.0.record_heartbeat(heartbeat).await
    }

    async fn forget_heartbeat(&self, key: &str) -> Result<(), BusError> {
        self.0.forget_heartbeat(key).await
    }

    async fn heartbeats(&self) -> Result<Vec<Heartbeat>, BusError> {
        self.0.heartbeats().await
    }
}

/// Counts publishes that reach the bus.
struct Counting(Arc<dyn Bus>, AtomicUsize);

#[async_trait]
impl Bus for Counting {
    async fn publish(&self, message: Message) -> Result<(), BusError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.publish(message).await
    }

    async fn consume(&self, spec: ConsumerSpec) -> Result<Box<dyn Subscription>, BusError> {
        self.0.consume(spec).await
    }

    async fn subscribe(&self, filter_subject: &str) -> Result<MessageStream, BusError> {
        self.0.subscribe(filter_subject).await
    }

    async fn record_heartbeat(&self, heartbeat: &Heartbeat) -> Result<(), BusError> {
        self.0.record_heartbeat(heartbeat).await
    }

    async fn forget_heartbeat(&self, key: &str) -> Result<(), BusError> {
        self.0.forget_heartbeat(key).await
    }

    async fn heartbeats(&self) -> Result<Vec<Heartbeat>, BusError> {
        self.0.heartbeats().await
    }
}

pub async fn outbox_commit_is_published_once(t: TestBus, config: DatabaseConfig) {
    let db = TestDb::new(config).await;
    let mut sub = subscribe(&t.bus, spec("watcher", "magnum.events.>")).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    let txn = db.db.begin().await.unwrap();
    let mut sent = Vec::new();
    for i in 0..3 {
        let message = Message::new("magnum.events.bay.created", format!("bay-{i}"))
            .with_header("traceparent", traceparent);
        outbox::enqueue(&txn, message.clone()).await.unwrap();
        sent.push(message);
    }
    let refused = outbox::enqueue(&txn, Message::new("nowhere.x", "x")).await;
    assert!(matches!(refused, Err(BusError::InvalidSubject { .. })));
    txn.commit().await.unwrap();

    let shutdown = CancellationToken::new();
    let relay =
        Relay::new(db.db.clone(), Arc::clone(&t.bus)).with_poll_interval(Duration::from_secs(60));
    let notifier = relay.notifier();
    let handle = relay.spawn(shutdown.clone());
    // The long poll interval means only the notifier can make this quick.
    notifier.notify_one();

    for expected in &sent {
        let delivery = recv(&mut sub).await;
        assert_eq!(&delivery.message, expected, "published in order, intact");
        delivery.ack().await.unwrap();
    }
    recv_none(&mut sub, Duration::from_millis(500)).await;
    db.drained().await;

    shutdown.cancel();
    timeout(WAIT, handle).await.expect("relay stops").unwrap();
    db.cleanup().await;
}

pub async fn outbox_rollback_is_never_published(t: TestBus, config: DatabaseConfig) {
    let db = TestDb::new(config).await;
    let mut sub = subscribe(&t.bus, spec("watcher", "magnum.events.>")).await;
    let txn = db.db.begin().await.unwrap();
    outbox::enqueue(&txn, Message::new("magnum.events.bay.created", "x"))
        .await
        .unwrap();
    txn.rollback().await.unwrap();

    let relay = Relay::new(db.db.clone(), Arc::clone(&t.bus));
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(db.rows().await, 0);
    recv_none(&mut sub, Duration::from_millis(300)).await;
    db.cleanup().await;
}

pub async fn outbox_relay_dying_after_publish_is_deduplicated(t: TestBus, config: DatabaseConfig) {
    let db = TestDb::new(config).await;
    let mut sub = subscribe(&t.bus, spec("bay", "magnum.ops.bay.>")).await;
    let message = Message::new("magnum.ops.bay.create", "op").with_id("op-42");
    let txn = db.db.begin().await.unwrap();
    outbox::enqueue(&txn, message.clone()).await.unwrap();
    txn.commit().await.unwrap();

    let dying = Relay::new(db.db.clone(), Arc::new(PublishThenFail(Arc::clone(&t.bus))));
    assert!(dying.run_once().await.is_err());
    assert_eq!(db.rows().await, 1, "the row survives the crash");

    let shutdown = CancellationToken::new();
    let handle = Relay::new(db.db.clone(), Arc::clone(&t.bus))
        .with_poll_interval(Duration::from_millis(50))
        .spawn(shutdown.clone());
    db.drained().await;

    let delivery = recv(&mut sub).await;
    assert_eq!(delivery.message, message);
    assert_eq!(delivery.attempt, 1);
    delivery.ack().await.unwrap();
    recv_none(&mut sub, Duration::from_millis(700)).await;

    shutdown.cancel();
    timeout(WAIT, handle).await.expect("relay stops").unwrap();
    db.cleanup().await;
}

pub async fn outbox_concurrent_relays_publish_each_row_once(t: TestBus) {
    const ROWS: usize = 40;
    let db = TestDb::new(magnum_testkit::postgres_config()).await;
    let mut sub = subscribe(&t.bus, spec("watcher", "magnum.events.>")).await;
    let txn = db.db.begin().await.unwrap();
    for i in 0..ROWS {
        outbox::enqueue(
            &txn,
            Message::new("magnum.events.bay.created", i.to_string()),
        )
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();

    let counting = Arc::new(Counting(Arc::clone(&t.bus), AtomicUsize::new(0)));
    let a = Relay::new(db.db.clone(), counting.clone()).with_batch_size(5);
    let b = Relay::new(db.db.clone(), counting.clone()).with_batch_size(5);
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    assert_eq!(ra.unwrap() + rb.unwrap(), ROWS);
    assert_eq!(
        counting.1.load(Ordering::SeqCst),
        ROWS,
        "no row published twice"
    );
    assert_eq!(db.rows().await, 0);

    let mut got = BTreeSet::new();
    for _ in 0..ROWS {
        let delivery = recv(&mut sub).await;
        delivery.ack().await.unwrap();
        got.insert(delivery.message.id.clone());
    }
    assert_eq!(got.len(), ROWS);
    db.cleanup().await;
}

pub async fn heartbeats_replace_each_other_and_can_be_forgotten(t: TestBus) {
    let mut gateway = Heartbeat::first("magnum-gateway");
    let bay = Heartbeat::first("magnum-bay-svc");
    assert_ne!(gateway.key, bay.key);
    assert!(gateway.id > 0);
    t.bus.record_heartbeat(&gateway).await.unwrap();
    t.bus.record_heartbeat(&bay).await.unwrap();
    gateway.report_count = 7;
    t.bus.record_heartbeat(&gateway).await.unwrap();
    let mut beats = t.bus.heartbeats().await.unwrap();
    beats.sort_by(|a, b| a.binary.cmp(&b.binary));
    assert_eq!(
        beats,
        vec![bay.clone(), gateway.clone()],
        "the latest beat of each"
    );
    // Another connection to the same bus sees the same registry.
    let other = magnum_bus::connect(&t.config).await.unwrap();
    assert_eq!(other.heartbeats().await.unwrap().len(), 2);
    t.bus.forget_heartbeat(&gateway.key).await.unwrap();
    t.bus
        .forget_heartbeat("magnum-gateway.never.seen")
        .await
        .unwrap();
    assert_eq!(t.bus.heartbeats().await.unwrap(), vec![bay]);
}
