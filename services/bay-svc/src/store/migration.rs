//! bay-svc's schema, applied at start-up by `magnum_db::connect_and_migrate::<Migrator>`.
//! Migrations are append-only: a released migration is never edited.

use sea_orm_migration::prelude::*;

/// Every migration of bay-svc's database, in order: its own tables and the outbox the
/// bus relay publishes from.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(magnum_bus::outbox::Migration),
            Box::new(CreateBayModels),
            Box::new(CreateNodes),
        ]
    }
}

/// The `baymodels` table.
struct CreateBayModels;

impl MigrationName for CreateBayModels {
    fn name(&self) -> &str {
        "m0002_create_baymodels"
    }
}

/// `Table` is the table's own name: `baymodels`.
#[derive(DeriveIden)]
enum Baymodels {
    Table,
    Id,
    Uuid,
    Name,
    Coe,
    ImageId,
    KeypairId,
    FlavorId,
    MasterFlavorId,
    DnsNameserver,
    ExternalNetworkId,
    FixedNetwork,
    FixedSubnet,
    NetworkDriver,
    VolumeDriver,
    ApiserverPort,
    DockerVolumeSize,
    DockerStorageDriver,
    SshAuthorizedKey,
    HttpProxy,
    HttpsProxy,
    NoProxy,
    InsecureRegistry,
    RegistryEnabled,
    Labels,
    TlsDisabled,
    Public,
    ServerType,
    MasterLbEnabled,
    FloatingIpEnabled,
    Hidden,
    Tags,
    ClusterDistro,
    Driver,
    ProjectId,
    UserId,
    CreatedAt,
    UpdatedAt,
}

/// The longest value of a length-limited string field.
const LIMIT: u32 = 255;

#[async_trait::async_trait]
impl MigrationTrait for CreateBayModels {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let optional =
            |column: Baymodels| ColumnDef::new(column).string_len(LIMIT).null().to_owned();
        let required = |column: Baymodels| {
            ColumnDef::new(column)
                .string_len(LIMIT)
                .not_null()
                .to_owned()
        };
        let flag = |column: Baymodels| ColumnDef::new(column).boolean().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Baymodels::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Baymodels::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Baymodels::Uuid)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(optional(Baymodels::Name))
                    .col(required(Baymodels::Coe))
                    .col(required(Baymodels::ImageId))
                    .col(required(Baymodels::KeypairId))
                    .col(optional(Baymodels::FlavorId))
                    .col(optional(Baymodels::MasterFlavorId))
                    .col(optional(Baymodels::DnsNameserver))
                    .col(optional(Baymodels::ExternalNetworkId))
                    .col(optional(Baymodels::FixedNetwork))
                    .col(optional(Baymodels::FixedSubnet))
                    .col(required(Baymodels::NetworkDriver))
                    .col(optional(Baymodels::VolumeDriver))
                    .col(ColumnDef::new(Baymodels::ApiserverPort).integer().null())
                    .col(ColumnDef::new(Baymodels::DockerVolumeSize).integer().null())
                    .col(optional(Baymodels::DockerStorageDriver))
                    // An SSH public key has no length limit.
                    .col(ColumnDef::new(Baymodels::SshAuthorizedKey).text().null())
                    .col(optional(Baymodels::HttpProxy))
                    .col(optional(Baymodels::HttpsProxy))
                    .col(optional(Baymodels::NoProxy))
                    .col(optional(Baymodels::InsecureRegistry))
                    .col(flag(Baymodels::RegistryEnabled))
                    .col(ColumnDef::new(Baymodels::Labels).text().not_null())
                    .col(flag(Baymodels::TlsDisabled))
                    .col(flag(Baymodels::Public))
                    .col(required(Baymodels::ServerType))
                    .col(flag(Baymodels::MasterLbEnabled))
                    .col(flag(Baymodels::FloatingIpEnabled))
                    .col(flag(Baymodels::Hidden))
                    .col(optional(Baymodels::Tags))
                    .col(optional(Baymodels::ClusterDistro))
                    .col(required(Baymodels::Driver))
                    .col(required(Baymodels::ProjectId))
                    .col(required(Baymodels::UserId))
                    .col(
                        ColumnDef::new(Baymodels::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Baymodels::UpdatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Tenancy filters (own project, public) and name lookups.
        for (name, column) in [
            ("idx_baymodels_project_id", Baymodels::ProjectId),
            ("idx_baymodels_public", Baymodels::Public),
            ("idx_baymodels_name", Baymodels::Name),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Baymodels::Table)
                        .col(column)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Baymodels::Table).to_owned())
            .await
    }
}

/// The `nodes` table (Liberty's node records).
struct CreateNodes;

impl MigrationName for CreateNodes {
    fn name(&self) -> &str {
        "m0003_create_nodes"
    }
}

/// `Table` is the table's own name: `nodes`.
#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
    Uuid,
    Type,
    ImageId,
    IronicNodeId,
    ProjectId,
    UserId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNodes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let optional = |column: Nodes| ColumnDef::new(column).string_len(LIMIT).null().to_owned();
        let required = |column: Nodes| {
            ColumnDef::new(column)
                .string_len(LIMIT)
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Nodes::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Nodes::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Nodes::Uuid)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(optional(Nodes::Type))
                    .col(optional(Nodes::ImageId))
                    // Unique across every project; NULLs never collide.
                    .col(optional(Nodes::IronicNodeId).unique_key().to_owned())
                    .col(required(Nodes::ProjectId))
                    .col(required(Nodes::UserId))
                    .col(
                        ColumnDef::new(Nodes::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Nodes::UpdatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The tenancy filter.
        manager
            .create_index(
                Index::create()
                    .name("idx_nodes_project_id")
                    .table(Nodes::Table)
                    .col(Nodes::ProjectId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Nodes::Table).to_owned())
            .await
    }
}
