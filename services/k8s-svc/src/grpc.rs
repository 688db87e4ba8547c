//! The gRPC transport: extract the caller, call the use case, convert. No business logic.

mod convert;
mod server;

pub use server::KubernetesApi;

use crate::error::Error;

/// The one mapping of the crate's error to a gRPC status.
impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        magnum_common::error::to_status(&error)
    }
}
