//! The baymodel scenarios, each run against every database backend (see `main.rs`).

use std::collections::HashMap;

use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_server::BayModelService;
use magnum_proto::common::v1::ListOptions;
use magnum_proto::events::v1::bay_model_changed::Change;
use tonic::Code;

use crate::harness::{Harness, admin, assert_code, assert_status, member, spec};

pub async fn create_get_and_defaults(h: &Harness) {
    let alice = member("project-a");
    let created = h
        .create(&alice, spec(Some("k8s-model")))
        .await
        .expect("create");
    assert_eq!(created.name.as_deref(), Some("k8s-model"));
    assert_eq!(created.coe, "kubernetes");
    assert_eq!(created.driver, "kubernetes");
    assert_eq!(created.network_driver.as_deref(), Some("flannel"));
    assert_eq!(created.server_type, "vm");
    assert!(created.floating_ip_enabled);
    assert!(!created.public && !created.hidden && !created.tls_disabled);
    assert!(created.labels.is_empty());
    assert_eq!(created.project_id, "project-a");
    assert_eq!(created.user_id, "project-a-user");
    assert!(created.created_at.is_some());
    assert!(created.updated_at.is_none());

    // What was stored is what was returned, by uuid and by name.
    assert_eq!(h.get(&alice, &created.uuid).await.expect("get"), created);
    assert_eq!(h.get(&alice, "k8s-model").await.expect("get"), created);

    // Every field survives the round trip through the database.
    let full = pb::BayModelSpec {
        uuid: Some("27e3153e-d5bf-4b7e-b517-fb518e17f34c".to_owned()),
        coe: Some("docker".to_owned()),
        flavor_id: Some("m1.small".to_owned()),
        master_flavor_id: Some("m1.large".to_owned()),
        dns_nameserver: Some("8.8.8.8".to_owned()),
        external_network_id: Some("public".to_owned()),
        fixed_network: Some("private".to_owned()),
        fixed_subnet: Some("private-subnet".to_owned()),
        network_driver: Some("flannel".to_owned()),
        volume_driver: Some("rexray".to_owned()),
        apiserver_port: Some(8443),
        docker_volume_size: Some(5),
        docker_storage_driver: Some("overlay2".to_owned()),
        ssh_authorized_key: Some("ssh-ed25519 AAAA".to_owned()),
        http_proxy: Some("http://proxy:3128".to_owned()),
        https_proxy: Some("https://proxy:3129".to_owned()),
        no_proxy: Some("localhost".to_owned()),
        insecure_registry: Some("registry:5000".to_owned()),
        registry_enabled: Some(true),
        labels: Some(pb::Labels {
            values: HashMap::from([
                ("os_distro".to_owned(), "fedora-atomic".to_owned()),
                ("k8s_version".to_owned(), "v1.2".to_owned()),
            ]),
        }),
        tls_disabled: Some(true),
        public: Some(true),
        server_type: Some("bm".to_owned()),
        master_lb_enabled: Some(true),
        floating_ip_enabled: Some(false),
        hidden: Some(true),
        tags: Some("a,b".to_owned()),
        ..spec(Some("swarm-model"))
    };
    let swarm = h.create(&alice, full).await.expect("create");
    assert_eq!(swarm.uuid, "27e3153e-d5bf-4b7e-b517-fb518e17f34c");
    assert_eq!(swarm.coe, "swarm");
    assert_eq!(swarm.driver, "swarm");
    assert_eq!(swarm.cluster_distro.as_deref(), Some("fedora-atomic"));
    assert_eq!(swarm.apiserver_port, Some(8443));
    assert_eq!(swarm.labels.len(), 2);
    assert!(!swarm.floating_ip_enabled);
    assert!(swarm.registry_enabled && swarm.public && swarm.hidden && swarm.master_lb_enabled);
    assert_eq!(h.get(&alice, &swarm.uuid).await.expect("get"), swarm);

    // A client uuid that is taken is a conflict, whoever asks.
    let again = pb::BayModelSpec {
        uuid: Some(swarm.uuid.clone()),
        ..spec(None)
    };
    assert_status(
        h.create(&member("project-b"), again).await,
        Code::AlreadyExists,
        "A baymodel with UUID 27e3153e-d5bf-4b7e-b517-fb518e17f34c already exists.",
    );
}

