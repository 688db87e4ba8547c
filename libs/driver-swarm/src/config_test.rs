#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn engine(name: &str, url: &str) -> EngineConfig {
    EngineConfig {
        name: name.to_owned(),
        url: url.to_owned(),
        ..Default::default()
    }
}

fn pool(engines: Vec<EngineConfig>) -> SwarmConfig {
    SwarmConfig {
        engines,
        ..Default::default()
    }
}

#[test]
fn defaults_fill_missing_fields() {
    let config: SwarmConfig = serde_json::from_value(serde_json::json!({
        "engines": [{ "name": "node-a", "url": "unix:///run/docker.sock" }]
    }))
    .unwrap();
    assert_eq!(config.connect_timeout_secs, 5);
    assert_eq!(config.request_timeout_secs, 60);
    assert_eq!(config.engines[0].address, None);
    assert_eq!(config.engines[0].tls, None);
    config.validate().unwrap();
}

#[test]
fn unknown_fields_are_refused() {
    let result = serde_json::from_value::<SwarmConfig>(serde_json::json!({
        "engines": [{ "name": "node-a", "url": "unix:///run/docker.sock", "port": 1 }]
    }));
    assert!(result.is_err());
}

#[test]
fn tls_settings_deserialize() {
    let config: SwarmConfig = serde_json::from_value(serde_json::json!({
        "engines": [{
            "name": "node-a",
            "url": "tcp://10.0.0.5:2376",
            "tls": { "ca_file": "/ca.pem", "cert_file": "/cert.pem", "key_file": "/key.pem" }
        }]
    }))
    .unwrap();
    assert_eq!(
        config.engines[0].tls.as_ref().unwrap().ca_file,
        PathBuf::from("/ca.pem")
    );
    config.validate().unwrap();
}

#[test]
fn duplicate_names_are_refused() {
    let config = pool(vec![
        engine("node-a", "unix:///a.sock"),
        engine("node-a", "unix:///b.sock"),
    ]);
    assert_eq!(
        config.validate(),
        Err(SwarmConfigError::DuplicateName("node-a".to_owned()))
    );
}

#[test]
fn empty_names_are_refused() {
    let config = pool(vec![engine(" ", "unix:///a.sock")]);
    assert_eq!(
        config.validate(),
        Err(SwarmConfigError::MissingName { index: 0 })
    );
}

#[test]
fn unknown_url_schemes_are_refused() {
    for url in [
        "http://host:2375",
        "ssh://host",
        "tcp://host",
        "tcp://:2375",
        "unix://relative.sock",
        "tcp://host:2375/path",
        "",
    ] {
        let config = pool(vec![engine("node-a", url)]);
        assert!(
            matches!(config.validate(), Err(SwarmConfigError::BadUrl { .. })),
            "{url} should be refused"
        );
    }
}

#[test]
fn tls_needs_a_tcp_url() {
    let mut unix = engine("node-a", "unix:///a.sock");
    unix.tls = Some(EngineTls::default());
    assert_eq!(
        pool(vec![unix]).validate(),
        Err(SwarmConfigError::TlsOnUnixSocket {
            name: "node-a".to_owned()
        })
    );
}

#[test]
fn zero_timeouts_are_refused() {
    let config = SwarmConfig {
        request_timeout_secs: 0,
        ..Default::default()
    };
    assert_eq!(
        config.validate(),
        Err(SwarmConfigError::ZeroTimeout {
            field: "request_timeout_secs"
        })
    );
}

#[test]
fn endpoints_parse() {
    assert_eq!(
        EngineEndpoint::parse("unix:///run/docker.sock"),
        Some(EngineEndpoint::Unix("/run/docker.sock".to_owned()))
    );
    assert_eq!(
        EngineEndpoint::parse("tcp://10.0.0.5:2376"),
        Some(EngineEndpoint::Tcp {
            authority: "10.0.0.5:2376".to_owned(),
            host: "10.0.0.5".to_owned()
        })
    );
    assert_eq!(
        EngineEndpoint::parse("tcp://[fd00::1]:2375"),
        Some(EngineEndpoint::Tcp {
            authority: "[fd00::1]:2375".to_owned(),
            host: "fd00::1".to_owned()
        })
    );
}
