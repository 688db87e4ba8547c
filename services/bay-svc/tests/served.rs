//! bay-svc as it runs: `serve()` on a real socket behind the auth layer (identity-svc in
//! no-auth mode), called through a tonic client, publishing its events on the bus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use magnum_bus::{Bus, ConsumerSpec, InProcessBus};
use magnum_common::{RequestContext, Shutdown};
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::bay_service_client::BayServiceClient;
use magnum_proto::bay::v1::certificate_service_client::CertificateServiceClient;
use magnum_proto::bay::v1::node_service_client::NodeServiceClient;
use magnum_proto::common::v1::ListOptions;
use magnum_proto::events::v1::BayModelChanged;
use magnum_proto::events::v1::bay_model_changed::Change;
use prost::Message as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::Code;

/// identity-svc and bay-svc on loopback, stopped by `shutdown`.
struct Mesh {
    channel: Channel,
    bus: Arc<dyn Bus>,
    shutdown: Shutdown,
    bay: JoinHandle<anyhow::Result<()>>,
    identity: JoinHandle<anyhow::Result<()>>,
}

async fn start(database: magnum_db::DatabaseConfig) -> Mesh {
    let shutdown = Shutdown::new();
    let identity_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let identity_url = format!("http://{}", identity_listener.local_addr().unwrap());
    let identity = tokio::spawn(identity_svc::serve(
        identity_svc::Config::default(),
        identity_listener,
        shutdown.clone(),
    ));

    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut config = bay_svc::Config {
        database,
        ..bay_svc::Config::default()
    };
    config.auth.identity_url = identity_url;
    config.secrets.key = Some(magnum_pki::generate_key_base64().unwrap());
    let bay = tokio::spawn(bay_svc::serve(
        config,
        listener,
        Arc::clone(&bus),
        shutdown.clone(),
    ));
    let channel = magnum_grpc::client::channel(&format!("http://{address}")).unwrap();
    Mesh {
        channel,
        bus,
        shutdown,
        bay,
        identity,
    }
}

fn caller(project: &str) -> RequestContext {
    RequestContext {
        user_id: format!("{project}-user"),
        user_name: String::new(),
        project_id: project.to_owned(),
        project_name: String::new(),
        roles: vec!["member".to_owned()],
        is_admin: false,
        request_id: format!("req-{}", uuid::Uuid::new_v4()),
        auth_token: "any-token".to_owned(),
    }
}

fn spec(name: &str) -> pb::BayModelSpec {
    pb::BayModelSpec {
        name: Some(name.to_owned()),
        coe: Some("swarm".to_owned()),
        image_id: Some("ubuntu".to_owned()),
        keypair_id: Some("key".to_owned()),
        ..Default::default()
    }
}

async fn serve_and_call(database: magnum_db::DatabaseConfig) {
    let mesh = start(database).await;
    let mut events = mesh
        .bus
        .consume(ConsumerSpec::new(
            "bay-svc-test",
            "magnum.events.baymodel.>",
        ))
        .await
        .unwrap();
    let mut client = BayModelServiceClient::new(mesh.channel.clone());
    let alice = caller("project-a");
    let bob = caller("project-b");

    // The first calls may race the server's start: retry until it answers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let created = loop {
        let request = pb::CreateBayModelRequest {
            spec: Some(spec("served")),
        };
        match client
            .create_bay_model(magnum_grpc::client::request(&alice, request))
            .await
        {
            Ok(response) => break response.into_inner(),
            Err(status) if status.code() == Code::Unavailable => {
                assert!(tokio::time::Instant::now() < deadline, "{status:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("create: {status:?}"),
        }
    };
    assert_eq!(created.project_id, "project-a");
    assert_eq!(created.network_driver.as_deref(), Some("docker"));

    let get = |ctx: &RequestContext| {
        magnum_grpc::client::request(
            ctx,
            pb::GetBayModelRequest {
                ident: "served".to_owned(),
            },
        )
    };
    let found = client
        .get_bay_model(get(&alice))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found, created);
    let refused = client.get_bay_model(get(&bob)).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(refused.message(), "Baymodel served could not be found.");
    let listed = client
        .list_bay_models(magnum_grpc::client::request(
            &bob,
            pb::ListBayModelsRequest {
                options: Some(ListOptions::default()),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.baymodels.is_empty());

    // No identity hints: no-auth mode makes the caller its configured admin, who sees
    // every project's baymodels (the context comes from the auth layer, not the request).
    let anonymous = client
        .get_bay_model(pb::GetBayModelRequest {
            ident: "served".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(anonymous.uuid, created.uuid);

    // The event reaches the bus through the outbox relay.
    let delivery = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("event in time")
        .expect("subscription open")
        .expect("delivery");
    assert_eq!(delivery.message.subject, "magnum.events.baymodel.created");
    let event = BayModelChanged::decode(delivery.message.payload.clone()).unwrap();
    assert_eq!(event.change(), Change::Created);
    assert_eq!(event.baymodel_uuid, created.uuid);
    delivery.ack().await.unwrap();

    // Bays are served: an unknown bay is NOT_FOUND, and so is its CA.
    let bays = BayServiceClient::new(mesh.channel.clone())
        .get_bay(magnum_grpc::client::request(
            &alice,
            pb::GetBayRequest {
                ident: "x".to_owned(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bays.code(), Code::NotFound);
    assert_eq!(bays.message(), "Bay x could not be found.");
    let certificates = CertificateServiceClient::new(mesh.channel.clone())
        .get_ca_certificate(magnum_grpc::client::request(
            &alice,
            pb::GetCaCertificateRequest {
                bay_ident: "x".to_owned(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(certificates.code(), Code::NotFound);
    // No swarm driver in this deployment: a swarm bay is refused at once.
    let unsupported = BayServiceClient::new(mesh.channel.clone())
        .create_bay(magnum_grpc::client::request(
            &alice,
            pb::CreateBayRequest {
                spec: Some(pb::BaySpec {
                    baymodel_ident: "served".to_owned(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(unsupported.code(), Code::InvalidArgument, "{unsupported:?}");

    // Nodes are served: records scoped to their project, looked up by uuid only.
    let mut nodes = NodeServiceClient::new(mesh.channel.clone());
    let node = nodes
        .create_node(magnum_grpc::client::request(
            &alice,
            pb::CreateNodeRequest {
                spec: Some(pb::NodeSpec {
                    r#type: Some("virt".to_owned()),
                    ironic_node_id: Some("ironic-served".to_owned()),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(node.project_id, "project-a");
    let get_node = |ctx: &RequestContext, uuid: &str| {
        magnum_grpc::client::request(
            ctx,
            pb::GetNodeRequest {
                uuid: uuid.to_owned(),
            },
        )
    };
    let found = nodes
        .get_node(get_node(&alice, &node.uuid))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found, node);
    let hidden = nodes
        .get_node(get_node(&bob, &node.uuid))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let by_name = nodes.get_node(get_node(&alice, "virt")).await.unwrap_err();
    assert_eq!(by_name.code(), Code::InvalidArgument);
    assert_eq!(by_name.message(), "Expected a uuid but received virt.");

    // Graceful stop: both servers return cleanly.
    mesh.shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(20), mesh.bay)
        .await
        .expect("bay-svc stops in time");
    stopped.unwrap().unwrap();
    mesh.identity.await.unwrap().unwrap();
}

#[tokio::test]
async fn served_on_postgres() {
    serve_and_call(magnum_testkit::postgres_config()).await;
}

#[tokio::test]
async fn served_on_sqlite() {
    serve_and_call(magnum_testkit::sqlite_config()).await;
}
