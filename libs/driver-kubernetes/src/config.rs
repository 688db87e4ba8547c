//! The driver's configuration and its checks.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::quantity::{self, QuantityError};

/// Longest namespace name (an RFC 1123 label).
const MAX_NAMESPACE_LEN: usize = 63;
/// A hyphenated uuid, the part of the namespace name after the prefix.
const UUID_LEN: usize = 36;
/// TokenRequest limits of the API server: at least 10 minutes, at most 2^32 seconds.
const MIN_TOKEN_EXPIRATION_SECS: i64 = 600;
const MAX_TOKEN_EXPIRATION_SECS: i64 = 1 << 32;

/// Configuration of the kubernetes bay driver.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesConfig {
    /// Kubeconfig of the host cluster. `None`: `$KUBECONFIG`, `~/.kube/config`, or the
    /// in-cluster service account, as `kubectl` would find them.
    pub kubeconfig: Option<PathBuf>,
    /// Context in the kubeconfig; `None` = its `current-context`.
    pub context: Option<String>,
    /// A bay's namespace is `<namespace_prefix><bay uuid>`.
    pub namespace_prefix: String,
    /// ResourceQuota `spec.hard` per node; the bay's quota is this times its node count.
    pub quota_per_node: BTreeMap<String, String>,
    /// Lifetime of the bay's ServiceAccount token.
    pub token_expiration_secs: i64,
    /// Bound on each call to the API server.
    pub request_timeout_secs: u64,
    /// How long `delete` waits for the namespace to be gone before it returns anyway.
    pub delete_wait_secs: u64,
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        let quota_per_node = [
            ("pods", "20"),
            ("services", "10"),
            ("replicationcontrollers", "10"),
            ("requests.cpu", "2"),
            ("requests.memory", "4Gi"),
            ("limits.cpu", "4"),
            ("limits.memory", "8Gi"),
        ]
        .into_iter()
        .map(|(resource, quantity)| (resource.to_owned(), quantity.to_owned()))
        .collect();
        Self {
            kubeconfig: None,
            context: None,
            namespace_prefix: "magnum-".to_owned(),
            quota_per_node,
            token_expiration_secs: 31_536_000,
            request_timeout_secs: 30,
            delete_wait_secs: 60,
        }
    }
}

/// Why the driver could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum KubernetesConfigError {
    #[error(
        "namespace_prefix {0:?} must be lower-case letters, digits and '-', start with a letter or digit, and be at most 27 characters (the bay uuid follows it in a 63-character namespace name)"
    )]
    NamespacePrefix(String),
    #[error("quota_per_node[{resource}]: {source}")]
    Quota {
        resource: String,
        source: QuantityError,
    },
    #[error("token_expiration_secs {0} is out of range (the API server accepts 600 to 4294967296)")]
    TokenExpiration(i64),
    #[error("request_timeout_secs must be greater than 0")]
    RequestTimeout,
    #[error("cannot read kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("cannot find a host cluster configuration: {0}")]
    Infer(#[from] kube::config::InferConfigError),
    #[error("cannot use the kubeconfig{}: {source}", context_suffix(.context))]
    Context {
        context: Option<String>,
        source: kube::config::KubeconfigError,
    },
    #[error("the cluster URL {0:?} is not a URL with a host")]
    ServerUrl(String),
    #[error("cannot build a Kubernetes client: {0}")]
    Client(#[from] kube::Error),
}

fn context_suffix(context: &Option<String>) -> String {
    context
        .as_ref()
        .map(|c| format!(" context {c:?}"))
        .unwrap_or_default()
}

impl KubernetesConfig {
    /// Checks everything that can be checked without the cluster.
    pub fn validate(&self) -> Result<(), KubernetesConfigError> {
        let prefix = &self.namespace_prefix;
        let prefix_ok = prefix.len() + UUID_LEN <= MAX_NAMESPACE_LEN
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && prefix.bytes().next().is_none_or(|b| b != b'-');
        if !prefix_ok {
            return Err(KubernetesConfigError::NamespacePrefix(prefix.clone()));
        }
        for (resource, quantity) in &self.quota_per_node {
            quantity::scale(quantity, 1).map_err(|source| KubernetesConfigError::Quota {
                resource: resource.clone(),
                source,
            })?;
        }
        if !(MIN_TOKEN_EXPIRATION_SECS..=MAX_TOKEN_EXPIRATION_SECS)
            .contains(&self.token_expiration_secs)
        {
            return Err(KubernetesConfigError::TokenExpiration(
                self.token_expiration_secs,
            ));
        }
        if self.request_timeout_secs == 0 {
            return Err(KubernetesConfigError::RequestTimeout);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
