//! What the use cases need from the outside: the container store and bay-svc.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use magnum_common::{RequestContext, Scope};
use uuid::Uuid;

use super::container::{BayInfo, Container, ContainerSortKey, ContainerStatus};
use super::listing::PageRequest;
use crate::error::Result;

/// Container records. Every call of a caller's takes the caller's scope.
#[async_trait]
pub trait ContainerRepository: Send + Sync {
    /// `ContainerExists` when the uuid is taken.
    async fn insert(&self, container: &Container) -> Result<()>;
    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<Container>>;
    /// At most `limit` containers named `name`, oldest first.
    async fn find_by_name(&self, scope: &Scope, name: &str, limit: u32) -> Result<Vec<Container>>;
    /// One page, optionally only the containers of `bay`.
    async fn list(
        &self,
        scope: &Scope,
        bay: Option<Uuid>,
        page: &PageRequest<ContainerSortKey>,
    ) -> Result<Vec<Container>>;
    /// Stores the fields a caller may change (the name) and `updated_at`.
    async fn update(&self, scope: &Scope, container: &Container) -> Result<()>;
    /// Stores `container`'s status, reason and `updated_at` (nothing else), only while the
    /// stored status is `expected` (any status when `None`); whether a record changed.
    async fn set_status(
        &self,
        container: &Container,
        expected: Option<ContainerStatus>,
    ) -> Result<bool>;
    async fn delete(&self, scope: &Scope, uuid: Uuid) -> Result<()>;
    /// Containers of every project still `Creating` that were created before `before`,
    /// oldest first, at most `limit`.
    async fn creating_before(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<Container>>;
    /// How many containers of `bay` each host carries (whatever their project).
    async fn count_by_host(&self, bay: Uuid) -> Result<HashMap<String, u64>>;
    /// Deletes every container record of `bay` (the bay is gone); how many went.
    async fn delete_of_bay(&self, bay: Uuid) -> Result<u64>;
}

/// Bays as the caller may see them (bay-svc decides).
#[async_trait]
pub trait BayDirectory: Send + Sync {
    /// The bay `ident` (uuid or name) with its COE and worker nodes; `BayNotFound` when the
    /// caller cannot see it.
    async fn bay(&self, ctx: &RequestContext, ident: &str) -> Result<BayInfo>;
}
