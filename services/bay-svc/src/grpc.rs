//! The gRPC transport: `server` extracts the caller, calls the use cases and converts;
//! `convert` holds every proto <-> domain conversion. No business logic lives here.

mod convert;
mod server;

pub use server::{BayModelApi, NodeApi};

use crate::error::Error;

/// The one mapping of the crate's error to a gRPC status: the code from the shared
/// vocabulary, Magnum's text for caller mistakes, a logged and hidden message otherwise.
impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        magnum_common::error::to_status(&error)
    }
}
