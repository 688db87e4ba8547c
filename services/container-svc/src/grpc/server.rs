//! `ContainerService`: extract the caller, call the use case, convert the answer.

use magnum_grpc::context;
use magnum_proto::container::v1 as pb;
use magnum_proto::container::v1::container_service_server::ContainerService;
use tonic::{Request, Response, Status};

use super::convert;
use crate::app::{Action, Containers};
use crate::domain::container::NewContainer;

/// The gRPC face of the container use cases.
#[derive(Clone)]
pub struct ContainerApi {
    containers: Containers,
}

impl ContainerApi {
    pub fn new(containers: Containers) -> Self {
        Self { containers }
    }

    async fn act(
        &self,
        request: Request<String>,
        action: Action,
    ) -> Result<Response<pb::Container>, Status> {
        let ctx = context(&request)?;
        let container = self.containers.act(&ctx, request.get_ref(), action).await?;
        Ok(Response::new(container.into()))
    }
}

/// The request with its message swapped for `ident` (keeping the caller's metadata).
fn ident_of<T>(request: Request<T>, ident: impl FnOnce(&T) -> String) -> Request<String> {
    let ident = ident(request.get_ref());
    request.map(|_| ident)
}

#[tonic::async_trait]
impl ContainerService for ContainerApi {
    async fn create_container(
        &self,
        request: Request<pb::CreateContainerRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        let ctx = context(&request)?;
        let spec = request.into_inner().spec.unwrap_or_default();
        let created = self
            .containers
            .create(&ctx, NewContainer::from(spec))
            .await?;
        Ok(Response::new(created.into()))
    }

    async fn get_container(
        &self,
        request: Request<pb::GetContainerRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        let ctx = context(&request)?;
        let found = self.containers.get(&ctx, &request.get_ref().ident).await?;
        Ok(Response::new(found.into()))
    }

    async fn list_containers(
        &self,
        request: Request<pb::ListContainersRequest>,
    ) -> Result<Response<pb::ListContainersResponse>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let query = convert::list_query(request.options.unwrap_or_default(), request.bay_ident);
        let page = self.containers.list(&ctx, query).await?;
        Ok(Response::new(pb::ListContainersResponse {
            containers: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page
                .next_marker
                .map(|marker| marker.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn update_container(
        &self,
        request: Request<pb::UpdateContainerRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        let ctx = context(&request)?;
        let request = request.into_inner();
        let changes = convert::changes(request.update, request.update_mask)?;
        let updated = self
            .containers
            .update(&ctx, &request.ident, changes)
            .await?;
        Ok(Response::new(updated.into()))
    }

    async fn delete_container(
        &self,
        request: Request<pb::DeleteContainerRequest>,
    ) -> Result<Response<pb::DeleteContainerResponse>, Status> {
        let ctx = context(&request)?;
        let request = request.get_ref();
        self.containers
            .delete(&ctx, &request.ident, request.force)
            .await?;
        Ok(Response::new(pb::DeleteContainerResponse {}))
    }

    async fn start_container(
        &self,
        request: Request<pb::ContainerActionRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        self.act(ident_of(request, |r| r.ident.clone()), Action::Start)
            .await
    }

    async fn stop_container(
        &self,
        request: Request<pb::StopContainerRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        let timeout_secs = request.get_ref().timeout_seconds;
        self.act(
            ident_of(request, |r| r.ident.clone()),
            Action::Stop { timeout_secs },
        )
        .await
    }

    async fn reboot_container(
        &self,
        request: Request<pb::StopContainerRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        let timeout_secs = request.get_ref().timeout_seconds;
        self.act(
            ident_of(request, |r| r.ident.clone()),
            Action::Reboot { timeout_secs },
        )
        .await
    }

    async fn pause_container(
        &self,
        request: Request<pb::ContainerActionRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        self.act(ident_of(request, |r| r.ident.clone()), Action::Pause)
            .await
    }

    async fn unpause_container(
        &self,
        request: Request<pb::ContainerActionRequest>,
    ) -> Result<Response<pb::Container>, Status> {
        self.act(ident_of(request, |r| r.ident.clone()), Action::Unpause)
            .await
    }

    async fn get_container_logs(
        &self,
        request: Request<pb::GetContainerLogsRequest>,
    ) -> Result<Response<pb::GetContainerLogsResponse>, Status> {
        let ctx = context(&request)?;
        let request = request.get_ref();
        let (output, truncated) = self
            .containers
            .logs(&ctx, &request.ident, request.tail, request.timestamps)
            .await?;
        Ok(Response::new(pb::GetContainerLogsResponse {
            output,
            truncated,
        }))
    }

    async fn execute_in_container(
        &self,
        request: Request<pb::ExecuteInContainerRequest>,
    ) -> Result<Response<pb::ExecuteInContainerResponse>, Status> {
        let ctx = context(&request)?;
        let request = request.get_ref();
        let (output, exit_code) = self
            .containers
            .execute(
                &ctx,
                &request.ident,
                &request.command,
                request.timeout_seconds,
            )
            .await?;
        Ok(Response::new(pb::ExecuteInContainerResponse {
            output,
            exit_code,
        }))
    }
}
