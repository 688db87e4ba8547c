//! The test harness: the whole mesh started in-process (as `magnum` runs it), on ephemeral
//! loopback ports, with real Postgres (a fresh schema) and real NATS JetStream (a fresh
//! stream prefix), plus a small HTTP client that speaks to the gateway like
//! python-magnumclient does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bench;
pub mod cli;
/// Services as real processes (SIGTERM), and a balancer standing in for a Kubernetes Service.
pub mod processes;

use std::net::SocketAddr;
use std::time::Duration;

use magnum::{Mesh, MeshConfig};
use magnum_bus::BusConfig;
use magnum_common::Shutdown;
pub use magnum_testkit::keystone::Keystone;
use serde_json::Value;

pub use reqwest::StatusCode;

/// Where the mesh keeps its state.
pub enum Storage {
    /// Real Postgres, a fresh schema per test.
    Postgres,
    /// SQLite files under this directory (the embedded default).
    Sqlite(std::path::PathBuf),
}

pub struct TestMesh {
    pub mesh: Option<Mesh>,
    pub gateway: SocketAddr,
    pub bay: SocketAddr,
    pub k8s: SocketAddr,
    pub container: SocketAddr,
    pub identity: SocketAddr,
    pub http: reqwest::Client,
    shutdown: Shutdown,
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn install_crypto_provider() {
    // reqwest is built without a default provider; any test may be first.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The mesh on ephemeral loopback ports with the given storage and bus, no-auth identity.
pub fn mesh_config(storage: Storage, nats: bool) -> MeshConfig {
    let mut config = MeshConfig::default();
    config.gateway.listen = loopback().to_string();
    config.identity.listen = loopback();
    config.bay.listen = loopback();
    config.k8s.listen = loopback();
    config.container.listen = loopback();
    config.bay.database = match storage {
        Storage::Postgres => magnum_testkit::postgres_config(),
        Storage::Sqlite(dir) => magnum_db::DatabaseConfig {
            url: format!("sqlite://{}", dir.join("bay.db").display()),
            ..magnum_db::DatabaseConfig::default()
        },
    };
    config.bus = if nats {
        BusConfig {
            url: magnum_testkit::nats_url(),
            prefix: magnum_testkit::unique_name("it"),
        }
    } else {
        BusConfig::default()
    };
    config.bay.bus = config.bus.clone();
    config.container.bus = config.bus.clone();
    config.gateway.bus = config.bus.clone();
    config.identity.bus = config.bus.clone();
    config.container.database = match &config.bay.database {
        db if db.url.starts_with("sqlite://") => magnum_db::DatabaseConfig {
            url: db.url.replace("bay.db", "container.db"),
            ..db.clone()
        },
        _ => magnum_testkit::postgres_config(),
    };
    config.k8s.bus = config.bus.clone();
    config.k8s.database = match &config.bay.database {
        db if db.url.starts_with("sqlite://") => magnum_db::DatabaseConfig {
            url: db.url.replace("bay.db", "k8s.db"),
            ..db.clone()
        },
        _ => magnum_testkit::postgres_config(),
    };
    config.bay.secrets.key = Some(magnum_pki::generate_key_base64().expect("a sealing key"));
    // Swarm bays on the test Docker engine (`scripts/docker.sh`), as a pool of two
    // "nodes" that are the same engine.
    if let Some(host) = magnum_testkit::docker::try_host() {
        config.bay.swarm.engines = ["node-1", "node-2"]
            .into_iter()
            .map(|name| magnum_driver_swarm::EngineConfig {
                name: name.to_owned(),
                url: host.clone(),
                ..magnum_driver_swarm::EngineConfig::default()
            })
            .collect();
        config.container.swarm = config.bay.swarm.clone();
    }
    config
}

impl TestMesh {
    /// Postgres + NATS JetStream, the production shape in one process.
    pub async fn start() -> Self {
        Self::start_with(Storage::Postgres, true).await
    }

    pub async fn start_with(storage: Storage, nats: bool) -> Self {
        Self::start_config(mesh_config(storage, nats)).await
    }

    /// Real Keystone (`scripts/keystone.sh`) validates every token; Postgres and NATS.
    /// Caches trust a validation for 1 s, so revocations show quickly. The gateway
    /// listens on `gateway_listen` (the catalog's fixed ports for client tests).
    pub async fn start_keystone(keystone: &Keystone, gateway_listen: &str) -> Self {
        Self::start_keystone_with(keystone, gateway_listen, |_| {}).await
    }

    /// [`Self::start_keystone`] with the configuration adjusted by `adjust` first.
    pub async fn start_keystone_with(
        keystone: &Keystone,
        gateway_listen: &str,
        adjust: impl FnOnce(&mut MeshConfig),
    ) -> Self {
        let mut config = mesh_config(Storage::Postgres, true);
        adjust(&mut config);
        let service = keystone.user("SERVICE");
        config.gateway.listen = gateway_listen.to_owned();
        config.gateway.www_authenticate_uri = Some(keystone.url());
        config.identity.mode = identity_svc::Mode::Keystone;
        config.identity.keystone = identity_svc::KeystoneConfig {
            auth_url: keystone.url(),
            username: service.name,
            password: Some(identity_svc::Secret::new(service.password)),
            project_name: service.project,
            user_domain_name: service.domain.clone(),
            project_domain_name: service.domain,
            cache_ttl_secs: 1,
            ..identity_svc::KeystoneConfig::default()
        };
        for auth in [
            &mut config.gateway.auth,
            &mut config.bay.auth,
            &mut config.k8s.auth,
            &mut config.container.auth,
        ] {
            auth.cache_ttl_secs = 1;
        }
        Self::start_config(config).await
    }

    pub async fn start_config(config: MeshConfig) -> Self {
        install_crypto_provider();
        let shutdown = Shutdown::new();
        let mesh = Mesh::start(config, shutdown.clone())
            .await
            .expect("mesh starts");
        let this = Self {
            gateway: mesh.gateway_addr,
            bay: mesh.bay_addr,
            k8s: mesh.k8s_addr,
            container: mesh.container_addr,
            identity: mesh.identity_addr,
            mesh: Some(mesh),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            shutdown,
        };
        this.wait_ready().await;
        this
    }

    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ok = self
                .http
                .get(self.url("/healthcheck"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "gateway not ready within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.gateway, path)
    }

    /// The endpoint python-magnumclient is pointed at.
    pub fn endpoint(&self) -> String {
        self.url("/v1")
    }

    /// Stops every service and waits for them to finish.
    pub async fn stop(mut self) {
        if let Some(mesh) = self.mesh.take() {
            mesh.stop().await.expect("mesh stops cleanly");
        }
    }

    /// A request as a tenant: the no-auth identity headers pick the project.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        tenant: &Tenant,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("X-Auth-Token", "test-token")
            .header("X-Project-Id", tenant.project)
            .header("X-User-Id", tenant.user)
            .header("X-Roles", tenant.roles)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        tenant: &Tenant,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.request(method, path, tenant);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Response::read(request.send().await.expect("request sent")).await
    }
}

impl Drop for TestMesh {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A caller identity (no-auth hints).
pub struct Tenant {
    pub project: &'static str,
    pub user: &'static str,
    pub roles: &'static str,
}

pub const ALICE: Tenant = Tenant {
    project: "project-a",
    user: "alice",
    roles: "member",
};
pub const BOB: Tenant = Tenant {
    project: "project-b",
    user: "bob",
    roles: "member",
};
pub const ADMIN: Tenant = Tenant {
    project: "project-admin",
    user: "root",
    roles: "admin,member",
};

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    /// The Magnum error's detail, asserting the modern error shape.
    pub fn error_detail(&self) -> String {
        let error = &self.body["errors"][0];
        assert!(error.is_object(), "not a Magnum error body: {}", self.text);
        assert_eq!(error["status"], self.status.as_u16(), "{}", self.text);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "error bodies are JSON"
        );
        error["detail"].as_str().unwrap_or_default().to_owned()
    }
}

/// A baymodel create body like python-magnumclient 1.1.0 sends (nulls and all).
pub fn baymodel_body(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "flavor_id": "m1.medium",
        "master_flavor_id": null,
        "image_id": "fedora-atomic",
        "keypair_id": "default",
        "external_network_id": "public",
        "fixed_network": null,
        "network_driver": null,
        "dns_nameserver": "8.8.8.8",
        "docker_volume_size": "5",
        "ssh_authorized_key": null,
        "coe": "kubernetes",
        "http_proxy": null,
        "https_proxy": null,
        "no_proxy": null,
        "labels": {},
        "tls_disabled": false,
        "public": false
    })
}

