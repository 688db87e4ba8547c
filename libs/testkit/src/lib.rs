//! Test fixtures shared by the service and integration tests: real Postgres schemas and
//! NATS stream prefixes, unique per test so tests run in parallel.
//!
//! `MAGNUM_TEST_DATABASE_URL` and `MAGNUM_TEST_NATS_URL` point at the servers that
//! `make test` starts (defaults: loopback).

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bays;
pub mod docker;
pub mod failpoints;
pub mod keystone;
pub mod openssl;

use magnum_db::DatabaseConfig;

pub const DEFAULT_DATABASE_URL: &str = "postgres://magnum:magnum@127.0.0.1:5432/magnum_test";
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

pub fn database_url() -> String {
    std::env::var("MAGNUM_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

pub fn nats_url() -> String {
    std::env::var("MAGNUM_TEST_NATS_URL").unwrap_or_else(|_| DEFAULT_NATS_URL.to_owned())
}

/// A short unique lower-case name, e.g. for a schema or a stream prefix.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..12])
}

/// A database config with a fresh, empty Postgres schema of its own.
pub fn postgres_config() -> DatabaseConfig {
    DatabaseConfig {
        url: database_url(),
        schema: unique_name("t"),
        max_connections: 4,
        connect_timeout_secs: 10,
    }
}

/// A database config for a fresh SQLite file in a temporary directory.
pub fn sqlite_config() -> DatabaseConfig {
    let dir = std::env::temp_dir().join(unique_name("magnum"));
    DatabaseConfig {
        url: format!("sqlite://{}/test.db", dir.display()),
        schema: "public".to_owned(),
        max_connections: 4,
        connect_timeout_secs: 10,
    }
}
