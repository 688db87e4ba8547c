//! How operations run: two workers on one queue, the bus restarting under them, an
//! unreachable engine, health checks, the create timeout.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use magnum_bus::BusConfig;
use magnum_driver_swarm::{EngineConfig, SwarmConfig};
use magnum_proto::bay::v1 as pb;
use tokio::time::Instant;

use crate::harness::{
    Env, WAIT, attempts, bay_networks, execute, free_port, remove_bay_networks, temp_path,
};

/// Two replicas share the queue: six bays made, two deleted at once. Every bay settles
/// once, each transition is reported once, no operation ran twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_share_the_operations() {
    let env = Env::jetstream().await;
    let mut events = env.events("race").await;
    let a = env.start(env.swarm_config()).await;
    let b = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    a.create_baymodel(alice, "model", "swarm").await;

    let mut bays = Vec::new();
    for i in 0..6 {
        let svc = if i % 2 == 0 { &a } else { &b };
        let bay = svc
            .create_bay(alice, "model", &format!("race-{i}"), 1 + i % 2)
            .await
            .unwrap();
        bays.push(bay.uuid);
    }
    let (deleted, kept) = bays.split_at(2);
    b.delete_bay(alice, &deleted[0]).await.unwrap();
    a.delete_bay(alice, &deleted[1]).await.unwrap();

    for uuid in deleted {
        a.wait_gone(alice, uuid).await;
    }
    for uuid in kept {
        b.wait_status(alice, uuid, pb::BayStatus::CreateComplete)
            .await;
    }
    events
        .drain_until("every outcome", |log| {
            deleted.iter().all(|uuid| log.deletions_of(uuid) >= 1)
                && kept
                    .iter()
                    .all(|uuid| log.count(uuid, "CREATE_COMPLETE") >= 1)
        })
        .await;
    let db = env.db().await;
    for uuid in deleted {
        // The create either finished before the delete began or was overtaken by it;
        // never does a bay being deleted go back to CREATE_COMPLETE.
        let seen = events.statuses_of(uuid);
        let overtaken = [
            "CREATE_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE",
        ];
        let after = [
            "CREATE_IN_PROGRESS",
            "CREATE_COMPLETE",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE",
        ];
        assert!(seen == overtaken || seen == after, "{uuid}: {seen:?}");
        assert!(attempts(&db, uuid, "create").await.iter().all(|n| *n <= 1));
        assert_eq!(events.deletions_of(uuid), 1);
        assert!(bay_networks(uuid).is_empty(), "{uuid}");
    }
    for uuid in kept {
        assert_eq!(
            events.statuses_of(uuid),
            ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"],
            "{uuid}"
        );
        assert_eq!(bay_networks(uuid).len(), 1, "{uuid}");
        assert_eq!(attempts(&db, uuid, "create").await, [1], "{uuid}");
    }
    let listed: BTreeSet<String> = a
        .list_bays(alice)
        .await
        .into_iter()
        .map(|bay| bay.uuid)
        .collect();
    assert_eq!(listed, kept.iter().cloned().collect());

    for uuid in kept {
        a.delete_bay(alice, uuid).await.unwrap();
    }
    for uuid in kept {
        b.wait_gone(alice, uuid).await;
        assert!(bay_networks(uuid).is_empty(), "{uuid}");
    }
    a.stop().await;
    b.stop().await;
}

/// A nats-server of the test's own, with JetStream and a store directory.
struct PrivateNats {
    child: Option<Child>,
}

impl PrivateNats {
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

    async fn start(binary: &str, port: u16, store: &std::path::Path) -> Self {
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { child: Some(child) }
    }

    /// SIGKILL: the server dies without flushing or saying goodbye.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The bus goes away while a create runs, and a second bay is created while it is down;
/// once it is back (same port, same store), both bays are made and reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn nats_restarts_in_the_middle_of_operations() {
    // The fail point's sleep blocks its thread: enough threads for the rest.
    let Some(binary) = PrivateNats::binary() else {
        eprintln!("no nats-server (MAGNUM_TEST_NATS_SERVER); skipping");
        return;
    };
    let port = free_port();
    let store = temp_path("nats");
    let mut nats = PrivateNats::start(&binary, port, &store).await;
    let env = Env::on_bus(BusConfig {
        url: format!("nats://127.0.0.1:{port}"),
        prefix: "restart".to_owned(),
    })
    .await;
    let mut events = env.events("restart").await;
    let svc = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "model", "swarm").await;
    let db = env.db().await;

    // The worker holds the first create for a while, with the operation claimed.
    fail::cfg("bay-worker-before-driver", "sleep(3000)").unwrap();
    let first = svc.create_bay(alice, "model", "during", 1).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while attempts(&db, &first.uuid, "create").await.first() < Some(&1) {
        assert!(Instant::now() < deadline, "the create was never claimed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nats.stop();
    fail::remove("bay-worker-before-driver");
    // Accepted while the bus is down: only the outbox has it.
    let second = svc
        .create_bay(alice, "model", "while-down", 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut nats = PrivateNats::start(&binary, port, &store).await;

    for bay in [&first, &second] {
        let done = svc
            .wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
            .await;
        assert_eq!(done.node_addresses.len(), 1);
        assert_eq!(bay_networks(&bay.uuid).len(), 1);
    }
    events
        .drain_until("both creates", |log| {
            [&first, &second].iter().all(|bay| {
                log.count(&bay.uuid, "CREATE_IN_PROGRESS") >= 1
                    && log.count(&bay.uuid, "CREATE_COMPLETE") >= 1
            })
        })
        .await;
    // Each transition reported once (a delivery cut off by the restart comes again later,
    // so the order the consumer sees may differ).
    for bay in [&first, &second] {
        let mut seen = events.statuses_of(&bay.uuid);
        seen.sort();
        assert_eq!(
            seen,
            ["CREATE_COMPLETE", "CREATE_IN_PROGRESS"],
            "{}",
            bay.uuid
        );
    }

    for bay in [&first, &second] {
        svc.delete_bay(alice, &bay.uuid).await.unwrap();
    }
    for bay in [&first, &second] {
        svc.wait_gone(alice, &bay.uuid).await;
        assert!(bay_networks(&bay.uuid).is_empty());
    }
    svc.stop().await;
    drop(events);
    nats.stop();
    let _ = std::fs::remove_dir_all(store);
}

/// A pool whose only engine cannot be reached: the create fails, saying which and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unreachable_engine_fails_the_create() {
    let env = Env::in_process().await;
    let mut config = env.config();
    let socket = temp_path("nope").join("nope.sock");
    config.swarm = SwarmConfig {
        engines: vec![EngineConfig {
            name: "ghost".to_owned(),
            url: format!("unix://{}", socket.display()),
            ..EngineConfig::default()
        }],
        connect_timeout_secs: 2,
        ..SwarmConfig::default()
    };
    let svc = env.start(config).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "model", "swarm").await;
    let bay = svc.create_bay(alice, "model", "doomed", 1).await.unwrap();
    let failed = svc
        .wait_status(alice, &bay.uuid, pb::BayStatus::CreateFailed)
        .await;
    let reason = failed.status_reason.clone().unwrap_or_default();
    assert!(reason.contains("ghost"), "{reason}");
    assert!(reason.contains("unreachable"), "{reason}");
    assert!(failed.api_address.is_none(), "{failed:?}");

    // A failed bay can be deleted.
    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    svc.stop().await;
}

