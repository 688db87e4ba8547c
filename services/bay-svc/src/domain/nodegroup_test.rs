//! Unit tests of `nodegroup`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn a_bay(node_count: u32) -> Bay {
    let now = Utc::now();
    Bay {
        uuid: Uuid::new_v4(),
        name: Some("c".into()),
        baymodel_id: Uuid::new_v4(),
        coe: crate::domain::baymodel::Coe::Swarm,
        node_count,
        master_count: 1,
        create_timeout: 0,
        discovery_url: None,
        status: crate::domain::bay::BayStatus::CreateComplete,
        status_reason: None,
        placement: Default::default(),
        docker_volume_size: None,
        labels: BTreeMap::from([("a".to_owned(), "1".to_owned())]),
        master_flavor_id: None,
        flavor_id: Some("small".into()),
        keypair: None,
        fixed_network: None,
        fixed_subnet: None,
        floating_ip_enabled: true,
        master_lb_enabled: false,
        health_status: None,
        health_status_reason: BTreeMap::new(),
        project_id: "p".into(),
        user_id: "u".into(),
        created_at: now,
        updated_at: None,
    }
}

fn new_group(name: &str, node_count: i64) -> NewNodeGroup {
    NewNodeGroup {
        name: Some(name.into()),
        node_count: Some(node_count),
        ..NewNodeGroup::default()
    }
}

#[test]
fn the_default_worker_group_holds_what_the_other_groups_do_not() {
    let bay = a_bay(5);
    let defaults = groups_of(&bay, Vec::new(), Some("img"));
    let extra = new_group("gpu", 2)
        .into_group(&bay, &defaults, Some("img"), Utc::now())
        .unwrap();
    let groups = groups_of(&bay, vec![extra.clone()], Some("img"));
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, [DEFAULT_MASTER, DEFAULT_WORKER, "gpu"]);
    assert_eq!(groups[1].node_count, 3);
    assert_eq!(groups[0].node_count, 1);
    assert_eq!(total_workers(&groups, None, None), 5);
    assert_eq!(
        extra.flavor_id.as_deref(),
        Some("small"),
        "the bay's flavor"
    );
    assert_eq!(extra.image_id.as_deref(), Some("img"));
    // Stable default uuids.
    assert_eq!(groups[1].uuid, groups_of(&bay, Vec::new(), None)[1].uuid);
    assert_eq!(find(&groups, "gpu").unwrap().uuid, extra.uuid);
    assert_eq!(find(&groups, &extra.uuid.to_string()).unwrap().name, "gpu");
    assert!(matches!(
        find(&groups, "x"),
        Err(Error::NodeGroupNotFound(_))
    ));
}

#[test]
fn totals_follow_a_change_an_addition_or_a_removal() {
    let bay = a_bay(3);
    let groups = groups_of(&bay, Vec::new(), None);
    let added = new_group("more", 4)
        .into_group(&bay, &groups, None, Utc::now())
        .unwrap();
    assert_eq!(total_workers(&groups, Some(&added), None), 7);
    let with = groups_of(&a_bay(7), vec![added.clone()], None);
    let resized = added.resized(1, Utc::now()).unwrap();
    assert_eq!(total_workers(&with, Some(&resized), None), 4);
    assert_eq!(total_workers(&with, None, Some(added.uuid)), 3);
    let worker = with[1].resized(10, Utc::now()).unwrap();
    assert_eq!(total_workers(&with, Some(&worker), None), 14);
}

#[test]
fn bad_groups_are_refused_with_magnums_texts() {
    let bay = a_bay(1);
    let groups = groups_of(&bay, Vec::new(), None);
    let now = Utc::now();
    let taken = new_group(DEFAULT_WORKER, 1).into_group(&bay, &groups, None, now);
    assert!(matches!(taken, Err(Error::NodeGroupExists { .. })));
    let master = NewNodeGroup {
        role: Some("master".into()),
        ..new_group("m", 1)
    };
    assert!(matches!(
        master.into_group(&bay, &groups, None, now),
        Err(Error::MasterNodeGroupNotSupported)
    ));
    let bounds = NewNodeGroup {
        min_node_count: Some(3),
        ..new_group("g", 2)
    };
    let refused = bounds.into_group(&bay, &groups, None, now).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "node_count for g is invalid (node_count (2) should be greater or equal to min_node_count (3))."
    );
    let inverted = NewNodeGroup {
        min_node_count: Some(3),
        max_node_count: Some(2),
        ..new_group("g", 2)
    };
    assert!(matches!(
        inverted.into_group(&bay, &groups, None, now),
        Err(Error::NodeGroupInvalid {
            attribute: "min_node_count",
            ..
        })
    ));
    assert!(
        new_group("g", -1)
            .into_group(&bay, &groups, None, now)
            .is_err()
    );
}

#[test]
fn limits_change_on_stored_groups_only_and_resizes_stay_in_range() {
    let bay = a_bay(2);
    let groups = groups_of(&bay, Vec::new(), None);
    let now = Utc::now();
    assert!(matches!(
        groups[1].with_limits(Some(0), None, now),
        Err(Error::DefaultNodeGroupFixed(_))
    ));
    let group = new_group("g", 2)
        .into_group(&bay, &groups, None, now)
        .unwrap();
    let limited = group.with_limits(Some(1), Some(Some(3)), now).unwrap();
    assert_eq!(
        (limited.min_node_count, limited.max_node_count),
        (1, Some(3))
    );
    assert!(
        group.with_limits(Some(3), None, now).is_err(),
        "min above the count"
    );
    let refused = limited.resized(4, now).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Resizing g outside the allowed range: min_node_count = 1, max_node_count = 3"
    );
    assert_eq!(limited.resized(3, now).unwrap().node_count, 3);
    let unlimited = limited.with_limits(None, Some(None), now).unwrap();
    assert_eq!(unlimited.max_node_count, None);
    assert!(matches!(
        groups[0].resized(3, now),
        Err(Error::MasterNodeGroupResize)
    ));
}
