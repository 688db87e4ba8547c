//! `NodeGroupService`: extract the caller, call the use case, convert the answer.

use magnum_grpc::context;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::node_group_service_server::NodeGroupService;
use magnum_proto::common::v1::OperationRef;
use tonic::{Request, Response, Status};

use super::convert::timestamp;
use crate::app::Bays;
use crate::domain::bay::Operation;
use crate::domain::nodegroup::{NewNodeGroup, NodeGroup};

/// The gRPC face of the node group use cases.
#[derive(Clone)]
pub struct NodeGroupApi {
    bays: Bays,
}

impl NodeGroupApi {
    pub fn new(bays: Bays) -> Self {
        Self { bays }
    }
}

fn clamp(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl From<NodeGroup> for pb::NodeGroup {
    fn from(group: NodeGroup) -> Self {
        Self {
            uuid: group.uuid.to_string(),
            name: group.name,
            bay_uuid: group.bay_uuid.to_string(),
            role: group.role.as_str().to_owned(),
            node_count: clamp(group.node_count),
            min_node_count: clamp(group.min_node_count),
            max_node_count: group.max_node_count.map(clamp),
            is_default: group.is_default,
            docker_volume_size: group.docker_volume_size,
            labels: group.labels.into_iter().collect(),
            flavor_id: group.flavor_id,
            image_id: group.image_id,
            project_id: group.project_id,
            created_at: Some(timestamp(group.created_at)),
            updated_at: group.updated_at.map(timestamp),
        }
    }
}

impl From<pb::NodeGroupSpec> for NewNodeGroup {
    fn from(spec: pb::NodeGroupSpec) -> Self {
        Self {
            name: Some(spec.name).filter(|name| !name.is_empty()),
            role: spec.role,
            node_count: spec.node_count.map(i64::from),
            min_node_count: spec.min_node_count.map(i64::from),
            max_node_count: spec.max_node_count.map(i64::from),
            docker_volume_size: spec.docker_volume_size,
            labels: spec
                .labels
                .map(|labels| labels.values.into_iter().collect()),
            merge_labels: spec.merge_labels.unwrap_or(false),
            flavor_id: spec.flavor_id,
            image_id: spec.image_id,
        }
    }
}

fn change(group: NodeGroup, operation: Option<Operation>) -> pb::NodeGroupChange {
    pb::NodeGroupChange {
        node_group: Some(group.into()),
        operation: operation.map(|operation| OperationRef {
            operation_id: operation.id.to_string(),
        }),
    }
}

#[tonic::async_trait]
impl NodeGroupService for NodeGroupApi {
    async fn list_node_groups(
        &self,
        request: Request<pb::ListNodeGroupsRequest>,
    ) -> Result<Response<pb::ListNodeGroupsResponse>, Status> {
        let ctx = context(&request)?;
        let groups = self
            .bays
            .node_groups(&ctx, &request.get_ref().bay_ident)
            .await?;
        Ok(Response::new(pb::ListNodeGroupsResponse {
            node_groups: groups.into_iter().map(Into::into).collect(),
        }))
    }

    async fn get_node_group(
        &self,
        request: Request<pb::GetNodeGroupRequest>,
    ) -> Result<Response<pb::NodeGroup>, Status> {
        let ctx = context(&request)?;
        let body = request.get_ref();
        let group = self
            .bays
            .node_group(&ctx, &body.bay_ident, &body.ident)
            .await?;
        Ok(Response::new(group.into()))
    }

    async fn create_node_group(
        &self,
        request: Request<pb::CreateNodeGroupRequest>,
    ) -> Result<Response<pb::NodeGroupChange>, Status> {
        let ctx = context(&request)?;
        let body = request.into_inner();
        let (group, operation) = self
            .bays
            .create_node_group(
                &ctx,
                &body.bay_ident,
                NewNodeGroup::from(body.spec.unwrap_or_default()),
            )
            .await?;
        Ok(Response::new(change(group, operation)))
    }

    async fn resize_node_group(
        &self,
        request: Request<pb::ResizeNodeGroupRequest>,
    ) -> Result<Response<pb::NodeGroupChange>, Status> {
        let ctx = context(&request)?;
        let body = request.get_ref();
        let (bay, operation) = self
            .bays
            .resize_node_group(
                &ctx,
                &body.bay_ident,
                &body.ident,
                i64::from(body.node_count),
            )
            .await?;
        let group = self
            .bays
            .node_group(&ctx, &bay.uuid.to_string(), &body.ident)
            .await?;
        Ok(Response::new(change(group, operation)))
    }

    async fn update_node_group_limits(
        &self,
        request: Request<pb::UpdateNodeGroupLimitsRequest>,
    ) -> Result<Response<pb::NodeGroup>, Status> {
        let ctx = context(&request)?;
        let body = request.get_ref();
        let max = if body.clear_max_node_count {
            Some(None)
        } else {
            body.max_node_count.map(|max| Some(i64::from(max)))
        };
        let group = self
            .bays
            .update_node_group_limits(
                &ctx,
                &body.bay_ident,
                &body.ident,
                body.min_node_count.map(i64::from),
                max,
            )
            .await?;
        Ok(Response::new(group.into()))
    }

    async fn delete_node_group(
        &self,
        request: Request<pb::DeleteNodeGroupRequest>,
    ) -> Result<Response<pb::NodeGroupChange>, Status> {
        let ctx = context(&request)?;
        let body = request.get_ref();
        let group = self
            .bays
            .node_group(&ctx, &body.bay_ident, &body.ident)
            .await?;
        let operation = self
            .bays
            .delete_node_group(&ctx, &body.bay_ident, &body.ident)
            .await?;
        Ok(Response::new(change(group, operation)))
    }
}
