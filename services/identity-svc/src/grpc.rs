//! The IdentityService gRPC handler: translates requests to the backend and its errors to
//! statuses (through `magnum_common::error::to_status`, the one mapping).

use magnum_proto::identity::v1::identity_service_server::IdentityService;
use magnum_proto::identity::v1::{ValidateTokenRequest, ValidateTokenResponse};

use crate::backend::Backend;

/// Serves `ValidateToken` from a backend.
pub struct IdentityGrpc {
    backend: Backend,
}

impl IdentityGrpc {
    pub fn new(backend: Backend) -> Self {
        Self { backend }
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityGrpc {
    async fn validate_token(
        &self,
        request: tonic::Request<ValidateTokenRequest>,
    ) -> Result<tonic::Response<ValidateTokenResponse>, tonic::Status> {
        let request = request.into_inner();
        let identity = self
            .backend
            .validate(&request.token, request.noauth_hints.as_ref())
            .await
            .map_err(|error| magnum_common::error::to_status(&error))?;
        Ok(tonic::Response::new(ValidateTokenResponse {
            identity: Some(identity),
        }))
    }
}
