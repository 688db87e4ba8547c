#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn defaults_are_valid() {
    let config = KubernetesConfig::default();
    config.validate().unwrap();
    assert_eq!(config.namespace_prefix, "magnum-");
    assert_eq!(config.quota_per_node["requests.memory"], "4Gi");
    assert_eq!(config.token_expiration_secs, 31_536_000);
}

#[test]
fn deserializes_with_defaults_and_refuses_unknown_fields() {
    let config: KubernetesConfig =
        serde_json::from_str(r#"{"kubeconfig": "data/kubeconfig", "context": "dev"}"#).unwrap();
    assert_eq!(config.kubeconfig, Some(PathBuf::from("data/kubeconfig")));
    assert_eq!(config.context.as_deref(), Some("dev"));
    assert_eq!(config.delete_wait_secs, 60);
    let err = serde_json::from_str::<KubernetesConfig>(r#"{"kubecfg": "x"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn bad_prefixes_are_refused() {
    for prefix in ["Magnum-", "-x", "a_b", &"a".repeat(28)] {
        let config = KubernetesConfig {
            namespace_prefix: prefix.to_owned(),
            ..KubernetesConfig::default()
        };
        assert!(
            matches!(
                config.validate(),
                Err(KubernetesConfigError::NamespacePrefix(_))
            ),
            "{prefix}"
        );
    }
    for prefix in ["", "bay-", &"a".repeat(27)] {
        let config = KubernetesConfig {
            namespace_prefix: prefix.to_owned(),
            ..KubernetesConfig::default()
        };
        config.validate().unwrap();
    }
}

#[test]
fn bad_quantities_and_limits_are_refused() {
    let mut config = KubernetesConfig::default();
    config
        .quota_per_node
        .insert("limits.memory".into(), "1.5Gi".into());
    let err = config.validate().unwrap_err();
    assert!(
        err.to_string().starts_with("quota_per_node[limits.memory]"),
        "{err}"
    );

    let config = KubernetesConfig {
        token_expiration_secs: 599,
        ..KubernetesConfig::default()
    };
    assert!(matches!(
        config.validate(),
        Err(KubernetesConfigError::TokenExpiration(599))
    ));
    let config = KubernetesConfig {
        request_timeout_secs: 0,
        ..KubernetesConfig::default()
    };
    assert!(matches!(
        config.validate(),
        Err(KubernetesConfigError::RequestTimeout)
    ));
}
