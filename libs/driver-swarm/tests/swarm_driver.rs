//! The swarm driver against the real test Docker engine. Every pool entry points at that one
//! engine (under names unique to the test), except the dead ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use magnum_bay_driver::{BayDriver, BayRef, DriverError, NodeRole, Provisioned};
use magnum_driver_swarm::{EngineConfig, SwarmBayState, SwarmConfig, SwarmDriver};
use uuid::Uuid;

async fn docker() -> Docker {
    let host = magnum_testkit::docker::host();
    let path = host.strip_prefix("unix://").unwrap_or(&host).to_owned();
    Docker::connect_with_unix(&path, 60, bollard::API_DEFAULT_VERSION)
        .unwrap()
        .negotiate_version()
        .await
        .unwrap()
}

fn bay_filter(bay: Uuid) -> HashMap<&'static str, Vec<String>> {
    HashMap::from([("label", vec![format!("magnum.bay.uuid={bay}")])])
}

async fn bay_networks(bay: Uuid) -> Vec<bollard::models::Network> {
    let options = ListNetworksOptionsBuilder::new()
        .filters(&bay_filter(bay))
        .build();
    docker().await.list_networks(Some(options)).await.unwrap()
}

async fn bay_containers(bay: Uuid) -> Vec<bollard::models::ContainerSummary> {
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&bay_filter(bay))
        .build();
    docker().await.list_containers(Some(options)).await.unwrap()
}

async fn purge(bays: &[Uuid]) {
    let docker = docker().await;
    for &bay in bays {
        for container in bay_containers(bay).await {
            let options = RemoveContainerOptionsBuilder::new().force(true).build();
            let _ = docker
                .remove_container(&container.id.unwrap(), Some(options))
                .await;
        }
        for network in bay_networks(bay).await {
            let _ = docker.remove_network(&network.id.unwrap()).await;
        }
    }
}

