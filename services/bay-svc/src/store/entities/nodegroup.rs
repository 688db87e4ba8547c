//! The `nodegroups` table (a bay's worker groups beyond the two defaults).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nodegroups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    pub name: String,
    pub bay_uuid: String,
    pub role: String,
    pub node_count: i32,
    pub min_node_count: i32,
    pub max_node_count: Option<i32>,
    pub docker_volume_size: Option<i32>,
    /// JSON object of strings.
    pub labels: String,
    pub flavor_id: Option<String>,
    pub image_id: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTimeUtc,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A group belongs to its bay's project.
impl magnum_db::tenancy::TenantEntity for Entity {
    fn project_column() -> Column {
        Column::ProjectId
    }
}
