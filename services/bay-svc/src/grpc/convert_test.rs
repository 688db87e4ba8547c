//! Unit tests of `convert`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use super::*;
use crate::domain::baymodel::{BayModelField, Owner};
use crate::domain::node::NodeField;

#[test]
fn spec_to_domain_and_back() {
    let spec = pb::BayModelSpec {
        name: Some("k8s".into()),
        coe: Some("kubernetes".into()),
        image_id: Some("fedora".into()),
        keypair_id: Some("key".into()),
        labels: Some(pb::Labels {
            values: HashMap::from([("os_distro".into(), "fedora-atomic".into())]),
        }),
        docker_volume_size: Some(5),
        ..Default::default()
    };
    let owner = Owner {
        project_id: "p".into(),
        user_id: "u".into(),
    };
    let baymodel = NewBayModel::from(spec)
        .into_baymodel(owner, Utc::now())
        .unwrap();
    let message = pb::BayModel::from(baymodel.clone());
    assert_eq!(message.uuid, baymodel.uuid.to_string());
    assert_eq!(message.network_driver.as_deref(), Some("flannel"));
    assert_eq!(message.cluster_distro.as_deref(), Some("fedora-atomic"));
    assert_eq!(message.driver, "kubernetes");
    assert_eq!(message.docker_volume_size, Some(5));
    assert!(message.floating_ip_enabled);
    assert!(message.created_at.is_some());
    assert!(message.updated_at.is_none());
}

#[test]
fn masks_become_changes() {
    let mask = FieldMask {
        paths: vec!["name".into(), "labels".into()],
    };
    let changes = changes(None, Some(mask)).unwrap();
    assert_eq!(
        changes.fields(),
        &[BayModelField::Name, BayModelField::Labels]
    );
    let bad = FieldMask {
        paths: vec!["project_id".into()],
    };
    assert!(changes_error(bad).contains("update_mask: project_id"));
}

fn changes_error(mask: FieldMask) -> String {
    changes(None, Some(mask)).unwrap_err().to_string()
}

#[test]
fn node_spec_to_domain_and_back() {
    let spec = pb::NodeSpec {
        r#type: Some("bare".into()),
        image_id: Some("fedora".into()),
        ironic_node_id: Some("ironic-7".into()),
        ..Default::default()
    };
    let owner = Owner {
        project_id: "p".into(),
        user_id: "u".into(),
    };
    let node = NewNode::from(spec).into_node(owner, Utc::now()).unwrap();
    let message = pb::Node::from(node.clone());
    assert_eq!(message.uuid, node.uuid.to_string());
    assert_eq!(message.r#type.as_deref(), Some("bare"));
    assert_eq!(message.image_id.as_deref(), Some("fedora"));
    assert_eq!(message.ironic_node_id.as_deref(), Some("ironic-7"));
    assert_eq!(message.project_id, "p");
    assert!(message.created_at.is_some());
    assert!(message.updated_at.is_none());
}

#[test]
fn node_masks_become_changes() {
    let mask = FieldMask {
        paths: vec!["type".into()],
    };
    let changes = node_changes(None, Some(mask)).unwrap();
    assert_eq!(changes.fields(), &[NodeField::Type]);
    let bad = FieldMask {
        paths: vec!["name".into()],
    };
    let error = node_changes(None, Some(bad)).unwrap_err().to_string();
    assert_eq!(error, "Unknown attribute for argument update_mask: name");
}
