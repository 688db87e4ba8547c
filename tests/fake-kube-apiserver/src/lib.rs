//! A strict, in-memory fake of the Kubernetes API server, for tests.
//!
//! No real API server can run where magnum-rs is built and tested, so tests of the
//! Kubernetes driver talk to this fake instead, through the real `kube` client. It speaks
//! the Kubernetes REST API as JSON over **plain HTTP on loopback** (real clusters use TLS;
//! the `kube` client accepts an `http://` cluster URL in a kubeconfig) and refuses what a
//! real API server refuses: wrong `apiVersion`/`kind`, bad names, unknown fields, stale
//! resourceVersions, content in missing namespaces, requests RBAC does not allow. See the
//! crate README for the full list and the known differences.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_kube_apiserver::Error> {
//! use fake_kube_apiserver::{FakeKubeApiServer, Options};
//! let server = FakeKubeApiServer::start(Options::default()).await?;
//! let admin: kube::Client = server.admin_client().await?;
//! // ... create a namespace and a service account with `admin`, then:
//! let token = server.service_account_token("bay-1", "bay-admin").await?;
//! let tenant: kube::Client = server.client(&token).await?;
//! # Ok(()) }
//! ```

mod auth;
mod error;
mod kinds;
mod network_policy;
mod pod;
mod replication_controller;
mod selector;
mod server;
mod service;
mod store;
mod strategic_merge;
mod validation;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::oneshot;

pub use auth::Principal;
pub use error::{ApiError, Cause, Error, Result};
pub use validation::NameRule;

/// How unknown fields in request bodies are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownFields {
    /// Always refuse them with a 400 `strict decoding error`, whatever `fieldValidation` the
    /// request asks for. Stricter than a real server (whose default is `Warn`), so a typo in
    /// product code fails tests instead of being dropped silently.
    #[default]
    Strict,
    /// The real server's behaviour: honour `fieldValidation` (`Strict`/`Warn`/`Ignore`),
    /// defaulting to `Warn` (drop the fields and answer with `Warning` headers).
    Warn,
    /// Honour `fieldValidation`, defaulting to `Ignore`.
    Ignore,
}

/// Start-up options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The admin bearer token; random when `None`.
    pub admin_token: Option<String>,
    /// Unknown-field handling (strict by default).
    pub unknown_fields: UnknownFields,
    /// How long a deleted namespace stays `Terminating` (its content is removed at once).
    /// Zero (the default) removes it before the DELETE is answered, which keeps tests
    /// deterministic; a real cluster takes a few seconds.
    pub namespace_termination: Duration,
    /// Address to listen on; `127.0.0.1:0` (a free port) when `None`. Must be a loopback
    /// address ([`Error::NotLoopback`] otherwise).
    pub listen: Option<SocketAddr>,
}

/// A running fake API server. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeKubeApiServer {
    addr: SocketAddr,
    admin_token: String,
    shutdown: Option<oneshot::Sender<()>>,
    _app: Arc<server::App>,
}

impl FakeKubeApiServer {
    /// Binds (by default to a free port on 127.0.0.1) and serves in a background task of the
    /// current Tokio runtime. The namespaces `default`, `kube-system`, `kube-public` and
    /// `kube-node-lease` exist from the start, as on a real cluster.
    pub async fn start(options: Options) -> Result<Self> {
        let admin_token = options
            .admin_token
            .clone()
            .unwrap_or_else(|| format!("fake-admin.{}", uuid::Uuid::new_v4().simple()));
        let listen = options
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        if !listen.ip().is_loopback() {
            return Err(Error::NotLoopback(listen));
        }
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let app = server::App::new(admin_token.clone(), options);
        let router = server::router(Arc::clone(&app));
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "fake kube-apiserver stopped");
            }
        });
        Ok(Self {
            addr,
            admin_token,
            shutdown: Some(tx),
            _app: app,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The cluster URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The admin bearer token (allowed everything).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// A kubeconfig (YAML) for this server and `token`, with `default` as the namespace.
    pub fn kubeconfig_yaml(&self, token: &str) -> String {
        // JSON string quoting is valid YAML quoting, and safe for any token.
        let q = |s: &str| serde_json::Value::from(s).to_string();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\nusers:\n- name: fake-user\n  user:\n    token: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake-user\n    namespace: default\ncurrent-context: fake\n",
            q(&self.url()),
            q(token),
        )
    }

    /// A `kube` client for this server authenticated with `token`, built from
    /// [`Self::kubeconfig_yaml`] the way product code loads a host cluster's kubeconfig.
    pub async fn client(&self, token: &str) -> Result<kube::Client> {
        let kc = Kubeconfig::from_yaml(&self.kubeconfig_yaml(token))?;
        let config =
            kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
        Ok(kube::Client::try_from(config)?)
    }

    /// A `kube` client with the admin token.
    pub async fn admin_client(&self) -> Result<kube::Client> {
        self.client(&self.admin_token).await
    }

    /// Issues a token for an existing service account through the real TokenRequest API
    /// (as the admin), exactly as product code would against a real cluster.
    pub async fn service_account_token(&self, namespace: &str, name: &str) -> Result<String> {
        let api: kube::Api<ServiceAccount> =
            kube::Api::namespaced(self.admin_client().await?, namespace);
        let tr = TokenRequest {
            spec: TokenRequestSpec::default(),
            ..TokenRequest::default()
        };
        let issued = api
            .create_token_request(name, &kube::api::PostParams::default(), &tr)
            .await?;
        Ok(issued.status.map(|s| s.token).unwrap_or_default())
    }
}

impl Drop for FakeKubeApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
