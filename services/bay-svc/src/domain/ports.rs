//! What the use cases need from the outside world, as traits the store implements.

use async_trait::async_trait;
use magnum_common::Scope;
use uuid::Uuid;

use crate::domain::baymodel::{BayModel, BayModelSortKey};
use crate::domain::event::BayModelEvent;
use crate::domain::listing::PageRequest;
use crate::domain::node::{Node, NodeSortKey};
use crate::error::Result;

/// Where baymodels live. Reads see what `scope` may see: a project's own baymodels and
/// every public one (`Scope::AllProjects`: everything). Writes touch only baymodels
/// *owned* within `scope`; public ones of other projects are read-only. Every write
/// records its event in the same transaction, so the event is published if and only if
/// the change is committed.
#[async_trait]
pub trait BayModelRepository: Send + Sync {
    /// Stores a new baymodel. `BayModelExists` when its uuid is taken.
    async fn insert(&self, baymodel: &BayModel, event: &BayModelEvent) -> Result<()>;

    /// The baymodel with this uuid, if `scope` may see it.
    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<BayModel>>;

    /// Up to `limit` baymodels named `name` that `scope` may see (names are not unique).
    async fn find_by_name(&self, scope: &Scope, name: &str, limit: u32) -> Result<Vec<BayModel>>;

    /// One page, ordered by (sort key, id) with NULLs first ascending and last
    /// descending. `BayModelNotFound` when the marker is not visible.
    async fn list(
        &self,
        scope: &Scope,
        page: &PageRequest<BayModelSortKey>,
    ) -> Result<Vec<BayModel>>;

    /// Replaces the stored baymodel of the same uuid. `BayModelNotFound` when `scope`
    /// does not own it (any more).
    async fn update(&self, scope: &Scope, baymodel: &BayModel, event: &BayModelEvent)
    -> Result<()>;

    /// Deletes the baymodel. `BayModelNotFound` when `scope` does not own it (any more).
    async fn delete(&self, scope: &Scope, uuid: Uuid, event: &BayModelEvent) -> Result<()>;
}

/// Where nodes live. Nodes have no shared rows: reads and writes both reach only the
/// nodes owned within `scope` (`Scope::AllProjects`: every node). Nodes are pure records
/// and emit no events.
#[async_trait]
pub trait NodeRepository: Send + Sync {
    /// Stores a new node. `NodeExists` when its uuid is taken, `IronicNodeIdTaken` when
    /// another node (of any project) has its `ironic_node_id`.
    async fn insert(&self, node: &Node) -> Result<()>;

    /// The node with this uuid, if `scope` owns it.
    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<Node>>;

    /// One page, ordered by (sort key, id) with NULLs first ascending and last
    /// descending. `NodeNotFound` when the marker is not visible.
    async fn list(&self, scope: &Scope, page: &PageRequest<NodeSortKey>) -> Result<Vec<Node>>;

    /// Replaces the stored node of the same uuid. `NodeNotFound` when `scope` does not
    /// own it (any more), `IronicNodeIdTaken` as on insert.
    async fn update(&self, scope: &Scope, node: &Node) -> Result<()>;

    /// Deletes the node. `NodeNotFound` when `scope` does not own it (any more).
    async fn delete(&self, scope: &Scope, uuid: Uuid) -> Result<()>;
}
