//! Bays: a COE cluster made from a baymodel, and the state machine its operations follow.
//!
//! A bay's status mirrors Magnum's (spec §3.2.1): create, update (node_count) and delete
//! each move it to `*_IN_PROGRESS` at once, and the worker that runs the operation moves it
//! to `*_COMPLETE` or `*_FAILED` (a completed delete removes the bay).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::domain::baymodel::{BayModel, Coe, Owner};
use crate::error::{Error, Result};

/// A bay's status, Magnum's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BayStatus {
    CreateInProgress,
    CreateFailed,
    CreateComplete,
    UpdateInProgress,
    UpdateFailed,
    UpdateComplete,
    DeleteInProgress,
    DeleteFailed,
    DeleteComplete,
}

impl BayStatus {
    pub const ALL: [Self; 9] = [
        Self::CreateInProgress,
        Self::CreateFailed,
        Self::CreateComplete,
        Self::UpdateInProgress,
        Self::UpdateFailed,
        Self::UpdateComplete,
        Self::DeleteInProgress,
        Self::DeleteFailed,
        Self::DeleteComplete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateInProgress => "CREATE_IN_PROGRESS",
            Self::CreateFailed => "CREATE_FAILED",
            Self::CreateComplete => "CREATE_COMPLETE",
            Self::UpdateInProgress => "UPDATE_IN_PROGRESS",
            Self::UpdateFailed => "UPDATE_FAILED",
            Self::UpdateComplete => "UPDATE_COMPLETE",
            Self::DeleteInProgress => "DELETE_IN_PROGRESS",
            Self::DeleteFailed => "DELETE_FAILED",
            Self::DeleteComplete => "DELETE_COMPLETE",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// Pods, services, rcs and containers may be made on a bay in these states.
    pub fn is_usable(self) -> bool {
        matches!(self, Self::CreateComplete | Self::UpdateComplete)
    }

    /// Whether an operation has settled (nothing is running for the bay).
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            Self::CreateInProgress | Self::UpdateInProgress | Self::DeleteInProgress
        )
    }
}

impl fmt::Display for BayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of a node in a bay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    Master,
    Worker,
}

/// One node of a bay as its driver reported it, with what the last health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayNode {
    pub name: String,
    pub address: String,
    pub role: NodeRole,
    /// `None` until checked; `Some(reason)` when the last check found it dead.
    pub error: Option<String>,
}

/// Where a bay runs: what its driver made, stored so later operations (and the
/// container/k8s services) find it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Placement {
    pub api_address: Option<String>,
    pub nodes: Vec<BayNode>,
    /// The driver's own (non-secret) state, as JSON.
    pub driver_state: serde_json::Value,
}

impl Placement {
    pub fn addresses(&self, role: NodeRole) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|node| node.role == role)
            .map(|node| node.address.clone())
            .collect()
    }
}

/// The health of a bay's nodes, as the periodic check last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    Healthy,
    Unhealthy,
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "HEALTHY",
            Self::Unhealthy => "UNHEALTHY",
            Self::Unknown => "UNKNOWN",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Healthy, Self::Unhealthy, Self::Unknown]
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

/// A bay.
#[derive(Debug, Clone, PartialEq)]
pub struct Bay {
    pub uuid: Uuid,
    pub name: Option<String>,
    pub baymodel_id: Uuid,
    pub coe: Coe,
    pub node_count: u32,
    pub master_count: u32,
    /// Minutes a create may take; 0 = no limit.
    pub create_timeout: u32,
    pub discovery_url: Option<String>,
    pub status: BayStatus,
    pub status_reason: Option<String>,
    pub placement: Placement,
    /// Copied from the baymodel at create when not given.
    pub docker_volume_size: Option<i32>,
    pub labels: BTreeMap<String, String>,
    pub master_flavor_id: Option<String>,
    pub flavor_id: Option<String>,
    pub keypair: Option<String>,
    pub fixed_network: Option<String>,
    pub fixed_subnet: Option<String>,
    pub floating_ip_enabled: bool,
    pub master_lb_enabled: bool,
    pub health_status: Option<HealthStatus>,
    /// Node name → why it is unhealthy (empty when healthy).
    pub health_status_reason: BTreeMap<String, String>,
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Longest bay name (Liberty: 255, no pattern).
const NAME_MAX: usize = 255;

/// A bay create request as the caller gave it (unchecked). `None` = not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewBay {
    pub name: Option<String>,
    pub node_count: Option<i64>,
    pub master_count: Option<i64>,
    /// `None`: the service's configured default.
    pub create_timeout: Option<i64>,
    pub discovery_url: Option<String>,
    pub docker_volume_size: Option<i32>,
    pub labels: Option<BTreeMap<String, String>>,
    pub master_flavor_id: Option<String>,
    pub flavor_id: Option<String>,
    pub keypair: Option<String>,
    pub fixed_network: Option<String>,
    pub fixed_subnet: Option<String>,
    pub floating_ip_enabled: Option<bool>,
    pub master_lb_enabled: Option<bool>,
    /// With `labels`: overlay them on the baymodel's instead of replacing them.
    pub merge_labels: bool,
}

