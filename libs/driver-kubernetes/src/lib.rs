//! Kubernetes bay driver: a bay is a namespace on a host cluster, with quota, isolation and its own ServiceAccount.
//!
//! For a bay the driver makes, on the cluster its kubeconfig points at: the namespace
//! `<prefix><bay uuid>` (labelled `magnum.managed`, `magnum.bay.uuid`, `magnum.project`), a
//! ResourceQuota sized by the node count, a NetworkPolicy admitting traffic only from the same
//! namespace, and a ServiceAccount bound to a namespace-scoped Role. A TokenRequest token for
//! that account is the bay's credential. Every call is idempotent: each object is looked up by
//! its fixed name and created or brought in line, so a call repeated after a crash finishes
//! the job. See the crate README for pointing it at a cluster.

mod config;
mod driver;
mod error;
mod objects;
mod quantity;

pub use config::{KubernetesConfig, KubernetesConfigError};
pub use driver::{API_SERVER_NODE, KubernetesBayState, KubernetesDriver};
pub use objects::{
    BAY_UUID_LABEL, MANAGED_LABEL, NETWORK_POLICY_NAME, PROJECT_KEY, QUOTA_NAME, ROLE_BINDING_NAME,
    ROLE_NAME, SERVICE_ACCOUNT_NAME,
};
pub use quantity::QuantityError;
