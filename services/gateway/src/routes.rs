//! The REST resources, one module each: wire types, attribute table, handlers.

pub mod baymodels;

use axum::Router;

use crate::state::AppState;

/// The collections served under `/v1` (listed by `GET /v1`).
pub const COLLECTIONS: &[&str] = &[baymodels::COLLECTION];

/// Every resource route; all of them require authentication.
pub fn router() -> Router<AppState> {
    Router::new().merge(baymodels::router())
}
