//! Unit tests of `nodegroups`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use magnum_proto::bay::v1::Bay;

fn base() -> BaseUrl {
    BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/"))
}

fn cluster() -> Bay {
    Bay {
        uuid: "6f1b7a1e-3c37-4b8e-9d8e-8d3c6a1f2b10".into(),
        node_addresses: vec!["10.0.0.2".into()],
        master_addresses: vec!["10.0.0.1".into()],
        ..Bay::default()
    }
}

fn group(name: &str, role: &str, is_default: bool) -> NodeGroup {
    NodeGroup {
        uuid: format!("{name}-uuid"),
        name: name.into(),
        bay_uuid: cluster().uuid,
        role: role.into(),
        node_count: 2,
        is_default,
        ..NodeGroup::default()
    }
}

#[test]
fn the_table_matches_the_view() {
    let value =
        serde_json::to_value(view(&group("g", "worker", false), &cluster(), &base())).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut names: Vec<&str> = ATTRIBUTES.iter().map(|a| a.name).collect();
    keys.sort_unstable();
    names.sort_unstable();
    assert_eq!(keys, names);
    for name in SUMMARY {
        assert!(SCHEMA.attribute(name).is_some(), "{name}");
    }
}

#[test]
fn default_groups_show_the_clusters_addresses() {
    let master = view(
        &group("default-master", "master", true),
        &cluster(),
        &base(),
    );
    let worker = view(
        &group("default-worker", "worker", true),
        &cluster(),
        &base(),
    );
    let extra = view(&group("gpu", "worker", false), &cluster(), &base());
    assert_eq!(master.node_addresses, vec!["10.0.0.1".to_owned()]);
    assert_eq!(worker.node_addresses, vec!["10.0.0.2".to_owned()]);
    assert!(extra.node_addresses.is_empty());
    assert!(worker.links[0].href.ends_with(
        "/v1/clusters/6f1b7a1e-3c37-4b8e-9d8e-8d3c6a1f2b10/nodegroups/default-worker-uuid"
    ));
}

#[test]
fn only_the_limits_are_patchable() {
    for path in ["/name", "/node_count", "/role", "/labels"] {
        assert!(SCHEMA.is_internal_path(path), "{path}");
    }
    assert!(!SCHEMA.is_internal_path("/max_node_count"));
    assert!(SCHEMA.is_non_removable_path("/min_node_count"));
}
