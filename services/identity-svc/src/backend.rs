//! Token validators. Plain Rust: the gRPC layer translates.

use magnum_proto::identity::v1::{Identity, NoAuthHints};
use serde::{Deserialize, Serialize};

use crate::config::{Config, Mode};
use crate::error::IdentityError;
use crate::keystone::KeystoneValidator;

/// The validator a configuration asks for.
#[derive(Clone)]
pub enum Backend {
    /// Development: every caller is trusted.
    NoAuth(NoAuthValidator),
    /// Tokens are checked with Keystone.
    Keystone(KeystoneValidator),
}

impl Backend {
    /// Checks the configuration (refusing no-auth in production) and builds the validator.
    pub fn from_config(config: &Config) -> Result<Self, IdentityError> {
        config.validate()?;
        Ok(match config.mode {
            Mode::Noauth => Self::NoAuth(NoAuthValidator::new(config.noauth.clone())),
            Mode::Keystone => Self::Keystone(KeystoneValidator::new(config.keystone.clone())?),
        })
    }

    /// Who the caller is. `hints` count in no-auth mode only.
    pub async fn validate(
        &self,
        token: &str,
        hints: Option<&NoAuthHints>,
    ) -> Result<Identity, IdentityError> {
        match self {
            Self::NoAuth(validator) => Ok(validator.validate(hints)),
            Self::Keystone(validator) => validator.validate(token).await,
        }
    }
}

/// The identity every request gets in no-auth mode, unless the caller's hints override it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoAuthConfig {
    pub project_id: String,
    pub user_id: String,
    /// Role names; `admin` makes every caller an administrator.
    pub roles: Vec<String>,
}

impl Default for NoAuthConfig {
    fn default() -> Self {
        Self {
            project_id: "noauth-project".to_owned(),
            user_id: "noauth-user".to_owned(),
            // One person on a laptop can do everything.
            roles: vec!["admin".to_owned(), "member".to_owned(), "reader".to_owned()],
        }
    }
}

/// No-auth mode: answers with the configured identity, whatever the token.
#[derive(Debug, Clone)]
pub struct NoAuthValidator {
    config: NoAuthConfig,
}

impl NoAuthValidator {
    /// A validator that answers with `config`'s identity.
    pub fn new(config: NoAuthConfig) -> Self {
        Self { config }
    }

    /// Any token is accepted; hints sent by the caller win over the configured identity.
    pub fn validate(&self, hints: Option<&NoAuthHints>) -> Identity {
        let pick = |hint: Option<&String>, default: &String| {
            hint.filter(|h| !h.is_empty()).unwrap_or(default).clone()
        };
        let project_id = pick(hints.map(|h| &h.project_id), &self.config.project_id);
        let user_id = pick(hints.map(|h| &h.user_id), &self.config.user_id);
        let roles: Vec<String> = match hints {
            Some(h) if !h.roles.is_empty() => {
                h.roles.iter().map(|r| r.to_ascii_lowercase()).collect()
            }
            _ => self.config.roles.clone(),
        };
        let is_admin = roles.iter().any(|r| r == "admin");
        Identity {
            user_name: user_id.clone(),
            user_id,
            project_name: project_id.clone(),
            project_id,
            domain_id: "default".to_owned(),
            domain_name: "Default".to_owned(),
            roles,
            is_admin,
            // No expiry: callers cache up to their TTL cap.
            expires_at: None,
        }
    }
}

#[cfg(test)]
#[path = "backend_test.rs"]
mod tests;
