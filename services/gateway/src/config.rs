//! The `[gateway]` configuration section. Every default runs the embedded (all on one
//! host) mode.

use axum::http::HeaderValue;
use magnum_grpc::AuthClientConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Gateway settings (`[gateway]` in the file, `MAGNUM_GATEWAY__*` in the environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP listen address (Magnum's port is 9511).
    pub listen: String,
    /// Where Prometheus scrapes `GET /metrics` (HTTP, apart from the API); none when unset.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// bay-svc's gRPC endpoint (baymodels, bays, nodes, certificates).
    pub bay_url: String,
    /// k8s-svc's gRPC endpoint (pods, services, replication controllers).
    pub k8s_url: String,
    /// container-svc's gRPC endpoint (containers).
    pub container_url: String,
    /// Largest request body accepted (413 beyond it).
    pub max_body_bytes: usize,
    /// Largest page a list returns, whatever `limit` asks for (Magnum's `max_limit`).
    pub max_limit: u32,
    /// How tokens are validated (identity-svc endpoint and cache).
    pub auth: AuthClientConfig,
    /// Public Keystone URL announced on 401 answers (`WWW-Authenticate: Keystone
    /// uri="..."`, as keystonemiddleware does); none when unset.
    pub www_authenticate_uri: Option<String>,
    /// Where the gateway's heartbeats go (`/v1/mservices`); it serves while it is down.
    pub bus: magnum_bus::BusConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:9511".to_owned(),
            metrics_listen: None,
            bay_url: "http://127.0.0.1:9521".to_owned(),
            k8s_url: "http://127.0.0.1:9522".to_owned(),
            container_url: "http://127.0.0.1:9523".to_owned(),
            max_body_bytes: 1024 * 1024,
            max_limit: 1000,
            auth: AuthClientConfig::default(),
            www_authenticate_uri: None,
            bus: magnum_bus::BusConfig::default(),
        }
    }
}

impl Config {
    /// Refuses settings that cannot work (checked at start-up).
    pub fn validate(&self) -> Result<()> {
        if self.max_body_bytes == 0 {
            return Err(Error::Config(
                "max_body_bytes must be at least 1".to_owned(),
            ));
        }
        if let Some(uri) = &self.www_authenticate_uri
            && HeaderValue::from_str(&format!("Keystone uri=\"{uri}\"")).is_err()
        {
            return Err(Error::Config(format!(
                "www_authenticate_uri {uri:?} cannot be sent in a header"
            )));
        }
        if self.max_limit == 0 {
            return Err(Error::Config("max_limit must be at least 1".to_owned()));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
