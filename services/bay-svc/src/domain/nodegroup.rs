//! Node groups (Magnum's `/v1/clusters/<c>/nodegroups`): every bay has its two default
//! groups, `default-master` (its masters) and `default-worker`; a bay may have more worker
//! groups. Our drivers place one pool of workers per bay, so a bay's `node_count` is the
//! sum of its worker groups and the driver sizes that pool: adding, resizing or deleting
//! a group is an update of the bay's node count. The default groups are derived from the
//! bay, the others stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::bay::Bay;
use crate::error::{Error, Result};

/// The default group of a bay's workers.
pub const DEFAULT_WORKER: &str = "default-worker";
/// The default group of a bay's masters.
pub const DEFAULT_MASTER: &str = "default-master";

const NAME_MAX: usize = 255;

/// What a group's nodes do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeGroupRole {
    Master,
    Worker,
}

impl NodeGroupRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Master => "master",
            Self::Worker => "worker",
        }
    }
}

/// A node group of a bay.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroup {
    pub uuid: Uuid,
    pub name: String,
    pub bay_uuid: Uuid,
    pub role: NodeGroupRole,
    pub node_count: u32,
    pub min_node_count: u32,
    pub max_node_count: Option<u32>,
    pub is_default: bool,
    pub docker_volume_size: Option<i32>,
    pub labels: BTreeMap<String, String>,
    pub flavor_id: Option<String>,
    pub image_id: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A node group create request as the caller gave it (unchecked).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewNodeGroup {
    pub name: Option<String>,
    pub role: Option<String>,
    pub node_count: Option<i64>,
    pub min_node_count: Option<i64>,
    pub max_node_count: Option<i64>,
    pub docker_volume_size: Option<i32>,
    pub labels: Option<BTreeMap<String, String>>,
    pub merge_labels: bool,
    pub flavor_id: Option<String>,
    pub image_id: Option<String>,
}

/// A bay's groups: the two defaults first, then the stored ones by creation.
pub fn groups_of(bay: &Bay, stored: Vec<NodeGroup>, image_id: Option<&str>) -> Vec<NodeGroup> {
    let extra_workers: u32 = stored.iter().map(|group| group.node_count).sum();
    let default = |name: &str, role: NodeGroupRole, node_count: u32| NodeGroup {
        uuid: Uuid::new_v5(&bay.uuid, name.as_bytes()),
        name: name.to_owned(),
        bay_uuid: bay.uuid,
        role,
        node_count,
        min_node_count: if role == NodeGroupRole::Master {
            node_count
        } else {
            1
        },
        max_node_count: (role == NodeGroupRole::Master).then_some(node_count),
        is_default: true,
        docker_volume_size: bay.docker_volume_size,
        labels: bay.labels.clone(),
        flavor_id: match role {
            NodeGroupRole::Master => bay.master_flavor_id.clone(),
            NodeGroupRole::Worker => bay.flavor_id.clone(),
        },
        image_id: image_id.map(str::to_owned),
        project_id: bay.project_id.clone(),
        user_id: bay.user_id.clone(),
        created_at: bay.created_at,
        updated_at: bay.updated_at,
    };
    let mut groups = vec![
        default(DEFAULT_MASTER, NodeGroupRole::Master, bay.master_count),
        default(
            DEFAULT_WORKER,
            NodeGroupRole::Worker,
            bay.node_count.saturating_sub(extra_workers),
        ),
    ];
    groups.extend(stored);
    groups
}

/// The group `ident` (uuid or name) among `groups`.
pub fn find<'a>(groups: &'a [NodeGroup], ident: &str) -> Result<&'a NodeGroup> {
    let by_uuid = Uuid::parse_str(ident).ok();
    groups
        .iter()
        .find(|group| Some(group.uuid) == by_uuid || group.name == ident)
        .ok_or_else(|| Error::NodeGroupNotFound(ident.to_owned()))
}

fn count(field: &'static str, value: Option<i64>, default: u32) -> Result<u32> {
    let Some(value) = value else {
        return Ok(default);
    };
    u32::try_from(value).map_err(|_| Error::InvalidField {
        field,
        value: value.to_string(),
        reason: "Value should be greater or equal to 0".to_owned(),
    })
}

/// Magnum's bounds check: `min <= node_count <= max` and `min <= max` (409).
fn check_bounds(name: &str, node_count: u32, min: u32, max: Option<u32>) -> Result<()> {
    let invalid = |attribute: &'static str, explanation: String| Error::NodeGroupInvalid {
        attribute,
        group: name.to_owned(),
        explanation,
    };
    if let Some(max) = max {
        if min > max {
            return Err(invalid(
                "min_node_count",
                format!("min_node_count ({min}) should be less or equal to max_node_count ({max})"),
            ));
        }
        if node_count > max {
            return Err(invalid(
                "node_count",
                format!(
                    "node_count ({node_count}) should be less or equal to max_node_count ({max})"
                ),
            ));
        }
    }
    if node_count < min {
        return Err(invalid(
            "node_count",
            format!(
                "node_count ({node_count}) should be greater or equal to min_node_count ({min})"
            ),
        ));
    }
    Ok(())
}

