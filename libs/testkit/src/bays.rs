//! Bays for service-level tests of the services that use them: made, read and deleted
//! through bay-svc's gRPC API as a caller would, waiting where bay-svc works in the
//! background.

use std::future::Future;
use std::time::Duration;

use magnum_common::RequestContext;
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::bay_service_client::BayServiceClient;
use tokio::time::Instant;
use tonic::{Code, Status};

/// How long a test waits for something that should happen (a poll, never a timing
/// assertion).
pub const WAIT: Duration = Duration::from_secs(90);

/// Retries `call` while the server is not answering yet.
pub async fn retry_unavailable<T, F, Fut>(call: F) -> Result<T, Status>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        match call().await {
            Err(status) if status.code() == Code::Unavailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other.map(tonic::Response::into_inner),
        }
    }
}

/// bay-svc's bays, as a test's callers use them.
#[derive(Clone)]
pub struct Bays {
    channel: Channel,
}

impl Bays {
    pub fn new(channel: Channel) -> Self {
        Self { channel }
    }

    pub fn client(&self) -> BayServiceClient<Channel> {
        BayServiceClient::new(self.channel.clone())
    }

    /// A baymodel of `coe` and a bay of `nodes` nodes from it, CREATE_COMPLETE.
    pub async fn complete(&self, caller: &RequestContext, coe: &str, nodes: i32) -> pb::Bay {
        let created = self.create(caller, coe, nodes).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let bay = self
                .get(caller, &created.uuid)
                .await
                .unwrap_or_else(|status| panic!("get bay: {status:?}"));
            match bay.status() {
                pb::BayStatus::CreateComplete => return bay,
                pb::BayStatus::CreateInProgress | pb::BayStatus::Unspecified => {}
                other => panic!("bay settled as {other:?}: {:?}", bay.status_reason),
            }
            assert!(Instant::now() < deadline, "bay never completed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A baymodel of `coe` and a bay of `nodes` nodes from it, as bay-svc accepted it.
    pub async fn create(&self, caller: &RequestContext, coe: &str, nodes: i32) -> pb::Bay {
        let spec = pb::BayModelSpec {
            name: Some(crate::unique_name("bm")),
            coe: Some(coe.to_owned()),
            image_id: Some("fedora-atomic".to_owned()),
            keypair_id: Some("key".to_owned()),
            ..Default::default()
        };
        let baymodel = BayModelServiceClient::new(self.channel.clone())
            .create_bay_model(magnum_grpc::client::request(
                caller,
                pb::CreateBayModelRequest { spec: Some(spec) },
            ))
            .await
            .unwrap_or_else(|status| panic!("create baymodel: {status:?}"))
            .into_inner();
        let spec = pb::BaySpec {
            name: Some(crate::unique_name("bay")),
            baymodel_ident: baymodel.uuid,
            node_count: Some(nodes),
            ..Default::default()
        };
        self.client()
            .create_bay(magnum_grpc::client::request(
                caller,
                pb::CreateBayRequest { spec: Some(spec) },
            ))
            .await
            .unwrap_or_else(|status| panic!("create bay: {status:?}"))
            .into_inner()
            .bay
            .unwrap_or_else(|| panic!("no bay in the create answer"))
    }

    pub async fn get(&self, caller: &RequestContext, ident: &str) -> Result<pb::Bay, Status> {
        self.client()
            .get_bay(magnum_grpc::client::request(
                caller,
                pb::GetBayRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Deletes the bay and waits until it is gone.
    pub async fn delete(&self, caller: &RequestContext, ident: &str) {
        self.client()
            .delete_bay(magnum_grpc::client::request(
                caller,
                pb::DeleteBayRequest {
                    ident: ident.to_owned(),
                },
            ))
            .await
            .unwrap_or_else(|status| panic!("delete bay {ident}: {status:?}"));
        let deadline = Instant::now() + WAIT;
        loop {
            match self.get(caller, ident).await {
                Err(status) if status.code() == Code::NotFound => return,
                Err(status) => panic!("get bay {ident}: {status:?}"),
                Ok(_) => assert!(Instant::now() < deadline, "bay {ident} never went away"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