pub async fn validation_errors(h: &Harness) {
    let alice = member("project-a");
    for coe in ["mesos", "dcos", "swarm-mode", "openshift"] {
        let bad = pb::BayModelSpec {
            coe: Some(coe.to_owned()),
            ..spec(None)
        };
        assert_status(
            h.create(&alice, bad).await,
            Code::InvalidArgument,
            &format!("Requested COE type {coe} is not supported."),
        );
    }
    assert_status(
        h.create(&alice, pb::BayModelSpec::default()).await,
        Code::InvalidArgument,
        "Invalid input for field/attribute coe. Value: 'None'. Mandatory field missing.",
    );
    let bad_dns = pb::BayModelSpec {
        dns_nameserver: Some("8.8.8".to_owned()),
        ..spec(None)
    };
    assert_status(
        h.create(&alice, bad_dns).await,
        Code::InvalidArgument,
        "Invalid input for field/attribute dns_nameserver. Value: '8.8.8'. \
         Value should be IPv4 format",
    );
    let bad_uuid = pb::BayModelSpec {
        uuid: Some("xyz".to_owned()),
        ..spec(None)
    };
    assert_code(h.create(&alice, bad_uuid).await, Code::InvalidArgument);
    // Missing request context: the auth layer did not run.
    let request = tonic::Request::new(pb::GetBayModelRequest {
        ident: "x".to_owned(),
    });
    assert_code(h.api.get_bay_model(request).await, Code::Unauthenticated);

    assert!(h.outbox().await.is_empty(), "refused requests emit nothing");
}

pub async fn name_lookup_and_ambiguity(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let first = h.create(&alice, spec(Some("twin"))).await.expect("create");
    assert_eq!(h.get(&alice, "twin").await.expect("get").uuid, first.uuid);
    h.create(&alice, spec(Some("twin"))).await.expect("create");
    assert_status(
        h.get(&alice, "twin").await,
        Code::AlreadyExists,
        "Multiple baymodels exist with same name. Please use the baymodel uuid instead.",
    );
    // Ambiguity is judged within what the caller sees: bob sees neither.
    let bobs = h.create(&bob, spec(Some("twin"))).await.expect("create");
    assert_eq!(h.get(&bob, "twin").await.expect("get").uuid, bobs.uuid);
    // Update and delete resolve names the same way.
    assert_code(
        h.update(&alice, "twin", spec(None), &["tags"]).await,
        Code::AlreadyExists,
    );
    assert_code(h.delete(&alice, "twin").await, Code::AlreadyExists);

    assert_status(
        h.get(&alice, "nothing-by-this-name").await,
        Code::NotFound,
        "Baymodel nothing-by-this-name could not be found.",
    );
    // A uuid-looking ident is looked up as a uuid only, never as a name.
    let uuid_named = h
        .create(&alice, spec(Some("0b8a7f4e-3c2d-4e1f-9a8b-7c6d5e4f3a2b")))
        .await
        .expect("create");
    assert_eq!(
        uuid_named.name.as_deref(),
        Some("0b8a7f4e-3c2d-4e1f-9a8b-7c6d5e4f3a2b")
    );
    assert_status(
        h.get(&alice, "0b8a7f4e-3c2d-4e1f-9a8b-7c6d5e4f3a2b").await,
        Code::NotFound,
        "Baymodel 0b8a7f4e-3c2d-4e1f-9a8b-7c6d5e4f3a2b could not be found.",
    );
}

pub async fn public_baymodels_are_visible_but_read_only(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let public = h
        .create(
            &alice,
            pb::BayModelSpec {
                public: Some(true),
                ..spec(Some("shared"))
            },
        )
        .await
        .expect("create");
    let private = h.create(&alice, spec(Some("mine"))).await.expect("create");
    let bobs = h.create(&bob, spec(Some("bobs"))).await.expect("create");

    let listed = h.list(&bob, ListOptions::default()).await.expect("list");
    let uuids: Vec<&str> = listed.baymodels.iter().map(|b| b.uuid.as_str()).collect();
    assert_eq!(uuids, [public.uuid.as_str(), bobs.uuid.as_str()]);
    assert_eq!(h.get(&bob, &public.uuid).await.expect("get"), public);
    assert_eq!(h.get(&bob, "shared").await.expect("get").uuid, public.uuid);

    assert_status(
        h.update(&bob, &public.uuid, spec(Some("hijacked")), &["name"])
            .await,
        Code::PermissionDenied,
        "Policy doesn't allow baymodel:update to be performed.",
    );
    assert_status(
        h.delete(&bob, "shared").await,
        Code::PermissionDenied,
        "Policy doesn't allow baymodel:delete to be performed.",
    );
    assert_eq!(h.get(&alice, &public.uuid).await.expect("get"), public);
    assert_eq!(h.get(&alice, &private.uuid).await.expect("get"), private);
}

