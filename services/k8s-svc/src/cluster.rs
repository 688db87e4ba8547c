//! The bays' Kubernetes APIs through the `kube` crate: one client per bay credential
//! (cached), typed calls per kind in the bay's namespace, and the API server's errors
//! kept with their status code and message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{SubsecRound as _, Utc};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{Pod, ReplicationController, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use moka::future::Cache;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::manifest::{Kind, Workload};
use crate::domain::ports::{BayAccess, Cluster, Snapshot};
use crate::error::{Error, Result};

/// How long an idle bay's client is kept.
const CLIENT_IDLE: Duration = Duration::from_secs(300);

/// The bays' clusters, reached with each bay's own credential.
pub struct KubeClusters {
    /// Keyed by the whole access (a new token makes a new client).
    clients: Cache<BayAccess, Client>,
    /// Per bay and kind, at most `status_max_age` old.
    snapshots: Cache<(Uuid, Kind), Arc<Snapshot>>,
    request_timeout: Duration,
}

impl KubeClusters {
    pub fn new(request_timeout: Duration, status_max_age: Duration) -> Self {
        // kube builds its TLS config from rustls' process-wide provider; ring is the
        // workspace's only one (a no-op when main already installed it).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            clients: Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(CLIENT_IDLE)
                .build(),
            snapshots: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(status_max_age)
                .build(),
            request_timeout,
        }
    }

    async fn client(&self, access: &BayAccess) -> Result<Client> {
        let entry = self
            .clients
            .entry(access.clone())
            .or_try_insert_with(async { self.connect(access) })
            .await
            .map_err(|error| Error::ClusterConfig(error.to_string()))?;
        magnum_telemetry::metrics::cache_lookup("kubernetes_clients", !entry.is_fresh());
        Ok(entry.into_value())
    }

    fn connect(&self, access: &BayAccess) -> Result<Client> {
        let url: http::Uri = access
            .server
            .parse()
            .map_err(|_| Error::ClusterConfig(format!("bad API server URL {:?}", access.server)))?;
        let mut config = kube::Config::new(url);
        config.default_namespace.clone_from(&access.namespace);
        config.accept_invalid_certs = access.insecure_skip_tls_verify;
        if !access.ca_certificates_pem.is_empty() {
            let mut roots = Vec::new();
            for pem in &access.ca_certificates_pem {
                for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    let certificate = certificate.map_err(|error| {
                        Error::ClusterConfig(format!("bad CA certificate: {error}"))
                    })?;
                    roots.push(certificate.to_vec());
                }
            }
            config.root_cert = Some(roots);
        }
        config.auth_info.token = Some(secrecy::SecretString::from(access.token.clone()));
        config.connect_timeout = Some(self.request_timeout);
        config.read_timeout = Some(self.request_timeout);
        config.write_timeout = Some(self.request_timeout);
        Client::try_from(config).map_err(|error| Error::ClusterConfig(error.to_string()))
    }

    async fn api<K>(&self, access: &BayAccess) -> Result<Api<K>>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Ok(Api::namespaced(
            self.client(access).await?,
            &access.namespace,
        ))
    }

    async fn take_snapshot(&self, access: &BayAccess, kind: Kind) -> Result<Snapshot> {
        let taken_at = Utc::now().trunc_subsecs(6);
        let objects = match kind {
            Kind::Pod => list::<Pod>(self.api(access).await?, Workload::from_pod).await?,
            Kind::Service => {
                list::<Service>(self.api(access).await?, Workload::from_service).await?
            }
            Kind::ReplicationController => {
                list::<ReplicationController>(self.api(access).await?, Workload::from_rc).await?
            }
        };
        Ok(Snapshot { taken_at, objects })
    }
}

impl Workload {
    fn from_pod(pod: Pod) -> Self {
        Self::Pod(Box::new(pod))
    }
    fn from_service(service: Service) -> Self {
        Self::Service(Box::new(service))
    }
    fn from_rc(rc: ReplicationController) -> Self {
        Self::ReplicationController(Box::new(rc))
    }
}

async fn list<K>(api: Api<K>, wrap: fn(K) -> Workload) -> Result<HashMap<String, Workload>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let listed = api.list(&ListParams::default()).await.map_err(kube_error)?;
    Ok(listed
        .items
        .into_iter()
        .map(wrap)
        .map(|workload| (workload.name().to_owned(), workload))
        .collect())
}

async fn create<K>(api: Api<K>, object: &K, wrap: fn(K) -> Workload) -> Result<Workload>
where
    K: Resource + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    api.create(&PostParams::default(), object)
        .await
        .map(wrap)
        .map_err(kube_error)
}

async fn get<K>(api: Api<K>, name: &str, wrap: fn(K) -> Workload) -> Result<Option<Workload>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name)
        .await
        .map(|found| found.map(wrap))
        .map_err(kube_error)
}

