//! The record k8s-svc keeps of each Kubernetes object it made: who owns it, on which bay,
//! and what the cluster last said about it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::manifest::{Kind, Observed, Workload};

/// Where a record is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The record exists; the object is being created in the cluster.
    Creating,
    /// The cluster has (or had) the object.
    Created,
    /// The cluster refused the object (Magnum kept such records, status `failed`).
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Created => "created",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Creating, Self::Created, Self::Failed]
            .into_iter()
            .find(|state| state.as_str() == value)
    }
}

/// A pod, service or replication controller of a bay.
#[derive(Debug, Clone, PartialEq)]
pub struct K8sObject {
    pub uuid: Uuid,
    pub kind: Kind,
    /// `metadata.name`, unique per kind in the bay's namespace.
    pub name: String,
    pub bay_uuid: Uuid,
    pub desc: Option<String>,
    pub state: State,
    pub observed: Observed,
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl K8sObject {
    /// A new record (`Creating`) of `workload` on `bay_uuid`, owned by the caller.
    pub fn new(
        uuid: Uuid,
        workload: &Workload,
        bay_uuid: Uuid,
        desc: Option<String>,
        owner: (String, String),
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            uuid,
            kind: workload.kind(),
            name: workload.name().to_owned(),
            bay_uuid,
            desc,
            state: State::Creating,
            observed: workload.observe(),
            project_id: owner.0,
            user_id: owner.1,
            created_at: now,
            updated_at: None,
        }
    }

    /// The record after the cluster showed `workload`: `Some` when that changes it.
    pub fn observe(&self, workload: &Workload, now: DateTime<Utc>) -> Option<Self> {
        let observed = workload.observe();
        if observed == self.observed && self.state == State::Created {
            return None;
        }
        Some(Self {
            observed,
            state: State::Created,
            updated_at: Some(now),
            ..self.clone()
        })
    }

    /// The record of an object the cluster refused: a pod shows status `failed`.
    pub fn failed(mut self, now: DateTime<Utc>) -> Self {
        self.state = State::Failed;
        if self.kind == Kind::Pod {
            self.observed.status = Some("failed".to_owned());
        }
        self.updated_at = Some(now);
        self
    }

    /// When the record last changed.
    pub fn changed_at(&self) -> DateTime<Utc> {
        self.updated_at.unwrap_or(self.created_at)
    }
}

/// The columns a list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectSortKey {
    Id,
    Uuid,
    Name,
    BayUuid,
    CreatedAt,
    UpdatedAt,
}

impl ObjectSortKey {
    /// `""` means `id`; `None` for a key that is not a column.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "" | "id" => Self::Id,
            "uuid" => Self::Uuid,
            "name" => Self::Name,
            "bay_uuid" => Self::BayUuid,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            _ => return None,
        })
    }
}

/// An object named by the caller: its uuid, or else its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    Uuid(Uuid),
    Name(String),
}

impl Ident {
    pub fn parse(ident: &str) -> Self {
        match Uuid::parse_str(ident) {
            Ok(uuid) => Self::Uuid(uuid),
            Err(_) => Self::Name(ident.to_owned()),
        }
    }
}
