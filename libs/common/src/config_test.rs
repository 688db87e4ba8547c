//! Unit tests of `config`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde::Deserialize;

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
struct Bus {
    url: String,
    retries: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
struct Section {
    listen: String,
    verbose: bool,
    bus: Bus,
}

impl Default for Section {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:1".into(),
            verbose: false,
            bus: Bus::default(),
        }
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_then_file_then_env() {
    let dir = std::env::temp_dir().join(format!("magnum-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("magnum.toml");
    std::fs::write(
        &file,
        "[bay]\nlisten = \"0.0.0.0:9\"\n[bay.bus]\nurl = \"nats://file\"\nretries = 2\n",
    )
    .unwrap();
    let loader = Loader::new(
        Some(&file),
        env(&[
            ("MAGNUM_BAY__BUS__URL", "nats://env"),
            ("MAGNUM_BAY__VERBOSE", "true"),
            ("OTHER", "x"),
        ]),
    )
    .unwrap();
    let section: Section = loader.section("bay").unwrap();
    assert_eq!(section.listen, "0.0.0.0:9");
    assert_eq!(
        section.bus,
        Bus {
            url: "nats://env".into(),
            retries: 2
        }
    );
    assert!(section.verbose);
    let untouched: Section = loader.section("gateway").unwrap();
    assert_eq!(untouched, Section::default());
}

#[test]
fn unknown_keys_and_bad_types_are_errors() {
    let loader = Loader::new(None, env(&[("MAGNUM_BAY__LISTNE", "x")])).unwrap();
    assert!(loader.section::<Section>("bay").is_err());
    let loader = Loader::new(None, env(&[("MAGNUM_BAY__BUS__RETRIES", "many")])).unwrap();
    assert!(loader.section::<Section>("bay").is_err());
}

#[test]
fn shared_tables_are_defaults_for_each_service() {
    let loader = Loader::new(
        None,
        env(&[
            ("MAGNUM_BUS__URL", "nats://shared"),
            ("MAGNUM_BUS__RETRIES", "3"),
            ("MAGNUM_GATEWAY__BUS__URL", "nats://own"),
        ]),
    )
    .unwrap();
    let bay: Section = loader.service_section("bay", &["bus"]).unwrap();
    assert_eq!(
        bay.bus,
        Bus {
            url: "nats://shared".into(),
            retries: 3
        }
    );
    let gateway: Section = loader.service_section("gateway", &["bus"]).unwrap();
    assert_eq!(
        gateway.bus,
        Bus {
            url: "nats://own".into(),
            retries: 3
        }
    );
}

#[test]
fn a_missing_file_is_an_error() {
    assert!(Loader::new(Some(Path::new("/nonexistent/magnum.toml")), env(&[])).is_err());
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
struct Secrets {
    password: String,
    roles: Vec<String>,
    port: u16,
}

#[test]
fn env_scalars_keep_their_text_and_lists_parse() {
    let loader = Loader::new(
        None,
        env(&[
            ("MAGNUM_ID__PASSWORD", "007"),
            ("MAGNUM_ID__ROLES", "[admin, member]"),
            ("MAGNUM_ID__PORT", "9520"),
        ]),
    )
    .unwrap();
    let secrets: Secrets = loader.section("id").unwrap();
    assert_eq!(secrets.password, "007");
    assert_eq!(secrets.roles, ["admin", "member"]);
    assert_eq!(secrets.port, 9520);
}
