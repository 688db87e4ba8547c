//! Bays, their CAs, operations and leases on sea-orm (Postgres or SQLite).
//!
//! Caller-facing reads and writes start from `magnum_db::tenancy` with the caller's scope;
//! the worker's calls (`OperationStore`) act for the system and see every project's bays.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use magnum_common::Scope;
use magnum_db::tenancy;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

use super::entities::{bay, bay_ca, bay_lease, bay_operation, nodegroup};
use super::outbox;
use super::repository::db_error;
use crate::domain::bay::{
    Bay, BayNode, BaySortKey, BayStatus, HealthStatus, NodeRole, Operation, OperationKind,
    Placement,
};
use crate::domain::baymodel::Coe;
use crate::domain::event::{Actor, BayStatusEvent};
use crate::domain::listing::PageRequest;
use crate::domain::nodegroup::{NodeGroup, NodeGroupRole};
use crate::domain::ports::{
    BayRepository, BayUpdate, Claim, Finish, GroupChange, OperationStore, StoredCa,
};
use crate::domain::quota;
use crate::error::{Error, Result};
use magnum_db::keyset;

const PENDING: &str = "pending";
const RUNNING: &str = "running";
const DONE: &str = "done";

/// Bays in a SQL database.
#[derive(Clone)]
pub struct SqlBayRepository {
    db: DatabaseConnection,
    relay: outbox::RelayWake,
}

impl SqlBayRepository {
    /// `db` must have been migrated with [`super::Migrator`].
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            relay: outbox::RelayWake::default(),
        }
    }

    /// Wakes the outbox relay after each commit.
    pub fn with_outbox_notifier(mut self, notifier: Arc<Notify>) -> Self {
        self.relay = outbox::RelayWake::new(notifier);
        self
    }
}

/// Moves the bay to its new status (if it is still `expected`) and records the operation
/// and its event, inside `txn`. `Ok(false)`: the status moved; nothing was written.
async fn begin_in(
    txn: &DatabaseTransaction,
    scope: &Scope,
    bay: &Bay,
    expected: BayStatus,
    operation: &Operation,
    event: &BayStatusEvent,
) -> Result<bool> {
    let updated = tenancy::update_many::<bay::Entity>(scope)
        .set(bay::ActiveModel {
            node_count: Set(count(bay.node_count)),
            status: Set(bay.status.as_str().to_owned()),
            status_reason: Set(bay.status_reason.clone()),
            updated_at: Set(bay.updated_at),
            ..Default::default()
        })
        .filter(bay::Column::Uuid.eq(bay.uuid.to_string()))
        .filter(bay::Column::Status.eq(expected.as_str()))
        .exec(txn)
        .await
        .map_err(db_error)?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    insert_operation(txn, operation).await?;
    outbox::enqueue_bay_status(txn, event).await?;
    Ok(true)
}

fn group_row(group: &NodeGroup) -> Result<nodegroup::ActiveModel> {
    let labels = serde_json::to_string(&group.labels).map_err(|error| Error::CorruptRecord {
        kind: "nodegroup",
        uuid: group.uuid.to_string(),
        reason: format!("labels cannot be encoded: {error}"),
    })?;
    Ok(nodegroup::ActiveModel {
        id: NotSet,
        uuid: Set(group.uuid.to_string()),
        name: Set(group.name.clone()),
        bay_uuid: Set(group.bay_uuid.to_string()),
        role: Set(group.role.as_str().to_owned()),
        node_count: Set(count(group.node_count)),
        min_node_count: Set(count(group.min_node_count)),
        max_node_count: Set(group.max_node_count.map(count)),
        docker_volume_size: Set(group.docker_volume_size),
        labels: Set(labels),
        flavor_id: Set(group.flavor_id.clone()),
        image_id: Set(group.image_id.clone()),
        project_id: Set(group.project_id.clone()),
        user_id: Set(group.user_id.clone()),
        created_at: Set(group.created_at),
        updated_at: Set(group.updated_at),
    })
}

