//! What the use cases need from the outside world, as traits the store implements.

use async_trait::async_trait;
use magnum_common::Scope;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use crate::domain::bay::{Bay, BaySortKey, BayStatus, Operation};
use crate::domain::baymodel::{BayModel, BayModelSortKey};
use crate::domain::event::{BayDeletedEvent, BayModelEvent, BayStatusEvent};
use crate::domain::listing::PageRequest;
use crate::domain::node::{Node, NodeSortKey};
use crate::domain::nodegroup::NodeGroup;
use crate::domain::quota::Quota;
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

/// A bay's certificate authority as stored: the certificate, and the private key sealed
/// (encrypted, bound to the bay's uuid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCa {
    pub cert_pem: String,
    pub sealed_key: Vec<u8>,
}

/// Where bays live, with their CAs and operations. Like nodes, bays have no shared rows:
/// reads and writes reach only the bays owned within `scope`. Every change that starts an
/// operation stores the operation and its bus message in the same transaction.
#[async_trait]
pub trait BayRepository: Send + Sync {
    /// Stores a new bay (`CREATE_IN_PROGRESS`), its CA and its create operation, unless
    /// its project already has `hard_limit` bays (`QuotaExceeded`; counted in the same
    /// transaction, so concurrent creates cannot both take the last place).
    async fn insert(
        &self,
        bay: &Bay,
        ca: &StoredCa,
        operation: &Operation,
        event: &BayStatusEvent,
        hard_limit: u32,
    ) -> Result<()>;

    /// How many bays `scope` owns, and how many nodes (masters + workers) they have.
    async fn stats(&self, scope: &Scope) -> Result<(u64, u64)>;

    /// The bay's stored node groups (not the two defaults), by creation.
    async fn node_groups(&self, scope: &Scope, bay: Uuid) -> Result<Vec<NodeGroup>>;

    /// Stores a group change and, when it changes the bay's node count, [`Self::begin`]s
    /// the bay's update in the same transaction. `Ok(false)`: the bay's status moved;
    /// nothing was written.
    async fn change_groups(
        &self,
        scope: &Scope,
        update: Option<BayUpdate<'_>>,
        change: &GroupChange,
    ) -> Result<bool>;

    /// Stores a stored group's new limits (its size is unchanged: no operation).
    /// `NodeGroupNotFound` when it is gone.
    async fn update_group_limits(&self, scope: &Scope, group: &NodeGroup) -> Result<()>;

    /// The bay with this uuid, if `scope` owns it.
    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<Bay>>;

    /// Up to `limit` bays named `name` that `scope` owns.
    async fn find_by_name(&self, scope: &Scope, name: &str, limit: u32) -> Result<Vec<Bay>>;

    /// One page, ordered by (sort key, id). `BayNotFound` when the marker is not visible.
    async fn list(&self, scope: &Scope, page: &PageRequest<BaySortKey>) -> Result<Vec<Bay>>;

    /// Moves the bay to `bay.status` and records `operation`, but only if its stored status
    /// is still `expected` (another request may have started an operation since it was
    /// read). `Ok(false)`: it was not.
    async fn begin(
        &self,
        scope: &Scope,
        bay: &Bay,
        expected: BayStatus,
        operation: &Operation,
        event: &BayStatusEvent,
    ) -> Result<bool>;

    /// How many bays (of any project) were made from this baymodel.
    async fn count_using_baymodel(&self, baymodel: Uuid) -> Result<u64>;

    /// The bay's CA.
    async fn find_ca(&self, bay: Uuid) -> Result<Option<StoredCa>>;

    /// Replaces the bay's CA (rotation).
    async fn replace_ca(&self, bay: Uuid, ca: &StoredCa) -> Result<()>;

    /// The bay's credential, sealed, if its driver gave one (resolve the bay within the
    /// caller's scope first: this looks the uuid up in every project).
    async fn find_sealed_credential(&self, bay: Uuid) -> Result<Option<Vec<u8>>>;
}

