//! The conformance suite against NATS JetStream (`MAGNUM_TEST_NATS_URL`, default
//! loopback), each test with its own stream prefix, plus server-restart tests against a
//! private `nats-server` this file starts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::TestBus;
use magnum_bus::{Bus, BusConfig, JetStreamBus, Message, connect};
use tokio::time::{Instant, timeout};

/// Deletes a test's streams when the test ends (also when it panics).
struct StreamCleanup {
    url: String,
    prefix: String,
}

impl Drop for StreamCleanup {
    fn drop(&mut self) {
        let url = self.url.clone();
        let upper = self.prefix.to_ascii_uppercase();
        // Drop cannot await; a thread with its own runtime works from any test runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(client) = async_nats::connect(url).await {
                    let js = async_nats::jetstream::new(client);
                    for stream in ["MAGNUM_OPS", "MAGNUM_EVENTS"] {
                        let _ = js.delete_stream(format!("{upper}_{stream}")).await;
                    }
                    let _ = js.delete_key_value(format!("{upper}_SERVICES")).await;
                }
            });
        })
        .join();
    }
}

async fn new_bus() -> TestBus {
    let config = BusConfig {
        url: magnum_testkit::nats_url(),
        prefix: magnum_testkit::unique_name("bt"),
    };
    let bus = connect(&config)
        .await
        .expect("NATS with JetStream at MAGNUM_TEST_NATS_URL");
    let cleanup = StreamCleanup {
        url: config.url.clone(),
        prefix: config.prefix.clone(),
    };
    TestBus::new(bus, config, Some(Box::new(cleanup)))
}

conformance_suite!(new_bus);

