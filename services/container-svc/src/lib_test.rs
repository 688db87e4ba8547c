//! Unit tests of `lib`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_common::config::Loader;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_run_the_embedded_mode() {
    let config: Config = Loader::new(None, env(&[]))
        .unwrap()
        .section("container")
        .unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.listen.to_string(), "0.0.0.0:9523");
    assert_eq!(config.database.url, "sqlite://data/container.db");
    assert_eq!(config.database.schema, "container");
}

#[test]
fn env_overrides_and_unknown_keys_are_refused() {
    let loader = Loader::new(
        None,
        env(&[
            ("MAGNUM_CONTAINER__LISTEN", "127.0.0.1:1234"),
            ("MAGNUM_CONTAINER__DATABASE__URL", "postgres://db/magnum"),
            ("MAGNUM_CONTAINER__BUS__URL", "nats://127.0.0.1:4222"),
        ]),
    )
    .unwrap();
    let config: Config = loader.section("container").unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:1234");
    assert_eq!(config.database.url, "postgres://db/magnum");
    assert_eq!(config.database.schema, "container");
    assert_eq!(config.bus.url, "nats://127.0.0.1:4222");

    let typo = Loader::new(None, env(&[("MAGNUM_CONTAINER__LISTNE", "x")])).unwrap();
    assert!(typo.section::<Config>("container").is_err());
}
