//! The `bay_operations` table: requested bay changes and how far they got.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bay_operations")]
pub struct Model {
    /// Orders a bay's operations (they run one at a time, oldest first).
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    pub bay_uuid: String,
    /// `create`, `update` or `delete`.
    pub kind: String,
    pub node_count: i32,
    /// `pending`, `running` or `done`.
    pub state: String,
    pub attempts: i32,
    pub project_id: String,
    pub user_id: String,
    pub request_id: String,
    pub requested_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
