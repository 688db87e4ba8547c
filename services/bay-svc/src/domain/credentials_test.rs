#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::domain::bay::Placement;

fn bay(coe: Coe, status: BayStatus, driver_state: serde_json::Value) -> Bay {
    Bay {
        uuid: Uuid::nil(),
        name: Some("b".to_owned()),
        baymodel_id: Uuid::nil(),
        coe,
        node_count: 1,
        master_count: 1,
        create_timeout: 0,
        discovery_url: None,
        status,
        status_reason: None,
        placement: Placement {
            api_address: Some("https://k8s.example:6443".to_owned()),
            nodes: Vec::new(),
            driver_state,
        },
        docker_volume_size: None,
        labels: BTreeMap::new(),
        master_flavor_id: None,
        flavor_id: None,
        keypair: None,
        fixed_network: None,
        fixed_subnet: None,
        floating_ip_enabled: false,
        master_lb_enabled: false,
        health_status: None,
        health_status_reason: BTreeMap::new(),
        project_id: "p".to_owned(),
        user_id: "u".to_owned(),
        created_at: Utc::now(),
        updated_at: None,
    }
}

/// A kubernetes state as the driver stored it before it recorded how to trust the server.
fn old_state() -> serde_json::Value {
    json!({
        "namespace": "magnum-b",
        "server": "https://k8s.example:6443",
        "service_account": "magnum-bay",
        "token_expires_at": "2030-01-02T03:04:05.5Z",
    })
}

#[test]
fn an_old_kubernetes_state_gives_access_with_system_roots() {
    let access = BayAccess::of(&bay(
        Coe::Kubernetes,
        BayStatus::CreateComplete,
        old_state(),
    ))
    .unwrap();
    assert_eq!(
        access,
        BayAccess {
            bay_uuid: Uuid::nil(),
            coe: Coe::Kubernetes,
            status: BayStatus::CreateComplete,
            api_server: "https://k8s.example:6443".to_owned(),
            namespace: "magnum-b".to_owned(),
            ca_certificates_pem: Vec::new(),
            insecure_skip_tls_verify: false,
            token_expires_at: Some(
                DateTime::parse_from_rfc3339("2030-01-02T03:04:05.5Z")
                    .unwrap()
                    .with_timezone(&Utc)
            ),
        }
    );
}

#[test]
fn a_current_state_carries_the_ca_and_the_tls_flag() {
    let mut state = old_state();
    state["certificate_authority_pem"] = json!(["-----BEGIN CERTIFICATE-----\n..."]);
    state["insecure_skip_tls_verify"] = json!(true);
    state["token_expires_at"] = json!("not a time");
    let access = BayAccess::of(&bay(Coe::Kubernetes, BayStatus::UpdateComplete, state)).unwrap();
    assert_eq!(
        access.ca_certificates_pem,
        vec!["-----BEGIN CERTIFICATE-----\n...".to_owned()]
    );
    assert!(access.insecure_skip_tls_verify);
    assert_eq!(access.status, BayStatus::UpdateComplete);
    // An expiry that does not parse is left out.
    assert_eq!(access.token_expires_at, None);
}

#[test]
fn only_a_usable_bay_has_credentials() {
    for status in BayStatus::ALL {
        let result = BayAccess::of(&bay(Coe::Kubernetes, status, old_state()));
        if status.is_usable() {
            assert!(result.is_ok(), "{status}");
            continue;
        }
        let error = result.unwrap_err();
        assert!(
            matches!(error, Error::BayNotUsable { status: s, .. } if s == status),
            "{status}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "Bay b is {status}; its credentials are only available when it is \
                 CREATE_COMPLETE or UPDATE_COMPLETE."
            )
        );
    }
}

#[test]
fn a_swarm_bay_or_a_bay_without_state_has_none() {
    for (coe, state) in [
        (Coe::Swarm, json!({"engines": ["node-a"]})),
        (Coe::Kubernetes, serde_json::Value::Null),
    ] {
        let error = BayAccess::of(&bay(coe, BayStatus::CreateComplete, state)).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("Bay b has no credentials (coe {}).", coe.as_str())
        );
    }
}

#[test]
fn a_kubernetes_state_that_does_not_decode_is_corrupt() {
    let error = BayAccess::of(&bay(
        Coe::Kubernetes,
        BayStatus::CreateComplete,
        json!({"namespace": 7}),
    ))
    .unwrap_err();
    assert!(
        matches!(error, Error::CorruptRecord { kind: "bay", .. }),
        "{error:?}"
    );
}

#[test]
fn debug_leaves_the_token_out() {
    let credentials = BayAccess::of(&bay(
        Coe::Kubernetes,
        BayStatus::CreateComplete,
        old_state(),
    ))
    .unwrap()
    .with_token("s3cret-token".to_owned());
    let shown = format!("{credentials:?}");
    assert!(!shown.contains("s3cret-token"), "{shown}");
    assert!(shown.contains("magnum-b"), "{shown}");
}
