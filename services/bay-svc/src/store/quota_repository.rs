//! Quotas on sea-orm (Postgres or SQLite). Reads start from `magnum_db::tenancy` with the
//! caller's scope; writes are admin-only use cases and reach the named project's row.

use async_trait::async_trait;
use magnum_common::Scope;
use magnum_db::tenancy;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use super::entities::quota::{ActiveModel, Column, Entity, Model};
use super::repository::db_error;
use crate::domain::ports::QuotaRepository;
use crate::domain::quota::Quota;
use crate::error::{Error, Result};

/// Quotas in a SQL database.
#[derive(Clone)]
pub struct SqlQuotaRepository {
    db: DatabaseConnection,
}

impl SqlQuotaRepository {
    /// `db` must have been migrated with [`super::Migrator`].
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_domain(row: Model) -> Quota {
    Quota {
        id: row.id,
        project_id: row.project_id,
        resource: row.resource,
        hard_limit: u32::try_from(row.hard_limit).unwrap_or_default(),
        created_at: Some(row.created_at),
        updated_at: row.updated_at,
    }
}

fn limit_column(quota: &Quota) -> i32 {
    // The domain keeps limits within i32.
    i32::try_from(quota.hard_limit).unwrap_or(i32::MAX)
}

fn not_found(project_id: &str, resource: &str) -> Error {
    Error::QuotaNotFound {
        project_id: project_id.to_owned(),
        resource: resource.to_owned(),
    }
}

#[async_trait]
impl QuotaRepository for SqlQuotaRepository {
    async fn insert(&self, quota: &Quota) -> Result<Quota> {
        let row = ActiveModel {
            id: NotSet,
            project_id: Set(quota.project_id.clone()),
            resource: Set(quota.resource.clone()),
            hard_limit: Set(limit_column(quota)),
            created_at: Set(quota.created_at.unwrap_or_else(chrono::Utc::now)),
            updated_at: Set(None),
        };
        let id = Entity::insert(row)
            .exec(&self.db)
            .await
            .map_err(|error| match error.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => Error::QuotaExists {
                    project_id: quota.project_id.clone(),
                    resource: quota.resource.clone(),
                },
                _ => db_error(error),
            })?
            .last_insert_id;
        Ok(Quota {
            id,
            ..quota.clone()
        })
    }

    async fn find(&self, scope: &Scope, project_id: &str, resource: &str) -> Result<Option<Quota>> {
        Ok(tenancy::find::<Entity>(scope)
            .filter(Column::ProjectId.eq(project_id))
            .filter(Column::Resource.eq(resource))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(to_domain))
    }

    async fn list(
        &self,
        scope: &Scope,
        after: Option<i64>,
        limit: u32,
        descending: bool,
    ) -> Result<Vec<Quota>> {
        let mut query = tenancy::find::<Entity>(scope);
        if let Some(after) = after {
            query = if descending {
                query.filter(Column::Id.lt(after))
            } else {
                query.filter(Column::Id.gt(after))
            };
        }
        let query = if descending {
            query.order_by_desc(Column::Id)
        } else {
            query.order_by_asc(Column::Id)
        };
        Ok(query
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(to_domain)
            .collect())
    }

    async fn update(&self, quota: &Quota) -> Result<()> {
        let scope = Scope::Project(quota.project_id.clone());
        let result = tenancy::update_many::<Entity>(&scope)
            .filter(Column::Resource.eq(quota.resource.as_str()))
            .col_expr(
                Column::HardLimit,
                sea_orm::sea_query::Expr::value(limit_column(quota)),
            )
            .col_expr(
                Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(quota.updated_at),
            )
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if result.rows_affected == 0 {
            return Err(not_found(&quota.project_id, &quota.resource));
        }
        Ok(())
    }

    async fn delete(&self, project_id: &str, resource: &str) -> Result<()> {
        let scope = Scope::Project(project_id.to_owned());
        let result = tenancy::delete_many::<Entity>(&scope)
            .filter(Column::Resource.eq(resource))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if result.rows_affected == 0 {
            return Err(not_found(project_id, resource));
        }
        Ok(())
    }
}