/// Starts a container of the bay on `network` (init, so a forced removal stops it at once).
async fn start_bay_container(bay: Uuid, network: &str) -> String {
    let docker = docker().await;
    let container = docker
        .create_container(
            Some(
                CreateContainerOptionsBuilder::new()
                    .name(&format!("magnum-test-{}", Uuid::new_v4()))
                    .build(),
            ),
            ContainerCreateBody {
                image: Some(magnum_testkit::docker::image()),
                cmd: Some(vec!["sleep".to_owned(), "300".to_owned()]),
                labels: Some(HashMap::from([(
                    "magnum.bay.uuid".to_owned(),
                    bay.to_string(),
                )])),
                host_config: Some(HostConfig {
                    init: Some(true),
                    network_mode: Some(network.to_owned()),
                    ..Default::default()
                }),
                networking_config: Some(NetworkingConfig {
                    endpoints_config: Some(HashMap::from([(
                        network.to_owned(),
                        EndpointSettings::default(),
                    )])),
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    docker.start_container(&container.id, None).await.unwrap();
    container.id
}

/// Removes the test's bays from the engine when the test ends, even when it fails.
struct Cleanup(Vec<Uuid>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let bays = std::mem::take(&mut self.0);
        // Drop can't await inside the test's runtime: clean up from a runtime of our own.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(purge(&bays));
        })
        .join();
    }
}

/// Pool entry names unique to one test, so placement counts only see this test's bays.
fn names(count: usize) -> Vec<String> {
    let run = &Uuid::new_v4().simple().to_string()[..8];
    (0..count).map(|i| format!("node-{i}-{run}")).collect()
}

fn entry(name: &str, url: &str) -> EngineConfig {
    EngineConfig {
        name: name.to_owned(),
        url: url.to_owned(),
        ..Default::default()
    }
}

fn driver(entries: Vec<EngineConfig>) -> SwarmDriver {
    SwarmDriver::new(SwarmConfig {
        engines: entries,
        connect_timeout_secs: 5,
        request_timeout_secs: 30,
    })
    .unwrap()
}

/// A pool of `names` all on the real engine.
fn real_pool(names: &[String]) -> SwarmDriver {
    let host = magnum_testkit::docker::host();
    driver(names.iter().map(|name| entry(name, &host)).collect())
}

fn dead_url() -> String {
    format!("unix:///tmp/{}/nope.sock", Uuid::new_v4().simple())
}

fn bay(node_count: u32) -> BayRef {
    BayRef {
        uuid: Uuid::new_v4(),
        name: Some("test-bay".to_owned()),
        project_id: "project-swarm-test".to_owned(),
        node_count,
        master_count: 1,
        labels: Default::default(),
    }
}

fn placed_names(provisioned: &Provisioned) -> Vec<String> {
    SwarmBayState::from_provisioned(provisioned)
        .unwrap()
        .engines
        .into_iter()
        .map(|engine| engine.name)
        .collect()
}

#[tokio::test]
async fn create_places_the_bay_and_is_idempotent() {
    let names = names(3);
    let driver = real_pool(&names);
    let bay = bay(2);
    let _cleanup = Cleanup(vec![bay.uuid]);

    let provisioned = driver.create(&bay).await.unwrap();

    assert_eq!(
        provisioned.api_address,
        Some(magnum_testkit::docker::host())
    );
    assert_eq!(provisioned.credential, None);
    let networks = bay_networks(bay.uuid).await;
    assert_eq!(networks.len(), 1, "one network on the shared engine");
    let network = &networks[0];
    let network_name = format!("magnum-bay-{}", bay.uuid);
    assert_eq!(network.name.as_deref(), Some(network_name.as_str()));
    assert_eq!(network.driver.as_deref(), Some("bridge"));
    let labels = network.labels.clone().unwrap();
    assert_eq!(labels["magnum.managed"], "true");
    assert_eq!(labels["magnum.bay.uuid"], bay.uuid.to_string());
    assert_eq!(labels["magnum.project"], "project-swarm-test");
    assert_eq!(labels["magnum.engine"], names[0]);

    // A unix socket has no host: the node address is the bay network's gateway.
    let gateway = network.ipam.as_ref().unwrap().config.as_ref().unwrap()[0]
        .gateway
        .clone()
        .unwrap();
    let roles: Vec<(&str, NodeRole, &str)> = provisioned
        .nodes
        .iter()
        .map(|node| (node.name.as_str(), node.role, node.address.as_str()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (names[0].as_str(), NodeRole::Master, gateway.as_str()),
            (names[0].as_str(), NodeRole::Worker, gateway.as_str()),
            (names[1].as_str(), NodeRole::Worker, gateway.as_str()),
        ]
    );
    let state = SwarmBayState::from_provisioned(&provisioned).unwrap();
    assert_eq!(state.engines.len(), 2);
    for (placed, name) in state.engines.iter().zip(&names) {
        assert_eq!(&placed.name, name);
        assert_eq!(placed.url, magnum_testkit::docker::host());
        assert_eq!(Some(&placed.network_id), network.id.as_ref());
        assert_eq!(placed.network_name, network_name);
    }

    let again = driver.create(&bay).await.unwrap();
    assert_eq!(again, provisioned);
    assert_eq!(bay_networks(bay.uuid).await.len(), 1);

    driver.delete(&bay, Some(&provisioned)).await.unwrap();
    assert!(bay_networks(bay.uuid).await.is_empty());
}

#[tokio::test]
async fn create_prefers_entries_with_fewest_bays() {
    let names = names(3);
    let driver = real_pool(&names);
    let (first, second, third) = (bay(1), bay(1), bay(2));
    let _cleanup = Cleanup(vec![first.uuid, second.uuid, third.uuid]);

    let first_provisioned = driver.create(&first).await.unwrap();
    assert_eq!(placed_names(&first_provisioned), vec![names[0].clone()]);
    // node-0 carries a bay now: the next goes to node-1.
    let second_provisioned = driver.create(&second).await.unwrap();
    assert_eq!(placed_names(&second_provisioned), vec![names[1].clone()]);
    // node-2 is empty, node-0 and node-1 tie at one bay: node-2, then node-0 by pool order.
    let third_provisioned = driver.create(&third).await.unwrap();
    assert_eq!(
        placed_names(&third_provisioned),
        vec![names[2].clone(), names[0].clone()]
    );
    assert_eq!(third_provisioned.nodes[0].role, NodeRole::Master);
    assert_eq!(third_provisioned.nodes[0].name, names[2]);

    for (bay, provisioned) in [
        (&first, &first_provisioned),
        (&second, &second_provisioned),
        (&third, &third_provisioned),
    ] {
        driver.delete(bay, Some(provisioned)).await.unwrap();
        assert!(bay_networks(bay.uuid).await.is_empty());
    }
}

#[tokio::test]
async fn resize_grows_and_shrinks() {
    let names = names(3);
    let driver = real_pool(&names);
    let other = bay(1);
    let mut bay = bay(1);
    let _cleanup = Cleanup(vec![bay.uuid, other.uuid]);

    // node-0 gets the other bay, so this one starts on node-1.
    let other_provisioned = driver.create(&other).await.unwrap();
    let provisioned = driver.create(&bay).await.unwrap();
    assert_eq!(placed_names(&provisioned), vec![names[1].clone()]);

    bay.node_count = 2;
    let grown = driver.resize(&bay, &provisioned).await.unwrap();
    // Fewest bays first among the unused entries: node-2 (none) before node-0 (one).
    assert_eq!(
        placed_names(&grown),
        vec![names[1].clone(), names[2].clone()]
    );
    assert_eq!(grown.nodes.len(), 3);
    assert_eq!(grown.api_address, provisioned.api_address);

    bay.node_count = 3;
    let full = driver.resize(&bay, &grown).await.unwrap();
    assert_eq!(
        placed_names(&full),
        vec![names[1].clone(), names[2].clone(), names[0].clone()]
    );
    assert_eq!(full.node_addresses().len(), 3);
    assert_eq!(bay_networks(bay.uuid).await.len(), 1);

    bay.node_count = 1;
    let shrunk = driver.resize(&bay, &full).await.unwrap();
    assert_eq!(placed_names(&shrunk), vec![names[1].clone()]);
    assert_eq!(shrunk.nodes.len(), 2);
    // The remaining node shares the engine's network, so it stays.
    let networks = bay_networks(bay.uuid).await;
    assert_eq!(networks.len(), 1);
    let state = SwarmBayState::from_provisioned(&shrunk).unwrap();
    assert_eq!(networks[0].id.as_ref(), Some(&state.engines[0].network_id));

    // Resizing to the current size changes nothing.
    assert_eq!(driver.resize(&bay, &shrunk).await.unwrap(), shrunk);

    bay.node_count = 4;
    let err = driver.resize(&bay, &shrunk).await.unwrap_err();
    assert_eq!(
        err,
        DriverError::Invalid("bay needs 4 Docker engines but the pool has 3".to_owned())
    );

    driver.delete(&bay, Some(&shrunk)).await.unwrap();
    driver
        .delete(&other, Some(&other_provisioned))
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_removes_networks_and_containers() {
    let names = names(2);
    let driver = real_pool(&names);
    let bay = bay(2);
    let _cleanup = Cleanup(vec![bay.uuid]);
    let provisioned = driver.create(&bay).await.unwrap();
    let network_name = SwarmBayState::from_provisioned(&provisioned)
        .unwrap()
        .engines[0]
        .network_name
        .clone();

    start_bay_container(bay.uuid, &network_name).await;
    assert_eq!(bay_containers(bay.uuid).await.len(), 1);

    driver.delete(&bay, Some(&provisioned)).await.unwrap();
    assert!(bay_networks(bay.uuid).await.is_empty());
    assert!(bay_containers(bay.uuid).await.is_empty());

    // Already gone is success, with or without the state.
    driver.delete(&bay, Some(&provisioned)).await.unwrap();
    driver.delete(&bay, None).await.unwrap();
}

#[tokio::test]
async fn delete_without_state_finds_the_bay_by_label() {
    let names = names(2);
    let driver = real_pool(&names);
    let bay = bay(1);
    let _cleanup = Cleanup(vec![bay.uuid]);
    driver.create(&bay).await.unwrap();
    assert_eq!(bay_networks(bay.uuid).await.len(), 1);

    driver.delete(&bay, None).await.unwrap();
    assert!(bay_networks(bay.uuid).await.is_empty());
}

#[tokio::test]
async fn dead_engines_are_skipped_when_others_suffice() {
    let names = names(3);
    let host = magnum_testkit::docker::host();
    let dead = dead_url();
    let driver = driver(vec![
        entry(&names[0], &dead),
        entry(&names[1], &host),
        entry(&names[2], &host),
    ]);
    let bay = bay(2);
    let _cleanup = Cleanup(vec![bay.uuid]);

    let provisioned = driver.create(&bay).await.unwrap();
    assert_eq!(
        placed_names(&provisioned),
        vec![names[1].clone(), names[2].clone()]
    );
    // The dead entry is not the bay's: delete skips it.
    driver.delete(&bay, Some(&provisioned)).await.unwrap();
    assert!(bay_networks(bay.uuid).await.is_empty());
}

#[tokio::test]
async fn a_needed_dead_engine_fails_create_as_unavailable() {
    let names = names(2);
    let dead = dead_url();
    let driver = driver(vec![
        entry(&names[0], &magnum_testkit::docker::host()),
        entry(&names[1], &dead),
    ]);
    let bay = bay(2);
    let _cleanup = Cleanup(vec![bay.uuid]);

    let err = driver.create(&bay).await.unwrap_err();
    let DriverError::Unavailable(message) = &err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(
        message.starts_with("bay needs 2 Docker engines but only 1 are reachable: "),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "Docker engine {} ({dead}) is unreachable: ",
            names[1]
        )),
        "{message}"
    );
    assert!(bay_networks(bay.uuid).await.is_empty());
}

