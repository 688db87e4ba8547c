//! `PodService`, `CoeServiceService` and `ReplicationControllerService`: extract the
//! caller, call the use case, convert the answer.

use magnum_grpc::context;
use magnum_proto::k8s::v1 as pb;
use magnum_proto::k8s::v1::coe_service_service_server::CoeServiceService;
use magnum_proto::k8s::v1::pod_service_server::PodService;
use magnum_proto::k8s::v1::replication_controller_service_server::ReplicationControllerService;
use tonic::{Request, Response, Status};

use super::convert;
use crate::app::{NewObject, Objects, Shown};
use crate::domain::manifest::Kind;

/// The gRPC face of the object use cases (all three services).
#[derive(Clone)]
pub struct KubernetesApi {
    objects: Objects,
}

impl KubernetesApi {
    pub fn new(objects: Objects) -> Self {
        Self { objects }
    }
}

/// A stored object shown without a manifest (reads echo none).
fn stored(object: crate::domain::object::K8sObject) -> Shown {
    Shown {
        object,
        source: crate::app::ManifestSource::default(),
    }
}

#[tonic::async_trait]
impl PodService for KubernetesApi {
    async fn create_pod(
        &self,
        request: Request<pb::CreatePodRequest>,
    ) -> Result<Response<pb::Pod>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let new = NewObject {
            kind: Kind::Pod,
            bay_uuid: request.bay_uuid,
            source: convert::source(request.manifest),
            desc: request.desc,
            uuid: request.uuid,
        };
        let created = self.objects.create(&ctx, new).await?;
        Ok(Response::new(convert::pod(created)))
    }

    async fn get_pod(
        &self,
        request: Request<pb::GetPodRequest>,
    ) -> Result<Response<pb::Pod>, Status> {
        let ctx = context(&request)?;
        let reference = convert::reference(Kind::Pod, request.into_inner().r#ref);
        let found = self.objects.get(&ctx, &reference).await?;
        Ok(Response::new(convert::pod(stored(found))))
    }

    async fn list_pods(
        &self,
        request: Request<pb::ListPodsRequest>,
    ) -> Result<Response<pb::ListPodsResponse>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let query = convert::list_query(request.options, request.filter);
        let page = self.objects.list(&ctx, Kind::Pod, query).await?;
        Ok(Response::new(pb::ListPodsResponse {
            pods: page
                .items
                .into_iter()
                .map(stored)
                .map(convert::pod)
                .collect(),
            next_page_token: page.next_marker.map(|m| m.to_string()).unwrap_or_default(),
        }))
    }

    async fn update_pod(
        &self,
        request: Request<pb::UpdatePodRequest>,
    ) -> Result<Response<pb::Pod>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let update = request.update.unwrap_or_default();
        let changes = convert::changes(
            request.update_mask,
            &["manifest", "desc"],
            update.manifest,
            update.desc,
            0,
        )?;
        let reference = convert::reference(Kind::Pod, request.r#ref);
        let updated = self.objects.update(&ctx, &reference, changes).await?;
        Ok(Response::new(convert::pod(updated)))
    }

    async fn delete_pod(
        &self,
        request: Request<pb::DeletePodRequest>,
    ) -> Result<Response<pb::DeleteObjectResponse>, Status> {
        let ctx = context(&request)?;
        let reference = convert::reference(Kind::Pod, request.into_inner().r#ref);
        self.objects.delete(&ctx, &reference).await?;
        Ok(Response::new(pb::DeleteObjectResponse {}))
    }
}

