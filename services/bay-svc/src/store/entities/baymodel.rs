//! The `baymodels` table.

use sea_orm::Condition;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "baymodels")]
pub struct Model {
    /// Creation order; the tie-breaker of every sort and the default sort key.
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    pub name: Option<String>,
    pub coe: String,
    pub image_id: String,
    pub keypair_id: String,
    pub flavor_id: Option<String>,
    pub master_flavor_id: Option<String>,
    pub dns_nameserver: Option<String>,
    pub external_network_id: Option<String>,
    pub fixed_network: Option<String>,
    pub fixed_subnet: Option<String>,
    pub network_driver: String,
    pub volume_driver: Option<String>,
    pub apiserver_port: Option<i32>,
    pub docker_volume_size: Option<i32>,
    pub docker_storage_driver: Option<String>,
    pub ssh_authorized_key: Option<String>,
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub insecure_registry: Option<String>,
    pub registry_enabled: bool,
    /// A JSON object of strings, as text (the same on Postgres and SQLite).
    pub labels: String,
    pub tls_disabled: bool,
    pub public: bool,
    pub server_type: String,
    pub master_lb_enabled: bool,
    pub floating_ip_enabled: bool,
    pub hidden: bool,
    pub tags: Option<String>,
    pub cluster_distro: Option<String>,
    pub driver: String,
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

    /// Public baymodels are readable by every project.
    fn shared_rows() -> Option<Condition> {
        Some(Condition::all().add(Column::Public.eq(true)))
    }
}
