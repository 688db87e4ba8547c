//! The `k8s_objects` table: pods, services and rcs, one kind column.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "k8s_objects")]
pub struct Model {
    /// Creation order; the tie-breaker of every sort and the default sort key.
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    /// `pod`, `service` or `rc`.
    pub kind: String,
    pub name: String,
    pub bay_uuid: String,
    pub desc: Option<String>,
    /// `creating`, `created` or `failed`.
    pub state: String,
    /// What the cluster last showed (JSON of `domain::manifest::Observed`).
    pub observed: String,
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
