//! `MagnumServiceService`: extract the caller, call the use case, convert the answer.

use magnum_grpc::context;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::magnum_service_service_server::MagnumServiceService;
use tonic::{Request, Response, Status};

use super::convert::timestamp;
use crate::app::MagnumServices;

/// The gRPC face of the Magnum services use case.
#[derive(Clone)]
pub struct MagnumServiceApi {
    services: MagnumServices,
}

impl MagnumServiceApi {
    pub fn new(services: MagnumServices) -> Self {
        Self { services }
    }
}

#[tonic::async_trait]
impl MagnumServiceService for MagnumServiceApi {
    async fn list_magnum_services(
        &self,
        request: Request<pb::ListMagnumServicesRequest>,
    ) -> Result<Response<pb::ListMagnumServicesResponse>, Status> {
        let ctx = context(&request)?;
        let services = self
            .services
            .list(&ctx)
            .await?
            .into_iter()
            .map(|(replica, state)| pb::MagnumService {
                id: replica.id,
                host: replica.host,
                binary: replica.binary,
                state: state.to_owned(),
                report_count: i64::try_from(replica.report_count).unwrap_or(i64::MAX),
                disabled: false,
                disabled_reason: None,
                created_at: Some(timestamp(replica.created_at)),
                updated_at: Some(timestamp(replica.updated_at)),
            })
            .collect();
        Ok(Response::new(pb::ListMagnumServicesResponse { services }))
    }
}
