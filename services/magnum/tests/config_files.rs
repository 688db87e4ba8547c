//! The configuration files the project ships must load: the example (every key with its
//! default) and the one deploy/k8s mounts into every pod.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use magnum::{MeshConfig, embedded_defaults};
use magnum_common::config::Loader;

fn load(file: &str, env: &[(&str, &str)]) -> MeshConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(file);
    let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    let loader =
        Loader::with_defaults(embedded_defaults(Path::new("data")), Some(&path), env).unwrap();
    let _telemetry: magnum_telemetry::TelemetryConfig = loader.section("telemetry").unwrap();
    MeshConfig::load(&loader).unwrap_or_else(|error| panic!("{file}: {error:#}"))
}

#[test]
fn the_example_configuration_loads_and_runs_the_embedded_mode() {
    let config = load("config/magnum.example.toml", &[]);
    assert_eq!(config.gateway.listen, "127.0.0.1:9511");
    assert_eq!(config.bay.database.url, "sqlite://data/bay.db");
    assert_eq!(config.identity.mode, identity_svc::Mode::Noauth);
}

#[test]
fn the_kubernetes_configuration_loads_in_production_keystone_mode() {
    let config = load(
        "deploy/k8s/magnum.toml",
        &[
            ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD", "secret"),
            (
                "MAGNUM_BAY__DATABASE__URL",
                "postgres://magnum:secret@db:5432/magnum",
            ),
        ],
    );
    assert_eq!(config.identity.mode, identity_svc::Mode::Keystone);
    assert_eq!(config.identity.profile, identity_svc::Profile::Production);
    assert_eq!(config.bus.url, "nats://nats.nats.svc.cluster.local:4222");
    assert_eq!(config.bay.auth.identity_url, "http://identity-svc:9520");
}
