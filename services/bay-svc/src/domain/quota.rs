//! Quotas (Magnum's `/v1/quotas`): how many bays a project may have. Magnum knows one
//! resource, `Cluster`; a project without a stored quota gets the configured default.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// The one resource quotas limit: bays (Magnum calls them clusters).
pub const CLUSTER_RESOURCE: &str = "Cluster";

/// Magnum's `hard_limit` when a create does not give one.
pub const DEFAULT_CREATE_LIMIT: i32 = 1;

/// A project's quota, stored or (`id` 0) the configured default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// 0 for a default that is not stored.
    pub id: i64,
    pub project_id: String,
    pub resource: String,
    pub hard_limit: u32,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Quota {
    /// The quota of a project that has none stored.
    pub fn default_for(project_id: &str, hard_limit: u32) -> Self {
        Self {
            id: 0,
            project_id: project_id.to_owned(),
            resource: CLUSTER_RESOURCE.to_owned(),
            hard_limit,
            created_at: None,
            updated_at: None,
        }
    }

    /// A new quota as a caller asked for it, checked.
    pub fn new(
        project_id: &str,
        resource: &str,
        hard_limit: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        check_project(project_id)?;
        check_resource(resource)?;
        Ok(Self {
            id: 0,
            project_id: project_id.to_owned(),
            resource: resource.to_owned(),
            hard_limit: hard_limit_of(hard_limit.unwrap_or(i64::from(DEFAULT_CREATE_LIMIT)))?,
            created_at: Some(now),
            updated_at: None,
        })
    }

    /// The quota with a new limit.
    pub fn with_limit(&self, hard_limit: i64, now: DateTime<Utc>) -> Result<Self> {
        Ok(Self {
            hard_limit: hard_limit_of(hard_limit)?,
            updated_at: Some(now),
            ..self.clone()
        })
    }
}

/// Checks the resource name of a lookup: Magnum's enum has one value.
pub fn check_resource(resource: &str) -> Result<()> {
    if resource == CLUSTER_RESOURCE {
        return Ok(());
    }
    Err(Error::InvalidField {
        field: "resource",
        value: resource.to_owned(),
        reason: format!("Value should be one of: {CLUSTER_RESOURCE}"),
    })
}

fn check_project(project_id: &str) -> Result<()> {
    let length = project_id.chars().count();
    if (1..=255).contains(&length) {
        return Ok(());
    }
    Err(Error::InvalidField {
        field: "project_id",
        value: project_id.to_owned(),
        reason: if length == 0 {
            "Value should have a minimum character requirement of 1".to_owned()
        } else {
            "Value should have a maximum character requirement of 255".to_owned()
        },
    })
}

fn hard_limit_of(value: i64) -> Result<u32> {
    u32::try_from(value)
        .ok()
        .filter(|limit| i32::try_from(*limit).is_ok())
        .ok_or_else(|| Error::InvalidField {
            field: "hard_limit",
            value: value.to_string(),
            reason: "Value should be greater or equal to 0".to_owned(),
        })
}

/// Refuses a new bay when the project already has `existing` of its `hard_limit`.
pub fn check_room(project_id: &str, existing: u64, hard_limit: u32) -> Result<()> {
    if existing < u64::from(hard_limit) {
        return Ok(());
    }
    Err(Error::QuotaExceeded {
        project_id: project_id.to_owned(),
        hard_limit,
    })
}

#[cfg(test)]
#[path = "quota_test.rs"]
mod tests;
