//! The `containers` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "containers")]
pub struct Model {
    /// Creation order; the tie-breaker of every sort and the default sort key.
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    pub name: Option<String>,
    pub image: String,
    pub bay_uuid: String,
    pub command: Option<String>,
    pub memory: Option<String>,
    /// A JSON object of strings, as text.
    pub environment: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub host: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTimeUtc,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl magnum_db::tenancy::TenantEntity for Entity {
    fn project_column() -> Column {
        Column::ProjectId
    }
}
