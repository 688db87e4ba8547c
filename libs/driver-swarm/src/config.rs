//! The driver's configuration: the pool of Docker engines bays are placed on.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The swarm driver's settings (the `[swarm]` section of a service's config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwarmConfig {
    /// The engine pool, in order of preference when engines carry as many bays.
    pub engines: Vec<EngineConfig>,
    /// Bound on reaching an engine (first contact and pings), in seconds.
    pub connect_timeout_secs: u64,
    /// Bound on every other Docker call, in seconds.
    pub request_timeout_secs: u64,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        Self {
            engines: Vec::new(),
            connect_timeout_secs: 5,
            request_timeout_secs: 60,
        }
    }
}

/// One entry of the engine pool. Several entries may name the same engine.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// The entry's name, unique in the pool; it names the bay's node on this engine.
    pub name: String,
    /// `unix:///path/to/docker.sock` or `tcp://host:port`.
    pub url: String,
    /// The address users reach the node at, when it is not the host of a tcp `url`.
    pub address: Option<String>,
    /// Client certificates for a `tcp://` engine that requires TLS.
    pub tls: Option<EngineTls>,
}

/// The PEM files of a TLS-protected engine.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineTls {
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// Why a [`SwarmConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwarmConfigError {
    #[error("Docker engine #{index} of the pool has no name")]
    MissingName { index: usize },
    #[error("Docker engine name {0:?} appears more than once in the pool")]
    DuplicateName(String),
    #[error("Docker engine {name} has url {url:?}: expected unix:///path or tcp://host:port")]
    BadUrl { name: String, url: String },
    #[error("Docker engine {name} has TLS settings but a unix:// url; TLS needs tcp://host:port")]
    TlsOnUnixSocket { name: String },
    #[error("{field} must be at least 1 second")]
    ZeroTimeout { field: &'static str },
}

/// Where an engine is reached, parsed from [`EngineConfig::url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EngineEndpoint {
    /// A unix socket path.
    Unix(String),
    /// `host:port` of a tcp url, and the host alone.
    Tcp { authority: String, host: String },
}

impl EngineEndpoint {
    pub(crate) fn parse(url: &str) -> Option<Self> {
        if let Some(path) = url.strip_prefix("unix://") {
            return path.starts_with('/').then(|| Self::Unix(path.to_owned()));
        }
        let uri: http::Uri = url.parse().ok()?;
        if uri.scheme_str() != Some("tcp") || !matches!(uri.path(), "" | "/") {
            return None;
        }
        let authority = uri.authority()?;
        authority.port_u16()?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        (!host.is_empty()).then(|| Self::Tcp {
            authority: authority.as_str().to_owned(),
            host: host.to_owned(),
        })
    }
}

impl SwarmConfig {
    /// Checks the pool: named entries, unique names, known url schemes.
    pub fn validate(&self) -> Result<(), SwarmConfigError> {
        if self.connect_timeout_secs == 0 {
            return Err(SwarmConfigError::ZeroTimeout {
                field: "connect_timeout_secs",
            });
        }
        if self.request_timeout_secs == 0 {
            return Err(SwarmConfigError::ZeroTimeout {
                field: "request_timeout_secs",
            });
        }
        let mut names = HashSet::new();
        for (index, engine) in self.engines.iter().enumerate() {
            if engine.name.trim().is_empty() {
                return Err(SwarmConfigError::MissingName { index });
            }
            if !names.insert(engine.name.as_str()) {
                return Err(SwarmConfigError::DuplicateName(engine.name.clone()));
            }
            let endpoint =
                EngineEndpoint::parse(&engine.url).ok_or_else(|| SwarmConfigError::BadUrl {
                    name: engine.name.clone(),
                    url: engine.url.clone(),
                })?;
            if engine.tls.is_some() && matches!(endpoint, EngineEndpoint::Unix(_)) {
                return Err(SwarmConfigError::TlsOnUnixSocket {
                    name: engine.name.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
