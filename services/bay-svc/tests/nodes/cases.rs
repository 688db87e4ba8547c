//! The node scenarios, each run against every database backend (see `main.rs`).

use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::node_service_server::NodeService;
use magnum_proto::common::v1::ListOptions;
use tonic::Code;

use crate::harness::{Harness, admin, assert_code, assert_status, member, spec};

pub async fn create_get_and_round_trip(h: &Harness) {
    let alice = member("project-a");
    let created = h
        .create(&alice, spec("virt", "fedora", Some("ironic-1")))
        .await
        .expect("create");
    assert_eq!(created.r#type.as_deref(), Some("virt"));
    assert_eq!(created.image_id.as_deref(), Some("fedora"));
    assert_eq!(created.ironic_node_id.as_deref(), Some("ironic-1"));
    assert_eq!(created.project_id, "project-a");
    assert_eq!(created.user_id, "project-a-user");
    assert!(uuid::Uuid::parse_str(&created.uuid).is_ok());
    assert!(created.created_at.is_some());
    assert!(created.updated_at.is_none());
    assert_eq!(h.get(&alice, &created.uuid).await.expect("get"), created);

    // Every field is optional; a client may choose the uuid.
    let bare = h
        .create(
            &alice,
            pb::NodeSpec {
                uuid: Some("27e3153e-d5bf-4b7e-b517-fb518e17f34c".to_owned()),
                ..Default::default()
            },
        )
        .await
        .expect("create");
    assert_eq!(bare.uuid, "27e3153e-d5bf-4b7e-b517-fb518e17f34c");
    assert_eq!(bare.r#type, None);
    assert_eq!(bare.image_id, None);
    assert_eq!(bare.ironic_node_id, None);
    assert_eq!(h.get(&alice, &bare.uuid).await.expect("get"), bare);

    // A taken uuid is a conflict, whoever asks.
    let again = pb::NodeSpec {
        uuid: Some(bare.uuid.clone()),
        ..Default::default()
    };
    assert_status(
        h.create(&member("project-b"), again).await,
        Code::AlreadyExists,
        "A node with UUID 27e3153e-d5bf-4b7e-b517-fb518e17f34c already exists.",
    );
}

pub async fn validation_errors(h: &Harness) {
    let alice = member("project-a");
    assert_status(
        h.create(
            &alice,
            pb::NodeSpec {
                uuid: Some("my-node".to_owned()),
                ..Default::default()
            },
        )
        .await,
        Code::InvalidArgument,
        "Invalid input for field/attribute uuid. Value: 'my-node'. \
         Expected a uuid but received my-node.",
    );
    let long = "x".repeat(256);
    assert_status(
        h.create(&alice, spec("virt", &long, None)).await,
        Code::InvalidArgument,
        &format!(
            "Invalid input for field/attribute image_id. Value: '{long}'. \
             Value should have a maximum character requirement of 255"
        ),
    );
    assert_status(
        h.create(&alice, spec("", "fedora", None)).await,
        Code::InvalidArgument,
        "Invalid input for field/attribute type. Value: ''. \
         Value should have a minimum character requirement of 1",
    );
    assert_code(
        h.create(&alice, spec("virt", "fedora", Some(""))).await,
        Code::InvalidArgument,
    );
    // 255 characters (not bytes) is fine.
    let wide = "é".repeat(255);
    let stored = h
        .create(&alice, spec(&wide, "fedora", Some(&wide)))
        .await
        .expect("create");
    assert_eq!(h.get(&alice, &stored.uuid).await.expect("get"), stored);
    // Missing request context: the auth layer did not run.
    let request = tonic::Request::new(pb::GetNodeRequest {
        uuid: stored.uuid.clone(),
    });
    assert_code(h.api.get_node(request).await, Code::Unauthenticated);
    let listed = h.list(&alice, ListOptions::default()).await.expect("list");
    assert_eq!(listed.nodes.len(), 1, "refused creates store nothing");
}

pub async fn lookups_are_by_uuid_only(h: &Harness) {
    let alice = member("project-a");
    let node = h
        .create(&alice, spec("virt", "fedora", Some("ironic-1")))
        .await
        .expect("create");
    for ident in ["my-node", "virt", "ironic-1", "", "123"] {
        let expected = format!("Expected a uuid but received {ident}.");
        assert_status(h.get(&alice, ident).await, Code::InvalidArgument, &expected);
        assert_status(
            h.update(&alice, ident, spec("bare", "x", None), &["type"])
                .await,
            Code::InvalidArgument,
            &expected,
        );
        assert_status(
            h.delete(&alice, ident).await,
            Code::InvalidArgument,
            &expected,
        );
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_status(
        h.get(&alice, &unknown).await,
        Code::NotFound,
        &format!("Node {unknown} could not be found."),
    );
    assert_eq!(h.get(&alice, &node.uuid).await.expect("get"), node);
}

pub async fn ironic_node_ids_are_unique_across_projects(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let taken = "A node with ironic_node_id ironic-1 already exists.";
    let first = h
        .create(&alice, spec("bare", "fedora", Some("ironic-1")))
        .await
        .expect("create");
    assert_status(
        h.create(&alice, spec("bare", "ubuntu", Some("ironic-1")))
            .await,
        Code::AlreadyExists,
        taken,
    );
    // Even another project, which cannot see the first node, cannot take the id.
    assert_status(
        h.create(&bob, spec("bare", "ubuntu", Some("ironic-1")))
            .await,
        Code::AlreadyExists,
        taken,
    );
    // Nodes without an ironic_node_id never collide.
    for caller in [&alice, &alice, &bob] {
        h.create(caller, spec("virt", "fedora", None))
            .await
            .expect("create");
    }
    // Updating onto a taken id is refused too, and changes nothing.
    let bobs = h
        .create(&bob, spec("bare", "fedora", Some("ironic-2")))
        .await
        .expect("create");
    assert_status(
        h.update(
            &bob,
            &bobs.uuid,
            spec("", "", Some("ironic-1")),
            &["ironic_node_id"],
        )
        .await,
        Code::AlreadyExists,
        taken,
    );
    assert_eq!(h.get(&bob, &bobs.uuid).await.expect("get"), bobs);
    // Once freed, the id is available again.
    h.update(
        &alice,
        &first.uuid,
        pb::NodeSpec::default(),
        &["ironic_node_id"],
    )
    .await
    .expect("update");
    let moved = h
        .update(
            &bob,
            &bobs.uuid,
            spec("", "", Some("ironic-1")),
            &["ironic_node_id"],
        )
        .await
        .expect("update");
    assert_eq!(moved.ironic_node_id.as_deref(), Some("ironic-1"));
    // Keeping one's own id while changing other fields is no conflict.
    let retyped = h
        .update(&bob, &bobs.uuid, spec("virt", "", None), &["type"])
        .await
        .expect("update");
    assert_eq!(retyped.ironic_node_id.as_deref(), Some("ironic-1"));
}

pub async fn tenants_cannot_touch_each_others_nodes(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let alices = h
        .create(&alice, spec("virt", "fedora", Some("ironic-a")))
        .await
        .expect("create");
    let bobs = h
        .create(&bob, spec("virt", "fedora", None))
        .await
        .expect("create");

    let not_found = format!("Node {} could not be found.", alices.uuid);
    assert_status(h.get(&bob, &alices.uuid).await, Code::NotFound, &not_found);
    assert_status(
        h.update(&bob, &alices.uuid, spec("bare", "x", None), &["type"])
            .await,
        Code::NotFound,
        &not_found,
    );
    assert_status(
        h.delete(&bob, &alices.uuid).await,
        Code::NotFound,
        &not_found,
    );
    let listed = h.list(&bob, ListOptions::default()).await.expect("list");
    let uuids: Vec<&str> = listed.nodes.iter().map(|n| n.uuid.as_str()).collect();
    assert_eq!(uuids, [bobs.uuid.as_str()]);
    // Another project's node is no marker either.
    assert_status(
        h.list(
            &bob,
            ListOptions {
                page_token: alices.uuid.clone(),
                ..ListOptions::default()
            },
        )
        .await,
        Code::NotFound,
        &not_found,
    );
    // Asking for every project is for admins only.
    assert_status(
        h.list(
            &bob,
            ListOptions {
                all_projects: true,
                ..ListOptions::default()
            },
        )
        .await,
        Code::PermissionDenied,
        "Policy doesn't allow node:get_all_all_projects to be performed.",
    );
    assert_eq!(h.get(&alice, &alices.uuid).await.expect("get"), alices);
}

pub async fn admins_reach_every_project(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let root = admin("project-admin");
    let alices = h
        .create(&alice, spec("virt", "fedora", None))
        .await
        .expect("create");
    let bobs = h
        .create(&bob, spec("bare", "ubuntu", None))
        .await
        .expect("create");
    let roots = h
        .create(&root, spec("virt", "cirros", None))
        .await
        .expect("create");
    assert_eq!(roots.project_id, "project-admin");

    // Without all_projects an admin lists their own project's nodes.
    let own = h.list(&root, ListOptions::default()).await.expect("list");
    let uuids: Vec<&str> = own.nodes.iter().map(|n| n.uuid.as_str()).collect();
    assert_eq!(uuids, [roots.uuid.as_str()]);
    let every = h
        .list(
            &root,
            ListOptions {
                all_projects: true,
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    let uuids: Vec<&str> = every.nodes.iter().map(|n| n.uuid.as_str()).collect();
    assert_eq!(
        uuids,
        [
            alices.uuid.as_str(),
            bobs.uuid.as_str(),
            roots.uuid.as_str()
        ]
    );

    assert_eq!(h.get(&root, &alices.uuid).await.expect("get"), alices);
    let changed = h
        .update(&root, &alices.uuid, spec("bare", "", None), &["type"])
        .await
        .expect("update");
    assert_eq!(changed.r#type.as_deref(), Some("bare"));
    assert_eq!(changed.project_id, "project-a", "the owner stays");
    assert_eq!(changed.user_id, "project-a-user");
    h.delete(&root, &bobs.uuid).await.expect("delete");
    assert_code(h.get(&bob, &bobs.uuid).await, Code::NotFound);
}

pub async fn update_mask_semantics(h: &Harness) {
    let alice = member("project-a");
    let created = h
        .create(&alice, spec("virt", "fedora", Some("ironic-1")))
        .await
        .expect("create");

    // Only the named fields change; other values in the spec are ignored.
    let retyped = h
        .update(
            &alice,
            &created.uuid,
            spec("bare", "ignored", None),
            &["type"],
        )
        .await
        .expect("update");
    assert_eq!(retyped.r#type.as_deref(), Some("bare"));
    assert_eq!(retyped.image_id.as_deref(), Some("fedora"));
    assert_eq!(retyped.ironic_node_id.as_deref(), Some("ironic-1"));
    assert_eq!(retyped.created_at, created.created_at);
    assert!(retyped.updated_at.is_some());
    assert_eq!(h.get(&alice, &created.uuid).await.expect("get"), retyped);

    // Named but unset: cleared.
    let cleared = h
        .update(
            &alice,
            &created.uuid,
            pb::NodeSpec::default(),
            &["image_id", "ironic_node_id"],
        )
        .await
        .expect("update");
    assert_eq!(cleared.r#type.as_deref(), Some("bare"));
    assert_eq!(cleared.image_id, None);
    assert_eq!(cleared.ironic_node_id, None);
    assert_eq!(h.get(&alice, &created.uuid).await.expect("get"), cleared);

    // No mask: every field the spec sets.
    let implied = h
        .update(
            &alice,
            &created.uuid,
            pb::NodeSpec {
                image_id: Some("ubuntu".to_owned()),
                ..Default::default()
            },
            &[],
        )
        .await
        .expect("update");
    assert_eq!(implied.image_id.as_deref(), Some("ubuntu"));
    assert_eq!(implied.r#type.as_deref(), Some("bare"));
    assert_eq!(implied.ironic_node_id, None);

    // `*`: every field, from the spec.
    let replaced = h
        .update(
            &alice,
            &created.uuid,
            spec("virt", "cirros", Some("i-9")),
            &["*"],
        )
        .await
        .expect("update");
    assert_eq!(replaced.r#type.as_deref(), Some("virt"));
    assert_eq!(replaced.image_id.as_deref(), Some("cirros"));
    assert_eq!(replaced.ironic_node_id.as_deref(), Some("i-9"));

    // Refused updates change nothing.
    assert_status(
        h.update(&alice, &created.uuid, pb::NodeSpec::default(), &["uuid"])
            .await,
        Code::InvalidArgument,
        "'/uuid' is an internal attribute and can not be updated",
    );
    assert_status(
        h.update(
            &alice,
            &created.uuid,
            pb::NodeSpec {
                uuid: Some(uuid::Uuid::new_v4().to_string()),
                ..Default::default()
            },
            &[],
        )
        .await,
        Code::InvalidArgument,
        "'/uuid' is an internal attribute and can not be updated",
    );
    for path in ["name", "project_id", "created_at"] {
        assert_status(
            h.update(&alice, &created.uuid, pb::NodeSpec::default(), &[path])
                .await,
            Code::InvalidArgument,
            &format!("Unknown attribute for argument update_mask: {path}"),
        );
    }
    assert_code(
        h.update(&alice, &created.uuid, spec("", "x", None), &["type"])
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(h.get(&alice, &created.uuid).await.expect("get"), replaced);
}

pub async fn delete(h: &Harness) {
    let alice = member("project-a");
    let one = h
        .create(&alice, spec("virt", "fedora", Some("ironic-1")))
        .await
        .expect("create");
    let two = h
        .create(&alice, spec("virt", "fedora", None))
        .await
        .expect("create");
    h.delete(&alice, &one.uuid).await.expect("delete");
    assert_status(
        h.get(&alice, &one.uuid).await,
        Code::NotFound,
        &format!("Node {} could not be found.", one.uuid),
    );
    assert_code(h.delete(&alice, &one.uuid).await, Code::NotFound);
    let listed = h.list(&alice, ListOptions::default()).await.expect("list");
    let uuids: Vec<&str> = listed.nodes.iter().map(|n| n.uuid.as_str()).collect();
    assert_eq!(uuids, [two.uuid.as_str()]);
    // A deleted node's ironic_node_id is free again.
    h.create(&member("project-b"), spec("bare", "x", Some("ironic-1")))
        .await
        .expect("create");
}

/// How a listing sorted by `sort_key` must come out: NULLs first ascending, last
/// descending, ties in creation order (reversed when descending).
fn expected_order(items: &[pb::Node], sort_key: &str, descending: bool) -> Vec<String> {
    let key = |index: usize, node: &pb::Node| -> Option<String> {
        let timestamp = |t: &prost_types::Timestamp| format!("{:020}{:09}", t.seconds, t.nanos);
        match sort_key {
            "" | "id" => Some(format!("{index:06}")),
            "type" => node.r#type.clone(),
            "image_id" => node.image_id.clone(),
            "ironic_node_id" => node.ironic_node_id.clone(),
            "updated_at" => node.updated_at.as_ref().map(timestamp),
            other => panic!("no expectation for sort key {other}"),
        }
    };
    let mut keyed: Vec<(Option<String>, usize, String)> = items
        .iter()
        .enumerate()
        .map(|(index, n)| (key(index, n), index, n.uuid.clone()))
        .collect();
    // `None < Some(_)`: exactly NULLS FIRST.
    keyed.sort();
    if descending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, _, uuid)| uuid).collect()
}

pub async fn pagination_and_sorting(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let mut created = Vec::new();
    for (caller, node_type, image, ironic) in [
        (&alice, Some("virt"), Some("fedora"), Some("i-3")),
        (&alice, None, Some("ubuntu"), None),
        (&bob, Some("bare"), Some("aaa"), Some("i-0")),
        (&alice, Some("bare"), None, Some("i-1")),
        (&alice, Some("virt"), Some("cirros"), None),
        (&alice, Some("bare"), Some("fedora"), Some("i-2")),
    ] {
        let spec = pb::NodeSpec {
            uuid: None,
            r#type: node_type.map(str::to_owned),
            image_id: image.map(str::to_owned),
            ironic_node_id: ironic.map(str::to_owned),
        };
        created.push(h.create(caller, spec).await.expect("create"));
    }
    // Some rows get an updated_at, the others keep NULL.
    for index in [3, 1] {
        let uuid = created[index].uuid.clone();
        h.update(&alice, &uuid, pb::NodeSpec::default(), &[])
            .await
            .expect("update");
    }
    let mut visible = Vec::new();
    for node in &created {
        if node.project_id == "project-a" {
            visible.push(h.get(&alice, &node.uuid).await.expect("get"));
        }
    }
    assert_eq!(visible.len(), 5);

    for sort_key in ["", "id", "type", "image_id", "ironic_node_id", "updated_at"] {
        for sort_dir in ["", "asc", "desc"] {
            let want = expected_order(&visible, sort_key, sort_dir == "desc");
            for page_size in [1, 2, 5, 0] {
                let pages = h
                    .list_all_pages(
                        &alice,
                        ListOptions {
                            page_size,
                            sort_key: sort_key.to_owned(),
                            sort_dir: sort_dir.to_owned(),
                            ..ListOptions::default()
                        },
                    )
                    .await;
                let got: Vec<String> = pages.iter().flatten().cloned().collect();
                assert_eq!(
                    got, want,
                    "sort_key={sort_key:?} sort_dir={sort_dir:?} page_size={page_size}"
                );
                // A full page always offers a next one, even when nothing follows.
                let size = if page_size == 0 {
                    1000
                } else {
                    page_size as usize
                };
                assert_eq!(pages.len(), 5 / size + 1, "page_size={page_size}");
            }
        }
    }
}

pub async fn bad_markers_and_sort_keys(h: &Harness) {
    let alice = member("project-a");
    h.create(&alice, spec("virt", "fedora", None))
        .await
        .expect("create");
    let list = |options: ListOptions| h.list(&alice, options);

    assert_status(
        list(ListOptions {
            page_token: "not-a-uuid".to_owned(),
            ..ListOptions::default()
        })
        .await,
        Code::InvalidArgument,
        "Expected a uuid but received not-a-uuid.",
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_status(
        list(ListOptions {
            page_token: unknown.clone(),
            ..ListOptions::default()
        })
        .await,
        Code::NotFound,
        &format!("Node {unknown} could not be found."),
    );
    for key in ["name", "bogus", "node_type", "id; drop table nodes"] {
        assert_status(
            list(ListOptions {
                sort_key: key.to_owned(),
                ..ListOptions::default()
            })
            .await,
            Code::InvalidArgument,
            &format!("The sort_key value \"{key}\" is an invalid field for sorting"),
        );
    }
    assert_code(
        list(ListOptions {
            sort_dir: "sideways".to_owned(),
            ..ListOptions::default()
        })
        .await,
        Code::InvalidArgument,
    );
    // Every stored scalar column sorts on both databases.
    for key in [
        "id",
        "uuid",
        "type",
        "image_id",
        "ironic_node_id",
        "project_id",
        "user_id",
        "created_at",
        "updated_at",
    ] {
        for dir in ["asc", "desc"] {
            let listed = list(ListOptions {
                sort_key: key.to_owned(),
                sort_dir: dir.to_owned(),
                ..ListOptions::default()
            })
            .await
            .expect("list");
            assert_eq!(listed.nodes.len(), 1, "sort_key={key} sort_dir={dir}");
        }
    }
}
