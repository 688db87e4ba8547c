//! `BayModelService` and `NodeService`: extract the caller, call the use case, convert
//! the answer.

use magnum_grpc::context;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_server::BayModelService;
use magnum_proto::bay::v1::node_service_server::NodeService;
use tonic::{Request, Response, Status};

use super::convert;
use crate::app::{BayModels, ListQuery, Nodes};
use crate::domain::baymodel::NewBayModel;
use crate::domain::node::NewNode;

/// The gRPC face of the baymodel use cases.
#[derive(Clone)]
pub struct BayModelApi {
    baymodels: BayModels,
}

impl BayModelApi {
    /// Serves `baymodels` over gRPC.
    pub fn new(baymodels: BayModels) -> Self {
        Self { baymodels }
    }
}

#[tonic::async_trait]
impl BayModelService for BayModelApi {
    async fn create_bay_model(
        &self,
        request: Request<pb::CreateBayModelRequest>,
    ) -> Result<Response<pb::BayModel>, Status> {
        let ctx = context(&request)?;
        let spec = request.into_inner().spec.unwrap_or_default();
        let created = self.baymodels.create(&ctx, NewBayModel::from(spec)).await?;
        Ok(Response::new(created.into()))
    }

    async fn get_bay_model(
        &self,
        request: Request<pb::GetBayModelRequest>,
    ) -> Result<Response<pb::BayModel>, Status> {
        let ctx = context(&request)?;
        let found = self.baymodels.get(&ctx, &request.get_ref().ident).await?;
        Ok(Response::new(found.into()))
    }

    async fn list_bay_models(
        &self,
        request: Request<pb::ListBayModelsRequest>,
    ) -> Result<Response<pb::ListBayModelsResponse>, Status> {
        let ctx = context(&request)?;
        let options = request.into_inner().options.unwrap_or_default();
        let page = self.baymodels.list(&ctx, ListQuery::from(options)).await?;
        Ok(Response::new(pb::ListBayModelsResponse {
            baymodels: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page
                .next_marker
                .map(|marker| marker.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn update_bay_model(
        &self,
        request: Request<pb::UpdateBayModelRequest>,
    ) -> Result<Response<pb::BayModel>, Status> {
        let ctx = context(&request)?;
        let update = request.into_inner();
        let changes = convert::changes(update.spec, update.update_mask)?;
        let updated = self.baymodels.update(&ctx, &update.ident, changes).await?;
        Ok(Response::new(updated.into()))
    }

    async fn delete_bay_model(
        &self,
        request: Request<pb::DeleteBayModelRequest>,
    ) -> Result<Response<pb::DeleteBayModelResponse>, Status> {
        let ctx = context(&request)?;
        self.baymodels
            .delete(&ctx, &request.get_ref().ident)
            .await?;
        Ok(Response::new(pb::DeleteBayModelResponse {}))
    }
}

/// The gRPC face of the node use cases.
#[derive(Clone)]
pub struct NodeApi {
    nodes: Nodes,
}

impl NodeApi {
    /// Serves `nodes` over gRPC.
    pub fn new(nodes: Nodes) -> Self {
        Self { nodes }
    }
}

#[tonic::async_trait]
impl NodeService for NodeApi {
    async fn create_node(
        &self,
        request: Request<pb::CreateNodeRequest>,
    ) -> Result<Response<pb::Node>, Status> {
        let ctx = context(&request)?;
        let spec = request.into_inner().spec.unwrap_or_default();
        let created = self.nodes.create(&ctx, NewNode::from(spec)).await?;
        Ok(Response::new(created.into()))
    }

    async fn get_node(
        &self,
        request: Request<pb::GetNodeRequest>,
    ) -> Result<Response<pb::Node>, Status> {
        let ctx = context(&request)?;
        let found = self.nodes.get(&ctx, &request.get_ref().uuid).await?;
        Ok(Response::new(found.into()))
    }

    async fn list_nodes(
        &self,
        request: Request<pb::ListNodesRequest>,
    ) -> Result<Response<pb::ListNodesResponse>, Status> {
        let ctx = context(&request)?;
        let options = request.into_inner().options.unwrap_or_default();
        let page = self.nodes.list(&ctx, ListQuery::from(options)).await?;
        Ok(Response::new(pb::ListNodesResponse {
            nodes: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page
                .next_marker
                .map(|marker| marker.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn update_node(
        &self,
        request: Request<pb::UpdateNodeRequest>,
    ) -> Result<Response<pb::Node>, Status> {
        let ctx = context(&request)?;
        let update = request.into_inner();
        let changes = convert::node_changes(update.spec, update.update_mask)?;
        let updated = self.nodes.update(&ctx, &update.uuid, changes).await?;
        Ok(Response::new(updated.into()))
    }

    async fn delete_node(
        &self,
        request: Request<pb::DeleteNodeRequest>,
    ) -> Result<Response<pb::DeleteNodeResponse>, Status> {
        let ctx = context(&request)?;
        self.nodes.delete(&ctx, &request.get_ref().uuid).await?;
        Ok(Response::new(pb::DeleteNodeResponse {}))
    }
}