pub async fn tenants_cannot_touch_each_others_private_baymodels(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let private = h
        .create(&alice, spec(Some("secret")))
        .await
        .expect("create");
    let events_before = h.outbox().await.len();

    let not_found = format!("Baymodel {} could not be found.", private.uuid);
    assert_status(h.get(&bob, &private.uuid).await, Code::NotFound, &not_found);
    assert_code(h.get(&bob, "secret").await, Code::NotFound);
    let listed = h.list(&bob, ListOptions::default()).await.expect("list");
    assert!(listed.baymodels.is_empty());
    assert_status(
        h.update(&bob, &private.uuid, spec(Some("x")), &["name"])
            .await,
        Code::NotFound,
        &not_found,
    );
    assert_status(
        h.delete(&bob, &private.uuid).await,
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
        "Policy doesn't allow baymodel:get_all_all_projects to be performed.",
    );

    assert_eq!(h.get(&alice, &private.uuid).await.expect("get"), private);
    assert_eq!(h.outbox().await.len(), events_before, "nothing changed");
}

pub async fn admins_reach_every_project(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let root = admin("project-admin");
    let alices = h.create(&alice, spec(Some("a"))).await.expect("create");
    let bobs_public = h
        .create(
            &bob,
            pb::BayModelSpec {
                public: Some(true),
                ..spec(Some("b-public"))
            },
        )
        .await
        .expect("create");
    let roots = h.create(&root, spec(Some("r"))).await.expect("create");
    assert_eq!(roots.project_id, "project-admin");

    // Without all_projects an admin lists like anyone else.
    let own = h.list(&root, ListOptions::default()).await.expect("list");
    let uuids: Vec<&str> = own.baymodels.iter().map(|b| b.uuid.as_str()).collect();
    assert_eq!(uuids, [bobs_public.uuid.as_str(), roots.uuid.as_str()]);
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
    assert_eq!(every.baymodels.len(), 3);

    // Single objects: admins see and change every project's.
    assert_eq!(h.get(&root, &alices.uuid).await.expect("get"), alices);
    let renamed = h
        .update(
            &root,
            &alices.uuid,
            spec(Some("renamed-by-admin")),
            &["name"],
        )
        .await
        .expect("update");
    assert_eq!(renamed.name.as_deref(), Some("renamed-by-admin"));
    assert_eq!(renamed.project_id, "project-a", "the owner stays");
    assert_eq!(renamed.user_id, "project-a-user");
    h.delete(&root, "renamed-by-admin").await.expect("delete");
    assert_code(h.get(&alice, &alices.uuid).await, Code::NotFound);
}

