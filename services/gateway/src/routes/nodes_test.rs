//! Unit tests of `nodes`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn base() -> BaseUrl {
    BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/"))
}

#[test]
fn the_table_matches_the_view() {
    let value = serde_json::to_value(NodeView::new(&Node::default(), &base())).unwrap();
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
    assert!(value.get("project_id").is_none());
    assert!(SCHEMA.attribute("name").is_none(), "nodes have no name");
}

#[test]
fn the_summary_is_liberty_s_set() {
    let summary = NodeSummary::from(NodeView::new(&Node::default(), &base()));
    let value = serde_json::to_value(summary).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["image_id", "ironic_node_id", "links", "type", "uuid"]
    );
}

#[test]
fn every_writable_attribute_reaches_the_spec() {
    let body = serde_json::json!({
        "uuid": "u", "type": "virt", "image_id": "i", "ironic_node_id": "ir"
    });
    let spec = spec_from(&SCHEMA.parse_create(&body).unwrap());
    assert_eq!(spec.r#type.as_deref(), Some("virt"));
    let debug = format!("{spec:?}");
    assert!(
        !debug.contains(": None"),
        "an attribute is not mapped: {debug}"
    );
    let empty = spec_from(&SCHEMA.parse_create(&serde_json::json!({})).unwrap());
    assert_eq!(empty, NodeSpec::default(), "nothing is mandatory");
}

#[test]
fn idents_must_be_uuids() {
    let canonical = "27e3153e-d5bf-4b7e-b517-fb518e17f34c";
    assert_eq!(node_uuid(canonical).unwrap(), canonical);
    assert_eq!(
        node_uuid("27E3153ED5BF4B7EB517FB518E17F34C").unwrap(),
        canonical
    );
    let error = node_uuid("my-node").unwrap_err();
    assert_eq!(error.to_string(), "Expected a uuid but received my-node.");
}