#[tokio::test]
async fn a_dead_engine_of_the_bay_fails_delete() {
    let names = names(2);
    let dead = dead_url();
    let driver = driver(vec![
        entry(&names[0], &magnum_testkit::docker::host()),
        entry(&names[1], &dead),
    ]);
    let bay = bay(1);
    let _cleanup = Cleanup(vec![bay.uuid]);
    let mut provisioned = driver.create(&bay).await.unwrap();
    let mut state = SwarmBayState::from_provisioned(&provisioned).unwrap();
    // As if the bay had also been placed on the entry that is down now.
    let mut on_dead = state.engines[0].clone();
    on_dead.name = names[1].clone();
    on_dead.url = dead.clone();
    state.engines.push(on_dead);
    provisioned.state = serde_json::to_value(&state).unwrap();

    let health = driver.health(&bay, &provisioned).await.unwrap();
    assert!(!health.is_healthy());
    assert!(health.nodes[0].healthy);
    let reason = health.nodes[1].reason.clone().unwrap();
    assert!(
        reason.starts_with(&format!(
            "Docker engine {} ({dead}) is unreachable",
            names[1]
        )),
        "{reason}"
    );

    let err = driver.delete(&bay, Some(&provisioned)).await.unwrap_err();
    assert!(matches!(err, DriverError::Unavailable(_)), "{err:?}");
    assert!(err.message().contains(&names[1]), "{err:?}");
    // What could be removed is gone; a later delete without the dead engine finishes.
    assert!(bay_networks(bay.uuid).await.is_empty());
}

