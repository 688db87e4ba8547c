//! Unit tests of `baymodel`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn owner() -> Owner {
    Owner {
        project_id: "p1".into(),
        user_id: "u1".into(),
    }
}

fn minimal() -> NewBayModel {
    NewBayModel {
        coe: Some("kubernetes".into()),
        image_id: Some("fedora-atomic".into()),
        keypair_id: Some("testkey".into()),
        ..NewBayModel::default()
    }
}

fn create(input: NewBayModel) -> Result<BayModel> {
    input.into_baymodel(owner(), Utc::now())
}

fn message(input: NewBayModel) -> String {
    match create(input) {
        Ok(baymodel) => panic!("expected a validation error, got {baymodel:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn defaults() {
    let baymodel = create(minimal()).unwrap();
    assert_eq!(baymodel.coe, Coe::Kubernetes);
    assert_eq!(baymodel.driver, "kubernetes");
    assert_eq!(baymodel.network_driver, "flannel");
    assert_eq!(baymodel.server_type, ServerType::Vm);
    assert!(baymodel.floating_ip_enabled);
    assert!(!baymodel.public && !baymodel.hidden && !baymodel.tls_disabled);
    assert!(!baymodel.registry_enabled && !baymodel.master_lb_enabled);
    assert!(baymodel.labels.is_empty());
    assert_eq!(baymodel.cluster_distro, None);
    assert_eq!(baymodel.name, None);
    assert_eq!(baymodel.project_id, "p1");
    assert_eq!(baymodel.user_id, "u1");
    assert_eq!(baymodel.updated_at, None);
    assert_eq!(baymodel.uuid.get_version_num(), 4);
}

#[test]
fn coe_aliases_and_refusals() {
    let swarm = create(NewBayModel {
        coe: Some("docker".into()),
        ..minimal()
    })
    .unwrap();
    assert_eq!(swarm.coe, Coe::Swarm);
    assert_eq!(swarm.driver, "swarm");
    assert_eq!(swarm.network_driver, "docker");
    for coe in ["mesos", "dcos", "swarm-mode", "Kubernetes", ""] {
        assert_eq!(
            message(NewBayModel {
                coe: Some(coe.into()),
                ..minimal()
            }),
            format!("Requested COE type {coe} is not supported.")
        );
    }
}

#[test]
fn network_drivers_depend_on_the_coe() {
    let with = |coe: &str, driver: &str| {
        create(NewBayModel {
            coe: Some(coe.into()),
            network_driver: Some(driver.into()),
            ..minimal()
        })
    };
    for (coe, driver) in [
        ("kubernetes", "flannel"),
        ("kubernetes", "calico"),
        ("kubernetes", "cilium"),
        ("swarm", "docker"),
        ("swarm", "flannel"),
    ] {
        assert_eq!(with(coe, driver).unwrap().network_driver, driver);
    }
    assert_eq!(
        with("swarm", "calico").unwrap_err().to_string(),
        "Network driver type calico is not supported, expecting a \
         docker/flannel/unspecified network driver."
    );
    assert!(with("kubernetes", "docker").is_err());
}

#[test]
fn cluster_distro_comes_from_the_os_distro_label() {
    let labels = BTreeMap::from([
        ("os_distro".to_owned(), "fedora-atomic".to_owned()),
        ("k8s_version".to_owned(), "v1.2".to_owned()),
    ]);
    let baymodel = create(NewBayModel {
        labels: Some(labels.clone()),
        ..minimal()
    })
    .unwrap();
    assert_eq!(baymodel.cluster_distro.as_deref(), Some("fedora-atomic"));
    assert_eq!(baymodel.labels, labels);
}

#[test]
fn client_uuids_must_be_uuids() {
    let uuid = "27e3153e-d5bf-4b7e-b517-fb518e17f34c";
    let baymodel = create(NewBayModel {
        uuid: Some(uuid.into()),
        ..minimal()
    })
    .unwrap();
    assert_eq!(baymodel.uuid.to_string(), uuid);
    assert_eq!(
        message(NewBayModel {
            uuid: Some("not-a-uuid".into()),
            ..minimal()
        }),
        "Invalid input for field/attribute uuid. Value: 'not-a-uuid'. \
         Expected a uuid but received not-a-uuid."
    );
}

#[test]
fn validation_table() {
    let long = "x".repeat(256);
    let max = "é".repeat(255);
    let cases: Vec<(NewBayModel, Option<&str>)> = vec![
        (
            NewBayModel {
                coe: None,
                ..minimal()
            },
            Some("Invalid input for field/attribute coe. Value: 'None'. Mandatory field missing."),
        ),
        (
            NewBayModel {
                image_id: None,
                ..minimal()
            },
            Some(
                "Invalid input for field/attribute image_id. Value: 'None'. Mandatory field missing.",
            ),
        ),
        // Optional, as on cluster templates (the REST baymodel API requires it itself).
        (
            NewBayModel {
                keypair_id: None,
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                keypair_id: Some(String::new()),
                ..minimal()
            },
            Some("field/attribute keypair_id"),
        ),
        (
            NewBayModel {
                name: Some(String::new()),
                ..minimal()
            },
            Some(
                "Invalid input for field/attribute name. Value: ''. Value should have a minimum character requirement of 1",
            ),
        ),
        (
            NewBayModel {
                name: Some(long.clone()),
                ..minimal()
            },
            Some("Value should have a maximum character requirement of 255"),
        ),
        // 255 two-byte characters are still 255 characters.
        (
            NewBayModel {
                name: Some(max.clone()),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                image_id: Some(String::new()),
                ..minimal()
            },
            Some("field/attribute image_id"),
        ),
        (
            NewBayModel {
                flavor_id: Some(long.clone()),
                ..minimal()
            },
            Some("field/attribute flavor_id"),
        ),
        (
            NewBayModel {
                http_proxy: Some(String::new()),
                ..minimal()
            },
            Some("field/attribute http_proxy"),
        ),
        (
            NewBayModel {
                dns_nameserver: Some("8.8.8.8".into()),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                dns_nameserver: Some("8.8.8.8,8.8.4.4".into()),
                ..minimal()
            },
            Some(
                "Invalid input for field/attribute dns_nameserver. Value: '8.8.8.8,8.8.4.4'. Value should be IPv4 format",
            ),
        ),
        (
            NewBayModel {
                dns_nameserver: Some("::1".into()),
                ..minimal()
            },
            Some("Value should be IPv4 format"),
        ),
        (
            NewBayModel {
                apiserver_port: Some(1023),
                ..minimal()
            },
            Some(
                "Invalid input for field/attribute apiserver_port. Value: '1023'. Value should be greater or equal to 1024",
            ),
        ),
        (
            NewBayModel {
                apiserver_port: Some(65536),
                ..minimal()
            },
            Some("Value should be lower or equal to 65535"),
        ),
        (
            NewBayModel {
                apiserver_port: Some(1024),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                apiserver_port: Some(65535),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                docker_volume_size: Some(0),
                ..minimal()
            },
            Some(
                "Invalid input for field/attribute docker_volume_size. Value: '0'. Value should be greater or equal to 1",
            ),
        ),
        (
            NewBayModel {
                docker_volume_size: Some(1),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                ssh_authorized_key: Some(String::new()),
                ..minimal()
            },
            Some("field/attribute ssh_authorized_key"),
        ),
        (
            NewBayModel {
                ssh_authorized_key: Some("k".repeat(4096)),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                server_type: Some("bm".into()),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                server_type: Some("container".into()),
                ..minimal()
            },
            Some(
                "Invalid input for field/attribute server_type. Value: 'container'. Value should be one of: vm, bm",
            ),
        ),
        (
            NewBayModel {
                tags: Some(String::new()),
                ..minimal()
            },
            None,
        ),
        (
            NewBayModel {
                tags: Some(long.clone()),
                ..minimal()
            },
            Some("field/attribute tags"),
        ),
    ];
    for (input, expected) in cases {
        let outcome = create(input.clone());
        match (outcome, expected) {
            (Ok(_), None) => {}
            (Err(error), Some(text)) => {
                assert!(
                    error.to_string().contains(text),
                    "{input:?}: {error} does not contain {text}"
                );
                assert!(matches!(error, Error::InvalidField { .. }), "{error:?}");
            }
            (outcome, expected) => panic!("{input:?}: got {outcome:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn updates_revalidate_and_clear_to_defaults() {
    let created = create(NewBayModel {
        name: Some("m".into()),
        network_driver: Some("calico".into()),
        floating_ip_enabled: Some(false),
        labels: Some(BTreeMap::from([("os_distro".into(), "coreos".into())])),
        ..minimal()
    })
    .unwrap();
    let later = created.created_at + chrono::Duration::seconds(1);

    // Naming fields whose value is unset clears them back to their defaults.
    let changes = BayModelChanges::new(
        ["network_driver", "floating_ip_enabled", "labels", "name"],
        NewBayModel::default(),
    )
    .unwrap();
    let updated = created.apply(&changes, later).unwrap();
    assert_eq!(updated.network_driver, "flannel");
    assert!(updated.floating_ip_enabled);
    assert!(updated.labels.is_empty());
    assert_eq!(updated.cluster_distro, None);
    assert_eq!(updated.name, None);
    assert_eq!(updated.uuid, created.uuid);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(updated.updated_at, Some(later));

    // Fields outside the mask keep their values even if the request carries others.
    let changes = BayModelChanges::new(
        ["name"],
        NewBayModel {
            name: Some("renamed".into()),
            image_id: Some("ignored".into()),
            ..NewBayModel::default()
        },
    )
    .unwrap();
    let renamed = created.apply(&changes, later).unwrap();
    assert_eq!(renamed.name.as_deref(), Some("renamed"));
    assert_eq!(renamed.image_id, created.image_id);

    // The merged result is validated: swarm has no calico.
    let changes = BayModelChanges::new(
        ["coe"],
        NewBayModel {
            coe: Some("swarm".into()),
            ..NewBayModel::default()
        },
    )
    .unwrap();
    assert!(matches!(
        created.apply(&changes, later),
        Err(Error::UnsupportedNetworkDriver { .. })
    ));

    // Clearing a required field fails.
    let changes = BayModelChanges::new(["image_id"], NewBayModel::default()).unwrap();
    assert!(created.apply(&changes, later).is_err());
}

#[test]
fn update_masks() {
    let values = NewBayModel {
        name: Some("n".into()),
        public: Some(true),
        ..NewBayModel::default()
    };
    // No path: the fields the request sets.
    let implied = BayModelChanges::new([], values.clone()).unwrap();
    assert_eq!(
        implied.fields(),
        &[BayModelField::Name, BayModelField::Public]
    );
    let all = BayModelChanges::new(["*"], values.clone()).unwrap();
    assert_eq!(all.fields(), BayModelField::ALL);
    assert!(matches!(
        BayModelChanges::new(["uuid"], values.clone()),
        Err(Error::ImmutableField(_))
    ));
    assert!(matches!(
        BayModelChanges::new(["nmae"], values.clone()),
        Err(Error::UnknownUpdateField(_))
    ));
    let with_uuid = NewBayModel {
        uuid: Some(Uuid::new_v4().to_string()),
        ..values
    };
    assert!(BayModelChanges::new([], with_uuid).is_err());
}

#[test]
fn sort_keys() {
    assert_eq!(BayModelSortKey::parse("").unwrap(), BayModelSortKey::Id);
    assert_eq!(
        BayModelSortKey::parse("updated_at").unwrap(),
        BayModelSortKey::UpdatedAt
    );
    assert_eq!(
        BayModelSortKey::parse("labels").unwrap_err().to_string(),
        "The sort_key value \"labels\" is an invalid field for sorting"
    );
    for key in BayModelSortKey::ALL {
        assert_eq!(BayModelSortKey::parse(key.name()).unwrap(), *key);
    }
}
