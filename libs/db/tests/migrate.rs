//! Replicas that start together on one Postgres schema migrate it once, without errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_db::DatabaseConfig;
use magnum_db::sea_orm::{ConnectionTrait, DbBackend, Statement};
use magnum_db::sea_orm_migration::prelude::*;

struct CreateThings;

impl MigrationName for CreateThings {
    fn name(&self) -> &str {
        "m0001_create_things"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateThings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("things")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .to_owned(),
            )
            .await
    }
}

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateThings)]
    }
}

fn config() -> DatabaseConfig {
    let url = std::env::var("MAGNUM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://magnum:magnum@127.0.0.1:5432/magnum_test".to_owned());
    let id = uuid::Uuid::new_v4().simple().to_string();
    DatabaseConfig {
        url,
        schema: format!("t_mig_{}", &id[..10]),
        max_connections: 2,
        connect_timeout_secs: 10,
    }
}

#[tokio::test]
async fn concurrent_replicas_migrate_one_schema_once() {
    let config = config();
    let replicas = (0..4).map(|_| {
        let config = config.clone();
        tokio::spawn(async move { magnum_db::connect_and_migrate::<Migrator>(&config).await })
    });
    let mut connections = Vec::new();
    for replica in replicas {
        connections.push(replica.await.unwrap().unwrap());
    }
    let db = &connections[0];
    let applied = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(applied.try_get::<i64>("", "n").unwrap(), 1);
    db.execute_unprepared(&format!("DROP SCHEMA \"{}\" CASCADE", config.schema))
        .await
        .unwrap();
}