pub async fn update_mask_semantics(h: &Harness) {
    let alice = member("project-a");
    let created = h
        .create(
            &alice,
            pb::BayModelSpec {
                network_driver: Some("calico".to_owned()),
                floating_ip_enabled: Some(false),
                docker_volume_size: Some(10),
                labels: Some(pb::Labels {
                    values: HashMap::from([("os_distro".to_owned(), "coreos".to_owned())]),
                }),
                ..spec(Some("model"))
            },
        )
        .await
        .expect("create");
    assert_eq!(created.cluster_distro.as_deref(), Some("coreos"));

    // Only the named fields change; other values in the spec are ignored.
    let renamed = h
        .update(
            &alice,
            "model",
            pb::BayModelSpec {
                name: Some("renamed".to_owned()),
                image_id: Some("ignored".to_owned()),
                ..Default::default()
            },
            &["name"],
        )
        .await
        .expect("update");
    assert_eq!(renamed.name.as_deref(), Some("renamed"));
    assert_eq!(renamed.image_id, "fedora-atomic");
    assert_eq!(renamed.created_at, created.created_at);
    assert!(renamed.updated_at.is_some());

    // Named but unset: back to the default (cleared).
    let cleared = h
        .update(
            &alice,
            &created.uuid,
            pb::BayModelSpec::default(),
            &[
                "network_driver",
                "floating_ip_enabled",
                "docker_volume_size",
                "labels",
            ],
        )
        .await
        .expect("update");
    assert_eq!(cleared.network_driver.as_deref(), Some("flannel"));
    assert!(cleared.floating_ip_enabled);
    assert_eq!(cleared.docker_volume_size, None);
    assert!(cleared.labels.is_empty());
    assert_eq!(cleared.cluster_distro, None);
    assert_eq!(h.get(&alice, &created.uuid).await.expect("get"), cleared);

    // No mask: every field the spec sets.
    let implied = h
        .update(
            &alice,
            &created.uuid,
            pb::BayModelSpec {
                public: Some(true),
                tags: Some("x".to_owned()),
                ..Default::default()
            },
            &[],
        )
        .await
        .expect("update");
    assert!(implied.public);
    assert_eq!(implied.tags.as_deref(), Some("x"));
    assert_eq!(implied.name.as_deref(), Some("renamed"));

    // The merged result is validated as on create; a refused update changes nothing.
    let before = h.outbox().await.len();
    let swarm = pb::BayModelSpec {
        coe: Some("swarm".to_owned()),
        network_driver: Some("calico".to_owned()),
        ..Default::default()
    };
    assert_status(
        h.update(&alice, &created.uuid, swarm, &["coe", "network_driver"])
            .await,
        Code::InvalidArgument,
        "Network driver type calico is not supported, expecting a \
         docker/flannel/unspecified network driver.",
    );
    assert_code(
        h.update(&alice, &created.uuid, pb::BayModelSpec::default(), &["coe"])
            .await,
        Code::InvalidArgument,
    );
    assert_status(
        h.update(
            &alice,
            &created.uuid,
            pb::BayModelSpec::default(),
            &["uuid"],
        )
        .await,
        Code::InvalidArgument,
        "'/uuid' is an internal attribute and can not be updated",
    );
    assert_status(
        h.update(
            &alice,
            &created.uuid,
            pb::BayModelSpec::default(),
            &["project_id"],
        )
        .await,
        Code::InvalidArgument,
        "Unknown attribute for argument update_mask: project_id",
    );
    assert_eq!(h.get(&alice, &created.uuid).await.expect("get"), implied);
    assert_eq!(h.outbox().await.len(), before);

    // Switching COE with a driver both support is fine.
    let switched = h
        .update(
            &alice,
            &created.uuid,
            pb::BayModelSpec {
                coe: Some("docker".to_owned()),
                ..Default::default()
            },
            &["coe"],
        )
        .await
        .expect("update");
    assert_eq!(switched.coe, "swarm");
    assert_eq!(switched.driver, "swarm");
    assert_eq!(switched.network_driver.as_deref(), Some("flannel"));
}

pub async fn delete_by_uuid_and_name(h: &Harness) {
    let alice = member("project-a");
    let one = h.create(&alice, spec(Some("one"))).await.expect("create");
    let two = h.create(&alice, spec(Some("two"))).await.expect("create");
    h.delete(&alice, &one.uuid).await.expect("delete");
    h.delete(&alice, "two").await.expect("delete");
    assert_code(h.get(&alice, &one.uuid).await, Code::NotFound);
    assert_code(h.get(&alice, &two.uuid).await, Code::NotFound);
    assert_code(h.delete(&alice, &one.uuid).await, Code::NotFound);
    let listed = h.list(&alice, ListOptions::default()).await.expect("list");
    assert!(listed.baymodels.is_empty());
}

pub async fn every_change_writes_its_event(h: &Harness) {
    let alice = member("project-a");
    let root = admin("project-admin");
    let created = h
        .create(&alice, spec(Some("evented")))
        .await
        .expect("create");
    h.update(&root, &created.uuid, spec(Some("changed")), &["name"])
        .await
        .expect("update");
    h.delete(&alice, &created.uuid).await.expect("delete");

    let events = h.outbox().await;
    let summary: Vec<(&str, Change)> = events
        .iter()
        .map(|e| (e.subject.as_str(), e.event.change()))
        .collect();
    assert_eq!(
        summary,
        [
            ("magnum.events.baymodel.created", Change::Created),
            ("magnum.events.baymodel.updated", Change::Updated),
            ("magnum.events.baymodel.deleted", Change::Deleted),
        ]
    );
    for event in &events {
        assert_eq!(event.event.baymodel_uuid, created.uuid);
        // The owner's project, even when an admin of another project acted.
        assert_eq!(event.event.project_id, "project-a");
        assert!(event.event.occurred_at.is_some());
        assert!(uuid::Uuid::parse_str(&event.id).is_ok());
    }
    let actors: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            let actor = e.event.actor.clone().expect("actor");
            (actor.project_id, actor.request_id)
        })
        .collect();
    assert_eq!(
        actors,
        [
            ("project-a".to_owned(), alice.request_id.clone()),
            ("project-admin".to_owned(), root.request_id.clone()),
            ("project-a".to_owned(), alice.request_id.clone()),
        ]
    );
    assert_eq!(
        events[0].request_id.as_deref(),
        Some(alice.request_id.as_str())
    );
}

