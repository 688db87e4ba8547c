//! Unit tests of `config`: defaults, file + env layering, the secret, refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_common::config::Loader;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn file(text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("identity-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("magnum.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn load(file: Option<&std::path::Path>, vars: &[(&str, &str)]) -> Result<Config, String> {
    Loader::new(file, env(vars))
        .and_then(|loader| loader.section::<Config>("identity"))
        .map_err(|e| e.to_string())
}

#[test]
fn defaults_are_noauth_development_and_load_from_nothing() {
    let config = load(None, &[]).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.mode, Mode::Noauth);
    assert_eq!(config.profile, Profile::Development);
    let keystone = &config.keystone;
    assert_eq!(keystone.auth_url, "http://127.0.0.1:5000/v3");
    assert_eq!(keystone.username, "magnum");
    assert_eq!(keystone.project_name, "service");
    assert_eq!(keystone.user_domain_name, "Default");
    assert_eq!(keystone.project_domain_name, "Default");
    assert_eq!(keystone.request_timeout_secs, 5);
    assert_eq!(keystone.cache_ttl_secs, 300);
    assert_eq!(keystone.negative_cache_ttl_secs, 5);
    assert_eq!(keystone.cache_capacity, 100_000);
    assert_eq!(keystone.password, None);
}

#[test]
fn file_then_env_and_the_password_is_redacted() {
    let path = file(
        "[identity]\nmode = \"keystone\"\nprofile = \"production\"\n\
         [identity.keystone]\nauth_url = \"http://keystone:5000/v3\"\nusername = \"magnum-file\"\n\
         cache_ttl_secs = 60\n",
    );
    let config = load(
        Some(&path),
        &[
            ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD", "s3cret-Value"),
            ("MAGNUM_IDENTITY__KEYSTONE__USERNAME", "magnum-env"),
            ("MAGNUM_IDENTITY__KEYSTONE__NEGATIVE_CACHE_TTL_SECS", "2"),
        ],
    )
    .unwrap();
    assert_eq!(config.mode, Mode::Keystone);
    assert_eq!(config.profile, Profile::Production);
    assert_eq!(config.keystone.auth_url, "http://keystone:5000/v3");
    assert_eq!(
        config.keystone.username, "magnum-env",
        "env wins over the file"
    );
    assert_eq!(config.keystone.cache_ttl_secs, 60);
    assert_eq!(config.keystone.negative_cache_ttl_secs, 2);
    assert_eq!(
        config.keystone.password.as_ref().map(Secret::expose),
        Some("s3cret-Value")
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

#[test]
fn a_password_that_looks_like_a_number_or_boolean_still_loads() {
    for (raw, expected) in [("12345", "12345"), ("true", "true"), ("-3", "-3")] {
        let config = load(
            None,
            &[
                ("MAGNUM_IDENTITY__MODE", "keystone"),
                ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD", raw),
            ],
        )
        .unwrap();
        assert_eq!(
            config.keystone.password.as_ref().map(Secret::expose),
            Some(expected)
        );
    }
}

#[test]
fn noauth_in_production_is_refused_in_one_line() {
    let error = load(None, &[("MAGNUM_IDENTITY__PROFILE", "production")]).unwrap_err();
    assert!(error.contains("noauth"), "{error}");
    assert!(error.contains("production"), "{error}");
    assert!(!error.contains('\n'), "{error}");
    let built = Config {
        profile: Profile::Production,
        ..Config::default()
    };
    assert!(matches!(built.validate(), Err(IdentityError::Config(_))));
}

#[test]
fn keystone_mode_needs_exactly_one_password_source() {
    let error = load(None, &[("MAGNUM_IDENTITY__MODE", "keystone")]).unwrap_err();
    assert!(
        error.contains("MAGNUM_IDENTITY__KEYSTONE__PASSWORD"),
        "{error}"
    );
    let error = load(
        None,
        &[
            ("MAGNUM_IDENTITY__MODE", "keystone"),
            ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD", "x"),
            ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD_FILE", "/run/secrets/x"),
        ],
    )
    .unwrap_err();
    assert!(error.contains("not both"), "{error}");
    let config = load(
        None,
        &[
            ("MAGNUM_IDENTITY__MODE", "keystone"),
            ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD_FILE", "/run/secrets/x"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.keystone.password_file.as_deref(),
        Some(std::path::Path::new("/run/secrets/x"))
    );
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    for vars in [
        &[("MAGNUM_IDENTITY__KEYSTONE__PASSWROD", "x")][..],
        &[("MAGNUM_IDENTITY__MODE", "ldap")],
        &[("MAGNUM_IDENTITY__PROFILE", "staging")],
        &[
            ("MAGNUM_IDENTITY__MODE", "keystone"),
            ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD", "x"),
            ("MAGNUM_IDENTITY__KEYSTONE__AUTH_URL", "keystone:5000"),
        ],
        &[
            ("MAGNUM_IDENTITY__MODE", "keystone"),
            ("MAGNUM_IDENTITY__KEYSTONE__PASSWORD", "x"),
            ("MAGNUM_IDENTITY__KEYSTONE__REQUEST_TIMEOUT_SECS", "0"),
        ],
    ] {
        assert!(load(None, vars).is_err(), "{vars:?}");
    }
}

#[test]
fn keystone_settings_are_not_checked_in_noauth_mode() {
    // The embedded default must load whatever [identity.keystone] holds.
    let config = load(None, &[("MAGNUM_IDENTITY__KEYSTONE__AUTH_URL", "nonsense")]).unwrap();
    assert_eq!(config.mode, Mode::Noauth);
}
