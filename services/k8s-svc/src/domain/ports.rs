//! What the use cases need from the outside: the record store, bay-svc and the bays'
//! clusters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use magnum_common::{RequestContext, Scope};
use uuid::Uuid;

use super::listing::PageRequest;
use super::manifest::{Kind, Workload};
use super::object::{K8sObject, ObjectSortKey};
use crate::error::Result;

/// Object records. Every call of a caller's takes the caller's scope.
#[async_trait]
pub trait ObjectRepository: Send + Sync {
    /// `ObjectExists` when the uuid is taken.
    async fn insert(&self, object: &K8sObject) -> Result<()>;
    async fn find_by_uuid(
        &self,
        scope: &Scope,
        kind: Kind,
        uuid: Uuid,
    ) -> Result<Option<K8sObject>>;
    /// At most `limit` objects of `kind` named `name` (of `bay` when given), oldest first.
    async fn find_by_name(
        &self,
        scope: &Scope,
        kind: Kind,
        name: &str,
        bay: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<K8sObject>>;
    async fn list(
        &self,
        scope: &Scope,
        kind: Kind,
        bay: Option<Uuid>,
        page: &PageRequest<ObjectSortKey>,
    ) -> Result<Vec<K8sObject>>;
    /// Stores the mutable fields (desc, state, observed, updated_at); false when the record
    /// is gone.
    async fn update(&self, object: &K8sObject) -> Result<bool>;
    async fn delete(&self, scope: &Scope, uuid: Uuid) -> Result<bool>;
    /// Records of every project still `Creating` that were created before `before`.
    async fn creating_before(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<K8sObject>>;
    /// Deletes every record of `bay` (the bay is gone); how many went.
    async fn delete_of_bay(&self, bay: Uuid) -> Result<u64>;
}

/// A bay as k8s-svc needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayInfo {
    pub uuid: Uuid,
    pub coe: String,
    pub status: String,
}

/// How to reach a bay's namespace with the bay's own credential.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BayAccess {
    pub bay_uuid: Uuid,
    pub server: String,
    pub namespace: String,
    pub ca_certificates_pem: Vec<String>,
    pub insecure_skip_tls_verify: bool,
    pub token: String,
}

impl std::fmt::Debug for BayAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BayAccess")
            .field("bay_uuid", &self.bay_uuid)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Bays as the caller may see them (bay-svc decides).
#[async_trait]
pub trait BayDirectory: Send + Sync {
    /// `BayNotFound` when the caller cannot see it.
    async fn bay(&self, ctx: &RequestContext, ident: &str) -> Result<BayInfo>;
    /// The bay's namespace and credential.
    async fn access(&self, ctx: &RequestContext, ident: &str) -> Result<BayAccess>;
}

/// A bay's Kubernetes API, in the bay's namespace, with the bay's credential. Errors of
/// the API server keep its status code and message.
#[async_trait]
pub trait Cluster: Send + Sync {
    async fn create(&self, access: &BayAccess, workload: &Workload) -> Result<Workload>;
    async fn get(&self, access: &BayAccess, kind: Kind, name: &str) -> Result<Option<Workload>>;
    /// Every object of `kind` in the namespace, at most `status_max_age` old, with when
    /// it was asked.
    async fn snapshot(&self, access: &BayAccess, kind: Kind) -> Result<Snapshot>;
    /// The snapshot of `bay`'s objects of `kind`, if a recent one is at hand (no call).
    async fn cached_snapshot(&self, bay: Uuid, kind: Kind) -> Option<Snapshot>;
    /// Replaces the object `name` by `workload` (whose own name must be the same: the API
    /// server says so otherwise).
    async fn replace(
        &self,
        access: &BayAccess,
        name: &str,
        workload: &Workload,
    ) -> Result<Workload>;
    /// Sets an rc's `spec.replicas`.
    async fn scale(&self, access: &BayAccess, name: &str, replicas: i32) -> Result<Workload>;
    /// Already gone is fine.
    async fn delete(&self, access: &BayAccess, kind: Kind, name: &str) -> Result<()>;
}

/// The objects of one kind in a namespace, and when the cluster was asked.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    pub objects: std::collections::HashMap<String, Workload>,
}
