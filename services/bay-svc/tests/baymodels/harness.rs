//! One fresh database per test, the service on top of it, and the callers.

use std::sync::Arc;

use bay_svc::app::BayModels;
use bay_svc::grpc::BayModelApi;
use bay_svc::store::{Migrator, SqlBayModelRepository, SqlBayRepository};
use magnum_bus::outbox::entity as outbox;
use magnum_common::RequestContext;
use magnum_db::DatabaseConfig;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_server::BayModelService;
use magnum_proto::common::v1::ListOptions;
use magnum_proto::events::v1::BayModelChanged;
use prost::Message as _;
use prost_types::FieldMask;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use tonic::{Code, Request, Status};

pub struct Harness {
    pub api: BayModelApi,
    pub db: DatabaseConnection,
}

/// An event as the outbox holds it.
#[derive(Debug)]
pub struct OutboxEvent {
    pub id: String,
    pub subject: String,
    pub event: BayModelChanged,
    pub request_id: Option<String>,
}

impl Harness {
    pub async fn start(config: DatabaseConfig) -> Self {
        let db = magnum_db::connect_and_migrate::<Migrator>(&config)
            .await
            .expect("database");
        let repository = SqlBayModelRepository::new(db.clone());
        let api = BayModelApi::new(BayModels::new(
            Arc::new(repository),
            Arc::new(SqlBayRepository::new(db.clone())),
            magnum_policy::Policy::defaults(),
        ));
        Self { api, db }
    }

    pub async fn create(
        &self,
        caller: &RequestContext,
        spec: pb::BayModelSpec,
    ) -> Result<pb::BayModel, Status> {
        let request = pb::CreateBayModelRequest { spec: Some(spec) };
        self.api
            .create_bay_model(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get(&self, caller: &RequestContext, ident: &str) -> Result<pb::BayModel, Status> {
        let request = pb::GetBayModelRequest {
            ident: ident.to_owned(),
        };
        self.api
            .get_bay_model(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list(
        &self,
        caller: &RequestContext,
        options: ListOptions,
    ) -> Result<pb::ListBayModelsResponse, Status> {
        let request = pb::ListBayModelsRequest {
            options: Some(options),
        };
        self.api
            .list_bay_models(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn update(
        &self,
        caller: &RequestContext,
        ident: &str,
        spec: pb::BayModelSpec,
        paths: &[&str],
    ) -> Result<pb::BayModel, Status> {
        let request = pb::UpdateBayModelRequest {
            ident: ident.to_owned(),
            spec: Some(spec),
            update_mask: Some(FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        };
        self.api
            .update_bay_model(as_caller(caller, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn delete(&self, caller: &RequestContext, ident: &str) -> Result<(), Status> {
        let request = pb::DeleteBayModelRequest {
            ident: ident.to_owned(),
        };
        self.api
            .delete_bay_model(as_caller(caller, request))
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
            pages.push(page.baymodels.iter().map(|b| b.uuid.clone()).collect());
            if page.next_page_token.is_empty() {
                return pages;
            }
            assert!(pages.len() < 100, "pagination does not end");
            token = page.next_page_token;
        }
    }

    /// Every event waiting in the outbox, oldest first.
    pub async fn outbox(&self) -> Vec<OutboxEvent> {
        outbox::Entity::find()
            .order_by_asc(outbox::Column::CreatedAt)
            .order_by_asc(outbox::Column::Id)
            .all(&self.db)
            .await
            .expect("outbox rows")
            .into_iter()
            .map(|row| {
                let headers: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(&row.headers).expect("headers");
                OutboxEvent {
                    id: row.id,
                    subject: row.subject,
                    event: BayModelChanged::decode(row.payload.as_slice()).expect("payload"),
                    request_id: headers.get("x-openstack-request-id").cloned(),
                }
            })
            .collect()
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

/// A valid spec with only the required fields.
pub fn spec(name: Option<&str>) -> pb::BayModelSpec {
    pb::BayModelSpec {
        name: name.map(str::to_owned),
        coe: Some("kubernetes".to_owned()),
        image_id: Some("fedora-atomic".to_owned()),
        keypair_id: Some("testkey".to_owned()),
        ..Default::default()
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
