//! Unit tests of `containers`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn base() -> BaseUrl {
    BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/"))
}

#[test]
fn the_table_is_the_view_plus_the_image_id_alias() {
    let value = serde_json::to_value(ContainerView::new(&Container::default(), &base())).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut names: Vec<&str> = ATTRIBUTES
        .iter()
        .map(|a| a.name)
        .filter(|name| *name != IMAGE_ID.name)
        .collect();
    keys.sort_unstable();
    names.sort_unstable();
    assert_eq!(keys, names);
    assert!(value.get("project_id").is_none());
    assert!(value.get("environment").is_none());
}

#[test]
fn status_names_are_liberty_s() {
    use ContainerStatus::*;
    let names: Vec<Option<&str>> = [
        Unspecified,
        Creating,
        Running,
        Stopped,
        Paused,
        Error,
        Unknown,
    ]
    .into_iter()
    .map(status_name)
    .collect();
    assert_eq!(
        names,
        [
            None,
            None,
            Some("Running"),
            Some("Stopped"),
            Some("Paused"),
            Some("Error"),
            Some("Unknown")
        ]
    );
}

#[test]
fn every_writable_attribute_reaches_the_spec() {
    let body = serde_json::json!({
        "uuid": "u", "name": "n", "image": "i", "bay_uuid": "b", "command": "c",
        "memory": "512m", "status": "Running"
    });
    let spec = spec_from(&SCHEMA.parse_create(&body).unwrap()).unwrap();
    assert_eq!(
        spec,
        ContainerSpec {
            uuid: Some("u".into()),
            name: Some("n".into()),
            image: "i".into(),
            bay_uuid: "b".into(),
            command: Some("c".into()),
            memory: Some("512m".into()),
            environment: Default::default(),
        }
    );
}