#[tonic::async_trait]
impl CoeServiceService for KubernetesApi {
    async fn create_coe_service(
        &self,
        request: Request<pb::CreateCoeServiceRequest>,
    ) -> Result<Response<pb::CoeService>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let new = NewObject {
            kind: Kind::Service,
            bay_uuid: request.bay_uuid,
            source: convert::source(request.manifest),
            desc: None,
            uuid: request.uuid,
        };
        let created = self.objects.create(&ctx, new).await?;
        Ok(Response::new(convert::service(created)))
    }

    async fn get_coe_service(
        &self,
        request: Request<pb::GetCoeServiceRequest>,
    ) -> Result<Response<pb::CoeService>, Status> {
        let ctx = context(&request)?;
        let reference = convert::reference(Kind::Service, request.into_inner().r#ref);
        let found = self.objects.get(&ctx, &reference).await?;
        Ok(Response::new(convert::service(stored(found))))
    }

    async fn list_coe_services(
        &self,
        request: Request<pb::ListCoeServicesRequest>,
    ) -> Result<Response<pb::ListCoeServicesResponse>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let query = convert::list_query(request.options, request.filter);
        let page = self.objects.list(&ctx, Kind::Service, query).await?;
        Ok(Response::new(pb::ListCoeServicesResponse {
            services: page
                .items
                .into_iter()
                .map(stored)
                .map(convert::service)
                .collect(),
            next_page_token: page.next_marker.map(|m| m.to_string()).unwrap_or_default(),
        }))
    }

    async fn update_coe_service(
        &self,
        request: Request<pb::UpdateCoeServiceRequest>,
    ) -> Result<Response<pb::CoeService>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let update = request.update.unwrap_or_default();
        let changes =
            convert::changes(request.update_mask, &["manifest"], update.manifest, None, 0)?;
        let reference = convert::reference(Kind::Service, request.r#ref);
        let updated = self.objects.update(&ctx, &reference, changes).await?;
        Ok(Response::new(convert::service(updated)))
    }

    async fn delete_coe_service(
        &self,
        request: Request<pb::DeleteCoeServiceRequest>,
    ) -> Result<Response<pb::DeleteObjectResponse>, Status> {
        let ctx = context(&request)?;
        let reference = convert::reference(Kind::Service, request.into_inner().r#ref);
        self.objects.delete(&ctx, &reference).await?;
        Ok(Response::new(pb::DeleteObjectResponse {}))
    }
}

#[tonic::async_trait]
impl ReplicationControllerService for KubernetesApi {
    async fn create_replication_controller(
        &self,
        request: Request<pb::CreateReplicationControllerRequest>,
    ) -> Result<Response<pb::ReplicationController>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let new = NewObject {
            kind: Kind::ReplicationController,
            bay_uuid: request.bay_uuid,
            source: convert::source(request.manifest),
            desc: None,
            uuid: request.uuid,
        };
        let created = self.objects.create(&ctx, new).await?;
        Ok(Response::new(convert::rc(created)))
    }

    async fn get_replication_controller(
        &self,
        request: Request<pb::GetReplicationControllerRequest>,
    ) -> Result<Response<pb::ReplicationController>, Status> {
        let ctx = context(&request)?;
        let reference = convert::reference(Kind::ReplicationController, request.into_inner().r#ref);
        let found = self.objects.get(&ctx, &reference).await?;
        Ok(Response::new(convert::rc(stored(found))))
    }

    async fn list_replication_controllers(
        &self,
        request: Request<pb::ListReplicationControllersRequest>,
    ) -> Result<Response<pb::ListReplicationControllersResponse>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let query = convert::list_query(request.options, request.filter);
        let page = self
            .objects
            .list(&ctx, Kind::ReplicationController, query)
            .await?;
        Ok(Response::new(pb::ListReplicationControllersResponse {
            rcs: page
                .items
                .into_iter()
                .map(stored)
                .map(convert::rc)
                .collect(),
            next_page_token: page.next_marker.map(|m| m.to_string()).unwrap_or_default(),
        }))
    }

    async fn update_replication_controller(
        &self,
        request: Request<pb::UpdateReplicationControllerRequest>,
    ) -> Result<Response<pb::ReplicationController>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let update = request.update.unwrap_or_default();
        let changes = convert::changes(
            request.update_mask,
            &["manifest", "replicas"],
            update.manifest,
            None,
            update.replicas,
        )?;
        let reference = convert::reference(Kind::ReplicationController, request.r#ref);
        let updated = self.objects.update(&ctx, &reference, changes).await?;
        Ok(Response::new(convert::rc(updated)))
    }

    async fn delete_replication_controller(
        &self,
        request: Request<pb::DeleteReplicationControllerRequest>,
    ) -> Result<Response<pb::DeleteObjectResponse>, Status> {
        let ctx = context(&request)?;
        let reference = convert::reference(Kind::ReplicationController, request.into_inner().r#ref);
        self.objects.delete(&ctx, &reference).await?;
        Ok(Response::new(pb::DeleteObjectResponse {}))
    }
}
