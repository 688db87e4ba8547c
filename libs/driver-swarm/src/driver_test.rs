#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn placement(name: &str, address: &str) -> Placement {
    Placement {
        engine: PlacedEngine {
            name: name.to_owned(),
            url: format!("tcp://{address}:2375"),
            network_id: format!("{name}-net"),
            network_name: "magnum-bay-x".to_owned(),
        },
        address: address.to_owned(),
    }
}

#[test]
fn first_placement_is_master_and_all_are_workers() {
    let provisioned = provisioned(vec![placement("a", "10.0.0.1"), placement("b", "10.0.0.2")]);
    assert_eq!(
        provisioned.api_address.as_deref(),
        Some("tcp://10.0.0.1:2375")
    );
    assert_eq!(provisioned.master_addresses(), vec!["10.0.0.1"]);
    assert_eq!(provisioned.node_addresses(), vec!["10.0.0.1", "10.0.0.2"]);
    assert_eq!(provisioned.credential, None);
    let state = SwarmBayState::from_provisioned(&provisioned).unwrap();
    let names: Vec<&str> = state.engines.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b"]);
}

#[test]
fn errors_combine_into_the_first_kind() {
    assert_eq!(combine(vec![]), Ok(()));
    assert_eq!(
        combine(vec![
            DriverError::Unavailable("one".to_owned()),
            DriverError::Failed("two".to_owned()),
        ]),
        Err(DriverError::Unavailable("one; two".to_owned()))
    );
}

#[test]
fn pool_size_bounds_node_count() {
    let driver = SwarmDriver::new(SwarmConfig {
        engines: vec![EngineConfig {
            name: "a".to_owned(),
            url: "unix:///a.sock".to_owned(),
            ..Default::default()
        }],
        ..Default::default()
    })
    .unwrap();
    let mut bay = BayRef {
        uuid: uuid::Uuid::new_v4(),
        name: None,
        project_id: "p".to_owned(),
        node_count: 2,
        master_count: 1,
        labels: Default::default(),
    };
    assert_eq!(
        driver.engines_needed(&bay),
        Err(DriverError::Invalid(
            "bay needs 2 Docker engines but the pool has 1".to_owned()
        ))
    );
    bay.node_count = 0;
    assert!(matches!(
        driver.engines_needed(&bay),
        Err(DriverError::Invalid(_))
    ));
}
