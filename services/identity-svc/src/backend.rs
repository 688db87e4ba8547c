//! Token validators. Plain Rust: the gRPC layer translates.

use magnum_proto::identity::v1::{Identity, NoAuthHints};
use serde::{Deserialize, Serialize};

/// The identity every request gets in no-auth mode, unless the caller's hints override it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoAuthConfig {
    pub project_id: String,
    pub user_id: String,
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

#[derive(Debug, Clone)]
pub struct NoAuthValidator {
    config: NoAuthConfig,
}

impl NoAuthValidator {
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
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_without_hints() {
        let identity = NoAuthValidator::new(NoAuthConfig::default()).validate(None);
        assert_eq!(identity.project_id, "noauth-project");
        assert!(identity.is_admin);
    }

    #[test]
    fn hints_override_the_default_identity() {
        let hints = NoAuthHints {
            project_id: "p2".into(),
            user_id: "".into(),
            roles: vec!["Member".into()],
        };
        let identity = NoAuthValidator::new(NoAuthConfig::default()).validate(Some(&hints));
        assert_eq!(identity.project_id, "p2");
        assert_eq!(identity.user_id, "noauth-user");
        assert_eq!(identity.roles, vec!["member"]);
        assert!(!identity.is_admin);
    }
}