impl NewBay {
    /// The bay this request makes from `baymodel`, in `CREATE_IN_PROGRESS`.
    pub fn into_bay(
        self,
        uuid: Uuid,
        baymodel: &BayModel,
        owner: Owner,
        default_timeout: u32,
        now: DateTime<Utc>,
    ) -> Result<Bay> {
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        let node_count = positive("node_count", self.node_count, 1)?;
        let master_count = positive("master_count", self.master_count, 1)?;
        let create_timeout = match self.create_timeout {
            None => default_timeout,
            Some(minutes) => u32::try_from(minutes).map_err(|_| Error::InvalidField {
                field: "bay_create_timeout",
                value: minutes.to_string(),
                reason: "Value should be greater or equal to 0".to_owned(),
            })?,
        };
        Ok(Bay {
            uuid,
            name: self.name,
            baymodel_id: baymodel.uuid,
            coe: baymodel.coe,
            node_count,
            master_count,
            create_timeout,
            discovery_url: self.discovery_url,
            status: BayStatus::CreateInProgress,
            status_reason: None,
            placement: Placement::default(),
            docker_volume_size: self.docker_volume_size.or(baymodel.docker_volume_size),
            labels: match self.labels {
                None => baymodel.labels.clone(),
                Some(labels) if self.merge_labels => {
                    let mut merged = baymodel.labels.clone();
                    merged.extend(labels);
                    merged
                }
                Some(labels) => labels,
            },
            master_flavor_id: self
                .master_flavor_id
                .or_else(|| baymodel.master_flavor_id.clone()),
            flavor_id: self.flavor_id.or_else(|| baymodel.flavor_id.clone()),
            keypair: self.keypair.or_else(|| baymodel.keypair_id.clone()),
            fixed_network: self
                .fixed_network
                .or_else(|| baymodel.fixed_network.clone()),
            fixed_subnet: self.fixed_subnet.or_else(|| baymodel.fixed_subnet.clone()),
            floating_ip_enabled: self
                .floating_ip_enabled
                .unwrap_or(baymodel.floating_ip_enabled),
            master_lb_enabled: self.master_lb_enabled.unwrap_or(baymodel.master_lb_enabled),
            health_status: None,
            health_status_reason: BTreeMap::new(),
            project_id: owner.project_id,
            user_id: owner.user_id,
            created_at: now,
            updated_at: None,
        })
    }
}

fn check_name(name: &str) -> Result<()> {
    let length = name.chars().count();
    let reason = if length == 0 {
        "Value should have a minimum character requirement of 1"
    } else if length > NAME_MAX {
        "Value should have a maximum character requirement of 255"
    } else {
        return Ok(());
    };
    Err(Error::InvalidField {
        field: "name",
        value: name.to_owned(),
        reason: reason.to_owned(),
    })
}

fn positive(field: &'static str, value: Option<i64>, default: u32) -> Result<u32> {
    let Some(value) = value else {
        return Ok(default);
    };
    u32::try_from(value)
        .ok()
        .filter(|count| *count >= 1)
        .ok_or_else(|| Error::InvalidField {
            field,
            value: value.to_string(),
            reason: "Value should be greater or equal to 1".to_owned(),
        })
}