#[tokio::test]
async fn health_reports_a_missing_network() {
    let names = names(2);
    let driver = real_pool(&names);
    let bay = bay(2);
    let _cleanup = Cleanup(vec![bay.uuid]);
    let provisioned = driver.create(&bay).await.unwrap();

    let health = driver.health(&bay, &provisioned).await.unwrap();
    assert!(health.is_healthy(), "{health:?}");
    let checked: Vec<&str> = health.nodes.iter().map(|node| node.name.as_str()).collect();
    assert_eq!(checked, vec![names[0].as_str(), names[1].as_str()]);
    assert!(health.nodes.iter().all(|node| node.reason.is_none()));

    let state = SwarmBayState::from_provisioned(&provisioned).unwrap();
    docker()
        .await
        .remove_network(&state.engines[0].network_id)
        .await
        .unwrap();
    let health = driver.health(&bay, &provisioned).await.unwrap();
    assert!(!health.is_healthy());
    for (node, name) in health.nodes.iter().zip(&names) {
        assert!(!node.healthy);
        assert_eq!(
            node.reason.as_deref(),
            Some(format!("network magnum-bay-{} is missing on {name}", bay.uuid).as_str())
        );
    }

    driver.delete(&bay, Some(&provisioned)).await.unwrap();
}

#[tokio::test]
async fn more_nodes_than_the_pool_is_invalid() {
    let names = names(2);
    let driver = real_pool(&names);
    let bay = bay(3);
    let err = driver.create(&bay).await.unwrap_err();
    assert_eq!(
        err,
        DriverError::Invalid("bay needs 3 Docker engines but the pool has 2".to_owned())
    );
    assert!(bay_networks(bay.uuid).await.is_empty());
}

