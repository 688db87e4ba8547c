//! Unit tests of `config`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use magnum_common::config::Loader;

#[test]
fn defaults_and_environment() {
    let loader = Loader::new(
        None,
        [
            (
                "MAGNUM_GATEWAY__LISTEN".to_owned(),
                "127.0.0.1:1".to_owned(),
            ),
            ("MAGNUM_GATEWAY__MAX_LIMIT".to_owned(), "50".to_owned()),
            (
                "MAGNUM_GATEWAY__AUTH__IDENTITY_URL".to_owned(),
                "http://identity:9520".to_owned(),
            ),
        ],
    )
    .unwrap();
    let config: Config = loader.section("gateway").unwrap();
    assert_eq!(config.listen, "127.0.0.1:1");
    assert_eq!(config.max_limit, 50);
    assert_eq!(config.max_body_bytes, 1024 * 1024);
    assert_eq!(config.bay_url, "http://127.0.0.1:9521");
    assert_eq!(config.auth.identity_url, "http://identity:9520");
    config.validate().unwrap();
}

#[test]
fn unknown_keys_and_useless_values_are_refused() {
    let loader = Loader::new(
        None,
        [("MAGNUM_GATEWAY__MAX_LIMITS".to_owned(), "5".to_owned())],
    )
    .unwrap();
    assert!(loader.section::<Config>("gateway").is_err());
    let config = Config {
        max_limit: 0,
        ..Config::default()
    };
    assert!(config.validate().is_err());
}
