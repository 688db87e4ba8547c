//! The `bay_leases` table: who works on a bay, until when (Magnum's bay lock, with an
//! expiry so a dead holder's lease is taken over).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bay_leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bay_uuid: String,
    pub holder: String,
    pub operation_uuid: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
