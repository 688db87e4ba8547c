//! The crash matrix: a bay-svc "dies" (a panic in the relay or in the worker's
//! per-operation task) at each step of a create; the bay still ends CREATE_COMPLETE, with
//! exactly one CREATE_COMPLETE event and one Docker network.

use std::sync::atomic::Ordering;
use std::time::Duration;

use magnum_proto::bay::v1 as pb;
use magnum_testkit::failpoints::crash_once;
use sea_orm::{ConnectionTrait, Statement};

use crate::harness::{Env, attempts, bay_networks};

/// What the crash leaves to check about the operation's attempts.
enum Rerun {
    /// The operation ran again after the crash; the fail point was reached this often.
    Yes { reached: usize },
    /// It had finished before the crash: it must not run again, but its message comes
    /// back (and passes the fail point a second time, harmlessly).
    No,
}

/// One worker process; `point` panics once (the first time it is reached): the panic
/// kills the operation's task as a dying process would (unacked message, held lease).
///
/// `takeover`: the crashed instance is then stopped and a second one (another lease
/// holder) carries on once the first one's lease has run out.
async fn crash_in_the_worker(point: &str, rerun: Rerun, takeover: bool) {
    let env = Env::jetstream().await;
    let mut events = env.events("crash").await;
    let mut svc = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "model", "swarm").await;

    let reached = crash_once(point);
    let bay = svc.create_bay(alice, "model", "crashy", 2).await.unwrap();
    if takeover {
        let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
        while reached.load(Ordering::SeqCst) == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{point} never reached"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        svc.stop().await;
        svc = env.start(env.swarm_config()).await;
    }
    let bay = svc
        .wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;
    assert_eq!(bay.node_addresses.len(), 2, "{bay:?}");

    events
        .drain_until("CREATE_COMPLETE", |log| {
            log.count(&bay.uuid, "CREATE_COMPLETE") >= 1
        })
        .await;
    assert_eq!(
        events.statuses_of(&bay.uuid),
        ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"],
        "crash at {point}"
    );
    assert_eq!(bay_networks(&bay.uuid).len(), 1);
    let db = env.db().await;
    let tries = attempts(&db, &bay.uuid, "create").await;
    assert_eq!(tries.len(), 1);
    if matches!(rerun, Rerun::No) {
        // The unacked message comes back after the ack wait and is recognised as done.
        let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
        while reached.load(Ordering::SeqCst) < 2 {
            assert!(tokio::time::Instant::now() < deadline, "never redelivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        events.drain(Duration::from_secs(2)).await;
        assert_eq!(events.count(&bay.uuid, "CREATE_COMPLETE"), 1);
    }
    let tries = attempts(&db, &bay.uuid, "create").await;
    let reached = reached.load(Ordering::SeqCst);
    fail::remove(point);
    match rerun {
        Rerun::Yes { reached: expected } => {
            assert!(tries[0] >= 2, "crash at {point}: attempts {tries:?}");
            assert_eq!(reached, expected, "crash at {point}");
        }
        Rerun::No => {
            assert_eq!(tries[0], 1, "crash at {point}: attempts {tries:?}");
            assert_eq!(reached, 2, "crash at {point}: redelivered once");
        }
    }

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    assert!(bay_networks(&bay.uuid).is_empty());
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_before_the_driver_call() {
    crash_in_the_worker("bay-worker-before-driver", Rerun::Yes { reached: 2 }, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_before_the_driver_call_then_another_instance_takes_over() {
    crash_in_the_worker("bay-worker-before-driver", Rerun::Yes { reached: 2 }, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_in_the_middle_of_the_driver_call() {
    // The retry finds the network made before the crash: it is not created (nor the
    // point reached) again.
    crash_in_the_worker(
        "swarm-create-after-network",
        Rerun::Yes { reached: 1 },
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_in_the_middle_of_the_driver_call_then_another_instance_takes_over() {
    crash_in_the_worker(
        "swarm-create-after-network",
        Rerun::Yes { reached: 1 },
        true,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_after_finishing_before_the_ack() {
    crash_in_the_worker("bay-worker-before-ack", Rerun::No, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_after_finishing_before_the_ack_then_another_instance_takes_over() {
    crash_in_the_worker("bay-worker-before-ack", Rerun::No, true).await;
}

async fn outbox_rows(db: &sea_orm::DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The create is committed but the relay dies before publishing it; a second instance
/// on the same database and bus publishes it, and the bay is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_of_the_relay_before_publishing() {
    let env = Env::jetstream().await;
    let mut events = env.events("relay-crash").await;
    let db = env.db().await;
    let first = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    first.create_baymodel(alice, "model", "swarm").await;
    // The baymodel's event is out: the relay is idle.
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    while outbox_rows(&db).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "outbox never drained"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    fail::cfg("outbox-relay-before-publish", "panic").unwrap();
    let bay = first
        .create_bay(alice, "model", "unpublished", 1)
        .await
        .unwrap();
    // Nothing reaches the bus: the operation and its event stay in the outbox.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(outbox_rows(&db).await >= 2);
    let still = first.get_bay(alice, &bay.uuid).await.unwrap();
    assert_eq!(still.status(), pb::BayStatus::CreateInProgress);
    assert_eq!(attempts(&db, &bay.uuid, "create").await, [0]);
    first.stop().await;
    fail::remove("outbox-relay-before-publish");

    let second = env.start(env.swarm_config()).await;
    let done = second
        .wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;
    assert_eq!(done.node_addresses.len(), 1);
    events
        .drain_until("CREATE_COMPLETE", |log| {
            log.count(&bay.uuid, "CREATE_COMPLETE") >= 1
        })
        .await;
    assert_eq!(
        events.statuses_of(&bay.uuid),
        ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    );
    assert_eq!(bay_networks(&bay.uuid).len(), 1);
    assert_eq!(attempts(&db, &bay.uuid, "create").await, [1]);

    second.delete_bay(alice, &bay.uuid).await.unwrap();
    second.wait_gone(alice, &bay.uuid).await;
    assert!(bay_networks(&bay.uuid).is_empty());
    second.stop().await;
}

/// A delete whose worker dies before the driver call: taken over, the bay goes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_during_a_delete() {
    let env = Env::jetstream().await;
    let mut events = env.events("delete-crash").await;
    let svc = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "model", "swarm").await;
    let bay = svc.create_bay(alice, "model", "doomed", 1).await.unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;

    let reached = crash_once("bay-worker-before-driver");
    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    assert_eq!(reached.load(Ordering::SeqCst), 2);
    fail::remove("bay-worker-before-driver");
    assert!(bay_networks(&bay.uuid).is_empty());
    events
        .drain_until("the deletion", |log| log.deletions_of(&bay.uuid) >= 1)
        .await;
    assert_eq!(
        events.statuses_of(&bay.uuid),
        [
            "CREATE_IN_PROGRESS",
            "CREATE_COMPLETE",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE"
        ]
    );
    assert_eq!(events.deletions_of(&bay.uuid), 1);
    svc.stop().await;
}

/// The kubernetes driver dies right after making the namespace; the retry finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_in_the_middle_of_a_kubernetes_create() {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, ListParams};

    let server =
        fake_kube_apiserver::FakeKubeApiServer::start(fake_kube_apiserver::Options::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml(server.admin_token())).unwrap();
    let admin = server.admin_client().await.unwrap();

    let env = Env::jetstream().await;
    let mut events = env.events("k8s-crash").await;
    let mut config = env.config();
    config.kubernetes.kubeconfig = Some(kubeconfig);
    let svc = env.start(config).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "model", "kubernetes").await;

    let reached = crash_once("kubernetes-create-after-namespace");
    let bay = svc.create_bay(alice, "model", "kube", 1).await.unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;
    assert!(reached.load(Ordering::SeqCst) >= 1);
    fail::remove("kubernetes-create-after-namespace");
    let db = env.db().await;
    let tries = attempts(&db, &bay.uuid, "create").await;
    assert!(tries[0] >= 2, "{tries:?}");
    let namespaces: Vec<String> = Api::<Namespace>::all(admin)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|ns| ns.metadata.name)
        .filter(|name| name.contains(&bay.uuid))
        .collect();
    assert_eq!(namespaces, [format!("magnum-{}", bay.uuid)]);
    events
        .drain_until("CREATE_COMPLETE", |log| {
            log.count(&bay.uuid, "CREATE_COMPLETE") >= 1
        })
        .await;
    assert_eq!(
        events.statuses_of(&bay.uuid),
        ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    );

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    svc.stop().await;
}
