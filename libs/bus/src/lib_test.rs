//! Unit tests of `lib`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn config_defaults_and_unknown_fields() {
    let config: BusConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(config, BusConfig::default());
    assert_eq!(config.url, "memory://");
    assert!(serde_json::from_str::<BusConfig>(r#"{"uri":"x"}"#).is_err());
}

#[test]
fn urls_hide_credentials() {
    assert_eq!(
        display_url("nats://u:pw@host:4222"),
        "nats://<credentials>@host:4222"
    );
    assert_eq!(display_url("nats://host:4222"), "nats://host:4222");
    let config = BusConfig {
        url: "nats://u:pw@host:4222".into(),
        prefix: String::new(),
    };
    assert!(!format!("{config:?}").contains("pw"));
}

#[test]
fn ack_timeouts_follow_backoff() {
    let mut spec = ConsumerSpec::new("d", "magnum.ops.>");
    assert_eq!(spec.ack_timeout(3), Duration::from_secs(30));
    spec.backoff = vec![Duration::from_secs(1), Duration::from_secs(5)];
    assert_eq!(spec.ack_timeout(1), Duration::from_secs(1));
    assert_eq!(spec.ack_timeout(2), Duration::from_secs(5));
    assert_eq!(spec.ack_timeout(9), Duration::from_secs(5));
}

#[tokio::test]
async fn bad_configs_are_refused() {
    let bad_url = BusConfig {
        url: "kafka://x".into(),
        prefix: String::new(),
    };
    assert!(matches!(connect(&bad_url).await, Err(BusError::Config(_))));
    let bad_prefix = BusConfig {
        url: "memory://".into(),
        prefix: "A.B".into(),
    };
    assert!(matches!(
        connect(&bad_prefix).await,
        Err(BusError::Config(_))
    ));
}
