//! A container's whole life on a swarm bay, and what other callers cannot do to it.

use magnum_proto::container::v1 as pb;
use tonic::Code;

use crate::harness::{World, docker_containers_of, spec};

#[tokio::test(flavor = "multi_thread")]
async fn container_lifecycle() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bob = world.bob.clone();
    let bay = world.swarm_bay(&alice, 2).await;
    let image = magnum_testkit::docker::image();

    let created = world
        .create(
            &alice,
            spec(&bay.uuid, &image, "sh -c 'echo $GREETING; sleep 300'"),
        )
        .await
        .unwrap();
    assert_eq!(created.status(), pb::ContainerStatus::Stopped);
    assert!(created.host.is_some());
    assert_eq!(docker_containers_of(&created.uuid).len(), 1);
    let uuid = created.uuid.clone();

    let got = world.get(&alice, &uuid).await.unwrap();
    assert_eq!(got.status(), pb::ContainerStatus::Stopped);
    let by_name = world
        .get(&alice, created.name.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(by_name.uuid, uuid);

    // A second container goes to the other worker.
    let second = world
        .create(&alice, spec(&bay.uuid, &image, "sleep 300"))
        .await
        .unwrap();
    assert_ne!(second.host, created.host);

    let act = pb::ContainerActionRequest {
        ident: uuid.clone(),
    };
    let started = world
        .containers()
        .start_container(magnum_grpc::client::request(&alice, act.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.status(), pb::ContainerStatus::Running);

    // The output shows up in the logs.
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    loop {
        let logs = world
            .containers()
            .get_container_logs(magnum_grpc::client::request(
                &alice,
                pb::GetContainerLogsRequest {
                    ident: uuid.clone(),
                    tail: 0,
                    timestamps: false,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        if logs.output.contains("hello") {
            assert!(!logs.truncated);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no hello in the logs"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    let hi = world.execute(&alice, &uuid, "echo hi").await.unwrap();
    assert_eq!(hi.output, "hi\n");
    assert_eq!(hi.exit_code, 0);
    let three = world
        .execute(&alice, &uuid, "sh -c 'exit 3'")
        .await
        .unwrap();
    assert_eq!(three.exit_code, 3);
    let slow = world
        .containers()
        .execute_in_container(magnum_grpc::client::request(
            &alice,
            pb::ExecuteInContainerRequest {
                ident: uuid.clone(),
                command: "sleep 30".to_owned(),
                timeout_seconds: 1,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(slow.code(), Code::DeadlineExceeded, "{slow:?}");
    assert_eq!(
        slow.message(),
        "The command did not finish within 1 seconds."
    );
    // The second container is not running: Docker refuses, in its own words.
    let not_running = world
        .execute(&alice, &second.uuid, "echo hi")
        .await
        .unwrap_err();
    assert_eq!(
        not_running.code(),
        Code::FailedPrecondition,
        "{not_running:?}"
    );

    let paused = world
        .containers()
        .pause_container(magnum_grpc::client::request(&alice, act.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paused.status(), pb::ContainerStatus::Paused);
    // Pausing twice is the caller's mistake, in Docker's words.
    let again = world
        .containers()
        .pause_container(magnum_grpc::client::request(&alice, act.clone()))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    let unpaused = world
        .containers()
        .unpause_container(magnum_grpc::client::request(&alice, act.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unpaused.status(), pb::ContainerStatus::Running);

    let stop = pb::StopContainerRequest {
        ident: uuid.clone(),
        timeout_seconds: 2,
    };
    let stopped = world
        .containers()
        .stop_container(magnum_grpc::client::request(&alice, stop.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stopped.status(), pb::ContainerStatus::Stopped);
    let rebooted = world
        .containers()
        .reboot_container(magnum_grpc::client::request(&alice, stop))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rebooted.status(), pb::ContainerStatus::Running);

    // Rename (stored only).
    let renamed = world
        .containers()
        .update_container(magnum_grpc::client::request(
            &alice,
            pb::UpdateContainerRequest {
                ident: uuid.clone(),
                update: Some(pb::ContainerUpdate {
                    name: Some("renamed".to_owned()),
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".to_owned()],
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.name.as_deref(), Some("renamed"));

    // Another project sees nothing and cannot use the bay.
    let hidden = world.get(&bob, &uuid).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(
        hidden.message(),
        format!("Container {uuid} could not be found.")
    );
    let refused = world
        .create(&bob, spec(&bay.uuid, &image, "sleep 1"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.message(),
        format!("Bay {} could not be found.", bay.uuid)
    );
    assert!(world.list(&bob, "").await.is_empty());

    // Lists, with and without the bay filter.
    let listed: Vec<String> = world
        .list(&alice, &bay.uuid)
        .await
        .into_iter()
        .map(|c| c.uuid)
        .collect();
    assert_eq!(listed, vec![uuid.clone(), second.uuid.clone()]);
    assert_eq!(world.list(&alice, "").await.len(), 2);

    // A missing image: 400, and the record says why.
    let missing = world
        .create(
            &alice,
            spec(&bay.uuid, "magnum-rs/no-such-image:never", "true"),
        )
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument, "{missing:?}");
    assert_eq!(
        missing.message(),
        "Image magnum-rs/no-such-image:never could not be found on the bay's Docker engine."
    );
    let failed = world
        .list(&alice, &bay.uuid)
        .await
        .into_iter()
        .find(|c| c.image == "magnum-rs/no-such-image:never")
        .unwrap();
    assert_eq!(failed.status(), pb::ContainerStatus::Error);
    assert_eq!(
        world.get(&alice, &failed.uuid).await.unwrap().status(),
        pb::ContainerStatus::Error
    );
    world.delete(&alice, &failed.uuid, false).await.unwrap();

    // A running container is deleted only by force.
    let running = world.delete(&alice, &uuid, false).await.unwrap_err();
    assert_eq!(running.code(), Code::FailedPrecondition);
    assert_eq!(
        running.message(),
        "Cannot delete a running container; stop it first or force."
    );
    world.delete(&alice, &uuid, true).await.unwrap();
    assert_eq!(
        world.get(&alice, &uuid).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(docker_containers_of(&uuid).is_empty());
    world.delete(&alice, &second.uuid, false).await.unwrap();
    assert!(docker_containers_of(&second.uuid).is_empty());

    world.delete_bay(&alice, &bay.uuid).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_bay_takes_its_containers_along() {
    let world = World::start().await;
    let alice = world.alice.clone();
    let bay = world.swarm_bay(&alice, 1).await;
    let image = magnum_testkit::docker::image();
    let created = world
        .create(&alice, spec(&bay.uuid, &image, "sleep 300"))
        .await
        .unwrap();
    let bad = world
        .create(
            &alice,
            pb::ContainerSpec {
                memory: Some("lots".to_owned()),
                ..spec(&bay.uuid, &image, "sleep 1")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    world.delete_bay(&alice, &bay.uuid).await;
    assert!(docker_containers_of(&created.uuid).is_empty());
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    while !world.list(&alice, "").await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deleted bay's containers are still listed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
