//! The `bay_cas` table: each bay's certificate authority.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bay_cas")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bay_uuid: String,
    pub cert_pem: String,
    /// The CA's private key, sealed with the service's key and bound to the bay's uuid.
    pub sealed_key: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
