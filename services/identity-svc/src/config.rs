//! identity-svc's configuration: the `[identity]` section (`MAGNUM_IDENTITY__*`).
//!
//! A configuration that would be unsafe or cannot work (no-auth in production, Keystone
//! mode without a password, ...) is refused while it is read, so both binaries exit with
//! 64 and one line on stderr; `serve` checks again for configurations built in code.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::backend::NoAuthConfig;
use crate::error::IdentityError;

/// How tokens are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Development only: no token is checked; every caller is the `[identity.noauth]`
    /// identity. Refused with `profile = "production"`.
    #[default]
    Noauth,
    /// Tokens are validated by Keystone v3 (`[identity.keystone]`).
    Keystone,
}

/// What the deployment is for; production refuses settings that are only safe on a laptop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Development,
    Production,
}

/// The `[identity]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct Config {
    /// gRPC listen address (default `0.0.0.0:9520`).
    pub listen: SocketAddr,
    /// Where Prometheus scrapes `GET /metrics` (HTTP); none when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// `noauth` (default, development only) or `keystone`.
    pub mode: Mode,
    /// `development` (default) or `production`.
    pub profile: Profile,
    /// The identity every caller gets in no-auth mode.
    pub noauth: NoAuthConfig,
    /// How to reach Keystone in keystone mode.
    pub keystone: KeystoneConfig,
    /// Where identity-svc's heartbeats go (`/v1/mservices`); it serves while it is down.
    pub bus: magnum_bus::BusConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9520)),
            metrics_listen: None,
            mode: Mode::Noauth,
            profile: Profile::Development,
            noauth: NoAuthConfig::default(),
            keystone: KeystoneConfig::default(),
            bus: magnum_bus::BusConfig::default(),
        }
    }
}

impl Config {
    /// Refuses combinations that are unsafe or cannot work.
    pub fn validate(&self) -> Result<(), IdentityError> {
        match self.mode {
            Mode::Noauth if self.profile == Profile::Production => Err(IdentityError::Config(
                "mode = \"noauth\" trusts every caller and is refused with profile = \
                 \"production\"; set mode = \"keystone\""
                    .to_owned(),
            )),
            Mode::Noauth => Ok(()),
            Mode::Keystone => self.keystone.validate(),
        }
    }
}

/// What the file and the environment may say; `Config` is this after `validate`.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    listen: SocketAddr,
    metrics_listen: Option<SocketAddr>,
    mode: Mode,
    profile: Profile,
    noauth: NoAuthConfig,
    keystone: KeystoneConfig,
    bus: magnum_bus::BusConfig,
}

impl Default for RawConfig {
    fn default() -> Self {
        let Config {
            listen,
            metrics_listen,
            mode,
            profile,
            noauth,
            keystone,
            bus,
        } = Config::default();
        Self {
            listen,
            metrics_listen,
            mode,
            profile,
            noauth,
            keystone,
            bus,
        }
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = IdentityError;

    fn try_from(raw: RawConfig) -> Result<Self, Self::Error> {
        let config = Self {
            listen: raw.listen,
            metrics_listen: raw.metrics_listen,
            mode: raw.mode,
            profile: raw.profile,
            noauth: raw.noauth,
            keystone: raw.keystone,
            bus: raw.bus,
        };
        config.validate()?;
        Ok(config)
    }
}

/// The `[identity.keystone]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeystoneConfig {
    /// Keystone's v3 endpoint, e.g. `http://127.0.0.1:5000/v3`.
    pub auth_url: String,
    /// The service user that validates tokens (needs role `admin` or `service`).
    pub username: String,
    /// The service user's password. Give it through `MAGNUM_IDENTITY__KEYSTONE__PASSWORD`
    /// or `password_file`, never in the TOML file that is checked in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// A file holding the password (e.g. a mounted Kubernetes Secret); read at start-up and
    /// again before each login, so a rotated password needs no restart. A trailing newline
    /// is ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// The project the service user's token is scoped to.
    pub project_name: String,
    pub user_domain_name: String,
    pub project_domain_name: String,
    /// Timeout of each HTTP request to Keystone (connect + answer).
    pub request_timeout_secs: u64,
    /// Longest time a validated token is trusted without asking Keystone again (capped by
    /// the token's expiry). A revoked token may keep working up to this long;
    /// keystonemiddleware's default is 300 s too.
    pub cache_ttl_secs: u64,
    /// How long a refused token stays refused without asking Keystone again.
    pub negative_cache_ttl_secs: u64,
    /// Most validation answers remembered at once.
    pub cache_capacity: u64,
}

impl Default for KeystoneConfig {
    fn default() -> Self {
        Self {
            auth_url: "http://127.0.0.1:5000/v3".to_owned(),
            username: "magnum".to_owned(),
            password: None,
            password_file: None,
            project_name: "service".to_owned(),
            user_domain_name: "Default".to_owned(),
            project_domain_name: "Default".to_owned(),
            request_timeout_secs: 5,
            cache_ttl_secs: 300,
            negative_cache_ttl_secs: 5,
            cache_capacity: 100_000,
        }
    }
}

impl KeystoneConfig {
    /// Refuses settings that cannot work (checked for `mode = "keystone"` only).
    pub fn validate(&self) -> Result<(), IdentityError> {
        let invalid = |message: String| Err(IdentityError::Config(message));
        match reqwest::Url::parse(&self.auth_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return invalid(format!(
                    "keystone.auth_url {:?} is not an http(s) URL",
                    self.auth_url
                ));
            }
        }
        match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return invalid(
                    "set keystone.password or keystone.password_file, not both".to_owned(),
                );
            }
            (None, None) => {
                return invalid(
                    "mode = \"keystone\" needs the service user's password: set \
                     MAGNUM_IDENTITY__KEYSTONE__PASSWORD or keystone.password_file"
                        .to_owned(),
                );
            }
            (Some(password), None) if password.expose().is_empty() => {
                return invalid("keystone.password is empty".to_owned());
            }
            _ => {}
        }
        if self.username.is_empty() || self.project_name.is_empty() {
            return invalid("keystone.username and keystone.project_name must be set".to_owned());
        }
        if self.request_timeout_secs == 0 {
            return invalid("keystone.request_timeout_secs must be at least 1".to_owned());
        }
        if self.cache_capacity == 0 {
            return invalid("keystone.cache_capacity must be at least 1".to_owned());
        }
        Ok(())
    }
}

/// A secret string: `Debug` never shows it. It serializes as itself so a configuration
/// survives a round trip through the layered loader.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// Accepts numbers and booleans too: the environment layer parses `12345` or `true`
    /// into typed values, and a password that looks like one must still work.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::new(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
                Ok(Secret(v))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