/// How a listing sorted by `sort_key` must come out: NULLs first ascending, last
/// descending, ties in creation order (reversed when descending).
fn expected_order(items: &[pb::BayModel], sort_key: &str, descending: bool) -> Vec<String> {
    let key = |index: usize, baymodel: &pb::BayModel| -> Option<String> {
        let timestamp = |t: &prost_types::Timestamp| format!("{:020}{:09}", t.seconds, t.nanos);
        match sort_key {
            "" | "id" => Some(format!("{index:06}")),
            "name" => baymodel.name.clone(),
            "docker_volume_size" => baymodel.docker_volume_size.map(|v| format!("{v:010}")),
            "public" => Some(u8::from(baymodel.public).to_string()),
            "updated_at" => baymodel.updated_at.as_ref().map(timestamp),
            "created_at" => baymodel.created_at.as_ref().map(timestamp),
            other => panic!("no expectation for sort key {other}"),
        }
    };
    let mut keyed: Vec<(Option<String>, usize, String)> = items
        .iter()
        .enumerate()
        .map(|(index, b)| (key(index, b), index, b.uuid.clone()))
        .collect();
    // `None < Some(_)`: exactly NULLS FIRST.
    keyed.sort();
    if descending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, _, uuid)| uuid).collect()
}

pub async fn pagination_in_every_order(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    let make = |name: Option<&str>, size: Option<i32>, public: bool| pb::BayModelSpec {
        docker_volume_size: size,
        public: Some(public),
        ..spec(name)
    };
    let mut created = Vec::new();
    for (caller, name, size, public) in [
        (&alice, Some("delta"), None, false),
        (&alice, None, Some(5), true),
        (&bob, Some("bobs-private"), Some(1), false),
        (&alice, Some("alpha"), Some(3), false),
        (&bob, Some("bobs-public"), None, true),
        (&alice, None, None, false),
        (&alice, Some("charlie"), Some(5), true),
        (&alice, Some("bravo"), Some(3), false),
    ] {
        created.push(
            h.create(caller, make(name, size, public))
                .await
                .expect("create"),
        );
    }
    // Some rows get an updated_at, the others keep NULL.
    for index in [3, 6] {
        let uuid = created[index].uuid.clone();
        h.update(&alice, &uuid, spec(None), &["tags"])
            .await
            .expect("update");
    }
    // What alice sees, in creation order, as stored now.
    let mut visible = Vec::new();
    for baymodel in &created {
        if baymodel.project_id == "project-a" || baymodel.public {
            visible.push(h.get(&alice, &baymodel.uuid).await.expect("get"));
        }
    }
    assert_eq!(visible.len(), 7);

    for sort_key in [
        "",
        "id",
        "name",
        "docker_volume_size",
        "public",
        "updated_at",
        "created_at",
    ] {
        for sort_dir in ["", "asc", "desc"] {
            let want = expected_order(&visible, sort_key, sort_dir == "desc");
            for page_size in [1, 2, 3, 7, 0] {
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
                let full_pages = 7 / size;
                assert_eq!(pages.len(), full_pages + 1, "page_size={page_size}");
            }
        }
    }
}

pub async fn bad_markers_and_sort_keys(h: &Harness) {
    let alice = member("project-a");
    let bob = member("project-b");
    h.create(&alice, spec(Some("a"))).await.expect("create");
    let bobs = h.create(&bob, spec(Some("b"))).await.expect("create");
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
        &format!("Baymodel {unknown} could not be found."),
    );
    // Another tenant's private baymodel is no marker for alice.
    assert_code(
        list(ListOptions {
            page_token: bobs.uuid.clone(),
            ..ListOptions::default()
        })
        .await,
        Code::NotFound,
    );
    for key in ["labels", "bogus", "id; drop table baymodels"] {
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
        "uuid",
        "coe",
        "image_id",
        "keypair_id",
        "flavor_id",
        "master_flavor_id",
        "dns_nameserver",
        "external_network_id",
        "fixed_network",
        "fixed_subnet",
        "network_driver",
        "volume_driver",
        "apiserver_port",
        "docker_storage_driver",
        "ssh_authorized_key",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "insecure_registry",
        "registry_enabled",
        "tls_disabled",
        "server_type",
        "master_lb_enabled",
        "floating_ip_enabled",
        "hidden",
        "tags",
        "cluster_distro",
        "driver",
        "project_id",
        "user_id",
    ] {
        let page = list(ListOptions {
            sort_key: key.to_owned(),
            sort_dir: "desc".to_owned(),
            ..ListOptions::default()
        })
        .await
        .unwrap_or_else(|status| panic!("sort by {key}: {status:?}"));
        assert_eq!(page.baymodels.len(), 1, "{key}");
    }
}
