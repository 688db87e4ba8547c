//! container-svc dying mid-create, and records that must follow the engine: the container
//! ends up created once or cleanly failed, never left on the engine without a record.

use std::sync::atomic::Ordering;
use std::time::Duration;

use magnum_proto::container::v1 as pb;
use magnum_testkit::failpoints::crash_once;
use tokio::time::Instant;
use tonic::Code;

use crate::harness::{WAIT, World, docker, docker_containers_of, spec};

/// Short create deadlines, so that an abandoned create is swept within seconds.
async fn impatient_world() -> World {
    World::start_with(|config| {
        config.create_timeout_secs = 2;
        config.docker_timeout_secs = 5;
        config.sweep_interval_secs = 1;
    })
    .await
}

/// The container with `uuid` once it has left `Creating`.
async fn settled(world: &World, uuid: &str) -> pb::Container {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = world.get(&world.alice, uuid).await.unwrap();
        if got.status() != pb::ContainerStatus::Creating {
            return got;
        }
        assert!(Instant::now() < deadline, "{uuid} stayed Creating");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The uuid of the one container `alice` has.
async fn only_container(world: &World) -> String {
    let listed = world.list(&world.alice, "").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    listed[0].uuid.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_cut_before_the_engine_fails_cleanly_after_a_restart() {
    let mut world = impatient_world().await;
    let alice = world.alice.clone();
    let bay = world.swarm_bay(&alice, 1).await;
    let image = magnum_testkit::docker::image();

    let reached = crash_once("container-create-before-engine");
    let cut = world
        .create(&alice, spec(&bay.uuid, &image, "sleep 300"))
        .await;
    assert!(cut.is_err(), "{cut:?}");
    assert_eq!(reached.load(Ordering::SeqCst), 1);
    world.restart_container_svc().await;

    let uuid = only_container(&world).await;
    let failed = settled(&world, &uuid).await;
    assert_eq!(failed.status(), pb::ContainerStatus::Error, "{failed:?}");
    assert!(
        failed
            .status_reason
            .as_deref()
            .is_some_and(|reason| reason.contains("create it again")),
        "{failed:?}"
    );
    assert!(docker_containers_of(&uuid).is_empty());
    // A failed container goes without force, and the same spec now works.
    world.delete(&alice, &uuid, false).await.unwrap();
    let again = world
        .create(&alice, spec(&bay.uuid, &image, "sleep 300"))
        .await
        .unwrap();
    assert_eq!(docker_containers_of(&again.uuid).len(), 1);
    world.delete(&alice, &again.uuid, true).await.unwrap();
    assert!(docker_containers_of(&again.uuid).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_cut_after_the_engine_is_created_once_after_a_restart() {
    let mut world = impatient_world().await;
    let alice = world.alice.clone();
    let bay = world.swarm_bay(&alice, 1).await;
    let image = magnum_testkit::docker::image();

    crash_once("container-create-after-engine");
    let cut = world
        .create(&alice, spec(&bay.uuid, &image, "sleep 300"))
        .await;
    assert!(cut.is_err(), "{cut:?}");
    world.restart_container_svc().await;

    let uuid = only_container(&world).await;
    let created = settled(&world, &uuid).await;
    assert_eq!(
        created.status(),
        pb::ContainerStatus::Stopped,
        "{created:?}"
    );
    assert_eq!(docker_containers_of(&uuid).len(), 1);
    let act = pb::ContainerActionRequest {
        ident: uuid.clone(),
    };
    let started = world
        .containers()
        .start_container(magnum_grpc::client::request(&alice, act))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.status(), pb::ContainerStatus::Running);
    world.delete(&alice, &uuid, true).await.unwrap();
    assert!(docker_containers_of(&uuid).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_create_whose_record_went_meanwhile_removes_its_docker_container() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bay = world.swarm_bay(&alice, 1).await;
    let image = magnum_testkit::docker::image();

    // The create stalls after its record is written; the caller deletes the record.
    fail::cfg("container-create-before-engine", "1*sleep(3000)").unwrap();
    let creating = {
        let world = &world;
        let alice = alice.clone();
        let spec = spec(&bay.uuid, &image, "sleep 300");
        async move { world.create(&alice, spec).await }
    };
    let deleting = async {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(listed) = world.list(&alice, "").await.first() {
                assert_eq!(listed.status(), pb::ContainerStatus::Creating);
                world.delete(&alice, &listed.uuid, false).await.unwrap();
                return listed.uuid.clone();
            }
            assert!(Instant::now() < deadline, "the record never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let (created, uuid) = tokio::join!(creating, deleting);
    let status = created.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        docker_containers_of(&uuid).is_empty(),
        "orphaned on the engine"
    );
    assert_eq!(
        world.get(&alice, &uuid).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_follow_the_engine() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bay = world.swarm_bay(&alice, 1).await;
    let image = magnum_testkit::docker::image();

    let brief = world
        .create(&alice, spec(&bay.uuid, &image, "sleep 2"))
        .await
        .unwrap();
    let gone = world
        .create(&alice, spec(&bay.uuid, &image, "sleep 300"))
        .await
        .unwrap();
    for uuid in [&brief.uuid, &gone.uuid] {
        let act = pb::ContainerActionRequest {
            ident: uuid.clone(),
        };
        world
            .containers()
            .start_container(magnum_grpc::client::request(&alice, act))
            .await
            .unwrap();
    }
    // Behind container-svc's back: one exits by itself, one is removed.
    docker(&["rm", "-f", &format!("magnum-{}", gone.uuid)]);

    let deadline = Instant::now() + WAIT;
    loop {
        let listed = world.list(&alice, &bay.uuid).await;
        let status_of = |uuid: &str| {
            listed
                .iter()
                .find(|container| container.uuid == uuid)
                .map(|container| (container.status(), container.status_reason.clone()))
                .unwrap()
        };
        let (brief_status, _) = status_of(&brief.uuid);
        let (gone_status, gone_reason) = status_of(&gone.uuid);
        if brief_status == pb::ContainerStatus::Stopped && gone_status == pb::ContainerStatus::Error
        {
            assert!(
                gone_reason.is_some_and(|reason| reason.contains("missing")),
                "{listed:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the list never caught up: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // What the list saw is stored.
    let got = world.get(&alice, &brief.uuid).await.unwrap();
    assert_eq!(got.status(), pb::ContainerStatus::Stopped);
    for uuid in [&brief.uuid, &gone.uuid] {
        world.delete(&alice, uuid, false).await.unwrap();
    }
}