#[tokio::test]
async fn shrinking_removes_the_dropped_engine_network_and_containers() {
    let names = names(2);
    let driver = real_pool(&names);
    let mut bay = bay(1);
    let _cleanup = Cleanup(vec![bay.uuid]);
    let mut provisioned = driver.create(&bay).await.unwrap();
    let mut state = SwarmBayState::from_provisioned(&provisioned).unwrap();

    // With one real engine both entries would share a network; stand in for a second engine
    // by recording the second entry on a network of its own.
    let docker = docker().await;
    let other_network = format!("magnum-test-{}", bay.uuid);
    let created = docker
        .create_network(bollard::models::NetworkCreateRequest {
            name: other_network.clone(),
            labels: Some(HashMap::from([(
                "magnum.bay.uuid".to_owned(),
                bay.uuid.to_string(),
            )])),
            ..Default::default()
        })
        .await
        .unwrap();
    let kept_container = start_bay_container(bay.uuid, &state.engines[0].network_name).await;
    start_bay_container(bay.uuid, &other_network).await;
    let mut second = state.engines[0].clone();
    second.name = names[1].clone();
    second.network_id = created.id.clone();
    second.network_name = other_network;
    state.engines.push(second);
    provisioned.state = serde_json::to_value(&state).unwrap();

    bay.node_count = 1;
    let shrunk = driver.resize(&bay, &provisioned).await.unwrap();
    assert_eq!(placed_names(&shrunk), vec![names[0].clone()]);
    let networks: Vec<String> = bay_networks(bay.uuid)
        .await
        .into_iter()
        .map(|network| network.id.unwrap())
        .collect();
    assert_eq!(networks, vec![state.engines[0].network_id.clone()]);
    let containers: Vec<String> = bay_containers(bay.uuid)
        .await
        .into_iter()
        .map(|container| container.id.unwrap())
        .collect();
    assert_eq!(containers, vec![kept_container]);

    driver.delete(&bay, Some(&shrunk)).await.unwrap();
    assert!(bay_containers(bay.uuid).await.is_empty());
    assert!(bay_networks(bay.uuid).await.is_empty());
}
