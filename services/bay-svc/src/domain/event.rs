//! Facts bay-svc tells the rest of the mesh about (published through the outbox).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who caused a change; lets consumers act with the caller's scope and correlate logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub project_id: String,
    pub user_id: String,
    pub request_id: String,
}

/// What happened to a baymodel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BayModelChange {
    Created,
    Updated,
    Deleted,
}

impl BayModelChange {
    /// The last part of the event's subject (`magnum.events.baymodel.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }
}

/// A baymodel was created, updated or deleted. Stored in the same transaction as the
/// change itself, so it is published exactly when the change is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayModelEvent {
    /// Unique id of this event; the bus deduplicates on it.
    pub id: Uuid,
    pub change: BayModelChange,
    pub baymodel_uuid: Uuid,
    /// The baymodel's owner (not necessarily the actor's project: admins act for others).
    pub project_id: String,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
}

/// A bay's status changed (created, an operation started or settled). Stored with the
/// change, so watchers see every committed transition once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayStatusEvent {
    pub id: Uuid,
    pub bay_uuid: Uuid,
    pub project_id: String,
    pub status: crate::domain::bay::BayStatus,
    pub status_reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl BayStatusEvent {
    pub fn of(bay: &crate::domain::bay::Bay, occurred_at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            bay_uuid: bay.uuid,
            project_id: bay.project_id.clone(),
            status: bay.status,
            status_reason: bay.status_reason.clone(),
            occurred_at,
        }
    }
}

/// A bay is gone: the services holding its objects (pods, containers) clean up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayDeletedEvent {
    pub id: Uuid,
    pub bay_uuid: Uuid,
    pub project_id: String,
    pub coe: String,
    pub occurred_at: DateTime<Utc>,
}