/// Where quotas live. Reads reach the quotas of `scope`; writes are admin-only use cases
/// that name the project themselves.
#[async_trait]
pub trait QuotaRepository: Send + Sync {
    /// Stores a new quota and returns it with its id. `QuotaExists` when the project has
    /// one for the resource.
    async fn insert(&self, quota: &Quota) -> Result<Quota>;

    /// The stored quota of `project_id` for `resource`, if `scope` reaches it.
    async fn find(&self, scope: &Scope, project_id: &str, resource: &str) -> Result<Option<Quota>>;

    /// Up to `limit` quotas of `scope` ordered by id, after the id `after` when given.
    async fn list(
        &self,
        scope: &Scope,
        after: Option<i64>,
        limit: u32,
        descending: bool,
    ) -> Result<Vec<Quota>>;

    /// Stores the quota's new limit. `QuotaNotFound` when it is gone.
    async fn update(&self, quota: &Quota) -> Result<()>;

    /// Deletes the quota. `QuotaNotFound` when there is none.
    async fn delete(&self, project_id: &str, resource: &str) -> Result<()>;
}

/// What [`BayRepository::begin`] writes, for [`BayRepository::change_groups`].
#[derive(Debug, Clone, Copy)]
pub struct BayUpdate<'a> {
    pub bay: &'a Bay,
    pub expected: BayStatus,
    pub operation: &'a Operation,
    pub event: &'a BayStatusEvent,
}

/// A change of a bay's stored node groups that goes with a change of its node count.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupChange {
    Add(NodeGroup),
    Resize(NodeGroup),
    Remove(Uuid),
}

/// What claiming an operation found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The operation is unknown, finished, or its bay is gone: nothing to do.
    Settled,
    /// The bay is busy (another holder's lease, or an earlier operation of the same bay
    /// not finished yet): try again later.
    Busy,
    /// A later delete of the same bay makes this create/update pointless: it was marked
    /// done without running.
    Superseded,
    /// The caller holds the bay's lease until it finishes or the lease expires.
    Claimed {
        operation: Operation,
        bay: Box<Bay>,
        /// Attempts so far, this one included.
        attempt: u32,
    },
}

/// The worker's view of the store: per-bay leases, operation state and outcomes. These
/// calls see every project's bays (the worker acts for the system).
#[async_trait]
pub trait OperationStore: Send + Sync {
    /// Takes the bay's lease for `holder` until `until` and marks the operation running,
    /// if the bay is free and this is its oldest unfinished operation.
    async fn claim(
        &self,
        operation: Uuid,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Claim>;

    /// Extends `holder`'s lease on the bay. `Ok(false)`: the lease was lost (it expired and
    /// someone else took it).
    async fn renew(&self, bay: Uuid, holder: &str, until: DateTime<Utc>) -> Result<bool>;

    /// Records the operation's end: the settled bay (or, for `Deleted`, removes it with its
    /// CA and operations), the sealed credential when the driver gave a new one, the events;
    /// marks the operation done and releases the lease. All or nothing, and only while
    /// `holder` still holds the lease (`Ok(false)` otherwise: nothing was written).
    async fn finish(&self, finish: Finish<'_>) -> Result<bool>;

    /// Complete bays whose last health check is older than `checked_before`, at most
    /// `limit`, each claimed for this check (so replicas don't check the same bay twice).
    async fn claim_health_checks(
        &self,
        checked_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Bay>>;

    /// Stores a health check's result (node errors, health status), unless the bay changed
    /// meanwhile (its status or `updated_at` moved).
    async fn record_health(&self, bay: &Bay) -> Result<()>;
}

/// Everything [`OperationStore::finish`] writes.
#[derive(Debug)]
pub struct Finish<'a> {
    pub operation: &'a Operation,
    pub holder: &'a str,
    /// The bay as settled; its status `DELETE_COMPLETE` removes it.
    pub bay: &'a Bay,
    pub sealed_credential: Option<Vec<u8>>,
    pub status_event: Option<BayStatusEvent>,
    pub deleted_event: Option<BayDeletedEvent>,
}
