//! Unit tests of `clusters`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn base() -> BaseUrl {
    BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/"))
}

fn failed_bay() -> Bay {
    let mut bay = Bay {
        uuid: "c1".into(),
        ..Bay::default()
    };
    bay.set_status(magnum_proto::bay::v1::BayStatus::CreateFailed);
    bay.faults.insert("default-worker".into(), "boom".into());
    bay
}

#[test]
fn the_table_matches_the_view() {
    let view = ClusterView::new(&failed_bay(), &base()).with_label_differences(&BTreeMap::new());
    let value = serde_json::to_value(view).unwrap();
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
    assert_eq!(value["faults"]["default-worker"], "boom");
    assert_eq!(value["status"], "CREATE_FAILED");
}

#[test]
fn faults_only_when_failed() {
    let value = serde_json::to_value(ClusterView::new(&Bay::default(), &base())).unwrap();
    assert!(value.get("faults").is_none());
    assert!(value.get("labels_added").is_none(), "show only");
}

#[test]
fn label_differences_compare_with_the_template() {
    let mut bay = Bay::default();
    bay.labels.insert("a".into(), "1".into());
    bay.labels.insert("b".into(), "changed".into());
    let template: BTreeMap<String, String> = [
        ("b".to_owned(), "2".to_owned()),
        ("c".to_owned(), "3".to_owned()),
    ]
    .into();
    let view = ClusterView::new(&bay, &base()).with_label_differences(&template);
    assert_eq!(
        view.labels_added.unwrap(),
        [("a".to_owned(), "1".to_owned())].into()
    );
    assert_eq!(
        view.labels_overridden.unwrap(),
        [("b".to_owned(), "2".to_owned())].into()
    );
    assert_eq!(
        view.labels_skipped.unwrap(),
        [("c".to_owned(), "3".to_owned())].into()
    );
}

#[test]
fn names_follow_magnums_pattern() {
    assert!(check_name("k8s-cluster_1.a").is_ok());
    for bad in ["1abc", "-x", "has space", "ünï"] {
        let error = check_name(bad).unwrap_err();
        assert!(
            error.to_string().contains("Expected a name but received"),
            "{error}"
        );
    }
}

#[test]
fn create_timeout_is_60_when_absent_and_the_default_when_null() {
    let body = serde_json::json!({"cluster_template_id": "t"});
    let values = SCHEMA.parse_create(&body).unwrap();
    assert_eq!(spec_from(&values, &body).bay_create_timeout, Some(60));
    let body = serde_json::json!({"cluster_template_id": "t", "create_timeout": null});
    let values = SCHEMA.parse_create(&body).unwrap();
    assert_eq!(spec_from(&values, &body).bay_create_timeout, None);
    let body =
        serde_json::json!({"cluster_template_id": "t", "merge_labels": true, "labels": {"a": "b"}});
    let values = SCHEMA.parse_create(&body).unwrap();
    let spec = spec_from(&values, &body);
    assert_eq!(spec.merge_labels, Some(true));
    assert_eq!(spec.baymodel_ident, "t");
}

#[test]
fn zero_workers_and_nodes_to_remove_are_refused_clearly() {
    assert!(check_workers(Some(0)).is_err());
    assert!(check_workers(Some(1)).is_ok());
    assert!(check_nodes_to_remove(&serde_json::json!({"nodes_to_remove": []})).is_ok());
    assert!(check_nodes_to_remove(&serde_json::json!({})).is_ok());
    assert!(check_nodes_to_remove(&serde_json::json!({"nodes_to_remove": ["n1"]})).is_err());
    assert!(check_nodes_to_remove(&serde_json::json!({"nodes_to_remove": "n1"})).is_err());
}

#[test]
fn operations_newer_than_the_version_are_406() {
    let error = require_version(ApiVersion::new(1, 6), RESIZE_VERSION, "resize").unwrap_err();
    assert!(matches!(error, Error::VersionNotSupported(_)));
    assert_eq!(
        error.to_string(),
        "Version 1.6 was requested but the requested API resize is not supported for this version."
    );
    assert!(require_version(ApiVersion::new(1, 12), RESIZE_VERSION, "resize").is_ok());
}

#[test]
fn errors_speak_of_clusters() {
    let status = tonic::Status::not_found("Bay x could not be found.");
    assert_eq!(
        Error::from(status).in_cluster_terms().to_string(),
        "Cluster x could not be found."
    );
    let status = tonic::Status::invalid_argument(
        "Updating a bay when stack status is \"CREATE_IN_PROGRESS\" is not supported.",
    );
    assert_eq!(
        Error::from(status).in_cluster_terms().to_string(),
        "Updating a cluster when stack status is \"CREATE_IN_PROGRESS\" is not supported."
    );
}
