//! Persistence on sea-orm (Postgres in production, SQLite embedded). Entities stay in
//! here; the rest of the crate sees the domain types and the ports this implements.

mod bay_repository;
mod entities;
mod migration;
mod node_repository;
mod outbox;
mod quota_repository;
mod repository;

pub use bay_repository::SqlBayRepository;
pub use migration::Migrator;
pub use node_repository::SqlNodeRepository;
pub use outbox::{BAY_DELETED_SUBJECT, BAY_OPERATIONS_FILTER, BAY_STATUS_SUBJECT};
pub use quota_repository::SqlQuotaRepository;
pub use repository::SqlBayModelRepository;
