//! Persistence on sea-orm (Postgres in production, SQLite embedded).

mod entities;
mod migration;
mod repository;

pub use migration::Migrator;
pub use repository::SqlObjectRepository;
