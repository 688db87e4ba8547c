//! The IdentityService gRPC handler.

use magnum_proto::identity::v1::identity_service_server::IdentityService;
use magnum_proto::identity::v1::{ValidateTokenRequest, ValidateTokenResponse};

use crate::backend::NoAuthValidator;

pub struct IdentityGrpc {
    validator: NoAuthValidator,
}

impl IdentityGrpc {
    pub fn new(validator: NoAuthValidator) -> Self {
        Self { validator }
    }
}

#[tonic::async_trait]
impl IdentityService for IdentityGrpc {
    async fn validate_token(
        &self,
        request: tonic::Request<ValidateTokenRequest>,
    ) -> Result<tonic::Response<ValidateTokenResponse>, tonic::Status> {
        let request = request.into_inner();
        let identity = self.validator.validate(request.noauth_hints.as_ref());
        Ok(tonic::Response::new(ValidateTokenResponse {
            identity: Some(identity),
        }))
    }
}
