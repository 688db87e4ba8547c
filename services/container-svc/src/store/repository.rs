//! The container repository on sea-orm. Tenancy is structural: every query starts from
//! `magnum_db::tenancy` with a scope.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use magnum_common::Scope;
use magnum_db::tenancy;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    SqlErr,
};
use uuid::Uuid;

use super::entities::container::{ActiveModel, Column, Entity, Model};
use crate::domain::container::{Container, ContainerSortKey, ContainerStatus};
use crate::domain::listing::PageRequest;
use crate::domain::ports::ContainerRepository;
use crate::error::{Error, Result};
use magnum_db::keyset;

/// Containers in a SQL database.
#[derive(Clone)]
pub struct SqlContainerRepository {
    db: DatabaseConnection,
}

impl SqlContainerRepository {
    /// `db` must have been migrated with [`super::Migrator`].
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ContainerRepository for SqlContainerRepository {
    async fn insert(&self, container: &Container) -> Result<()> {
        Entity::insert(to_active_model(container)?)
            .exec_without_returning(&self.db)
            .await
            .map_err(|error| match error.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => {
                    Error::ContainerExists(container.uuid)
                }
                _ => db_error(error),
            })?;
        Ok(())
    }

    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<Container>> {
        tenancy::find::<Entity>(scope)
            .filter(Column::Uuid.eq(uuid.to_string()))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_name(&self, scope: &Scope, name: &str, limit: u32) -> Result<Vec<Container>> {
        tenancy::find::<Entity>(scope)
            .filter(Column::Name.eq(name))
            .order_by_asc(Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn list(
        &self,
        scope: &Scope,
        bay: Option<Uuid>,
        page: &PageRequest<ContainerSortKey>,
    ) -> Result<Vec<Container>> {
        let mut rows = tenancy::find::<Entity>(scope);
        if let Some(bay) = bay {
            rows = rows.filter(Column::BayUuid.eq(bay.to_string()));
        }
        let keys = keyset::KeyColumns {
            uuid: Column::Uuid,
            id: Column::Id,
        };
        keyset::page(
            &self.db,
            rows,
            keys,
            sort_column(page.sort_key),
            page.sort_dir,
            page.marker,
            page.size,
        )
        .await
        .map_err(db_error)?
        .ok_or_else(|| {
            Error::ContainerNotFound(page.marker.map(|m| m.to_string()).unwrap_or_default())
        })?
        .into_iter()
        .map(to_domain)
        .collect()
    }

    async fn update(&self, scope: &Scope, container: &Container) -> Result<()> {
        // Statuses have their own conditional writes (`set_status`): leave them alone.
        let changes = ActiveModel {
            name: Set(container.name.clone()),
            updated_at: Set(container.updated_at),
            ..ActiveModel::default()
        };
        let updated = tenancy::update_many::<Entity>(scope)
            .set(changes)
            .filter(Column::Uuid.eq(container.uuid.to_string()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if updated.rows_affected == 0 {
            return Err(Error::ContainerNotFound(container.uuid.to_string()));
        }
        Ok(())
    }

    async fn set_status(
        &self,
        container: &Container,
        expected: Option<ContainerStatus>,
    ) -> Result<bool> {
        let changes = ActiveModel {
            status: Set(container.status.as_str().to_owned()),
            status_reason: Set(container.status_reason.clone()),
            updated_at: Set(container.updated_at),
            ..ActiveModel::default()
        };
        let scope = Scope::Project(container.project_id.clone());
        let mut query = tenancy::update_many::<Entity>(&scope)
            .set(changes)
            .filter(Column::Uuid.eq(container.uuid.to_string()));
        if let Some(expected) = expected {
            query = query.filter(Column::Status.eq(expected.as_str()));
        }
        let updated = query.exec(&self.db).await.map_err(db_error)?;
        Ok(updated.rows_affected > 0)
    }

    async fn delete(&self, scope: &Scope, uuid: Uuid) -> Result<()> {
        let deleted = tenancy::delete_many::<Entity>(scope)
            .filter(Column::Uuid.eq(uuid.to_string()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if deleted.rows_affected == 0 {
            return Err(Error::ContainerNotFound(uuid.to_string()));
        }
        Ok(())
    }

    async fn creating_before(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<Container>> {
        // The sweeper settles every project's abandoned creates.
        tenancy::find::<Entity>(&Scope::AllProjects)
            .filter(Column::Status.eq(ContainerStatus::Creating.as_str()))
            .filter(Column::CreatedAt.lt(before))
            .order_by_asc(Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn count_by_host(&self, bay: Uuid) -> Result<HashMap<String, u64>> {
        // Placement counts every project's containers of the bay (the caller may use it).
        let hosts: Vec<Option<String>> = tenancy::find::<Entity>(&Scope::AllProjects)
            .select_only()
            .column(Column::Host)
            .filter(Column::BayUuid.eq(bay.to_string()))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_error)?;
        let mut counts = HashMap::new();
        for host in hosts.into_iter().flatten() {
            *counts.entry(host).or_insert(0) += 1;
        }
        Ok(counts)
    }

    async fn delete_of_bay(&self, bay: Uuid) -> Result<u64> {
        // The bay is gone for every project: the system cleans up after it.
        let deleted = tenancy::delete_many::<Entity>(&Scope::AllProjects)
            .filter(Column::BayUuid.eq(bay.to_string()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected)
    }
}

fn sort_column(key: ContainerSortKey) -> Column {
    match key {
        ContainerSortKey::Id => Column::Id,
        ContainerSortKey::Uuid => Column::Uuid,
        ContainerSortKey::Name => Column::Name,
        ContainerSortKey::Image => Column::Image,
        ContainerSortKey::BayUuid => Column::BayUuid,
        ContainerSortKey::Status => Column::Status,
        ContainerSortKey::Memory => Column::Memory,
        ContainerSortKey::Host => Column::Host,
        ContainerSortKey::CreatedAt => Column::CreatedAt,
        ContainerSortKey::UpdatedAt => Column::UpdatedAt,
    }
}

fn to_active_model(container: &Container) -> Result<ActiveModel> {
    let environment =
        serde_json::to_string(&container.environment).map_err(|error| Error::CorruptRecord {
            uuid: container.uuid.to_string(),
            reason: format!("environment cannot be encoded: {error}"),
        })?;
    Ok(ActiveModel {
        id: NotSet,
        uuid: Set(container.uuid.to_string()),
        name: Set(container.name.clone()),
        image: Set(container.image.clone()),
        bay_uuid: Set(container.bay_uuid.to_string()),
        command: Set(container.command.clone()),
        memory: Set(container.memory.clone()),
        environment: Set(environment),
        status: Set(container.status.as_str().to_owned()),
        status_reason: Set(container.status_reason.clone()),
        host: Set(container.host.clone()),
        project_id: Set(container.project_id.clone()),
        user_id: Set(container.user_id.clone()),
        created_at: Set(container.created_at),
        updated_at: Set(container.updated_at),
    })
}

fn to_domain(row: Model) -> Result<Container> {
    let corrupt = |reason: String| Error::CorruptRecord {
        uuid: row.uuid.clone(),
        reason,
    };
    let uuid = Uuid::parse_str(&row.uuid).map_err(|error| corrupt(format!("uuid: {error}")))?;
    let bay_uuid =
        Uuid::parse_str(&row.bay_uuid).map_err(|error| corrupt(format!("bay_uuid: {error}")))?;
    let status = ContainerStatus::parse(&row.status)
        .ok_or_else(|| corrupt(format!("status {:?}", row.status)))?;
    let environment: BTreeMap<String, String> = serde_json::from_str(&row.environment)
        .map_err(|error| corrupt(format!("environment: {error}")))?;
    Ok(Container {
        uuid,
        name: row.name,
        image: row.image,
        bay_uuid,
        command: row.command,
        memory: row.memory,
        environment,
        status,
        status_reason: row.status_reason,
        host: row.host,
        project_id: row.project_id,
        user_id: row.user_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Connection-level failures are "unavailable" (retryable); the rest are internal.
fn db_error(error: DbErr) -> Error {
    match error {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Error::DatabaseUnavailable(Box::new(error)),
        other => Error::Database(Box::new(other)),
    }
}
