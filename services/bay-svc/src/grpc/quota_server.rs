//! `QuotaService`: extract the caller, call the use case, convert the answer.

use magnum_grpc::context;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::quota_service_server::QuotaService;
use tonic::{Request, Response, Status};

use super::convert::timestamp;
use crate::app::Quotas;
use crate::domain::quota::Quota;

/// The gRPC face of the quota use cases.
#[derive(Clone)]
pub struct QuotaApi {
    quotas: Quotas,
}

impl QuotaApi {
    pub fn new(quotas: Quotas) -> Self {
        Self { quotas }
    }
}

impl From<Quota> for pb::Quota {
    fn from(quota: Quota) -> Self {
        Self {
            id: quota.id,
            project_id: quota.project_id,
            resource: quota.resource,
            hard_limit: i32::try_from(quota.hard_limit).unwrap_or(i32::MAX),
            created_at: quota.created_at.map(timestamp),
            updated_at: quota.updated_at.map(timestamp),
        }
    }
}

#[tonic::async_trait]
impl QuotaService for QuotaApi {
    async fn create_quota(
        &self,
        request: Request<pb::CreateQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let ctx = context(&request)?;
        let body = request.into_inner();
        let quota = self
            .quotas
            .create(
                &ctx,
                &body.project_id,
                &body.resource,
                body.hard_limit.map(i64::from),
            )
            .await?;
        Ok(Response::new(quota.into()))
    }

    async fn get_quota(
        &self,
        request: Request<pb::GetQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let ctx = context(&request)?;
        let body = request.get_ref();
        let quota = self
            .quotas
            .get(&ctx, &body.project_id, &body.resource)
            .await?;
        Ok(Response::new(quota.into()))
    }

    async fn list_quotas(
        &self,
        request: Request<pb::ListQuotasRequest>,
    ) -> Result<Response<pb::ListQuotasResponse>, Status> {
        let ctx = context(&request)?;
        let options = request.into_inner().options.unwrap_or_default();
        let page = self
            .quotas
            .list(
                &ctx,
                options.all_projects,
                options.page_size,
                &options.page_token,
                &options.sort_dir,
            )
            .await?;
        Ok(Response::new(pb::ListQuotasResponse {
            quotas: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page
                .next_marker
                .map(|id| id.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn update_quota(
        &self,
        request: Request<pb::UpdateQuotaRequest>,
    ) -> Result<Response<pb::Quota>, Status> {
        let ctx = context(&request)?;
        let body = request.get_ref();
        let quota = self
            .quotas
            .update(
                &ctx,
                &body.project_id,
                &body.resource,
                i64::from(body.hard_limit),
            )
            .await?;
        Ok(Response::new(quota.into()))
    }

    async fn delete_quota(
        &self,
        request: Request<pb::DeleteQuotaRequest>,
    ) -> Result<Response<pb::DeleteQuotaResponse>, Status> {
        let ctx = context(&request)?;
        let body = request.get_ref();
        self.quotas
            .delete(&ctx, &body.project_id, &body.resource)
            .await?;
        Ok(Response::new(pb::DeleteQuotaResponse {}))
    }
}