impl Bay {
    /// The name if it has one, else the uuid: what messages call the bay.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.uuid.to_string())
    }

    /// When a create must have finished by, if it has a time limit.
    pub fn create_deadline(&self) -> Option<DateTime<Utc>> {
        (self.create_timeout > 0)
            .then(|| self.created_at + Duration::minutes(i64::from(self.create_timeout)))
    }

    /// Starts a node_count change: only a complete bay may change (Magnum's rule).
    /// `Ok(None)`: the count is unchanged, nothing to do.
    pub fn begin_update(&self, node_count: i64, now: DateTime<Utc>) -> Result<Option<Bay>> {
        let node_count = positive("node_count", Some(node_count), 1)?;
        if !self.status.is_usable() {
            return Err(Error::BayUpdateNotAllowed(self.status));
        }
        if node_count == self.node_count {
            return Ok(None);
        }
        let mut updated = self.clone();
        updated.node_count = node_count;
        updated.status = BayStatus::UpdateInProgress;
        updated.status_reason = None;
        updated.updated_at = Some(now);
        Ok(Some(updated))
    }

    /// Starts the deletion: allowed in any status.
    pub fn begin_delete(&self, now: DateTime<Utc>) -> Bay {
        let mut deleting = self.clone();
        deleting.status = BayStatus::DeleteInProgress;
        deleting.status_reason = None;
        deleting.updated_at = Some(now);
        deleting
    }

    /// The bay after its `kind` operation finished as `outcome`. A delete requested while
    /// a create or update ran keeps the bay in `DELETE_IN_PROGRESS` (only where it runs is
    /// recorded, for the delete to clean up).
    pub fn settle(&self, kind: OperationKind, outcome: &Outcome, now: DateTime<Utc>) -> Bay {
        let mut settled = self.clone();
        settled.updated_at = Some(now);
        if let Outcome::Provisioned(placement) = outcome {
            settled.placement = placement.clone();
        }
        if self.status == BayStatus::DeleteInProgress && kind != OperationKind::Delete {
            return settled;
        }
        let (status, reason) = match (kind, outcome) {
            (OperationKind::Create, Outcome::Provisioned(_)) => (
                BayStatus::CreateComplete,
                Some("Stack CREATE completed successfully".to_owned()),
            ),
            (OperationKind::Update, Outcome::Provisioned(_)) => (
                BayStatus::UpdateComplete,
                Some("Stack UPDATE completed successfully".to_owned()),
            ),
            (OperationKind::Create, Outcome::Failed(reason)) => {
                (BayStatus::CreateFailed, Some(reason.clone()))
            }
            (OperationKind::Update, Outcome::Failed(reason)) => {
                (BayStatus::UpdateFailed, Some(reason.clone()))
            }
            (OperationKind::Delete, Outcome::Failed(reason)) => {
                (BayStatus::DeleteFailed, Some(reason.clone()))
            }
            (_, Outcome::Deleted) | (OperationKind::Delete, Outcome::Provisioned(_)) => {
                (BayStatus::DeleteComplete, None)
            }
        };
        if status.is_usable() {
            settled.health_status = Some(HealthStatus::Healthy);
            settled.health_status_reason.clear();
        }
        settled.status = status;
        settled.status_reason = reason;
        settled
    }

    /// The bay after a health check that found `unhealthy` nodes (name → reason).
    pub fn with_health(&self, unhealthy: &BTreeMap<String, String>) -> Bay {
        let mut checked = self.clone();
        for node in &mut checked.placement.nodes {
            node.error = unhealthy.get(&node.name).cloned();
        }
        checked.health_status = Some(if unhealthy.is_empty() {
            HealthStatus::Healthy
        } else {
            HealthStatus::Unhealthy
        });
        checked.health_status_reason = unhealthy.clone();
        checked
    }
}

/// How an operation ended, as the worker reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Create or update finished; the bay now runs here.
    Provisioned(Placement),
    /// The operation failed; the reason becomes the bay's `status_reason`.
    Failed(String),
    /// The delete finished: the bay and its records go.
    Deleted,
}

/// What an operation does to its bay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Create,
    Update,
    Delete,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Create, Self::Update, Self::Delete]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// A requested change to a bay, carried out asynchronously by a worker. Stored with the
/// bay's change in one transaction and published (its id is the bus message id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: Uuid,
    pub kind: OperationKind,
    pub bay_uuid: Uuid,
    /// The node count asked for (update), or the bay's (create).
    pub node_count: u32,
    pub actor: crate::domain::event::Actor,
    pub requested_at: DateTime<Utc>,
}

/// How bays may be sorted (`sort_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaySortKey {
    Id,
    Uuid,
    Name,
    NodeCount,
    MasterCount,
    Status,
    CreatedAt,
    UpdatedAt,
}

impl BaySortKey {
    /// `""` means `id`.
    pub fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "" | "id" => Self::Id,
            "uuid" => Self::Uuid,
            "name" => Self::Name,
            "node_count" => Self::NodeCount,
            "master_count" => Self::MasterCount,
            "status" => Self::Status,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            other => return Err(Error::InvalidSortKey(other.to_owned())),
        })
    }
}

#[cfg(test)]
#[path = "bay_test.rs"]
mod tests;
