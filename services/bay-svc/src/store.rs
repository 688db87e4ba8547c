//! Persistence on sea-orm (Postgres in production, SQLite embedded). Entities stay in
//! here; the rest of the crate sees the domain types and the ports this implements.

mod entities;
mod migration;
mod outbox;
mod repository;

pub use migration::Migrator;
pub use repository::SqlBayModelRepository;
