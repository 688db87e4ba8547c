//! The `bays` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bays")]
pub struct Model {
    /// Creation order; the tie-breaker of every sort and the default sort key.
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    pub name: Option<String>,
    pub baymodel_id: String,
    pub coe: String,
    pub node_count: i32,
    pub master_count: i32,
    /// Minutes; 0 = no limit.
    pub create_timeout: i32,
    pub discovery_url: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub api_address: Option<String>,
    /// JSON array of the driver's nodes (name, address, role, error).
    pub nodes: String,
    /// JSON: the driver's own non-secret state.
    pub driver_state: String,
    /// The driver's credential for the bay, sealed to the bay's uuid. Leaves bay-svc in
    /// clear only through `GetBayCredentials`, to the bay's owner or an admin.
    pub sealed_credential: Option<Vec<u8>>,
    pub docker_volume_size: Option<i32>,
    /// JSON object of strings.
    pub labels: String,
    pub master_flavor_id: Option<String>,
    pub flavor_id: Option<String>,
    pub keypair: Option<String>,
    pub fixed_network: Option<String>,
    pub fixed_subnet: Option<String>,
    pub floating_ip_enabled: bool,
    pub master_lb_enabled: bool,
    pub health_status: Option<String>,
    /// JSON object: node name → reason.
    pub health_status_reason: String,
    pub health_checked_at: Option<DateTimeUtc>,
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
