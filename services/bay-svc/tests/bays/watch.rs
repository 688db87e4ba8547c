//! WatchBays: the caller's bays as they are, then their changes; nothing of other
//! projects.

use std::time::Duration;

use futures::StreamExt as _;
use magnum_common::RequestContext;
use magnum_proto::bay::v1 as pb;
use pb::bay_change::Kind;
use tokio::time::Instant;
use tonic::Streaming;

use crate::harness::{Env, Instance, WAIT};

async fn watch(svc: &Instance, caller: &RequestContext) -> Streaming<pb::BayChange> {
    svc.bays()
        .watch_bays(magnum_grpc::client::request(
            caller,
            pb::WatchBaysRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn next(stream: &mut Streaming<pb::BayChange>) -> pb::BayChange {
    tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("a change in time")
        .expect("the watch stays open")
        .expect("a change")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_follows_the_callers_bays() {
    let env = Env::jetstream().await;
    let svc = env.start(env.swarm_config()).await;
    let (alice, bob) = (&env.alice, &env.bob);
    svc.create_baymodel(alice, "model", "swarm").await;
    let before = svc.create_bay(alice, "model", "before", 1).await.unwrap();
    svc.wait_status(alice, &before.uuid, pb::BayStatus::CreateComplete)
        .await;

    let mut watching = watch(&svc, alice).await;
    let mut other = watch(&svc, bob).await;
    let first = next(&mut watching).await;
    assert_eq!(first.kind(), Kind::Existing);
    let existing = first.bay.unwrap();
    assert_eq!(existing.uuid, before.uuid);
    assert_eq!(existing.status(), pb::BayStatus::CreateComplete);

    let bay = svc.create_bay(alice, "model", "watched", 1).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let change = next(&mut watching).await;
        let item = change.bay.clone().unwrap();
        assert_eq!(item.uuid, bay.uuid, "only the new bay changes: {change:?}");
        seen.push((change.kind(), item.status()));
        if item.status() == pb::BayStatus::CreateComplete {
            break;
        }
    }
    assert_eq!(seen[0].0, Kind::Created, "{seen:?}");
    assert!(
        seen[1..].iter().all(|(kind, _)| *kind == Kind::Updated),
        "{seen:?}"
    );

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    let deleted = loop {
        let change = next(&mut watching).await;
        let item = change.bay.clone().unwrap();
        assert_eq!(item.uuid, bay.uuid, "{change:?}");
        if change.kind() == Kind::Deleted {
            break item;
        }
        assert_eq!(change.kind(), Kind::Updated, "{change:?}");
        // Events are delivered at least once: the CREATE_COMPLETE already seen may come
        // again before the deletion's.
        assert!(
            matches!(
                item.status(),
                pb::BayStatus::DeleteInProgress | pb::BayStatus::CreateComplete
            ),
            "{change:?}"
        );
    };
    // The deletion carries the bay's last state.
    assert_eq!(deleted.project_id, alice.project_id);
    assert_eq!(deleted.status(), pb::BayStatus::DeleteComplete);
    assert_eq!(deleted.name.as_deref(), Some("watched"));
    assert_eq!(deleted.baymodel_id, bay.baymodel_id);
    assert_eq!(deleted.node_count, 1);

    // Bob's watch saw none of it.
    let nothing = tokio::time::timeout(Duration::from_secs(2), other.next()).await;
    assert!(nothing.is_err(), "bob saw {nothing:?}");

    svc.delete_bay(alice, &before.uuid).await.unwrap();
    svc.wait_gone(alice, &before.uuid).await;
    // The last item of alice's watch: the earlier bay's deletion.
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline);
        let change = next(&mut watching).await;
        if change.kind() == Kind::Deleted {
            let gone = change.bay.unwrap();
            assert_eq!(gone.uuid, before.uuid);
            assert_eq!(gone.name.as_deref(), Some("before"));
            break;
        }
    }
    let nothing = tokio::time::timeout(Duration::from_secs(1), other.next()).await;
    assert!(nothing.is_err(), "bob saw {nothing:?}");
    drop(watching);
    drop(other);
    svc.stop().await;
}

/// A watch of one bay (by name) sees that bay only; another project cannot watch it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_of_one_bay() {
    let env = Env::jetstream().await;
    let svc = env.start(env.swarm_config()).await;
    let (alice, bob) = (&env.alice, &env.bob);
    svc.create_baymodel(alice, "model", "swarm").await;
    let one = svc.create_bay(alice, "model", "one", 1).await.unwrap();
    svc.wait_status(alice, &one.uuid, pb::BayStatus::CreateComplete)
        .await;

    let refused = svc
        .bays()
        .watch_bays(magnum_grpc::client::request(
            bob,
            pb::WatchBaysRequest {
                ident: "one".to_owned(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);

    let mut watching = svc
        .bays()
        .watch_bays(magnum_grpc::client::request(
            alice,
            pb::WatchBaysRequest {
                ident: "one".to_owned(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut watching).await;
    assert_eq!(first.kind(), Kind::Existing);
    assert_eq!(first.bay.unwrap().uuid, one.uuid);

    // Another bay's life does not show; this one's resize does.
    let two = svc.create_bay(alice, "model", "two", 1).await.unwrap();
    svc.wait_status(alice, &two.uuid, pb::BayStatus::CreateComplete)
        .await;
    svc.update_bay(alice, "one", 2).await.unwrap();
    loop {
        let change = next(&mut watching).await;
        let bay = change.bay.clone().unwrap();
        assert_eq!(bay.uuid, one.uuid, "{change:?}");
        assert_eq!(change.kind(), Kind::Updated);
        if bay.status() == pb::BayStatus::UpdateComplete {
            assert_eq!(bay.node_count, 2);
            break;
        }
    }

    for bay in [&one, &two] {
        svc.delete_bay(alice, &bay.uuid).await.unwrap();
    }
    for bay in [&one, &two] {
        svc.wait_gone(alice, &bay.uuid).await;
    }
    drop(watching);
    svc.stop().await;
}
