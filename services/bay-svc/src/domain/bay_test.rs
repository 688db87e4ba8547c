#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn bay(status: BayStatus) -> Bay {
    Bay {
        uuid: Uuid::nil(),
        name: Some("b".to_owned()),
        baymodel_id: Uuid::nil(),
        coe: Coe::Swarm,
        node_count: 2,
        master_count: 1,
        create_timeout: 0,
        discovery_url: None,
        status,
        status_reason: None,
        placement: Placement::default(),
        docker_volume_size: None,
        labels: BTreeMap::new(),
        master_flavor_id: None,
        flavor_id: None,
        keypair: None,
        fixed_network: None,
        fixed_subnet: None,
        floating_ip_enabled: false,
        master_lb_enabled: false,
        health_status: None,
        health_status_reason: BTreeMap::new(),
        project_id: "p".to_owned(),
        user_id: "u".to_owned(),
        created_at: Utc::now(),
        updated_at: None,
    }
}

#[test]
fn update_needs_a_complete_bay() {
    let now = Utc::now();
    let busy = bay(BayStatus::CreateInProgress);
    assert!(matches!(
        busy.begin_update(3, now),
        Err(Error::BayUpdateNotAllowed(BayStatus::CreateInProgress))
    ));
    let complete = bay(BayStatus::CreateComplete);
    assert_eq!(complete.begin_update(2, now).unwrap(), None);
    let updating = complete.begin_update(3, now).unwrap().unwrap();
    assert_eq!(updating.status, BayStatus::UpdateInProgress);
    assert_eq!(updating.node_count, 3);
    assert!(complete.begin_update(0, now).is_err());
}

#[test]
fn settle_maps_outcomes_to_statuses() {
    let now = Utc::now();
    let creating = bay(BayStatus::CreateInProgress);
    let done = creating.settle(
        OperationKind::Create,
        &Outcome::Provisioned(Placement::default()),
        now,
    );
    assert_eq!(done.status, BayStatus::CreateComplete);
    assert_eq!(done.health_status, Some(HealthStatus::Healthy));
    let failed = creating.settle(OperationKind::Create, &Outcome::Failed("x".into()), now);
    assert_eq!(failed.status, BayStatus::CreateFailed);
    assert_eq!(failed.status_reason.as_deref(), Some("x"));
    // A delete requested meanwhile keeps the bay deleting.
    let deleting = creating.begin_delete(now);
    let kept = deleting.settle(
        OperationKind::Create,
        &Outcome::Provisioned(Placement::default()),
        now,
    );
    assert_eq!(kept.status, BayStatus::DeleteInProgress);
    let gone = deleting.settle(OperationKind::Delete, &Outcome::Deleted, now);
    assert_eq!(gone.status, BayStatus::DeleteComplete);
}