/// The periodic check notices a node whose network went away; the status stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_check_reports_a_broken_node() {
    let env = Env::in_process().await;
    let mut config = env.swarm_config();
    config.health.interval_secs = 1;
    config.health.timeout_secs = 10;
    let svc = env.start(config).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "model", "swarm").await;
    let bay = svc.create_bay(alice, "model", "sick", 2).await.unwrap();
    let complete = svc
        .wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;
    assert_eq!(complete.health_status.as_deref(), Some("HEALTHY"));

    remove_bay_networks(&bay.uuid);
    let sick = svc
        .wait_for(alice, &bay.uuid, "UNHEALTHY", |bay| {
            bay.health_status.as_deref() == Some("UNHEALTHY")
        })
        .await;
    assert_eq!(sick.status(), pb::BayStatus::CreateComplete);
    assert!(!sick.health_status_reason.is_empty(), "{sick:?}");
    let nodes = ["node-a", "node-b", "node-c"];
    for (node, reason) in &sick.health_status_reason {
        assert!(nodes.contains(&node.as_str()), "{node}: {reason}");
        assert!(!reason.is_empty());
    }

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    svc.stop().await;
}

/// A create that cannot finish in its time fails with Magnum's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_times_out() {
    let env = Env::jetstream().await;
    let mut api_only = env.swarm_config();
    api_only.worker.enabled = false;
    let api = env.start(api_only).await;
    let alice = &env.alice;
    api.create_baymodel(alice, "model", "swarm").await;
    let bay = api
        .create_bay_with(
            alice,
            pb::BaySpec {
                name: Some("slow".to_owned()),
                baymodel_ident: "model".to_owned(),
                bay_create_timeout: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bay.bay_create_timeout, 1);
    let db = env.db().await;
    let aged = execute(
        &db,
        &format!(
            "UPDATE bays SET created_at = created_at - INTERVAL '2 minutes' WHERE uuid = '{}'",
            bay.uuid
        ),
    )
    .await;
    assert_eq!(aged, 1);

    let worker = env.start(env.swarm_config()).await;
    let failed = worker
        .wait_status(alice, &bay.uuid, pb::BayStatus::CreateFailed)
        .await;
    assert_eq!(
        failed.status_reason.as_deref(),
        Some("Bay creation timed out after 1 minutes.")
    );
    assert!(bay_networks(&bay.uuid).is_empty());

    worker.delete_bay(alice, &bay.uuid).await.unwrap();
    worker.wait_gone(alice, &bay.uuid).await;
    api.stop().await;
    worker.stop().await;
}

/// An operation outlasting its delivery's ack wait (no heartbeat yet) comes back to the
/// worker still running it; it must not run a second time alongside.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_slow_operation_is_not_run_twice_by_its_worker() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let env = Env::jetstream().await;
    let mut config = env.swarm_config();
    config.worker.ack_wait_secs = 1;
    // Renewed (and the delivery extended) every 2 s: later than the ack wait.
    config.worker.lease_secs = 6;
    let svc = env.start(config).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "model", "swarm").await;

    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    fail::cfg_callback("bay-worker-before-driver", move || {
        counter.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(2500));
    })
    .unwrap();
    let bay = svc.create_bay(alice, "model", "slow", 1).await.unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;
    // Redeliveries that came meanwhile are settled without running.
    tokio::time::sleep(Duration::from_secs(2)).await;
    fail::remove("bay-worker-before-driver");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let db = env.db().await;
    assert_eq!(attempts(&db, &bay.uuid, "create").await, [1]);
    assert_eq!(bay_networks(&bay.uuid).len(), 1);

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    svc.stop().await;
}
