//! Database connections for the services: Postgres in production (each service in its
//! own schema), SQLite for the embedded default. Each service owns its migrations and
//! runs them at start-up.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};

pub mod keyset;
pub mod tenancy;

pub use sea_orm;
pub use sea_orm_migration;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid schema name {0:?}: use lower-case letters, digits and underscores")]
    InvalidSchema(String),
    #[error("cannot connect to the database")]
    Connect(#[source] sea_orm::DbErr),
    #[error("database migration failed")]
    Migrate(#[source] sea_orm::DbErr),
}

impl magnum_common::ServiceError for DbError {
    fn code(&self) -> magnum_common::ErrorCode {
        match self {
            Self::Connect(_) => magnum_common::ErrorCode::Unavailable,
            _ => magnum_common::ErrorCode::Internal,
        }
    }
}

/// Where a service keeps its tables.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:5432/db` or `sqlite://path/to/file.db`.
    pub url: String,
    /// Postgres schema that holds this service's tables (ignored for SQLite).
    pub schema: String,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/magnum.db".to_owned(),
            schema: "public".to_owned(),
            max_connections: 16,
            connect_timeout_secs: 10,
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The url may hold a password.
        let shown = match self.url.split_once('@') {
            Some((_, host)) => format!("<credentials>@{host}"),
            None => self.url.clone(),
        };
        f.debug_struct("DatabaseConfig")
            .field("url", &shown)
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Connects, creating the Postgres schema (or the SQLite file and its directory) when
/// missing. Every pooled Postgres connection uses the schema as its search path.
pub async fn connect(config: &DatabaseConfig) -> Result<DatabaseConnection, DbError> {
    let timeout = Duration::from_secs(config.connect_timeout_secs.max(1));
    if config.url.starts_with("postgres://") || config.url.starts_with("postgresql://") {
        if !valid_schema(&config.schema) {
            return Err(DbError::InvalidSchema(config.schema.clone()));
        }
        // The schema must exist before connections put it on their search path.
        let mut bootstrap = ConnectOptions::new(config.url.clone());
        bootstrap
            .max_connections(1)
            .connect_timeout(timeout)
            .sqlx_logging(false);
        let admin = Database::connect(bootstrap)
            .await
            .map_err(DbError::Connect)?;
        // Replicas starting together on a fresh database race here: IF NOT EXISTS does
        // not stop two concurrent creates from colliding, so they take turns on a lock.
        let create = admin.begin().await.map_err(DbError::Connect)?;
        create
            .execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock(hashtext('magnum-schema:{}'))",
                config.schema
            ))
            .await
            .map_err(DbError::Connect)?;
        create
            .execute_unprepared(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{}\"",
                config.schema
            ))
            .await
            .map_err(DbError::Connect)?;
        create.commit().await.map_err(DbError::Connect)?;
        admin.close().await.map_err(DbError::Connect)?;

        let mut options = ConnectOptions::new(config.url.clone());
        options
            // At least two: the migration lock holds one while the migrator uses another.
            .max_connections(config.max_connections.max(2))
            .min_connections(1)
            .connect_timeout(timeout)
            .acquire_timeout(timeout)
            .set_schema_search_path(config.schema.clone())
            .sqlx_logging(false);
        Database::connect(options).await.map_err(DbError::Connect)
    } else if let Some(path) = config.url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or(path);
        if file.is_empty() {
            return Err(DbError::InvalidUrl {
                url: config.url.clone(),
                reason: "no file".into(),
            });
        }
        let parent = std::path::Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = parent.filter(|_| file != ":memory:") {
            std::fs::create_dir_all(dir).map_err(|e| DbError::InvalidUrl {
                url: config.url.clone(),
                reason: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let url = if path.contains('?') {
            config.url.clone()
        } else {
            format!("{}?mode=rwc", config.url)
        };
        let mut options = ConnectOptions::new(url);
        // SQLite allows one writer; a small pool avoids "database is locked" storms.
        options
            .max_connections(config.max_connections.clamp(1, 4))
            .connect_timeout(timeout)
            .acquire_timeout(timeout)
            .sqlx_logging(false);
        let db = Database::connect(options).await.map_err(DbError::Connect)?;
        for pragma in [
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=5000",
            "PRAGMA foreign_keys=ON",
        ] {
            db.execute_unprepared(pragma)
                .await
                .map_err(DbError::Connect)?;
        }
        Ok(db)
    } else {
        Err(DbError::InvalidUrl {
            url: config.url.clone(),
            reason: "expected postgres:// or sqlite://".into(),
        })
    }
}

/// Connects and brings the schema up to date with the service's migrator.
///
/// On Postgres, replicas starting together take turns: a transaction holds an advisory
/// lock (per schema) while the migrator runs on other pooled connections.
pub async fn connect_and_migrate<M: sea_orm_migration::MigratorTrait>(
    config: &DatabaseConfig,
) -> Result<DatabaseConnection, DbError> {
    let db = connect(config).await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let lock = db.begin().await.map_err(DbError::Migrate)?;
        lock.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock(hashtext('magnum-migrate:{}'))",
            config.schema
        ))
        .await
        .map_err(DbError::Migrate)?;
        M::up(&db, None).await.map_err(DbError::Migrate)?;
        lock.commit().await.map_err(DbError::Migrate)?;
    } else {
        M::up(&db, None).await.map_err(DbError::Migrate)?;
    }
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        assert!(valid_schema("bay"));
        assert!(valid_schema("t_0a1b"));
        assert!(!valid_schema("Bay"));
        assert!(!valid_schema("x\"; drop"));
        assert!(!valid_schema(""));
    }

    #[test]
    fn debug_hides_credentials() {
        let config = DatabaseConfig {
            url: "postgres://u:pw@h/db".into(),
            ..Default::default()
        };
        assert!(!format!("{config:?}").contains("pw"));
    }
}
