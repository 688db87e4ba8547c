//! The bay lookup: bay-svc over gRPC, with the caller's credentials, so which bays the
//! caller may use is bay-svc's decision.

use async_trait::async_trait;
use magnum_common::{ErrorCode, RequestContext};
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::bay_service_client::BayServiceClient;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::domain::container::BayInfo;
use crate::domain::ports::BayDirectory;
use crate::error::{Error, Result};

/// bay-svc as a [`BayDirectory`].
#[derive(Clone)]
pub struct GrpcBays {
    channel: Channel,
}

impl GrpcBays {
    pub fn new(channel: Channel) -> Self {
        Self { channel }
    }
}

#[async_trait]
impl BayDirectory for GrpcBays {
    async fn bay(&self, ctx: &RequestContext, ident: &str) -> Result<BayInfo> {
        let bay = BayServiceClient::new(self.channel.clone())
            .get_bay(magnum_grpc::client::request(
                ctx,
                pb::GetBayRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound => Error::BayNotFound(ident.to_owned()),
                tonic::Code::AlreadyExists => Error::AmbiguousBayName(ident.to_owned()),
                _ => lookup_error(&status),
            })?
            .into_inner();
        let baymodel = BayModelServiceClient::new(self.channel.clone())
            .get_bay_model(magnum_grpc::client::request(
                ctx,
                pb::GetBayModelRequest {
                    ident: bay.baymodel_id.clone(),
                },
            ))
            .await
            .map_err(|status| lookup_error(&status))?
            .into_inner();
        let uuid = Uuid::parse_str(&bay.uuid).map_err(|_| Error::BayLookup {
            code: ErrorCode::Internal,
            message: format!("bay-svc answered with a bad bay uuid {:?}", bay.uuid),
        })?;
        let workers = bay
            .nodes
            .iter()
            .filter(|node| node.role() == pb::bay_node::Role::Worker)
            .map(|node| node.name.clone())
            .collect();
        Ok(BayInfo {
            uuid,
            coe: baymodel.coe,
            status: bay
                .status()
                .as_str_name()
                .trim_start_matches("BAY_STATUS_")
                .to_owned(),
            workers,
        })
    }
}

/// A bay-svc failure as the crate's error, keeping its meaning.
fn lookup_error(status: &tonic::Status) -> Error {
    let code = match status.code() {
        tonic::Code::InvalidArgument => ErrorCode::InvalidArgument,
        tonic::Code::NotFound => ErrorCode::NotFound,
        tonic::Code::PermissionDenied => ErrorCode::Forbidden,
        tonic::Code::Unauthenticated => ErrorCode::Unauthenticated,
        tonic::Code::Unavailable => ErrorCode::Unavailable,
        tonic::Code::DeadlineExceeded => ErrorCode::Timeout,
        _ => ErrorCode::Internal,
    };
    Error::BayLookup {
        code,
        message: status.message().to_owned(),
    }
}
