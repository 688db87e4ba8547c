//! bay-svc as the other services see it. Every call forwards the caller's credentials, so
//! which bays a caller may use stays bay-svc's decision (its tenancy and policy).

pub mod deletions;

use magnum_common::{ErrorCode, RequestContext};
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::bay_service_client::BayServiceClient;
use uuid::Uuid;

/// A bay as a service placing things on it needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayView {
    pub uuid: Uuid,
    /// The COE of the bay's baymodel (`swarm`, `kubernetes`).
    pub coe: String,
    /// bay-svc's status name, e.g. `CREATE_COMPLETE`.
    pub status: String,
    /// Names of the bay's worker nodes.
    pub workers: Vec<String>,
}

impl BayView {
    /// Whether the bay takes new things (created or updated, not failed or going).
    pub fn is_usable(&self) -> bool {
        matches!(self.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE")
    }
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BayLookupError {
    /// The caller cannot see a bay of that uuid or name.
    #[error("Bay {0} could not be found.")]
    NotFound(String),
    #[error("Multiple bays exist with same name. Please use the bay uuid instead.")]
    Ambiguous(String),
    /// Any other answer of bay-svc, with its meaning kept.
    #[error("{message}")]
    Failed { code: ErrorCode, message: String },
}

/// bay-svc's gRPC API.
#[derive(Clone)]
pub struct BayClient {
    channel: Channel,
}

impl BayClient {
    pub fn new(channel: Channel) -> Self {
        Self { channel }
    }

    /// The bay `ident` (uuid or name) with its baymodel's COE.
    pub async fn bay(&self, ctx: &RequestContext, ident: &str) -> Result<BayView, BayLookupError> {
        let bay = BayServiceClient::new(self.channel.clone())
            .get_bay(magnum_grpc::client::request(
                ctx,
                pb::GetBayRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .map_err(|status| bay_error(ident, &status))?
            .into_inner();
        let baymodel = BayModelServiceClient::new(self.channel.clone())
            .get_bay_model(magnum_grpc::client::request(
                ctx,
                pb::GetBayModelRequest {
                    ident: bay.baymodel_id.clone(),
                },
            ))
            .await
            .map_err(|status| failed(&status))?
            .into_inner();
        let workers = bay
            .nodes
            .iter()
            .filter(|node| node.role() == pb::bay_node::Role::Worker)
            .map(|node| node.name.clone())
            .collect();
        Ok(BayView {
            uuid: parse_uuid(&bay.uuid)?,
            coe: baymodel.coe,
            status: status_name(bay.status()),
            workers,
        })
    }

    /// How to reach the bay's API with the bay's own credential (bay-svc refuses bays that
    /// have none or are not complete).
    pub async fn credentials(
        &self,
        ctx: &RequestContext,
        ident: &str,
    ) -> Result<pb::BayCredentials, BayLookupError> {
        BayServiceClient::new(self.channel.clone())
            .get_bay_credentials(magnum_grpc::client::request(
                ctx,
                pb::GetBayCredentialsRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| bay_error(ident, &status))
    }
}

/// bay-svc's name of a status, without the proto prefix (`CREATE_COMPLETE`).
pub fn status_name(status: pb::BayStatus) -> String {
    status
        .as_str_name()
        .trim_start_matches("BAY_STATUS_")
        .to_owned()
}

fn parse_uuid(value: &str) -> Result<Uuid, BayLookupError> {
    Uuid::parse_str(value).map_err(|_| BayLookupError::Failed {
        code: ErrorCode::Internal,
        message: format!("bay-svc answered with a bad bay uuid {value:?}"),
    })
}

fn bay_error(ident: &str, status: &tonic::Status) -> BayLookupError {
    match status.code() {
        tonic::Code::NotFound => BayLookupError::NotFound(ident.to_owned()),
        tonic::Code::AlreadyExists => BayLookupError::Ambiguous(ident.to_owned()),
        _ => failed(status),
    }
}

/// A bay-svc failure, keeping its meaning.
fn failed(status: &tonic::Status) -> BayLookupError {
    let code = match status.code() {
        tonic::Code::InvalidArgument => ErrorCode::InvalidArgument,
        tonic::Code::FailedPrecondition => ErrorCode::FailedPrecondition,
        tonic::Code::NotFound => ErrorCode::NotFound,
        tonic::Code::PermissionDenied => ErrorCode::Forbidden,
        tonic::Code::Unauthenticated => ErrorCode::Unauthenticated,
        tonic::Code::Unavailable => ErrorCode::Unavailable,
        tonic::Code::DeadlineExceeded => ErrorCode::Timeout,
        _ => ErrorCode::Internal,
    };
    BayLookupError::Failed {
        code,
        message: status.message().to_owned(),
    }
}