/// A fresh temporary directory.
pub fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(magnum_testkit::unique_name("magnum-it"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Polls `GET path` as `tenant` until `done` holds for the response (or panics after
/// `within`).
pub async fn wait_for(
    mesh: &TestMesh,
    path: &str,
    tenant: &Tenant,
    within: Duration,
    done: impl Fn(&Response) -> bool,
) -> Response {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let response = mesh.call(reqwest::Method::GET, path, tenant, None).await;
        if done(&response) {
            return response;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "GET {path} never got there; last: {} {}",
            response.status,
            response.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Manifests of Magnum's own examples (redis master pod and service, an nginx rc).
pub mod manifests;

/// The host cluster of kubernetes bays in the end-to-end tests: the strict fake API
/// server (no real one can run where CI runs), or, when `MAGNUM_TEST_KUBECONFIG` names a
/// kubeconfig, that real cluster (its admin context: the bay driver makes namespaces
/// `magnum-<uuid>` there and removes them with their bays).
pub enum HostCluster {
    Fake(fake_kube_apiserver::FakeKubeApiServer),
    Real(std::path::PathBuf),
}

impl HostCluster {
    /// An admin client of the cluster (the tests look at it from outside).
    pub async fn admin_client(&self) -> kube::Client {
        match self {
            Self::Fake(server) => server
                .admin_client()
                .await
                .unwrap_or_else(|error| panic!("the fake API server's client: {error}")),
            Self::Real(kubeconfig) => {
                let config = kube::config::Kubeconfig::read_from(kubeconfig)
                    .unwrap_or_else(|error| panic!("{}: {error}", kubeconfig.display()));
                let options = kube::config::KubeConfigOptions::default();
                let config = kube::Config::from_custom_kubeconfig(config, &options)
                    .await
                    .unwrap_or_else(|error| panic!("{}: {error}", kubeconfig.display()));
                kube::Client::try_from(config)
                    .unwrap_or_else(|error| panic!("a client of the real cluster: {error}"))
            }
        }
    }
}

/// The host cluster and the kubeconfig bay-svc is given for it.
pub async fn host_cluster() -> (HostCluster, std::path::PathBuf) {
    install_crypto_provider();
    if let Some(kubeconfig) = std::env::var_os("MAGNUM_TEST_KUBECONFIG").filter(|v| !v.is_empty()) {
        let kubeconfig = std::path::PathBuf::from(kubeconfig);
        return (HostCluster::Real(kubeconfig.clone()), kubeconfig);
    }
    let cluster =
        fake_kube_apiserver::FakeKubeApiServer::start(fake_kube_apiserver::Options::default())
            .await
            .unwrap_or_else(|error| panic!("the fake API server starts: {error}"));
    let kubeconfig = temp_dir().join("kubeconfig");
    std::fs::write(&kubeconfig, cluster.kubeconfig_yaml(cluster.admin_token()))
        .unwrap_or_else(|error| panic!("cannot write the kubeconfig: {error}"));
    (HostCluster::Fake(cluster), kubeconfig)
}