fn group_to_domain(row: nodegroup::Model) -> Result<NodeGroup> {
    let corrupt = |reason: String| Error::CorruptRecord {
        kind: "nodegroup",
        uuid: row.uuid.clone(),
        reason,
    };
    let uuid = Uuid::parse_str(&row.uuid).map_err(|error| corrupt(format!("uuid: {error}")))?;
    let bay_uuid =
        Uuid::parse_str(&row.bay_uuid).map_err(|error| corrupt(format!("bay_uuid: {error}")))?;
    let labels =
        serde_json::from_str(&row.labels).map_err(|error| corrupt(format!("labels: {error}")))?;
    let role = match row.role.as_str() {
        "worker" => NodeGroupRole::Worker,
        "master" => NodeGroupRole::Master,
        other => return Err(corrupt(format!("role {other:?}"))),
    };
    let unsigned = |value: i32| u32::try_from(value).unwrap_or_default();
    Ok(NodeGroup {
        uuid,
        name: row.name,
        bay_uuid,
        role,
        node_count: unsigned(row.node_count),
        min_node_count: unsigned(row.min_node_count),
        max_node_count: row.max_node_count.map(unsigned),
        is_default: false,
        docker_volume_size: row.docker_volume_size,
        labels,
        flavor_id: row.flavor_id,
        image_id: row.image_id,
        project_id: row.project_id,
        user_id: row.user_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Serialises bay creates of one project on Postgres, so the quota count cannot be read
/// by two creates at once (SQLite serialises every write transaction anyway).
async fn lock_project(txn: &DatabaseTransaction, project_id: &str) -> Result<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [project_id.into()],
    ))
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn insert_operation(txn: &DatabaseTransaction, operation: &Operation) -> Result<()> {
    let row = bay_operation::ActiveModel {
        id: NotSet,
        uuid: Set(operation.id.to_string()),
        bay_uuid: Set(operation.bay_uuid.to_string()),
        kind: Set(operation.kind.as_str().to_owned()),
        node_count: Set(count(operation.node_count)),
        state: Set(PENDING.to_owned()),
        attempts: Set(0),
        project_id: Set(operation.actor.project_id.clone()),
        user_id: Set(operation.actor.user_id.clone()),
        request_id: Set(operation.actor.request_id.clone()),
        requested_at: Set(operation.requested_at),
        finished_at: Set(None),
    };
    bay_operation::Entity::insert(row)
        .exec_without_returning(txn)
        .await
        .map_err(db_error)?;
    outbox::enqueue_operation(txn, operation).await
}

#[async_trait]
impl BayRepository for SqlBayRepository {
    async fn insert(
        &self,
        bay: &Bay,
        ca: &StoredCa,
        operation: &Operation,
        event: &BayStatusEvent,
        hard_limit: u32,
    ) -> Result<()> {
        let txn = self.db.begin().await.map_err(db_error)?;
        lock_project(&txn, &bay.project_id).await?;
        // Write first, then count (the new bay included): on SQLite a transaction that
        // reads before it writes cannot wait for the write lock and fails at once when
        // another writer is busy. An over-quota insert is rolled back with the transaction.
        bay::Entity::insert(to_active_model(bay)?)
            .exec_without_returning(&txn)
            .await
            .map_err(|error| match error.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => Error::BayExists(bay.uuid),
                _ => db_error(error),
            })?;
        let with_new = tenancy::find::<bay::Entity>(&Scope::Project(bay.project_id.clone()))
            .count(&txn)
            .await
            .map_err(db_error)?;
        quota::check_room(&bay.project_id, with_new.saturating_sub(1), hard_limit)?;
        bay_ca::Entity::insert(ca_row(bay.uuid, ca, bay.created_at))
            .exec_without_returning(&txn)
            .await
            .map_err(db_error)?;
        insert_operation(&txn, operation).await?;
        outbox::enqueue_bay_status(&txn, event).await?;
        self.relay.commit(txn).await
    }

    async fn stats(&self, scope: &Scope) -> Result<(u64, u64)> {
        let nodes = Expr::col(bay::Column::NodeCount).add(Expr::col(bay::Column::MasterCount));
        let (bays, nodes): (i64, Option<i64>) = tenancy::find::<bay::Entity>(scope)
            .select_only()
            .column_as(Expr::col(bay::Column::Id).count(), "bays")
            // A cast keeps the sum an integer on Postgres (SUM of int4 is int8 there).
            .column_as(
                Expr::expr(Func::sum(nodes)).cast_as(Alias::new("bigint")),
                "nodes",
            )
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db_error)?
            .unwrap_or((0, None));
        let count = |value: i64| u64::try_from(value).unwrap_or_default();
        Ok((count(bays), count(nodes.unwrap_or_default())))
    }

    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<Bay>> {
        tenancy::find::<bay::Entity>(scope)
            .filter(bay::Column::Uuid.eq(uuid.to_string()))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_name(&self, scope: &Scope, name: &str, limit: u32) -> Result<Vec<Bay>> {
        tenancy::find::<bay::Entity>(scope)
            .filter(bay::Column::Name.eq(name))
            .order_by_asc(bay::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn list(&self, scope: &Scope, page: &PageRequest<BaySortKey>) -> Result<Vec<Bay>> {
        let keys = keyset::KeyColumns {
            uuid: bay::Column::Uuid,
            id: bay::Column::Id,
        };
        keyset::page(
            &self.db,
            tenancy::find::<bay::Entity>(scope),
            keys,
            sort_column(page.sort_key),
            page.sort_dir,
            page.marker,
            page.size,
        )
        .await
        .map_err(db_error)?
        .ok_or_else(|| Error::BayNotFound(page.marker.map(|m| m.to_string()).unwrap_or_default()))?
        .into_iter()
        .map(to_domain)
        .collect()
    }

    async fn begin(
        &self,
        scope: &Scope,
        bay: &Bay,
        expected: BayStatus,
        operation: &Operation,
        event: &BayStatusEvent,
    ) -> Result<bool> {
        let txn = self.db.begin().await.map_err(db_error)?;
        if !begin_in(&txn, scope, bay, expected, operation, event).await? {
            return Ok(false);
        }
        self.relay.commit(txn).await?;
        Ok(true)
    }

    async fn node_groups(&self, scope: &Scope, bay: Uuid) -> Result<Vec<NodeGroup>> {
        tenancy::find::<nodegroup::Entity>(scope)
            .filter(nodegroup::Column::BayUuid.eq(bay.to_string()))
            .order_by_asc(nodegroup::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(group_to_domain)
            .collect()
    }

    async fn change_groups(
        &self,
        scope: &Scope,
        update: Option<BayUpdate<'_>>,
        change: &GroupChange,
    ) -> Result<bool> {
        let txn = self.db.begin().await.map_err(db_error)?;
        if let Some(update) = update
            && !begin_in(
                &txn,
                scope,
                update.bay,
                update.expected,
                update.operation,
                update.event,
            )
            .await?
        {
            return Ok(false);
        }
        match change {
            GroupChange::Add(group) => {
                nodegroup::Entity::insert(group_row(group)?)
                    .exec_without_returning(&txn)
                    .await
                    .map_err(|error| match error.sql_err() {
                        Some(SqlErr::UniqueConstraintViolation(_)) => Error::NodeGroupExists {
                            bay: group.bay_uuid.to_string(),
                            group: group.name.clone(),
                        },
                        _ => db_error(error),
                    })?;
            }
            GroupChange::Resize(group) => {
                let changed = tenancy::update_many::<nodegroup::Entity>(scope)
                    .set(nodegroup::ActiveModel {
                        node_count: Set(count(group.node_count)),
                        updated_at: Set(group.updated_at),
                        ..Default::default()
                    })
                    .filter(nodegroup::Column::Uuid.eq(group.uuid.to_string()))
                    .exec(&txn)
                    .await
                    .map_err(db_error)?;
                if changed.rows_affected == 0 {
                    return Err(Error::NodeGroupNotFound(group.name.clone()));
                }
            }
            GroupChange::Remove(uuid) => {
                let removed = tenancy::delete_many::<nodegroup::Entity>(scope)
                    .filter(nodegroup::Column::Uuid.eq(uuid.to_string()))
                    .exec(&txn)
                    .await
                    .map_err(db_error)?;
                if removed.rows_affected == 0 {
                    return Err(Error::NodeGroupNotFound(uuid.to_string()));
                }
            }
        }
        self.relay.commit(txn).await?;
        Ok(true)
    }

    async fn update_group_limits(&self, scope: &Scope, group: &NodeGroup) -> Result<()> {
        let changed = tenancy::update_many::<nodegroup::Entity>(scope)
            .set(nodegroup::ActiveModel {
                min_node_count: Set(count(group.min_node_count)),
                max_node_count: Set(group.max_node_count.map(count)),
                updated_at: Set(group.updated_at),
                ..Default::default()
            })
            .filter(nodegroup::Column::Uuid.eq(group.uuid.to_string()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if changed.rows_affected == 0 {
            return Err(Error::NodeGroupNotFound(group.name.clone()));
        }
        Ok(())
    }

    async fn count_using_baymodel(&self, baymodel: Uuid) -> Result<u64> {
        tenancy::find::<bay::Entity>(&Scope::AllProjects)
            .filter(bay::Column::BaymodelId.eq(baymodel.to_string()))
            .count(&self.db)
            .await
            .map_err(db_error)
    }

    async fn find_ca(&self, bay: Uuid) -> Result<Option<StoredCa>> {
        // tenancy: the caller's access to the bay was checked when it was resolved.
        let row = bay_ca::Entity::find_by_id(bay.to_string())
            .one(&self.db)
            .await
            .map_err(db_error)?;
        Ok(row.map(|row| StoredCa {
            cert_pem: row.cert_pem,
            sealed_key: row.sealed_key,
        }))
    }

    async fn replace_ca(&self, bay: Uuid, ca: &StoredCa) -> Result<()> {
        let row = ca_row(bay, ca, Utc::now());
        bay_ca::Entity::insert(row)
            .on_conflict(
                OnConflict::column(bay_ca::Column::BayUuid)
                    .update_columns([
                        bay_ca::Column::CertPem,
                        bay_ca::Column::SealedKey,
                        bay_ca::Column::CreatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn find_sealed_credential(&self, bay: Uuid) -> Result<Option<Vec<u8>>> {
        // tenancy: the caller's access to the bay was checked when it was resolved.
        let row = bay::Entity::find()
            .filter(bay::Column::Uuid.eq(bay.to_string()))
            .one(&self.db)
            .await
            .map_err(db_error)?;
        Ok(row.and_then(|row| row.sealed_credential))
    }
}

fn ca_row(bay: Uuid, ca: &StoredCa, now: DateTime<Utc>) -> bay_ca::ActiveModel {
    bay_ca::ActiveModel {
        bay_uuid: Set(bay.to_string()),
        cert_pem: Set(ca.cert_pem.clone()),
        sealed_key: Set(ca.sealed_key.clone()),
        created_at: Set(now),
    }
}

#[async_trait]
impl OperationStore for SqlBayRepository {
    async fn claim(
        &self,
        operation: Uuid,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Claim> {
        let txn = self.db.begin().await.map_err(db_error)?;
        // tenancy: the worker acts for the system on the operation it was handed.
        let Some(row) = bay_operation::Entity::find()
            .filter(bay_operation::Column::Uuid.eq(operation.to_string()))
            .one(&txn)
            .await
            .map_err(db_error)?
        else {
            return Ok(Claim::Settled);
        };
        if row.state == DONE {
            return Ok(Claim::Settled);
        }
        // tenancy: the same bay's other unfinished operations, for ordering.
        let unfinished = bay_operation::Entity::find()
            .filter(bay_operation::Column::BayUuid.eq(row.bay_uuid.clone()))
            .filter(bay_operation::Column::State.ne(DONE))
            .filter(bay_operation::Column::Id.ne(row.id))
            .all(&txn)
            .await
            .map_err(db_error)?;
        if unfinished.iter().any(|other| other.id < row.id) {
            return Ok(Claim::Busy);
        }
        let operation = to_operation(&row)?;
        let later_delete = unfinished
            .iter()
            .any(|other| other.kind == OperationKind::Delete.as_str());
        if operation.kind != OperationKind::Delete && later_delete {
            mark_done(&txn, &row.uuid, now).await?;
            self.relay.commit(txn).await?;
            return Ok(Claim::Superseded);
        }
        if !take_lease(&txn, &row, holder, until, now).await? {
            return Ok(Claim::Busy);
        }
        // tenancy: the worker acts for the system on the operation's bay.
        let Some(bay_row) = bay::Entity::find()
            .filter(bay::Column::Uuid.eq(row.bay_uuid.clone()))
            .one(&txn)
            .await
            .map_err(db_error)?
        else {
            mark_done(&txn, &row.uuid, now).await?;
            release_lease(&txn, &row.bay_uuid, holder).await?;
            self.relay.commit(txn).await?;
            return Ok(Claim::Settled);
        };
        let attempt = row.attempts.saturating_add(1);
        // tenancy: the operation row itself.
        bay_operation::Entity::update_many()
            .set(bay_operation::ActiveModel {
                state: Set(RUNNING.to_owned()),
                attempts: Set(attempt),
                ..Default::default()
            })
            .filter(bay_operation::Column::Id.eq(row.id))
            .exec(&txn)
            .await
            .map_err(db_error)?;
        let bay = to_domain(bay_row)?;
        txn.commit().await.map_err(db_error)?;
        Ok(Claim::Claimed {
            operation,
            bay: Box::new(bay),
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
        })
    }

    async fn renew(&self, bay: Uuid, holder: &str, until: DateTime<Utc>) -> Result<bool> {
        // tenancy: leases belong to the system.
        let updated = bay_lease::Entity::update_many()
            .set(bay_lease::ActiveModel {
                expires_at: Set(until),
                ..Default::default()
            })
            .filter(bay_lease::Column::BayUuid.eq(bay.to_string()))
            .filter(bay_lease::Column::Holder.eq(holder))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(updated.rows_affected == 1)
    }

    async fn finish(&self, finish: Finish<'_>) -> Result<bool> {
        let bay_uuid = finish.bay.uuid.to_string();
        let txn = self.db.begin().await.map_err(db_error)?;
        // The lease is the right to write the outcome: lost means someone else took over.
        if !release_lease(&txn, &bay_uuid, finish.holder).await? {
            return Ok(false);
        }
        // A delete requested while this create/update ran keeps the bay deleting: the bay
        // handed to the worker at claim time predates it, so its settled status must not
        // overwrite the stored one (only where the bay runs is recorded, for the delete).
        let superseded = finish.operation.kind != OperationKind::Delete && {
            // Locked until the commit, so a delete cannot begin between this read and the
            // write below. tenancy: the bay the worker holds the lease of.
            let stored = bay::Entity::find()
                .filter(bay::Column::Uuid.eq(bay_uuid.clone()))
                .lock_exclusive()
                .one(&txn)
                .await
                .map_err(db_error)?;
            stored.is_some_and(|row| row.status == BayStatus::DeleteInProgress.as_str())
        };
        if finish.bay.status == BayStatus::DeleteComplete {
            // tenancy: the worker removes the bay it deleted, with its records.
            bay::Entity::delete_many()
                .filter(bay::Column::Uuid.eq(bay_uuid.clone()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
            // tenancy: the deleted bay's node groups.
            nodegroup::Entity::delete_many()
                .filter(nodegroup::Column::BayUuid.eq(bay_uuid.clone()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
            // tenancy: the deleted bay's CA.
            bay_ca::Entity::delete_many()
                .filter(bay_ca::Column::BayUuid.eq(bay_uuid.clone()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
            // tenancy: every operation of the deleted bay is over.
            bay_operation::Entity::update_many()
                .set(bay_operation::ActiveModel {
                    state: Set(DONE.to_owned()),
                    finished_at: Set(Some(Utc::now())),
                    ..Default::default()
                })
                .filter(bay_operation::Column::BayUuid.eq(bay_uuid.clone()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
        } else {
            let mut changes = to_active_model(finish.bay)?;
            changes.id = NotSet;
            changes.uuid = NotSet;
            changes.project_id = NotSet;
            changes.user_id = NotSet;
            changes.created_at = NotSet;
            changes.node_count = NotSet;
            if superseded {
                changes.status = NotSet;
                changes.status_reason = NotSet;
                changes.health_status = NotSet;
                changes.health_status_reason = NotSet;
            }
            changes.sealed_credential = match finish.sealed_credential {
                Some(sealed) => Set(Some(sealed)),
                None => NotSet,
            };
            // tenancy: the worker settles the bay it holds the lease of.
            bay::Entity::update_many()
                .set(changes)
                .filter(bay::Column::Uuid.eq(bay_uuid.clone()))
                .exec(&txn)
                .await
                .map_err(db_error)?;
        }
        mark_done(&txn, &finish.operation.id.to_string(), Utc::now()).await?;
        if let Some(event) = &finish.status_event
            && !superseded
        {
            outbox::enqueue_bay_status(&txn, event).await?;
        }
        if let Some(event) = &finish.deleted_event {
            outbox::enqueue_bay_deleted(&txn, event).await?;
        }
        self.relay.commit(txn).await?;
        Ok(true)
    }

    async fn claim_health_checks(
        &self,
        checked_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Bay>> {
        let due = |query: sea_orm::UpdateMany<bay::Entity>| {
            query.filter(
                sea_orm::Condition::any()
                    .add(bay::Column::HealthCheckedAt.is_null())
                    .add(bay::Column::HealthCheckedAt.lt(checked_before)),
            )
        };
        // tenancy: the health check covers every project's complete bays.
        let candidates = bay::Entity::find()
            .filter(bay::Column::Status.is_in([
                BayStatus::CreateComplete.as_str(),
                BayStatus::UpdateComplete.as_str(),
            ]))
            .filter(
                sea_orm::Condition::any()
                    .add(bay::Column::HealthCheckedAt.is_null())
                    .add(bay::Column::HealthCheckedAt.lt(checked_before)),
            )
            .order_by_asc(bay::Column::HealthCheckedAt)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_error)?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for row in candidates {
            // Claimed by whoever moves its check time first.
            // tenancy: see above.
            let update = bay::Entity::update_many()
                .set(bay::ActiveModel {
                    health_checked_at: Set(Some(now)),
                    ..Default::default()
                })
                .filter(bay::Column::Id.eq(row.id));
            let updated = due(update).exec(&self.db).await.map_err(db_error)?;
            if updated.rows_affected == 1 {
                claimed.push(to_domain(row)?);
            }
        }
        Ok(claimed)
    }

    async fn record_health(&self, bay: &Bay) -> Result<()> {
        let reason = encode("health_status_reason", bay, &bay.health_status_reason)?;
        let nodes = encode("nodes", bay, &stored_nodes(&bay.placement.nodes))?;
        // tenancy: the health check writes back to the bay it checked.
        bay::Entity::update_many()
            .set(bay::ActiveModel {
                nodes: Set(nodes),
                health_status: Set(bay.health_status.map(|h| h.as_str().to_owned())),
                health_status_reason: Set(reason),
                ..Default::default()
            })
            .filter(bay::Column::Uuid.eq(bay.uuid.to_string()))
            // Only the bay as it was checked: an operation that settled meanwhile (a resize,
            // say) wrote newer nodes, which this older result must not overwrite.
            .filter(bay::Column::Status.eq(bay.status.as_str()))
            .filter(match bay.updated_at {
                Some(updated_at) => bay::Column::UpdatedAt.eq(updated_at),
                None => bay::Column::UpdatedAt.is_null(),
            })
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

/// Takes (or re-takes) the bay's lease for `holder`: free, expired, or already ours.
async fn take_lease(
    txn: &DatabaseTransaction,
    operation: &bay_operation::Model,
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let inserted = bay_lease::Entity::insert(bay_lease::ActiveModel {
        bay_uuid: Set(operation.bay_uuid.clone()),
        holder: Set(holder.to_owned()),
        operation_uuid: Set(operation.uuid.clone()),
        expires_at: Set(until),
    })
    .on_conflict(
        OnConflict::column(bay_lease::Column::BayUuid)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await
    .map_err(db_error)?;
    if inserted == 1 {
        return Ok(true);
    }
    // tenancy: leases belong to the system.
    let taken = bay_lease::Entity::update_many()
        .set(bay_lease::ActiveModel {
            holder: Set(holder.to_owned()),
            operation_uuid: Set(operation.uuid.clone()),
            expires_at: Set(until),
            ..Default::default()
        })
        .filter(bay_lease::Column::BayUuid.eq(operation.bay_uuid.clone()))
        .filter(
            sea_orm::Condition::any()
                .add(bay_lease::Column::ExpiresAt.lt(now))
                .add(bay_lease::Column::Holder.eq(holder)),
        )
        .exec(txn)
        .await
        .map_err(db_error)?;
    Ok(taken.rows_affected == 1)
}

async fn release_lease(txn: &DatabaseTransaction, bay: &str, holder: &str) -> Result<bool> {
    // tenancy: leases belong to the system.
    let deleted = bay_lease::Entity::delete_many()
        .filter(bay_lease::Column::BayUuid.eq(bay))
        .filter(bay_lease::Column::Holder.eq(holder))
        .exec(txn)
        .await
        .map_err(db_error)?;
    Ok(deleted.rows_affected == 1)
}

async fn mark_done(txn: &DatabaseTransaction, operation: &str, now: DateTime<Utc>) -> Result<()> {
    // tenancy: the operation row itself.
    bay_operation::Entity::update_many()
        .set(bay_operation::ActiveModel {
            state: Set(DONE.to_owned()),
            finished_at: Set(Some(now)),
            ..Default::default()
        })
        .filter(bay_operation::Column::Uuid.eq(operation))
        .exec(txn)
        .await
        .map_err(db_error)?;
    Ok(())
}

fn sort_column(key: BaySortKey) -> bay::Column {
    match key {
        BaySortKey::Id => bay::Column::Id,
        BaySortKey::Uuid => bay::Column::Uuid,
        BaySortKey::Name => bay::Column::Name,
        BaySortKey::NodeCount => bay::Column::NodeCount,
        BaySortKey::MasterCount => bay::Column::MasterCount,
        BaySortKey::Status => bay::Column::Status,
        BaySortKey::CreatedAt => bay::Column::CreatedAt,
        BaySortKey::UpdatedAt => bay::Column::UpdatedAt,
    }
}

/// Counts are validated small positive numbers; saturate rather than fail.
fn count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A node as stored in the `nodes` JSON column.
#[derive(Serialize, Deserialize)]
struct StoredNode {
    name: String,
    address: String,
    master: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn stored_nodes(nodes: &[BayNode]) -> Vec<StoredNode> {
    nodes
        .iter()
        .map(|node| StoredNode {
            name: node.name.clone(),
            address: node.address.clone(),
            master: node.role == NodeRole::Master,
            error: node.error.clone(),
        })
        .collect()
}

fn encode<T: Serialize>(what: &str, bay: &Bay, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|error| Error::CorruptRecord {
        kind: "bay",
        uuid: bay.uuid.to_string(),
        reason: format!("{what} cannot be encoded: {error}"),
    })
}

fn to_active_model(bay: &Bay) -> Result<bay::ActiveModel> {
    Ok(bay::ActiveModel {
        id: NotSet,
        uuid: Set(bay.uuid.to_string()),
        name: Set(bay.name.clone()),
        baymodel_id: Set(bay.baymodel_id.to_string()),
        coe: Set(bay.coe.as_str().to_owned()),
        node_count: Set(count(bay.node_count)),
        master_count: Set(count(bay.master_count)),
        create_timeout: Set(count(bay.create_timeout)),
        discovery_url: Set(bay.discovery_url.clone()),
        status: Set(bay.status.as_str().to_owned()),
        status_reason: Set(bay.status_reason.clone()),
        api_address: Set(bay.placement.api_address.clone()),
        nodes: Set(encode("nodes", bay, &stored_nodes(&bay.placement.nodes))?),
        driver_state: Set(encode("driver_state", bay, &bay.placement.driver_state)?),
        sealed_credential: NotSet,
        docker_volume_size: Set(bay.docker_volume_size),
        labels: Set(encode("labels", bay, &bay.labels)?),
        master_flavor_id: Set(bay.master_flavor_id.clone()),
        flavor_id: Set(bay.flavor_id.clone()),
        keypair: Set(bay.keypair.clone()),
        fixed_network: Set(bay.fixed_network.clone()),
        fixed_subnet: Set(bay.fixed_subnet.clone()),
        floating_ip_enabled: Set(bay.floating_ip_enabled),
        master_lb_enabled: Set(bay.master_lb_enabled),
        health_status: Set(bay.health_status.map(|h| h.as_str().to_owned())),
        health_status_reason: Set(encode(
            "health_status_reason",
            bay,
            &bay.health_status_reason,
        )?),
        health_checked_at: NotSet,
        project_id: Set(bay.project_id.clone()),
        user_id: Set(bay.user_id.clone()),
        created_at: Set(bay.created_at),
        updated_at: Set(bay.updated_at),
    })
}

fn to_domain(row: bay::Model) -> Result<Bay> {
    let corrupt = |reason: String| Error::CorruptRecord {
        kind: "bay",
        uuid: row.uuid.clone(),
        reason,
    };
    let uuid = Uuid::parse_str(&row.uuid).map_err(|error| corrupt(format!("uuid: {error}")))?;
    let baymodel_id = Uuid::parse_str(&row.baymodel_id)
        .map_err(|error| corrupt(format!("baymodel_id: {error}")))?;
    let coe = Coe::parse(&row.coe).map_err(|error| corrupt(error.to_string()))?;
    let status = BayStatus::parse(&row.status)
        .ok_or_else(|| corrupt(format!("unknown status {}", row.status)))?;
    let nodes: Vec<StoredNode> =
        serde_json::from_str(&row.nodes).map_err(|error| corrupt(format!("nodes: {error}")))?;
    let driver_state: serde_json::Value = serde_json::from_str(&row.driver_state)
        .map_err(|error| corrupt(format!("driver_state: {error}")))?;
    let labels: BTreeMap<String, String> =
        serde_json::from_str(&row.labels).map_err(|error| corrupt(format!("labels: {error}")))?;
    let health_status_reason: BTreeMap<String, String> =
        serde_json::from_str(&row.health_status_reason)
            .map_err(|error| corrupt(format!("health_status_reason: {error}")))?;
    let non_negative = |value: i32| u32::try_from(value).unwrap_or(0);
    Ok(Bay {
        uuid,
        name: row.name,
        baymodel_id,
        coe,
        node_count: non_negative(row.node_count),
        master_count: non_negative(row.master_count),
        create_timeout: non_negative(row.create_timeout),
        discovery_url: row.discovery_url,
        status,
        status_reason: row.status_reason,
        placement: Placement {
            api_address: row.api_address,
            nodes: nodes
                .into_iter()
                .map(|node| BayNode {
                    name: node.name,
                    address: node.address,
                    role: if node.master {
                        NodeRole::Master
                    } else {
                        NodeRole::Worker
                    },
                    error: node.error,
                })
                .collect(),
            driver_state,
        },
        docker_volume_size: row.docker_volume_size,
        labels,
        master_flavor_id: row.master_flavor_id,
        flavor_id: row.flavor_id,
        keypair: row.keypair,
        fixed_network: row.fixed_network,
        fixed_subnet: row.fixed_subnet,
        floating_ip_enabled: row.floating_ip_enabled,
        master_lb_enabled: row.master_lb_enabled,
        health_status: row.health_status.as_deref().and_then(HealthStatus::parse),
        health_status_reason,
        project_id: row.project_id,
        user_id: row.user_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn to_operation(row: &bay_operation::Model) -> Result<Operation> {
    let corrupt = |reason: String| Error::CorruptRecord {
        kind: "bay operation",
        uuid: row.uuid.clone(),
        reason,
    };
    Ok(Operation {
        id: Uuid::parse_str(&row.uuid).map_err(|error| corrupt(format!("uuid: {error}")))?,
        kind: OperationKind::parse(&row.kind)
            .ok_or_else(|| corrupt(format!("unknown kind {}", row.kind)))?,
        bay_uuid: Uuid::parse_str(&row.bay_uuid)
            .map_err(|error| corrupt(format!("bay_uuid: {error}")))?,
        node_count: u32::try_from(row.node_count).unwrap_or(0),
        actor: Actor {
            project_id: row.project_id.clone(),
            user_id: row.user_id.clone(),
            request_id: row.request_id.clone(),
        },
        requested_at: row.requested_at,
    })
}
