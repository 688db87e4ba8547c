//! bay-svc as a [`BayDirectory`]: lookups and credentials as the caller.

use async_trait::async_trait;
use magnum_bay_client::BayClient;
use magnum_common::RequestContext;
use uuid::Uuid;

use crate::domain::ports::{BayAccess, BayDirectory, BayInfo};
use crate::error::{Error, Result};

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
        })
    }

    async fn access(&self, ctx: &RequestContext, ident: &str) -> Result<BayAccess> {
        let credentials = self.client.credentials(ctx, ident).await?;
        let bay_uuid = Uuid::parse_str(&credentials.bay_uuid).map_err(|_| {
            Error::ClusterConfig(format!(
                "bay-svc answered with a bad bay uuid {:?}",
                credentials.bay_uuid
            ))
        })?;
        Ok(BayAccess {
            bay_uuid,
            server: credentials.api_server,
            namespace: credentials.namespace,
            ca_certificates_pem: credentials.ca_certificates_pem,
            insecure_skip_tls_verify: credentials.insecure_skip_tls_verify,
            token: credentials.token,
        })
    }
}
