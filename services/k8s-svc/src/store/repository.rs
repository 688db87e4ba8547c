//! The object repository on sea-orm. Tenancy is structural: every query starts from
//! `magnum_db::tenancy` with a scope.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use magnum_common::Scope;
use magnum_db::{keyset, tenancy};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    SqlErr,
};
use uuid::Uuid;

use super::entities::object::{ActiveModel, Column, Entity, Model};
use crate::domain::listing::PageRequest;
use crate::domain::manifest::{Kind, Observed};
use crate::domain::object::{K8sObject, ObjectSortKey, State};
use crate::domain::ports::ObjectRepository;
use crate::error::{Error, Result};

/// Objects in a SQL database.
#[derive(Clone)]
pub struct SqlObjectRepository {
    db: DatabaseConnection,
}

impl SqlObjectRepository {
    /// `db` must have been migrated with [`super::Migrator`].
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ObjectRepository for SqlObjectRepository {
    async fn insert(&self, object: &K8sObject) -> Result<()> {
        Entity::insert(to_active_model(object)?)
            .exec_without_returning(&self.db)
            .await
            .map_err(|error| match error.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => Error::ObjectExists {
                    kind: object.kind.k8s_kind(),
                    uuid: object.uuid,
                },
                _ => db_error(error),
            })?;
        Ok(())
    }

    async fn find_by_uuid(
        &self,
        scope: &Scope,
        kind: Kind,
        uuid: Uuid,
    ) -> Result<Option<K8sObject>> {
        tenancy::find::<Entity>(scope)
            .filter(Column::Kind.eq(kind.as_str()))
            .filter(Column::Uuid.eq(uuid.to_string()))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_name(
        &self,
        scope: &Scope,
        kind: Kind,
        name: &str,
        bay: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<K8sObject>> {
        let mut query = tenancy::find::<Entity>(scope)
            .filter(Column::Kind.eq(kind.as_str()))
            .filter(Column::Name.eq(name));
        if let Some(bay) = bay {
            query = query.filter(Column::BayUuid.eq(bay.to_string()));
        }
        query
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
        kind: Kind,
        bay: Option<Uuid>,
        page: &PageRequest<ObjectSortKey>,
    ) -> Result<Vec<K8sObject>> {
        let mut rows = tenancy::find::<Entity>(scope).filter(Column::Kind.eq(kind.as_str()));
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
        .ok_or_else(|| Error::ObjectNotFound {
            kind: kind.k8s_kind(),
            ident: page.marker.map(|m| m.to_string()).unwrap_or_default(),
        })?
        .into_iter()
        .map(to_domain)
        .collect()
    }

    async fn update(&self, object: &K8sObject) -> Result<bool> {
        let mut changes = to_active_model(object)?;
        for unchanged in [
            &mut changes.uuid,
            &mut changes.kind,
            &mut changes.bay_uuid,
            &mut changes.project_id,
            &mut changes.user_id,
        ] {
            *unchanged = NotSet;
        }
        changes.created_at = NotSet;
        let scope = Scope::Project(object.project_id.clone());
        let updated = tenancy::update_many::<Entity>(&scope)
            .set(changes)
            .filter(Column::Uuid.eq(object.uuid.to_string()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(updated.rows_affected > 0)
    }

    async fn delete(&self, scope: &Scope, uuid: Uuid) -> Result<bool> {
        let deleted = tenancy::delete_many::<Entity>(scope)
            .filter(Column::Uuid.eq(uuid.to_string()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(deleted.rows_affected > 0)
    }

    async fn creating_before(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<K8sObject>> {
        // The sweep settles every project's abandoned creates.
        tenancy::find::<Entity>(&Scope::AllProjects)
            .filter(Column::State.eq(State::Creating.as_str()))
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

fn sort_column(key: ObjectSortKey) -> Column {
    match key {
        ObjectSortKey::Id => Column::Id,
        ObjectSortKey::Uuid => Column::Uuid,
        ObjectSortKey::Name => Column::Name,
        ObjectSortKey::BayUuid => Column::BayUuid,
        ObjectSortKey::CreatedAt => Column::CreatedAt,
        ObjectSortKey::UpdatedAt => Column::UpdatedAt,
    }
}

fn to_active_model(object: &K8sObject) -> Result<ActiveModel> {
    let observed =
        serde_json::to_string(&object.observed).map_err(|error| Error::CorruptRecord {
            uuid: object.uuid.to_string(),
            reason: format!("observed fields cannot be encoded: {error}"),
        })?;
    Ok(ActiveModel {
        id: NotSet,
        uuid: Set(object.uuid.to_string()),
        kind: Set(object.kind.as_str().to_owned()),
        name: Set(object.name.clone()),
        bay_uuid: Set(object.bay_uuid.to_string()),
        desc: Set(object.desc.clone()),
        state: Set(object.state.as_str().to_owned()),
        observed: Set(observed),
        project_id: Set(object.project_id.clone()),
        user_id: Set(object.user_id.clone()),
        created_at: Set(object.created_at),
        updated_at: Set(object.updated_at),
    })
}

fn to_domain(row: Model) -> Result<K8sObject> {
    let corrupt = |reason: String| Error::CorruptRecord {
        uuid: row.uuid.clone(),
        reason,
    };
    let uuid = Uuid::parse_str(&row.uuid).map_err(|error| corrupt(format!("uuid: {error}")))?;
    let bay_uuid =
        Uuid::parse_str(&row.bay_uuid).map_err(|error| corrupt(format!("bay_uuid: {error}")))?;
    let kind = Kind::parse(&row.kind).ok_or_else(|| corrupt(format!("kind {:?}", row.kind)))?;
    let state =
        State::parse(&row.state).ok_or_else(|| corrupt(format!("state {:?}", row.state)))?;
    let observed: Observed = serde_json::from_str(&row.observed)
        .map_err(|error| corrupt(format!("observed: {error}")))?;
    Ok(K8sObject {
        uuid,
        kind,
        name: row.name,
        bay_uuid,
        desc: row.desc,
        state,
        observed,
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
