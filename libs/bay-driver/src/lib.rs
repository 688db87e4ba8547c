//! The bay driver contract.
//!
//! bay-svc's worker calls a [`BayDriver`] chosen by the bay's COE. A driver turns a bay into
//! real resources (Docker networks on engines, a namespace on a host cluster, ...) and reports
//! where they are. Every call must be **idempotent**: the worker may crash at any point and the
//! same call is then made again with the same [`BayRef`], so a driver looks up what already
//! exists (by a deterministic name or label derived from the bay's uuid) before creating it.
//!
//! Drivers know nothing of gRPC, SQL or the bus; bay-svc stores what they return.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The bay as a driver sees it: enough to name and size its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayRef {
    pub uuid: Uuid,
    /// The bay's name, when it has one (for human-readable resource names/labels only).
    pub name: Option<String>,
    pub project_id: String,
    pub node_count: u32,
    pub master_count: u32,
    /// The bay's labels (from the bay, else its baymodel).
    pub labels: BTreeMap<String, String>,
}

/// A node's role in the bay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    Master,
    Worker,
}

/// One node of a provisioned bay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Stable name of the node within the bay (e.g. the engine's pool name).
    pub name: String,
    /// Address users and other services reach the node at.
    pub address: String,
    pub role: NodeRole,
}

/// What a driver made for a bay. bay-svc stores it on the bay and hands it back on later calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Provisioned {
    /// The COE's API endpoint (`https://host:6443`, `tcp://host:2376`, `unix:///...`).
    pub api_address: Option<String>,
    pub nodes: Vec<NodeInfo>,
    /// Driver-private, non-secret state (engine names, network ids, namespace, ...).
    #[serde(default)]
    pub state: serde_json::Value,
    /// A secret credential for the bay (e.g. a ServiceAccount token). bay-svc encrypts it at rest
    /// and never returns it over the REST API. Skipped by serde so it can't leak into `state`.
    #[serde(skip)]
    pub credential: Option<Vec<u8>>,
}

impl Provisioned {
    pub fn master_addresses(&self) -> Vec<String> {
        self.addresses(NodeRole::Master)
    }

    pub fn node_addresses(&self) -> Vec<String> {
        self.addresses(NodeRole::Worker)
    }

    fn addresses(&self, role: NodeRole) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|node| node.role == role)
            .map(|node| node.address.clone())
            .collect()
    }
}

/// Health of one node, as the driver found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    pub name: String,
    pub healthy: bool,
    /// Why the node is unhealthy (`None` when healthy).
    pub reason: Option<String>,
}

/// The result of a health check: one entry per node of the bay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Health {
    pub nodes: Vec<NodeHealth>,
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        self.nodes.iter().all(|node| node.healthy)
    }
}

/// Why a driver call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// The request cannot be met as asked (e.g. more nodes than the pool has, a label with a
    /// bad value). Retrying does not help; the bay fails with this message as its reason.
    #[error("{0}")]
    Invalid(String),
    /// The backend could not be reached or answered with a server error (engine down, API
    /// server unreachable). The bay fails with this message as its reason.
    #[error("{0}")]
    Unavailable(String),
    /// The backend refused or failed the request for another reason.
    #[error("{0}")]
    Failed(String),
}

impl DriverError {
    pub fn message(&self) -> &str {
        match self {
            Self::Invalid(message) | Self::Unavailable(message) | Self::Failed(message) => message,
        }
    }
}

/// A COE backend. Implementations must be cheap to share (`Arc<dyn BayDriver>`).
#[async_trait::async_trait]
pub trait BayDriver: Send + Sync + std::fmt::Debug {
    /// The COE this driver serves (`swarm`, `kubernetes`).
    fn coe(&self) -> &'static str;

    /// Makes the bay's resources, or finds them when an earlier attempt made some or all.
    async fn create(&self, bay: &BayRef) -> Result<Provisioned, DriverError>;

    /// Changes the bay's worker count to `bay.node_count`; returns the new provisioning.
    async fn resize(&self, bay: &BayRef, current: &Provisioned)
    -> Result<Provisioned, DriverError>;

    /// Removes everything of the bay's. Already-gone resources count as removed. `current` is
    /// `None` when the bay never finished creating: the driver then finds its resources by the
    /// bay's uuid.
    async fn delete(&self, bay: &BayRef, current: Option<&Provisioned>) -> Result<(), DriverError>;

    /// Checks each node of the bay. An `Err` means the check itself could not be made.
    async fn health(&self, bay: &BayRef, current: &Provisioned) -> Result<Health, DriverError>;
}
