//! Unit tests of `baymodels`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::attributes::Access;

#[test]
fn the_table_matches_the_view() {
    let view = BayModelView::new(
        &BayModel::default(),
        &BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/")),
    );
    let value = serde_json::to_value(view).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut names: Vec<&str> = ATTRIBUTES.iter().map(|a| a.name).collect();
    let mut sorted_keys = keys.clone();
    sorted_keys.sort_unstable();
    names.sort_unstable();
    assert_eq!(sorted_keys, names);
    assert!(value.get("project_id").is_none());
}

#[test]
fn mandatory_attributes_are_the_non_removable_ones() {
    for path in ["/coe", "/image_id", "/keypair_id"] {
        assert!(SCHEMA.is_non_removable_path(path), "{path}");
    }
    assert!(!SCHEMA.is_non_removable_path("/name"));
    assert_eq!(
        SCHEMA.attribute("cluster_distro").map(|a| a.access),
        Some(Access::Derived)
    );
}

#[test]
fn every_writable_attribute_reaches_the_spec() {
    let body = serde_json::json!({
        "uuid": "u", "name": "n", "coe": "swarm", "image_id": "i", "keypair_id": "k",
        "flavor_id": "f", "master_flavor_id": "mf", "dns_nameserver": "8.8.8.8",
        "external_network_id": "e", "fixed_network": "fn", "fixed_subnet": "fs",
        "network_driver": "nd", "volume_driver": "vd", "apiserver_port": "8443",
        "docker_volume_size": 5, "docker_storage_driver": "overlay2",
        "ssh_authorized_key": "ssh", "http_proxy": "hp", "https_proxy": "hsp",
        "no_proxy": "np", "insecure_registry": "ir", "registry_enabled": "true",
        "labels": {"a": "b"}, "tls_disabled": false, "public": "no", "server_type": "vm",
        "master_lb_enabled": true, "floating_ip_enabled": "off", "hidden": "1", "tags": "t"
    });
    let spec = spec_from(&SCHEMA.parse_create(&body).unwrap());
    assert_eq!(spec.apiserver_port, Some(8443));
    assert_eq!(spec.registry_enabled, Some(true));
    assert_eq!(spec.floating_ip_enabled, Some(false));
    assert_eq!(spec.hidden, Some(true));
    assert_eq!(
        spec.labels
            .as_ref()
            .and_then(|l| l.values.get("a"))
            .map(String::as_str),
        Some("b")
    );
    let debug = format!("{spec:?}");
    assert!(
        !debug.contains(": None"),
        "an attribute is not mapped: {debug}"
    );
}
