//! A bay's credentials: what a client needs to reach the bay's own API *as the bay* — for a
//! kubernetes bay, its namespace on the host cluster and its ServiceAccount token, never the
//! host cluster's admin credentials. Only a usable bay whose driver gave a credential has
//! them; the token itself is unsealed by the use case, this module reads the driver's state.

use std::fmt;

use chrono::{DateTime, Utc};
use magnum_driver_kubernetes::KubernetesBayState;
use uuid::Uuid;

use crate::domain::bay::{Bay, BayStatus};
use crate::domain::baymodel::Coe;
use crate::error::{Error, Result};

/// How to reach a bay's API server: everything of its credentials but the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayAccess {
    pub bay_uuid: Uuid,
    pub coe: Coe,
    pub status: BayStatus,
    /// The API server URL (for a kubernetes bay, the host cluster's).
    pub api_server: String,
    /// The namespace every object of the bay lives in.
    pub namespace: String,
    /// PEM certificates the API server's certificate must chain to; empty: system roots.
    pub ca_certificates_pem: Vec<String>,
    /// The operator configured the host cluster without TLS verification.
    pub insecure_skip_tls_verify: bool,
    /// When the token expires, when the driver recorded it (and it parses as RFC 3339).
    pub token_expires_at: Option<DateTime<Utc>>,
}

impl BayAccess {
    /// How to reach `bay`, from its driver's stored state. The bay must be usable
    /// (`BayNotUsable`) and of a driver that gives credentials, kubernetes
    /// (`BayHasNoCredentials`); a kubernetes state that does not decode is a corrupt row.
    pub fn of(bay: &Bay) -> Result<Self> {
        if !bay.status.is_usable() {
            return Err(Error::BayNotUsable {
                bay: bay.display_name(),
                status: bay.status,
            });
        }
        if bay.coe != Coe::Kubernetes || bay.placement.driver_state.is_null() {
            return Err(no_credentials(bay));
        }
        let state: KubernetesBayState = serde_json::from_value(bay.placement.driver_state.clone())
            .map_err(|error| Error::CorruptRecord {
                kind: "bay",
                uuid: bay.uuid.to_string(),
                reason: format!("kubernetes driver state: {error}"),
            })?;
        Ok(Self {
            bay_uuid: bay.uuid,
            coe: bay.coe,
            status: bay.status,
            api_server: state.server,
            namespace: state.namespace,
            ca_certificates_pem: state.certificate_authority_pem,
            insecure_skip_tls_verify: state.insecure_skip_tls_verify,
            token_expires_at: state.token_expires_at.as_deref().and_then(parse_rfc3339),
        })
    }

    /// The credentials: this access and the bay's token.
    pub fn with_token(self, token: String) -> BayCredentials {
        BayCredentials {
            access: self,
            token,
        }
    }
}

/// `BayHasNoCredentials` for `bay` (no driver state, or a driver without credentials).
pub fn no_credentials(bay: &Bay) -> Error {
    Error::BayHasNoCredentials {
        bay: bay.display_name(),
        coe: bay.coe.as_str(),
    }
}

/// An expiry the driver recorded; one that does not parse is left out rather than failing
/// the whole answer (the token works or not regardless).
fn parse_rfc3339(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// A bay's credentials: how to reach its API and the bearer token to do it with.
#[derive(Clone, PartialEq, Eq)]
pub struct BayCredentials {
    pub access: BayAccess,
    /// The bay's own credential (a kubernetes bay: its ServiceAccount token).
    pub token: String,
}

/// The token is left out, so the credentials can be logged by mistake without leaking it.
impl fmt::Debug for BayCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BayCredentials")
            .field("access", &self.access)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
#[path = "credentials_test.rs"]
mod tests;
