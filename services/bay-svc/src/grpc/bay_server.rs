//! `BayService` and `CertificateService`: extract the caller, call the use case, convert
//! the answer.

use magnum_grpc::context;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_service_server::BayService;
use magnum_proto::bay::v1::certificate_service_server::CertificateService;
use magnum_proto::common::v1::OperationRef;
use tonic::{Request, Response, Status};

use super::watch::{BayWatch, WatchStream};
use crate::app::{Bays, ListQuery};
use crate::domain::bay::{NewBay, Operation};

fn operation_ref(operation: Option<&Operation>) -> Option<OperationRef> {
    operation.map(|operation| OperationRef {
        operation_id: operation.id.to_string(),
    })
}

/// The gRPC face of the bay use cases.
#[derive(Clone)]
pub struct BayApi {
    bays: Bays,
    watch: BayWatch,
}

impl BayApi {
    pub fn new(bays: Bays, watch: BayWatch) -> Self {
        Self { bays, watch }
    }
}

#[tonic::async_trait]
impl BayService for BayApi {
    async fn create_bay(
        &self,
        request: Request<pb::CreateBayRequest>,
    ) -> Result<Response<pb::CreateBayResponse>, Status> {
        let ctx = context(&request)?;
        let mut spec = request.into_inner().spec.unwrap_or_default();
        let baymodel = std::mem::take(&mut spec.baymodel_ident);
        let (bay, operation) = self
            .bays
            .create(&ctx, &baymodel, NewBay::from(spec))
            .await?;
        Ok(Response::new(pb::CreateBayResponse {
            bay: Some((&bay).into()),
            operation: operation_ref(Some(&operation)),
        }))
    }

    async fn get_bay(
        &self,
        request: Request<pb::GetBayRequest>,
    ) -> Result<Response<pb::Bay>, Status> {
        let ctx = context(&request)?;
        let bay = self.bays.get(&ctx, &request.get_ref().ident).await?;
        Ok(Response::new((&bay).into()))
    }

    async fn list_bays(
        &self,
        request: Request<pb::ListBaysRequest>,
    ) -> Result<Response<pb::ListBaysResponse>, Status> {
        let ctx = context(&request)?;
        let options = request.into_inner().options.unwrap_or_default();
        let page = self.bays.list(&ctx, ListQuery::from(options)).await?;
        Ok(Response::new(pb::ListBaysResponse {
            bays: page.items.iter().map(Into::into).collect(),
            next_page_token: page
                .next_marker
                .map(|marker| marker.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn update_bay(
        &self,
        request: Request<pb::UpdateBayRequest>,
    ) -> Result<Response<pb::UpdateBayResponse>, Status> {
        let ctx = context(&request)?;
        let update = request.into_inner();
        let (bay, operation) = self
            .bays
            .update(&ctx, &update.ident, i64::from(update.node_count))
            .await?;
        Ok(Response::new(pb::UpdateBayResponse {
            bay: Some((&bay).into()),
            operation: operation_ref(operation.as_ref()),
        }))
    }

    async fn delete_bay(
        &self,
        request: Request<pb::DeleteBayRequest>,
    ) -> Result<Response<pb::DeleteBayResponse>, Status> {
        let ctx = context(&request)?;
        let operation = self.bays.delete(&ctx, &request.get_ref().ident).await?;
        Ok(Response::new(pb::DeleteBayResponse {
            operation: operation_ref(operation.as_ref()),
        }))
    }

    async fn watch_bays(
        &self,
        request: Request<pb::WatchBaysRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let ctx = context(&request)?;
        let ident = request.into_inner().ident;
        let stream = self.watch.start(&self.bays, ctx, ident).await?;
        Ok(Response::new(stream))
    }

    async fn get_bay_credentials(
        &self,
        request: Request<pb::GetBayCredentialsRequest>,
    ) -> Result<Response<pb::BayCredentials>, Status> {
        let ctx = context(&request)?;
        let credentials = self
            .bays
            .credentials(&ctx, &request.get_ref().ident)
            .await?;
        Ok(Response::new(credentials.into()))
    }

    async fn get_stats(
        &self,
        request: Request<pb::GetStatsRequest>,
    ) -> Result<Response<pb::Stats>, Status> {
        let ctx = context(&request)?;
        let project = request.get_ref().project_id.as_deref();
        let (bays, nodes) = self.bays.stats(&ctx, project).await?;
        let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        Ok(Response::new(pb::Stats {
            bays: count(bays),
            nodes: count(nodes),
        }))
    }
}

/// The gRPC face of the bay certificate use cases.
#[derive(Clone)]
pub struct CertificateApi {
    bays: Bays,
}

impl CertificateApi {
    pub fn new(bays: Bays) -> Self {
        Self { bays }
    }
}

#[tonic::async_trait]
impl CertificateService for CertificateApi {
    async fn get_ca_certificate(
        &self,
        request: Request<pb::GetCaCertificateRequest>,
    ) -> Result<Response<pb::CaCertificate>, Status> {
        let ctx = context(&request)?;
        let (bay, pem) = self.bays.ca(&ctx, &request.get_ref().bay_ident).await?;
        Ok(Response::new(pb::CaCertificate {
            bay_uuid: bay.uuid.to_string(),
            pem,
        }))
    }

    async fn sign_certificate(
        &self,
        request: Request<pb::SignCertificateRequest>,
    ) -> Result<Response<pb::SignedCertificate>, Status> {
        let ctx = context(&request)?;
        let signing = request.into_inner();
        let (bay, pem) = self
            .bays
            .sign(&ctx, &signing.bay_ident, &signing.csr)
            .await?;
        Ok(Response::new(pb::SignedCertificate {
            bay_uuid: bay.uuid.to_string(),
            csr: signing.csr,
            pem,
        }))
    }

    async fn rotate_ca(
        &self,
        request: Request<pb::RotateCaRequest>,
    ) -> Result<Response<pb::RotateCaResponse>, Status> {
        let ctx = context(&request)?;
        let bay = self
            .bays
            .rotate_ca(&ctx, &request.get_ref().bay_ident)
            .await?;
        Ok(Response::new(pb::RotateCaResponse {
            bay_uuid: bay.uuid.to_string(),
            // Rotation is done when this answers: no operation to follow.
            operation: None,
        }))
    }
}
