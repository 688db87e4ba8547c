//! The `nodes` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nodes")]
pub struct Model {
    /// Creation order; the tie-breaker of every sort and the default sort key.
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    #[sea_orm(column_name = "type")]
    pub node_type: Option<String>,
    pub image_id: Option<String>,
    /// Unique across every project's nodes (NULLs do not collide).
    #[sea_orm(unique)]
    pub ironic_node_id: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTimeUtc,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Nodes have no shared rows: a project reads and changes only its own.
impl magnum_db::tenancy::TenantEntity for Entity {
    fn project_column() -> Column {
        Column::ProjectId
    }
}