async fn replace<K>(
    api: Api<K>,
    name: &str,
    object: &K,
    wrap: fn(K) -> Workload,
) -> Result<Workload>
where
    K: Resource + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    api.replace(name, &PostParams::default(), object)
        .await
        .map(wrap)
        .map_err(kube_error)
}

async fn delete<K>(api: Api<K>, name: &str) -> Result<()>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(kube_error(error)),
    }
}

#[async_trait]
impl Cluster for KubeClusters {
    async fn create(&self, access: &BayAccess, workload: &Workload) -> Result<Workload> {
        let made = match workload {
            Workload::Pod(pod) => {
                create(self.api(access).await?, pod.as_ref(), Workload::from_pod).await
            }
            Workload::Service(service) => {
                create(
                    self.api(access).await?,
                    service.as_ref(),
                    Workload::from_service,
                )
                .await
            }
            Workload::ReplicationController(rc) => {
                create(self.api(access).await?, rc.as_ref(), Workload::from_rc).await
            }
        };
        self.forget(access, workload.kind()).await;
        made
    }

    async fn get(&self, access: &BayAccess, kind: Kind, name: &str) -> Result<Option<Workload>> {
        match kind {
            Kind::Pod => get::<Pod>(self.api(access).await?, name, Workload::from_pod).await,
            Kind::Service => {
                get::<Service>(self.api(access).await?, name, Workload::from_service).await
            }
            Kind::ReplicationController => {
                get::<ReplicationController>(self.api(access).await?, name, Workload::from_rc).await
            }
        }
    }

    async fn snapshot(&self, access: &BayAccess, kind: Kind) -> Result<Snapshot> {
        let key = (access.bay_uuid, kind);
        let entry = self
            .snapshots
            .entry(key)
            .or_try_insert_with(async { self.take_snapshot(access, kind).await.map(Arc::new) })
            .await
            .map_err(|error| match error.as_ref() {
                Error::Kubernetes { status, message } => Error::Kubernetes {
                    status: *status,
                    message: message.clone(),
                },
                other => Error::ClusterUnavailable(other.to_string()),
            })?;
        magnum_telemetry::metrics::cache_lookup("kubernetes_snapshots", !entry.is_fresh());
        Ok(entry.into_value().as_ref().clone())
    }

    async fn cached_snapshot(&self, bay: Uuid, kind: Kind) -> Option<Snapshot> {
        let cached = self.snapshots.get(&(bay, kind)).await;
        magnum_telemetry::metrics::cache_lookup("kubernetes_snapshots", cached.is_some());
        cached.map(|snapshot| snapshot.as_ref().clone())
    }

    async fn replace(
        &self,
        access: &BayAccess,
        name: &str,
        workload: &Workload,
    ) -> Result<Workload> {
        let replaced = match workload {
            // A running pod lets little more than its images change, and the server
            // filled in much of its spec: the manifest is merged into it (as `kubectl
            // apply` would) rather than replacing it, and the server says what it refuses.
            Workload::Pod(pod) => {
                let api: Api<Pod> = self.api(access).await?;
                api.patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Strategic(pod.as_ref()),
                )
                .await
                .map(Workload::from_pod)
                .map_err(kube_error)
            }
            Workload::Service(service) => {
                replace(
                    self.api(access).await?,
                    name,
                    service.as_ref(),
                    Workload::from_service,
                )
                .await
            }
            Workload::ReplicationController(rc) => {
                replace(
                    self.api(access).await?,
                    name,
                    rc.as_ref(),
                    Workload::from_rc,
                )
                .await
            }
        };
        self.forget(access, workload.kind()).await;
        replaced
    }

    async fn scale(&self, access: &BayAccess, name: &str, replicas: i32) -> Result<Workload> {
        let api: Api<ReplicationController> = self.api(access).await?;
        let patch = serde_json::json!({"spec": {"replicas": replicas}});
        let scaled = api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map(Workload::from_rc)
            .map_err(kube_error);
        self.forget(access, Kind::ReplicationController).await;
        scaled
    }

    async fn delete(&self, access: &BayAccess, kind: Kind, name: &str) -> Result<()> {
        let deleted = match kind {
            Kind::Pod => delete::<Pod>(self.api(access).await?, name).await,
            Kind::Service => delete::<Service>(self.api(access).await?, name).await,
            Kind::ReplicationController => {
                delete::<ReplicationController>(self.api(access).await?, name).await
            }
        };
        self.forget(access, kind).await;
        deleted
    }
}

impl KubeClusters {
    /// Drops the cached snapshot after a change made here (the next list asks again).
    async fn forget(&self, access: &BayAccess, kind: Kind) {
        self.snapshots.invalidate(&(access.bay_uuid, kind)).await;
    }
}

/// A kube failure as the crate's error: the API server's answers keep their status code
/// and message; the rest means the API cannot be reached.
fn kube_error(error: kube::Error) -> Error {
    match error {
        kube::Error::Api(status) => Error::Kubernetes {
            status: status.code,
            message: status.message,
        },
        other => Error::ClusterUnavailable(other.to_string()),
    }
}
