//! k8s-svc's schema, applied at start-up. Migrations are append-only.

use sea_orm_migration::prelude::*;

/// Every migration of k8s-svc's database, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateObjects)]
    }
}

struct CreateObjects;

impl MigrationName for CreateObjects {
    fn name(&self) -> &str {
        "m0001_create_k8s_objects"
    }
}

#[derive(DeriveIden)]
enum K8sObjects {
    Table,
    Id,
    Uuid,
    Kind,
    Name,
    BayUuid,
    Desc,
    State,
    Observed,
    ProjectId,
    UserId,
    CreatedAt,
    UpdatedAt,
}

const LIMIT: u32 = 255;

#[async_trait::async_trait]
impl MigrationTrait for CreateObjects {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let required = |column: K8sObjects, length: u32| {
            ColumnDef::new(column)
                .string_len(length)
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(K8sObjects::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(K8sObjects::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(required(K8sObjects::Uuid, 36).unique_key().to_owned())
                    .col(required(K8sObjects::Kind, 16))
                    .col(required(K8sObjects::Name, LIMIT))
                    .col(required(K8sObjects::BayUuid, 36))
                    .col(ColumnDef::new(K8sObjects::Desc).text().null())
                    .col(required(K8sObjects::State, 16))
                    .col(ColumnDef::new(K8sObjects::Observed).text().not_null())
                    .col(required(K8sObjects::ProjectId, LIMIT))
                    .col(required(K8sObjects::UserId, LIMIT))
                    .col(
                        ColumnDef::new(K8sObjects::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(K8sObjects::UpdatedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        for (index, columns) in [
            (
                "idx_k8s_objects_project_kind",
                vec![K8sObjects::ProjectId, K8sObjects::Kind],
            ),
            ("idx_k8s_objects_bay_uuid", vec![K8sObjects::BayUuid]),
        ] {
            let mut create = Index::create();
            create.name(index).table(K8sObjects::Table).if_not_exists();
            for column in columns {
                create.col(column);
            }
            manager.create_index(create.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(K8sObjects::Table).to_owned())
            .await
    }
}
