//! The gRPC transport: the servers extract the caller, call the use cases and convert;
//! `convert` and `bay_convert` hold every proto <-> domain conversion. No business logic
//! lives here.

mod bay_convert;
mod bay_server;
mod convert;
mod nodegroup_server;
mod quota_server;
mod server;
mod service_server;
mod watch;

pub use bay_server::{BayApi, CertificateApi};
pub use nodegroup_server::NodeGroupApi;
pub use quota_server::QuotaApi;
pub use server::{BayModelApi, NodeApi};
pub use service_server::MagnumServiceApi;
pub use watch::BayWatch;

use crate::error::Error;

/// The one mapping of the crate's error to a gRPC status: the code from the shared
/// vocabulary, Magnum's text for caller mistakes, a logged and hidden message otherwise.
impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        magnum_common::error::to_status(&error)
    }
}
