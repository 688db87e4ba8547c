#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn state_round_trips_through_provisioned() {
    let state = SwarmBayState {
        engines: vec![PlacedEngine {
            name: "node-a".to_owned(),
            url: "unix:///run/docker.sock".to_owned(),
            network_id: "abc".to_owned(),
            network_name: "magnum-bay-x".to_owned(),
        }],
    };
    let provisioned = Provisioned {
        state: state.to_value(),
        ..Default::default()
    };
    assert_eq!(
        provisioned.state,
        serde_json::json!({"engines": [{
            "name": "node-a",
            "url": "unix:///run/docker.sock",
            "network_id": "abc",
            "network_name": "magnum-bay-x",
        }]})
    );
    assert_eq!(
        SwarmBayState::from_provisioned(&provisioned).unwrap(),
        state
    );
}

#[test]
fn unreadable_state_is_invalid() {
    let provisioned = Provisioned {
        state: serde_json::json!({"engines": 3}),
        ..Default::default()
    };
    assert!(matches!(
        SwarmBayState::from_provisioned(&provisioned),
        Err(DriverError::Invalid(_))
    ));
}
