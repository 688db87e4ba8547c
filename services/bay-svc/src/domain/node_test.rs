//! Unit tests of `node`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn owner() -> Owner {
    Owner {
        project_id: "p1".into(),
        user_id: "u1".into(),
    }
}

fn create(input: NewNode) -> Result<Node> {
    input.into_node(owner(), Utc::now())
}

fn message(input: NewNode) -> String {
    match create(input) {
        Ok(node) => panic!("expected a validation error, got {node:?}"),
        Err(error) => error.to_string(),
    }
}

fn full() -> NewNode {
    NewNode {
        uuid: None,
        node_type: Some("virt".into()),
        image_id: Some("fedora".into()),
        ironic_node_id: Some("ironic-1".into()),
    }
}

#[test]
fn every_field_is_optional() {
    let node = create(NewNode::default()).unwrap();
    assert_eq!(node.node_type, None);
    assert_eq!(node.image_id, None);
    assert_eq!(node.ironic_node_id, None);
    assert_eq!(node.project_id, "p1");
    assert_eq!(node.user_id, "u1");
    assert_eq!(node.updated_at, None);
    assert_eq!(node.uuid.get_version_num(), 4);
}

#[test]
fn values_are_kept_as_given() {
    let node = create(NewNode {
        uuid: Some("27e3153e-d5bf-4b7e-b517-fb518e17f34c".into()),
        node_type: Some("anything goes".into()),
        ..full()
    })
    .unwrap();
    assert_eq!(
        node.uuid.to_string(),
        "27e3153e-d5bf-4b7e-b517-fb518e17f34c"
    );
    assert_eq!(node.node_type.as_deref(), Some("anything goes"));
    assert_eq!(node.image_id.as_deref(), Some("fedora"));
    assert_eq!(node.ironic_node_id.as_deref(), Some("ironic-1"));
}

#[test]
fn a_client_uuid_must_be_a_uuid() {
    assert_eq!(
        message(NewNode {
            uuid: Some("my-node".into()),
            ..full()
        }),
        "Invalid input for field/attribute uuid. Value: 'my-node'. \
         Expected a uuid but received my-node."
    );
}

#[test]
fn lengths_are_limited() {
    let long = "x".repeat(256);
    for (field, input) in [
        (
            "type",
            NewNode {
                node_type: Some(long.clone()),
                ..full()
            },
        ),
        (
            "image_id",
            NewNode {
                image_id: Some(long.clone()),
                ..full()
            },
        ),
        (
            "ironic_node_id",
            NewNode {
                ironic_node_id: Some(long.clone()),
                ..full()
            },
        ),
    ] {
        assert_eq!(
            message(input),
            format!(
                "Invalid input for field/attribute {field}. Value: '{long}'. \
                 Value should have a maximum character requirement of 255"
            )
        );
    }
    assert_eq!(
        message(NewNode {
            image_id: Some(String::new()),
            ..full()
        }),
        "Invalid input for field/attribute image_id. Value: ''. \
         Value should have a minimum character requirement of 1"
    );
    // Characters, not bytes.
    let wide = "é".repeat(255);
    assert!(
        create(NewNode {
            node_type: Some(wide),
            ..full()
        })
        .is_ok()
    );
}

#[test]
fn mask_paths() {
    let changes = NodeChanges::new(["ironic_node_id", "type", "type"], NewNode::default()).unwrap();
    assert_eq!(
        changes.fields(),
        &[NodeField::Type, NodeField::IronicNodeId]
    );
    let every = NodeChanges::new(["*"], NewNode::default()).unwrap();
    assert_eq!(every.fields(), NodeField::ALL);
    assert_eq!(
        NodeChanges::new(["uuid"], NewNode::default())
            .unwrap_err()
            .to_string(),
        "'/uuid' is an internal attribute and can not be updated"
    );
    for path in ["name", "project_id", "created_at"] {
        assert_eq!(
            NodeChanges::new([path], NewNode::default())
                .unwrap_err()
                .to_string(),
            format!("Unknown attribute for argument update_mask: {path}")
        );
    }
}

#[test]
fn no_mask_means_the_fields_given() {
    let values = NewNode {
        image_id: Some("new".into()),
        ..NewNode::default()
    };
    let changes = NodeChanges::new([], values).unwrap();
    assert_eq!(changes.fields(), &[NodeField::ImageId]);
    let with_uuid = NewNode {
        uuid: Some(Uuid::new_v4().to_string()),
        ..NewNode::default()
    };
    assert!(matches!(
        NodeChanges::new([], with_uuid),
        Err(Error::ImmutableField(_))
    ));
}

#[test]
fn apply_sets_and_clears_named_fields_only() {
    let node = create(full()).unwrap();
    let values = NewNode {
        node_type: Some("bare".into()),
        image_id: Some("ignored".into()),
        ..NewNode::default()
    };
    let now = Utc::now();
    let changes = NodeChanges::new(["type", "ironic_node_id"], values).unwrap();
    let updated = node.apply(&changes, now).unwrap();
    assert_eq!(updated.node_type.as_deref(), Some("bare"));
    assert_eq!(updated.image_id.as_deref(), Some("fedora"));
    assert_eq!(updated.ironic_node_id, None, "named but unset: cleared");
    assert_eq!(updated.uuid, node.uuid);
    assert_eq!(updated.project_id, node.project_id);
    assert_eq!(updated.created_at, node.created_at);
    assert_eq!(updated.updated_at, Some(now));

    let too_long = NewNode {
        image_id: Some("x".repeat(256)),
        ..NewNode::default()
    };
    let changes = NodeChanges::new(["image_id"], too_long).unwrap();
    assert!(matches!(
        node.apply(&changes, now),
        Err(Error::InvalidField {
            field: "image_id",
            ..
        })
    ));
}

#[test]
fn idents_are_uuids_only() {
    let uuid = "27e3153e-d5bf-4b7e-b517-fb518e17f34c";
    assert_eq!(parse_ident(uuid).unwrap().to_string(), uuid);
    assert_eq!(
        parse_ident("my-node").unwrap_err().to_string(),
        "Expected a uuid but received my-node."
    );
    assert!(matches!(parse_ident(""), Err(Error::InvalidUuid(_))));
}

#[test]
fn sort_keys() {
    assert_eq!(NodeSortKey::parse("").unwrap(), NodeSortKey::Id);
    for key in NodeSortKey::ALL {
        assert_eq!(NodeSortKey::parse(key.name()).unwrap(), *key);
    }
    assert_eq!(NodeSortKey::parse("type").unwrap(), NodeSortKey::Type);
    assert_eq!(
        NodeSortKey::parse("name").unwrap_err().to_string(),
        "The sort_key value \"name\" is an invalid field for sorting"
    );
}
