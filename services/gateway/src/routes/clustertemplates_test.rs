//! Unit tests of `clustertemplates`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::error::Error;

fn base() -> BaseUrl {
    BaseUrl::from_request(&axum::http::HeaderMap::new(), &Uri::from_static("/"))
}

#[test]
fn the_table_matches_the_view() {
    let value =
        serde_json::to_value(ClusterTemplateView::new(&BayModel::default(), &base())).unwrap();
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
}

#[test]
fn keypair_is_optional_and_links_name_the_collection() {
    assert!(!SCHEMA.attribute("keypair_id").unwrap().mandatory);
    assert!(SCHEMA.is_non_removable_path("/public"));
    let body = serde_json::json!({"coe": "kubernetes", "image_id": "fedora"});
    assert!(SCHEMA.parse_create(&body).is_ok());
    let refused = SCHEMA
        .parse_create(&serde_json::json!({"coe": "kubernetes", "image_id": "f", "project_id": "p"}))
        .unwrap_err();
    assert!(
        refused.to_string().contains("Cannot set read only field."),
        "{refused}"
    );
    let model = BayModel {
        uuid: "u1".into(),
        ..BayModel::default()
    };
    let view = ClusterTemplateView::new(&model, &base());
    assert!(
        view.template.links[0]
            .href
            .ends_with("/v1/clustertemplates/u1")
    );
}

#[test]
fn errors_speak_of_cluster_templates() {
    let status = tonic::Status::not_found("Baymodel x could not be found.");
    assert_eq!(
        Error::from(status).in_cluster_terms().to_string(),
        "ClusterTemplate x could not be found."
    );
    let status =
        tonic::Status::invalid_argument("Baymodel m is referenced by one or multiple bays.");
    assert_eq!(
        Error::from(status).in_cluster_terms().to_string(),
        "ClusterTemplate m is referenced by one or multiple clusters."
    );
    let status = tonic::Status::already_exists(
        "Multiple baymodels exist with same name. Please use the baymodel uuid instead.",
    );
    assert_eq!(
        Error::from(status).in_cluster_terms().to_string(),
        "Multiple clustertemplates exist with same name. Please use the clustertemplate uuid instead."
    );
}
