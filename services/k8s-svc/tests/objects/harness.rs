//! The world of an object test: the fake API server as the host cluster, identity-svc in
//! no-auth mode, bay-svc with the kubernetes driver, k8s-svc, each on a fresh Postgres
//! schema, and kubernetes bays ready to take objects.

use std::sync::Arc;

use fake_kube_apiserver::{FakeKubeApiServer, Options};
use magnum_bus::BusConfig;
use magnum_common::{RequestContext, Shutdown};
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::bay::v1 as bay_pb;
use magnum_proto::k8s::v1 as pb;
use magnum_proto::k8s::v1::coe_service_service_client::CoeServiceServiceClient;
use magnum_proto::k8s::v1::pod_service_client::PodServiceClient;
use magnum_proto::k8s::v1::replication_controller_service_client::ReplicationControllerServiceClient;
use magnum_testkit::bays::{Bays, retry_unavailable};
use tokio::net::TcpListener;
use tonic::Status;

pub use magnum_testkit::bays::WAIT;

pub fn caller(project: &str) -> RequestContext {
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

pub fn admin() -> RequestContext {
    RequestContext {
        roles: vec!["admin".to_owned()],
        is_admin: true,
        ..caller("admin-project")
    }
}

pub struct World {
    pub alice: RequestContext,
    pub bob: RequestContext,
    pub cluster: FakeKubeApiServer,
    bay_channel: Channel,
    k8s_channel: Channel,
    shutdown: Shutdown,
    _dir: tempfile::TempDir,
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

impl World {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with k8s-svc's configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut k8s_svc::Config)) -> Self {
        Self::start_full(|_| {}, adjust).await
    }

    /// Starts with bay-svc's and k8s-svc's configurations adjusted.
    pub async fn start_full(
        adjust_bay: impl FnOnce(&mut bay_svc::Config),
        adjust: impl FnOnce(&mut k8s_svc::Config),
    ) -> Self {
        let shutdown = Shutdown::new();
        let cluster = FakeKubeApiServer::start(Options::default()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, cluster.kubeconfig_yaml(cluster.admin_token())).unwrap();

        let bus_config = BusConfig {
            url: format!("memory://{}", magnum_testkit::unique_name("k8s")),
            prefix: String::new(),
        };
        let bus = magnum_bus::connect(&bus_config).await.unwrap();

        let (identity_listener, identity_url) = listen().await;
        tokio::spawn(identity_svc::serve(
            identity_svc::Config::default(),
            identity_listener,
            shutdown.clone(),
        ));

        let (bay_listener, bay_url) = listen().await;
        let mut bay_config = bay_svc::Config {
            database: magnum_testkit::postgres_config(),
            bus: bus_config.clone(),
            ..bay_svc::Config::default()
        };
        bay_config.auth.identity_url = identity_url.clone();
        bay_config.secrets.key = Some(magnum_pki::generate_key_base64().unwrap());
        bay_config.health.interval_secs = 0;
        bay_config.kubernetes.kubeconfig = Some(kubeconfig);
        adjust_bay(&mut bay_config);
        tokio::spawn(bay_svc::serve(
            bay_config,
            bay_listener,
            Arc::clone(&bus),
            shutdown.clone(),
        ));

        let (k8s_listener, k8s_url) = listen().await;
        let mut config = k8s_svc::Config {
            database: magnum_testkit::postgres_config(),
            bus: bus_config,
            bay_url: bay_url.clone(),
            status_max_age_ms: 200,
            ..k8s_svc::Config::default()
        };
        config.auth.identity_url = identity_url;
        adjust(&mut config);
        let k8s_shutdown = shutdown.clone();
        tokio::spawn(async move {
            if let Err(error) = k8s_svc::serve(config, k8s_listener, bus, k8s_shutdown).await {
                panic!("k8s-svc failed: {error:?}");
            }
        });

        let world = Self {
            alice: caller(&magnum_testkit::unique_name("alice")),
            bob: caller(&magnum_testkit::unique_name("bob")),
            cluster,
            bay_channel: magnum_grpc::client::channel(&bay_url).unwrap(),
            k8s_channel: magnum_grpc::client::channel(&k8s_url).unwrap(),
            shutdown,
            _dir: dir,
        };
        // Answering = started (migrated, serving).
        retry_unavailable(|| async {
            world
                .bay_fixture()
                .client()
                .list_bays(magnum_grpc::client::request(
                    &world.alice,
                    bay_pb::ListBaysRequest::default(),
                ))
                .await
        })
        .await
        .unwrap();
        retry_unavailable(|| async {
            world
                .pods()
                .list_pods(magnum_grpc::client::request(
                    &world.alice,
                    pb::ListPodsRequest::default(),
                ))
                .await
        })
        .await
        .unwrap();
        world
    }

    pub fn pods(&self) -> PodServiceClient<Channel> {
        PodServiceClient::new(self.k8s_channel.clone())
    }

    pub fn services(&self) -> CoeServiceServiceClient<Channel> {
        CoeServiceServiceClient::new(self.k8s_channel.clone())
    }

    pub fn rcs(&self) -> ReplicationControllerServiceClient<Channel> {
        ReplicationControllerServiceClient::new(self.k8s_channel.clone())
    }

    fn bay_fixture(&self) -> Bays {
        Bays::new(self.bay_channel.clone())
    }

    /// A baymodel of `coe` and a one-node bay of it, CREATE_COMPLETE; the bay's uuid.
    pub async fn bay(&self, caller: &RequestContext, coe: &str) -> String {
        self.bay_fixture().complete(caller, coe, 1).await.uuid
    }

    /// A baymodel of `coe` and a bay of it, as created (not waited for); the bay's uuid.
    pub async fn bay_in_progress(&self, caller: &RequestContext, coe: &str) -> String {
        self.bay_fixture().create(caller, coe, 1).await.uuid
    }

    /// Deletes the bay and waits until it is gone.
    pub async fn delete_bay(&self, caller: &RequestContext, ident: &str) {
        self.bay_fixture().delete(caller, ident).await;
    }

    pub async fn create_pod(
        &self,
        caller: &RequestContext,
        bay: &str,
        manifest: &str,
    ) -> Result<pb::Pod, Status> {
        self.pods()
            .create_pod(magnum_grpc::client::request(
                caller,
                pb::CreatePodRequest {
                    bay_uuid: bay.to_owned(),
                    manifest: Some(inline(manifest)),
                    ..Default::default()
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get_pod(&self, caller: &RequestContext, ident: &str) -> Result<pb::Pod, Status> {
        self.pods()
            .get_pod(magnum_grpc::client::request(
                caller,
                pb::GetPodRequest {
                    r#ref: Some(reference(ident)),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list_pods(&self, caller: &RequestContext, bay: &str) -> Vec<pb::Pod> {
        self.pods()
            .list_pods(magnum_grpc::client::request(
                caller,
                pb::ListPodsRequest {
                    filter: Some(pb::BayFilter {
                        bay_ident: bay.to_owned(),
                    }),
                    options: None,
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .pods
    }

    pub async fn delete_pod(&self, caller: &RequestContext, ident: &str) -> Result<(), Status> {
        self.pods()
            .delete_pod(magnum_grpc::client::request(
                caller,
                pb::DeletePodRequest {
                    r#ref: Some(reference(ident)),
                },
            ))
            .await
            .map(|_| ())
    }

    /// The cluster's admin view (never used by the product).
    pub async fn admin_client(&self) -> kube::Client {
        self.cluster.admin_client().await.unwrap()
    }
}

pub fn inline(manifest: &str) -> pb::ManifestSource {
    pb::ManifestSource {
        manifest: Some(manifest.to_owned()),
        manifest_url: None,
    }
}

pub fn reference(ident: &str) -> pb::ObjectRef {
    pb::ObjectRef {
        ident: ident.to_owned(),
        bay_ident: String::new(),
    }
}
