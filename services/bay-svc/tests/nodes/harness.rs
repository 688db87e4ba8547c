//! One fresh database per test, the node service on top of it, and the callers.

use std::sync::Arc;

use bay_svc::app::Nodes;
use bay_svc::grpc::NodeApi;
use bay_svc::store::{Migrator, SqlNodeRepository};
use magnum_bus::outbox::entity as outbox;
use magnum_common::RequestContext;
use magnum_db::DatabaseConfig;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::node_service_server::NodeService;
use magnum_proto::common::v1::ListOptions;
use prost_types::FieldMask;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use tonic::{Code, Request, Status};

pub struct Harness {
    pub api: NodeApi,
    pub db: DatabaseConnection,
}

impl Harness {
    pub async fn start(config: DatabaseConfig) -> Self {
        let db = magnum_db::connect_and_migrate::<Migrator>(&config)
            .await
            .expect("database");
        let api = NodeApi::new(Nodes::new(
            Arc::new(SqlNodeRepository::new(db.clone())),
            magnum_policy::Policy::defaults(),
        ));
        Self { api, db }
    }

    pub async fn create(
        &self,
        caller: &RequestContext,
        spec: pb::NodeSpec,
    ) -> Result<pb::Node, Status> {
        let request = pb::CreateNodeRequest { spec: Some(spec) };
        self.api
            .create_node(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get(&self, caller: &RequestContext, uuid: &str) -> Result<pb::Node, Status> {
        let request = pb::GetNodeRequest {
            uuid: uuid.to_owned(),
        };
        self.api
            .get_node(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list(
        &self,
        caller: &RequestContext,
        options: ListOptions,
    ) -> Result<pb::ListNodesResponse, Status> {
        let request = pb::ListNodesRequest {
            options: Some(options),
        };
        self.api
            .list_nodes(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn update(
        &self,
        caller: &RequestContext,
        uuid: &str,
        spec: pb::NodeSpec,
        paths: &[&str],
    ) -> Result<pb::Node, Status> {
        let request = pb::UpdateNodeRequest {
            uuid: uuid.to_owned(),
            spec: Some(spec),
            update_mask: Some(FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        };
        self.api
            .update_node(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn delete(&self, caller: &RequestContext, uuid: &str) -> Result<(), Status> {
        let request = pb::DeleteNodeRequest {
            uuid: uuid.to_owned(),
        };
        self.api
            .delete_node(as_caller(caller, request))
            .await
            .map(|_| ())
    }

    /// The uuids of every page of a listing, following `next_page_token`.
    pub async fn list_all_pages(
        &self,
        caller: &RequestContext,
        options: ListOptions,
    ) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .list(
                    caller,
                    ListOptions {
                        page_token: token.clone(),
                        ..options.clone()
                    },
                )
                .await
                .expect("list");
            pages.push(page.nodes.iter().map(|n| n.uuid.clone()).collect());
            if page.next_page_token.is_empty() {
                return pages;
            }
            assert!(pages.len() < 100, "pagination does not end");
            token = page.next_page_token;
        }
    }

    /// Nodes are pure records: nothing ever reaches the outbox.
    pub async fn assert_no_events(&self) {
        let events = outbox::Entity::find()
            .count(&self.db)
            .await
            .expect("outbox rows");
        assert_eq!(events, 0, "nodes emit no events");
    }
}

/// A request carrying `caller` the way the auth layer leaves it.
pub fn as_caller<T>(caller: &RequestContext, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(caller.clone());
    request
}

pub fn member(project: &str) -> RequestContext {
    RequestContext {
        user_id: format!("{project}-user"),
        user_name: format!("{project}-user"),
        project_id: project.to_owned(),
        project_name: project.to_owned(),
        roles: vec!["member".to_owned()],
        is_admin: false,
        request_id: format!("req-{}", uuid::Uuid::new_v4()),
        auth_token: String::new(),
    }
}

pub fn admin(project: &str) -> RequestContext {
    RequestContext {
        roles: vec!["admin".to_owned()],
        is_admin: true,
        ..member(project)
    }
}

/// A spec with every field but the uuid.
pub fn spec(node_type: &str, image_id: &str, ironic_node_id: Option<&str>) -> pb::NodeSpec {
    pb::NodeSpec {
        uuid: None,
        r#type: Some(node_type.to_owned()),
        image_id: Some(image_id.to_owned()),
        ironic_node_id: ironic_node_id.map(str::to_owned),
    }
}

#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(outcome: Result<T, Status>, code: Code, message: &str) {
    match outcome {
        Ok(value) => panic!("expected {code:?} ({message}), got {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{status:?}");
            assert_eq!(status.message(), message, "{status:?}");
        }
    }
}

#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(outcome: Result<T, Status>, code: Code) {
    match outcome {
        Ok(value) => panic!("expected {code:?}, got {value:?}"),
        Err(status) => assert_eq!(status.code(), code, "{status:?}"),
    }
}
