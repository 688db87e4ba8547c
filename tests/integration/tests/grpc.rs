//! Platform teams call the gRPC APIs directly: each service authenticates and scopes the
//! call itself and serves health and its API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_integration_tests::TestMesh;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::{
    BayModelSpec, CreateBayModelRequest, GetBayModelRequest, ListBayModelsRequest,
};
use magnum_proto::container::v1::GetContainerRequest;
use magnum_proto::container::v1::container_service_client::ContainerServiceClient;
use magnum_proto::k8s::v1::ListPodsRequest;
use magnum_proto::k8s::v1::pod_service_client::PodServiceClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn as_project<T>(project: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-auth-token", "token".parse().unwrap());
    request
        .metadata_mut()
        .insert("x-project-id", project.parse().unwrap());
    request
        .metadata_mut()
        .insert("x-roles", "member".parse().unwrap());
    request
}

fn spec(name: &str) -> BayModelSpec {
    BayModelSpec {
        name: Some(name.to_owned()),
        coe: Some("swarm".to_owned()),
        image_id: Some("ubuntu".to_owned()),
        keypair_id: Some("kp".to_owned()),
        ..Default::default()
    }
}

#[tokio::test]
async fn bay_svc_scopes_grpc_calls_by_the_callers_project() {
    let mesh = TestMesh::start().await;
    let mut client = BayModelServiceClient::connect(format!("http://{}", mesh.bay))
        .await
        .unwrap();
    let created = client
        .create_bay_model(as_project(
            "grpc-a",
            CreateBayModelRequest {
                spec: Some(spec("direct")),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.project_id, "grpc-a");
    assert_eq!(created.coe, "swarm");
    assert_eq!(created.network_driver.as_deref(), Some("docker"));

    let mine = client
        .get_bay_model(as_project(
            "grpc-a",
            GetBayModelRequest {
                ident: "direct".into(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(mine.into_inner().uuid, created.uuid);
    let theirs = client
        .get_bay_model(as_project(
            "grpc-b",
            GetBayModelRequest {
                ident: created.uuid.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), tonic::Code::NotFound);
    let listed = client
        .list_bay_models(as_project("grpc-b", ListBayModelsRequest { options: None }))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.baymodels.is_empty());

    let invalid = client
        .create_bay_model(as_project(
            "grpc-a",
            CreateBayModelRequest {
                spec: Some(BayModelSpec::default()),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), tonic::Code::InvalidArgument);
    mesh.stop().await;
}

#[tokio::test]
async fn every_service_serves_health_and_its_api() {
    let mesh = TestMesh::start().await;
    for addr in [mesh.identity, mesh.bay, mesh.k8s, mesh.container] {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut health = HealthClient::new(channel);
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{addr}");
    }
    let mut pods = PodServiceClient::connect(format!("http://{}", mesh.k8s))
        .await
        .unwrap();
    // k8s-svc is served: a project without pods lists none.
    let listed = pods
        .list_pods(as_project("p", ListPodsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.pods.is_empty());
    // container-svc is served now: an unknown container is NOT_FOUND.
    let mut containers = ContainerServiceClient::connect(format!("http://{}", mesh.container))
        .await
        .unwrap();
    let status = containers
        .get_container(as_project("p", GetContainerRequest { ident: "c".into() }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");
    mesh.stop().await;
}