impl NewNodeGroup {
    /// The new worker group of `bay`, whose current groups are `existing`.
    pub fn into_group(
        self,
        bay: &Bay,
        existing: &[NodeGroup],
        image_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<NodeGroup> {
        let name = self.name.ok_or_else(|| Error::InvalidField {
            field: "name",
            value: String::new(),
            reason: "Mandatory field missing.".to_owned(),
        })?;
        let length = name.chars().count();
        if length == 0 || length > NAME_MAX {
            return Err(Error::InvalidField {
                field: "name",
                value: name,
                reason: "Value should have a length between 1 and 255 characters".to_owned(),
            });
        }
        match self.role.as_deref() {
            None | Some("worker") => {}
            Some("master") => return Err(Error::MasterNodeGroupNotSupported),
            Some(other) => {
                return Err(Error::InvalidField {
                    field: "role",
                    value: other.to_owned(),
                    reason: "Value should be one of: worker".to_owned(),
                });
            }
        }
        if existing.iter().any(|group| group.name == name) {
            return Err(Error::NodeGroupExists {
                bay: bay.display_name(),
                group: name,
            });
        }
        let node_count = count("node_count", self.node_count, 1)?;
        let min_node_count = count("min_node_count", self.min_node_count, 0)?;
        let max_node_count = self
            .max_node_count
            .map(|max| count("max_node_count", Some(max), 0))
            .transpose()?;
        check_bounds(&name, node_count, min_node_count, max_node_count)?;
        let labels = match self.labels {
            None => bay.labels.clone(),
            Some(labels) if self.merge_labels => {
                let mut merged = bay.labels.clone();
                merged.extend(labels);
                merged
            }
            Some(labels) => labels,
        };
        Ok(NodeGroup {
            uuid: Uuid::new_v4(),
            name,
            bay_uuid: bay.uuid,
            role: NodeGroupRole::Worker,
            node_count,
            min_node_count,
            max_node_count,
            is_default: false,
            docker_volume_size: self.docker_volume_size.or(bay.docker_volume_size),
            labels,
            flavor_id: self.flavor_id.or_else(|| bay.flavor_id.clone()),
            image_id: self.image_id.or_else(|| image_id.map(str::to_owned)),
            project_id: bay.project_id.clone(),
            user_id: bay.user_id.clone(),
            created_at: now,
            updated_at: None,
        })
    }
}

impl NodeGroup {
    /// The group with new limits (a stored group's PATCH); `None` keeps a limit, and
    /// `Some(None)` clears the maximum.
    pub fn with_limits(
        &self,
        min_node_count: Option<i64>,
        max_node_count: Option<Option<i64>>,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        if self.is_default {
            return Err(Error::DefaultNodeGroupFixed(self.name.clone()));
        }
        let min = match min_node_count {
            Some(min) => count("min_node_count", Some(min), 0)?,
            None => self.min_node_count,
        };
        let max = match max_node_count {
            Some(Some(max)) => Some(count("max_node_count", Some(max), 0)?),
            Some(None) => None,
            None => self.max_node_count,
        };
        check_bounds(&self.name, self.node_count, min, max)?;
        Ok(Self {
            min_node_count: min,
            max_node_count: max,
            updated_at: Some(now),
            ..self.clone()
        })
    }

    /// The group resized to `node_count` (a resize aimed at it).
    pub fn resized(&self, node_count: i64, now: DateTime<Utc>) -> Result<Self> {
        if self.role == NodeGroupRole::Master {
            return Err(Error::MasterNodeGroupResize);
        }
        let node_count = count("node_count", Some(node_count), 0)?;
        // Magnum's resize message for a count outside the group's range.
        let outside = node_count < self.min_node_count
            || self.max_node_count.is_some_and(|max| node_count > max);
        if outside {
            return Err(Error::NodeGroupResizeOutOfRange {
                group: self.name.clone(),
                min: self.min_node_count,
                max: self.max_node_count,
            });
        }
        Ok(Self {
            node_count,
            updated_at: Some(now),
            ..self.clone()
        })
    }
}

/// The bay's worker total after `change` replaces the group it names (by uuid): the
/// default worker group and the stored ones add up.
pub fn total_workers(
    groups: &[NodeGroup],
    change: Option<&NodeGroup>,
    removed: Option<Uuid>,
) -> u32 {
    let mut total: u32 = 0;
    for group in groups
        .iter()
        .filter(|group| group.role == NodeGroupRole::Worker)
    {
        if Some(group.uuid) == removed {
            continue;
        }
        let count = match change {
            Some(changed) if changed.uuid == group.uuid => changed.node_count,
            _ => group.node_count,
        };
        total = total.saturating_add(count);
    }
    if let Some(changed) = change
        && !groups.iter().any(|group| group.uuid == changed.uuid)
    {
        total = total.saturating_add(changed.node_count);
    }
    total
}

#[cfg(test)]
#[path = "nodegroup_test.rs"]
mod tests;
