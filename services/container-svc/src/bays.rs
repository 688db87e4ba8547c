//! The bay lookup: bay-svc over gRPC, with the caller's credentials, so which bays the
//! caller may use is bay-svc's decision.

use async_trait::async_trait;
use magnum_bay_client::{BayClient, BayLookupError};
use magnum_common::RequestContext;

use crate::domain::container::BayInfo;
use crate::domain::ports::BayDirectory;
use crate::error::{Error, Result};

/// bay-svc as a [`BayDirectory`].
#[derive(Clone)]
pub struct GrpcBays {
    client: BayClient,
}

impl GrpcBays {
    pub fn new(client: BayClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl BayDirectory for GrpcBays {
    async fn bay(&self, ctx: &RequestContext, ident: &str) -> Result<BayInfo> {
        let bay = self.client.bay(ctx, ident).await?;
        Ok(BayInfo {
            uuid: bay.uuid,
            coe: bay.coe,
            status: bay.status,
            workers: bay.workers,
        })
    }
}

impl From<BayLookupError> for Error {
    fn from(error: BayLookupError) -> Self {
        match error {
            BayLookupError::NotFound(ident) => Self::BayNotFound(ident),
            BayLookupError::Ambiguous(ident) => Self::AmbiguousBayName(ident),
            BayLookupError::Failed { code, message } => Self::BayLookup { code, message },
        }
    }
}
