//! container-svc's schema, applied at start-up. Migrations are append-only.

use sea_orm_migration::prelude::*;

/// Every migration of container-svc's database, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateContainers)]
    }
}

struct CreateContainers;

impl MigrationName for CreateContainers {
    fn name(&self) -> &str {
        "m0001_create_containers"
    }
}

#[derive(DeriveIden)]
enum Containers {
    Table,
    Id,
    Uuid,
    Name,
    Image,
    BayUuid,
    Command,
    Memory,
    Environment,
    Status,
    StatusReason,
    Host,
    ProjectId,
    UserId,
    CreatedAt,
    UpdatedAt,
}

const LIMIT: u32 = 255;

#[async_trait::async_trait]
impl MigrationTrait for CreateContainers {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let optional =
            |column: Containers| ColumnDef::new(column).string_len(LIMIT).null().to_owned();
        let required = |column: Containers| {
            ColumnDef::new(column)
                .string_len(LIMIT)
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Containers::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Containers::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Containers::Uuid)
                            .string_len(36)
                            .not_null()
                            .unique_key(),
                    )
                    .col(optional(Containers::Name))
                    .col(required(Containers::Image))
                    .col(
                        ColumnDef::new(Containers::BayUuid)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Containers::Command).text().null())
                    .col(optional(Containers::Memory))
                    .col(ColumnDef::new(Containers::Environment).text().not_null())
                    .col(required(Containers::Status))
                    .col(ColumnDef::new(Containers::StatusReason).text().null())
                    .col(optional(Containers::Host))
                    .col(required(Containers::ProjectId))
                    .col(required(Containers::UserId))
                    .col(
                        ColumnDef::new(Containers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Containers::UpdatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (index, column) in [
            ("idx_containers_project_id", Containers::ProjectId),
            ("idx_containers_bay_uuid", Containers::BayUuid),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(index)
                        .table(Containers::Table)
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
            .drop_table(Table::drop().table(Containers::Table).to_owned())
            .await
    }
}
