//! Unit tests of `nodegroups`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn cluster() -> Bay {
    Bay {
        uuid: "6f1b7a1e-3c37-4b8e-9d8e-8d3c6a1f2b10".into(),
        node_count: 3,
        master_count: 1,
        node_addresses: vec!["10.0.0.2".into()],
        master_addresses: vec!["10.0.0.1".into()],
        flavor_id: Some("m1.small".into()),
        ..Bay::default()
    }
}

fn base() -> BaseUrl {
    BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/"))
}

#[test]
fn every_cluster_has_a_master_and_a_worker_group() {
    let [master, worker] = groups(&cluster(), Some("fedora"), &base());
    assert_eq!(
        (master.name.as_str(), master.role.as_str()),
        (DEFAULT_MASTER, "master")
    );
    assert_eq!(
        (worker.name.as_str(), worker.role.as_str()),
        (DEFAULT_WORKER, "worker")
    );
    assert_eq!((master.node_count, worker.node_count), (1, 3));
    assert_eq!(worker.node_addresses, vec!["10.0.0.2".to_owned()]);
    assert_eq!(worker.flavor_id.as_deref(), Some("m1.small"));
    assert_eq!(worker.image_id.as_deref(), Some("fedora"));
    assert!(master.is_default && worker.is_default);
    // Stable across requests, distinct per group.
    let [again, _] = groups(&cluster(), None, &base());
    assert_eq!(master.uuid, again.uuid);
    assert_ne!(master.uuid, worker.uuid);
    assert!(
        worker.links[0]
            .href
            .contains("/v1/clusters/6f1b7a1e-3c37-4b8e-9d8e-8d3c6a1f2b10/nodegroups/")
    );
}

#[test]
fn groups_are_found_by_uuid_name_or_id() {
    let all = groups(&cluster(), None, &base());
    let worker_uuid = all[1].uuid.clone();
    for ident in [worker_uuid.as_str(), DEFAULT_WORKER, "2"] {
        assert_eq!(find_group(&all, ident).unwrap().name, DEFAULT_WORKER);
    }
    let missing = find_group(&all, "extra").unwrap_err();
    assert_eq!(missing.to_string(), "Nodegroup extra could not be found.");
}

#[test]
fn only_the_worker_group_resizes() {
    assert!(resizable(&cluster(), DEFAULT_WORKER).is_ok());
    assert!(resizable(&cluster(), DEFAULT_MASTER).is_err());
    assert!(resizable(&cluster(), "nope").is_err());
}
