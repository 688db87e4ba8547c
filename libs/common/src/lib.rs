//! What every magnum-rs crate shares: the error-code vocabulary, the request context and
//! tenancy scope, the layered configuration loader and the shutdown signal.

pub mod config;
pub mod context;
pub mod error;
pub mod listing;
pub mod shutdown;

pub use context::{RequestContext, Scope};
pub use error::{ErrorCode, ServiceError};
pub use shutdown::Shutdown;
