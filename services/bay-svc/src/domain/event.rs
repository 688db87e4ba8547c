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
