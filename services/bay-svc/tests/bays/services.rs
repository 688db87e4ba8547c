//! Magnum services: every bay-svc replica beats in the bus's registry; the list shows
//! each replica up, a replica whose heartbeats stopped as down, and forgets one that
//! stopped cleanly. Admins only.

use chrono::{Duration, Utc};
use magnum_bus::presence::Heartbeat;
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::magnum_service_service_client::MagnumServiceServiceClient;
use tonic::{Code, Status};

use crate::harness::{Env, Instance, caller};

fn admin() -> RequestContext {
    RequestContext {
        roles: vec!["admin".to_owned()],
        is_admin: true,
        ..caller("admins")
    }
}

async fn list(svc: &Instance, who: &RequestContext) -> Result<Vec<pb::MagnumService>, Status> {
    MagnumServiceServiceClient::new(svc.channel.clone())
        .list_magnum_services(request(who, pb::ListMagnumServicesRequest {}))
        .await
        .map(|response| response.into_inner().services)
}

/// Polls until `done` holds for the admin's list (heartbeats are asynchronous).
async fn until(
    svc: &Instance,
    done: impl Fn(&[pb::MagnumService]) -> bool,
) -> Vec<pb::MagnumService> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let services = list(svc, &admin()).await.unwrap();
        if done(&services) {
            return services;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never got there: {services:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_are_listed_up_down_or_not_at_all() {
    let env = Env::jetstream().await;
    let first = env.start(env.config()).await;
    let second = env.start(env.config()).await;

    let services = until(&first, |services| services.len() == 2).await;
    for service in &services {
        assert_eq!(service.binary, "magnum-bay-svc");
        assert_eq!(service.state, "up");
        assert!(service.report_count >= 1);
        assert!(!service.disabled);
        assert!(service.id > 0);
        assert!(!service.host.is_empty());
    }
    assert_ne!(services[0].id, services[1].id);
    assert_eq!(
        list(&first, &env.alice).await.unwrap_err().code(),
        Code::PermissionDenied,
        "admins only"
    );

    // A replica that died an hour ago: its last heartbeat is still there, too old.
    let bus = magnum_bus::connect(&env.bus).await.unwrap();
    let mut dead = Heartbeat::first("magnum-container-svc");
    dead.report_count = 42;
    dead.updated_at = Utc::now() - Duration::hours(1);
    bus.record_heartbeat(&dead).await.unwrap();
    let services = until(&first, |services| services.len() == 3).await;
    let listed = services
        .iter()
        .find(|service| service.binary == "magnum-container-svc")
        .unwrap();
    assert_eq!(listed.state, "down");
    assert_eq!(listed.report_count, 42);
    assert_eq!(listed.id, dead.id);

    // A clean stop removes the replica.
    second.stop().await;
    until(&first, |services| {
        services
            .iter()
            .filter(|service| service.binary == "magnum-bay-svc")
            .count()
            == 1
    })
    .await;
    bus.forget_heartbeat(&dead.key).await.unwrap();
    first.stop().await;
}