#[tokio::test]
async fn streams_are_prefixed_and_connect_is_idempotent() {
    let t = new_bus().await;
    // A second connect re-applies the same stream configs.
    let _again = connect(&t.config).await.unwrap();
    let client = async_nats::connect(&t.config.url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let upper = t.config.prefix.to_ascii_uppercase();
    let mut ops = js.get_stream(format!("{upper}_MAGNUM_OPS")).await.unwrap();
    let info = ops.info().await.unwrap();
    assert_eq!(
        info.config.subjects,
        vec![format!("{}.magnum.ops.>", t.config.prefix)]
    );
    assert_eq!(
        info.config.retention,
        async_nats::jetstream::stream::RetentionPolicy::WorkQueue
    );
    let mut events = js
        .get_stream(format!("{upper}_MAGNUM_EVENTS"))
        .await
        .unwrap();
    assert_eq!(
        events.info().await.unwrap().config.max_age,
        magnum_bus::EVENTS_MAX_AGE
    );
}

#[tokio::test]
async fn connecting_to_nothing_fails_at_once() {
    let port = free_port();
    let started = Instant::now();
    let result = JetStreamBus::connect(&format!("nats://127.0.0.1:{port}"), "").await;
    assert!(
        matches!(result, Err(magnum_bus::BusError::Unavailable { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(6));
}

/// How many consumers the test's events stream has.
async fn event_consumers(config: &BusConfig) -> usize {
    let client = async_nats::connect(&config.url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let upper = config.prefix.to_ascii_uppercase();
    let mut stream = js
        .get_stream(format!("{upper}_MAGNUM_EVENTS"))
        .await
        .unwrap();
    stream.info().await.unwrap().state.consumer_count
}

#[tokio::test]
async fn a_dropped_watch_leaves_no_consumer() {
    let t = new_bus().await;
    let mut stream = t.bus.subscribe("magnum.events.>").await.unwrap();
    let sent = common::publish(&t.bus, "magnum.events.bay.created", "x").await;
    assert_eq!(common::watched(&mut stream).await, sent);
    assert_eq!(event_consumers(&t.config).await, 1);
    drop(stream);
    let deadline = Instant::now() + common::WAIT;
    while event_consumers(&t.config).await > 0 {
        assert!(
            Instant::now() < deadline,
            "the watch consumer is still there"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------
// server restarts, on a private nats-server

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A nats-server of this test's own; killed when dropped.
struct PrivateServer {
    child: Option<Child>,
    port: u16,
}

impl PrivateServer {
    fn binary() -> Option<String> {
        let binary =
            std::env::var("MAGNUM_TEST_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        Command::new(&binary)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .filter(|status| status.success())
            .map(|_| binary)
    }

    async fn start(binary: &str, port: u16, store: &PathBuf) -> Self {
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self {
            child: Some(child),
            port,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Publishes until the bus takes it (it refuses while the server is down).
async fn publish_until_stored(bus: &Arc<dyn Bus>, message: &Message) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Err(error) = bus.publish(message.clone()).await {
        assert!(
            Instant::now() < deadline,
            "publish never recovered: {error}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next delivery, skipping the errors a recovering subscription reports.
async fn recv_through_errors(sub: &mut Box<dyn magnum_bus::Subscription>) -> magnum_bus::Delivery {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, sub.next()).await {
            Ok(Some(Ok(delivery))) => return delivery,
            Ok(Some(Err(_))) => continue,
            Ok(None) => panic!("subscription ended"),
            Err(_) => panic!("no delivery after the restart"),
        }
    }
}

async fn restart_case(wipe_store: bool) {
    let Some(binary) = PrivateServer::binary() else {
        eprintln!("nats-server not found; skipping the restart test");
        return;
    };
    let port = free_port();
    let store = std::env::temp_dir().join(magnum_testkit::unique_name("nats"));
    let mut server = PrivateServer::start(&binary, port, &store).await;
    let config = BusConfig {
        url: server.url(),
        prefix: "restart".into(),
    };
    let bus = connect(&config).await.unwrap();
    let mut sub = bus
        .consume(common::spec("bay", "magnum.ops.bay.>"))
        .await
        .unwrap();
    let before = common::publish(&bus, "magnum.ops.bay.create", "before").await;
    let got = common::recv(&mut sub).await;
    assert_eq!(got.message.id, before.id);
    got.ack().await.unwrap();

    server.stop();
    let second_store = if wipe_store {
        std::env::temp_dir().join(magnum_testkit::unique_name("nats"))
    } else {
        store.clone()
    };
    let mut server = PrivateServer::start(&binary, port, &second_store).await;

    let after = Message::new("magnum.ops.bay.create", "after");
    publish_until_stored(&bus, &after).await;
    let got = recv_through_errors(&mut sub).await;
    assert_eq!(got.message.id, after.id);
    got.ack().await.unwrap();

    server.stop();
    for dir in [store, second_store] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn consuming_survives_a_server_restart() {
    restart_case(false).await;
}

#[tokio::test]
async fn streams_and_consumers_come_back_after_a_restart_with_an_empty_store() {
    restart_case(true).await;
}

/// The next watched message, collecting the errors of a recovering watch.
async fn watched_through_errors(
    stream: &mut magnum_bus::MessageStream,
    errors: &mut Vec<magnum_bus::BusError>,
) -> Message {
    use futures::StreamExt;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, stream.next()).await {
            Ok(Some(Ok(message))) => return message,
            Ok(Some(Err(error))) => errors.push(error),
            Ok(None) => panic!("watch ended"),
            Err(_) => panic!("no message after the restart"),
        }
    }
}

async fn watch_restart_case(wipe_store: bool) {
    let Some(binary) = PrivateServer::binary() else {
        eprintln!("nats-server not found; skipping the restart test");
        return;
    };
    let port = free_port();
    let store = std::env::temp_dir().join(magnum_testkit::unique_name("nats"));
    let mut server = PrivateServer::start(&binary, port, &store).await;
    let config = BusConfig {
        url: server.url(),
        prefix: "watch".into(),
    };
    let bus = connect(&config).await.unwrap();
    let mut stream = bus.subscribe("magnum.events.>").await.unwrap();
    let before = common::publish(&bus, "magnum.events.bay.created", "before").await;
    assert_eq!(common::watched(&mut stream).await, before);

    server.stop();
    let second_store = if wipe_store {
        std::env::temp_dir().join(magnum_testkit::unique_name("nats"))
    } else {
        store.clone()
    };
    let mut server = PrivateServer::start(&binary, port, &second_store).await;

    let after = Message::new("magnum.events.bay.deleted", "after");
    publish_until_stored(&bus, &after).await;
    let mut errors = Vec::new();
    let got = watched_through_errors(&mut stream, &mut errors).await;
    assert_eq!(
        got, after,
        "resumes after the last delivered, no replay of `before`"
    );
    let lagged = errors
        .iter()
        .any(|e| matches!(e, magnum_bus::BusError::Lagged { .. }));
    assert_eq!(lagged, wipe_store, "a lost store is reported: {errors:?}");
    common::watched_none(&mut stream, Duration::from_millis(300)).await;

    server.stop();
    for dir in [store, second_store] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn watching_survives_a_server_restart() {
    watch_restart_case(false).await;
}

#[tokio::test]
async fn watching_survives_a_restart_with_an_empty_store() {
    watch_restart_case(true).await;
}
