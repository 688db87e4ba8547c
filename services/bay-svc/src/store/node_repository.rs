//! The node repository on sea-orm (Postgres or SQLite).
//!
//! Tenancy is structural: every query starts from `magnum_db::tenancy` with the caller's
//! scope; nodes have no shared rows, so a project reaches only its own. Nodes are pure
//! records: no events, so each change is a single statement.

use async_trait::async_trait;
use magnum_common::Scope;
use magnum_db::tenancy;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Select, SqlErr,
};
use uuid::Uuid;

use super::entities::node::{ActiveModel, Column, Entity, Model};
use super::repository::db_error;
use crate::domain::listing::PageRequest;
use crate::domain::node::{Node, NodeSortKey};
use crate::domain::ports::NodeRepository;
use crate::error::{Error, Result};
use magnum_db::keyset;

/// Nodes in a SQL database.
#[derive(Clone)]
pub struct SqlNodeRepository {
    db: DatabaseConnection,
}

impl SqlNodeRepository {
    /// `db` must have been migrated with [`super::Migrator`].
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Names the unique constraint a new `node` broke: its uuid, or else its
    /// `ironic_node_id`. Both are unique across every project, so the check looks at every
    /// project's rows (without telling whose).
    async fn insert_conflict(&self, node: &Node, error: DbErr) -> Error {
        let uuid_taken = tenancy::find::<Entity>(&Scope::AllProjects)
            .filter(Column::Uuid.eq(node.uuid.to_string()))
            .one(&self.db)
            .await;
        match (uuid_taken, &node.ironic_node_id) {
            (Ok(Some(_)), _) => Error::NodeExists(node.uuid),
            (Ok(_), Some(ironic_node_id)) => Error::IronicNodeIdTaken(ironic_node_id.clone()),
            (Ok(_), None) => Error::NodeExists(node.uuid),
            (Err(_), _) => db_error(error),
        }
    }
}

/// The start of every read.
fn readable(scope: &Scope) -> Select<Entity> {
    tenancy::find::<Entity>(scope)
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

#[async_trait]
impl NodeRepository for SqlNodeRepository {
    async fn insert(&self, node: &Node) -> Result<()> {
        match Entity::insert(to_active_model(node))
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => {
                Err(self.insert_conflict(node, error).await)
            }
            Err(error) => Err(db_error(error)),
        }
    }

    async fn find_by_uuid(&self, scope: &Scope, uuid: Uuid) -> Result<Option<Node>> {
        readable(scope)
            .filter(Column::Uuid.eq(uuid.to_string()))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(to_domain)
            .transpose()
    }

    async fn list(&self, scope: &Scope, page: &PageRequest<NodeSortKey>) -> Result<Vec<Node>> {
        let keys = keyset::KeyColumns {
            uuid: Column::Uuid,
            id: Column::Id,
        };
        let sort = sort_column(page.sort_key);
        keyset::page(
            &self.db,
            readable(scope),
            keys,
            sort,
            page.sort_dir,
            page.marker,
            page.size,
        )
        .await
        .map_err(db_error)?
        .ok_or_else(|| Error::NodeNotFound(page.marker.map(|m| m.to_string()).unwrap_or_default()))?
        .into_iter()
        .map(to_domain)
        .collect()
    }

    async fn update(&self, scope: &Scope, node: &Node) -> Result<()> {
        let mut changes = to_active_model(node);
        // Identity and ownership never change.
        changes.uuid = NotSet;
        changes.project_id = NotSet;
        changes.user_id = NotSet;
        changes.created_at = NotSet;
        let updated = tenancy::update_many::<Entity>(scope)
            .set(changes)
            .filter(Column::Uuid.eq(node.uuid.to_string()))
            .exec(&self.db)
            .await;
        match updated {
            Ok(result) if result.rows_affected == 0 => {
                Err(Error::NodeNotFound(node.uuid.to_string()))
            }
            Ok(_) => Ok(()),
            // The uuid never changes, so only `ironic_node_id` can collide.
            Err(error) if is_unique_violation(&error) => match &node.ironic_node_id {
                Some(ironic_node_id) => Err(Error::IronicNodeIdTaken(ironic_node_id.clone())),
                None => Err(db_error(error)),
            },
            Err(error) => Err(db_error(error)),
        }
    }

    async fn delete(&self, scope: &Scope, uuid: Uuid) -> Result<()> {
        let deleted = tenancy::delete_many::<Entity>(scope)
            .filter(Column::Uuid.eq(uuid.to_string()))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        if deleted.rows_affected == 0 {
            return Err(Error::NodeNotFound(uuid.to_string()));
        }
        Ok(())
    }
}

fn sort_column(key: NodeSortKey) -> Column {
    match key {
        NodeSortKey::Id => Column::Id,
        NodeSortKey::Uuid => Column::Uuid,
        NodeSortKey::Type => Column::NodeType,
        NodeSortKey::ImageId => Column::ImageId,
        NodeSortKey::IronicNodeId => Column::IronicNodeId,
        NodeSortKey::ProjectId => Column::ProjectId,
        NodeSortKey::UserId => Column::UserId,
        NodeSortKey::CreatedAt => Column::CreatedAt,
        NodeSortKey::UpdatedAt => Column::UpdatedAt,
    }
}

fn to_active_model(node: &Node) -> ActiveModel {
    ActiveModel {
        id: NotSet,
        uuid: Set(node.uuid.to_string()),
        node_type: Set(node.node_type.clone()),
        image_id: Set(node.image_id.clone()),
        ironic_node_id: Set(node.ironic_node_id.clone()),
        project_id: Set(node.project_id.clone()),
        user_id: Set(node.user_id.clone()),
        created_at: Set(node.created_at),
        updated_at: Set(node.updated_at),
    }
}

fn to_domain(row: Model) -> Result<Node> {
    let uuid = Uuid::parse_str(&row.uuid).map_err(|error| Error::CorruptRecord {
        kind: "node",
        uuid: row.uuid.clone(),
        reason: format!("uuid: {error}"),
    })?;
    Ok(Node {
        uuid,
        node_type: row.node_type,
        image_id: row.image_id,
        ironic_node_id: row.ironic_node_id,
        project_id: row.project_id,
        user_id: row.user_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}
