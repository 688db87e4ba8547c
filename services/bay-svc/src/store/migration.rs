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
            Box::new(CreateBays),
            Box::new(CreateQuotas),
            Box::new(CreateNodeGroups),
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

/// The `bays` table and what belongs to a bay: its CA, its operations and its lease.
struct CreateBays;

impl MigrationName for CreateBays {
    fn name(&self) -> &str {
        "m0004_create_bays"
    }
}

#[derive(DeriveIden)]
enum Bays {
    Table,
    Id,
    Uuid,
    Name,
    BaymodelId,
    Coe,
    NodeCount,
    MasterCount,
    CreateTimeout,
    DiscoveryUrl,
    Status,
    StatusReason,
    ApiAddress,
    Nodes,
    DriverState,
    SealedCredential,
    DockerVolumeSize,
    Labels,
    MasterFlavorId,
    FlavorId,
    Keypair,
    FixedNetwork,
    FixedSubnet,
    FloatingIpEnabled,
    MasterLbEnabled,
    HealthStatus,
    HealthStatusReason,
    HealthCheckedAt,
    ProjectId,
    UserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BayCas {
    Table,
    BayUuid,
    CertPem,
    SealedKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BayOperations {
    Table,
    Id,
    Uuid,
    BayUuid,
    Kind,
    NodeCount,
    State,
    Attempts,
    ProjectId,
    UserId,
    RequestId,
    RequestedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum BayLeases {
    Table,
    BayUuid,
    Holder,
    OperationUuid,
    ExpiresAt,
}

fn timestamp<T: IntoIden>(column: T, null: bool) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.timestamp_with_time_zone();
    if null {
        def.null()
    } else {
        def.not_null()
    };
    def.to_owned()
}

fn string<T: IntoIden>(column: T, null: bool) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.string_len(LIMIT);
    if null {
        def.null()
    } else {
        def.not_null()
    };
    def.to_owned()
}

fn integer<T: IntoIden>(column: T) -> ColumnDef {
    ColumnDef::new(column).integer().not_null().to_owned()
}

fn serial<T: IntoIden>(column: T) -> ColumnDef {
    ColumnDef::new(column)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn uuid_key<T: IntoIden>(column: T) -> ColumnDef {
    ColumnDef::new(column)
        .string_len(36)
        .not_null()
        .unique_key()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateBays {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |column: Bays| ColumnDef::new(column).text().not_null().to_owned();
        let flag = |column: Bays| ColumnDef::new(column).boolean().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Bays::Table)
                    .if_not_exists()
                    .col(serial(Bays::Id))
                    .col(uuid_key(Bays::Uuid))
                    .col(string(Bays::Name, true))
                    .col(string(Bays::BaymodelId, false))
                    .col(string(Bays::Coe, false))
                    .col(integer(Bays::NodeCount))
                    .col(integer(Bays::MasterCount))
                    .col(integer(Bays::CreateTimeout))
                    .col(string(Bays::DiscoveryUrl, true))
                    .col(string(Bays::Status, false))
                    .col(ColumnDef::new(Bays::StatusReason).text().null())
                    .col(string(Bays::ApiAddress, true))
                    .col(text(Bays::Nodes))
                    .col(text(Bays::DriverState))
                    .col(ColumnDef::new(Bays::SealedCredential).binary().null())
                    .col(ColumnDef::new(Bays::DockerVolumeSize).integer().null())
                    .col(text(Bays::Labels))
                    .col(string(Bays::MasterFlavorId, true))
                    .col(string(Bays::FlavorId, true))
                    .col(string(Bays::Keypair, true))
                    .col(string(Bays::FixedNetwork, true))
                    .col(string(Bays::FixedSubnet, true))
                    .col(flag(Bays::FloatingIpEnabled))
                    .col(flag(Bays::MasterLbEnabled))
                    .col(string(Bays::HealthStatus, true))
                    .col(text(Bays::HealthStatusReason))
                    .col(timestamp(Bays::HealthCheckedAt, true))
                    .col(string(Bays::ProjectId, false))
                    .col(string(Bays::UserId, false))
                    .col(timestamp(Bays::CreatedAt, false))
                    .col(timestamp(Bays::UpdatedAt, true))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_bays_project_id", Bays::ProjectId),
            ("idx_bays_name", Bays::Name),
            ("idx_bays_baymodel_id", Bays::BaymodelId),
            ("idx_bays_status", Bays::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Bays::Table)
                        .col(column)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BayCas::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(BayCas::BayUuid)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(BayCas::CertPem).text().not_null())
                    .col(ColumnDef::new(BayCas::SealedKey).binary().not_null())
                    .col(timestamp(BayCas::CreatedAt, false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BayOperations::Table)
                    .if_not_exists()
                    .col(serial(BayOperations::Id))
                    .col(uuid_key(BayOperations::Uuid))
                    .col(string(BayOperations::BayUuid, false))
                    .col(string(BayOperations::Kind, false))
                    .col(integer(BayOperations::NodeCount))
                    .col(string(BayOperations::State, false))
                    .col(integer(BayOperations::Attempts))
                    .col(string(BayOperations::ProjectId, false))
                    .col(string(BayOperations::UserId, false))
                    .col(string(BayOperations::RequestId, false))
                    .col(timestamp(BayOperations::RequestedAt, false))
                    .col(timestamp(BayOperations::FinishedAt, true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bay_operations_bay_uuid_state")
                    .table(BayOperations::Table)
                    .col(BayOperations::BayUuid)
                    .col(BayOperations::State)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BayLeases::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(BayLeases::BayUuid)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(string(BayLeases::Holder, false))
                    .col(string(BayLeases::OperationUuid, false))
                    .col(timestamp(BayLeases::ExpiresAt, false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BayLeases::Table.into_iden(),
            BayOperations::Table.into_iden(),
            BayCas::Table.into_iden(),
            Bays::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The `quotas` table: a project's stored limit per resource (Magnum's quotas).
struct CreateQuotas;

impl MigrationName for CreateQuotas {
    fn name(&self) -> &str {
        "m0005_create_quotas"
    }
}

#[derive(DeriveIden)]
enum Quotas {
    Table,
    Id,
    ProjectId,
    Resource,
    HardLimit,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateQuotas {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Quotas::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Quotas::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Quotas::ProjectId)
                            .string_len(LIMIT)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Quotas::Resource)
                            .string_len(LIMIT)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Quotas::HardLimit).integer().not_null())
                    .col(
                        ColumnDef::new(Quotas::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Quotas::UpdatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // One quota per project and resource; also the lookup of every bay create.
        manager
            .create_index(
                Index::create()
                    .name("uniq_quotas_project_id_resource")
                    .table(Quotas::Table)
                    .col(Quotas::ProjectId)
                    .col(Quotas::Resource)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Quotas::Table).to_owned())
            .await
    }
}

/// The `nodegroups` table: a bay's worker groups beyond its two defaults.
struct CreateNodeGroups;

impl MigrationName for CreateNodeGroups {
    fn name(&self) -> &str {
        "m0006_create_nodegroups"
    }
}

#[derive(DeriveIden)]
enum Nodegroups {
    Table,
    Id,
    Uuid,
    Name,
    BayUuid,
    Role,
    NodeCount,
    MinNodeCount,
    MaxNodeCount,
    DockerVolumeSize,
    Labels,
    FlavorId,
    ImageId,
    ProjectId,
    UserId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNodeGroups {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let optional =
            |column: Nodegroups| ColumnDef::new(column).string_len(LIMIT).null().to_owned();
        let required = |column: Nodegroups| {
            ColumnDef::new(column)
                .string_len(LIMIT)
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Nodegroups::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Nodegroups::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Nodegroups::Uuid)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(required(Nodegroups::Name))
                    .col(
                        ColumnDef::new(Nodegroups::BayUuid)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(required(Nodegroups::Role))
                    .col(ColumnDef::new(Nodegroups::NodeCount).integer().not_null())
                    .col(
                        ColumnDef::new(Nodegroups::MinNodeCount)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Nodegroups::MaxNodeCount).integer().null())
                    .col(
                        ColumnDef::new(Nodegroups::DockerVolumeSize)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(Nodegroups::Labels).text().not_null())
                    .col(optional(Nodegroups::FlavorId))
                    .col(optional(Nodegroups::ImageId))
                    .col(required(Nodegroups::ProjectId))
                    .col(required(Nodegroups::UserId))
                    .col(
                        ColumnDef::new(Nodegroups::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Nodegroups::UpdatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Names are unique within a bay; lookups are by bay.
        manager
            .create_index(
                Index::create()
                    .name("uniq_nodegroups_bay_uuid_name")
                    .table(Nodegroups::Table)
                    .col(Nodegroups::BayUuid)
                    .col(Nodegroups::Name)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Nodegroups::Table).to_owned())
            .await
    }
}
