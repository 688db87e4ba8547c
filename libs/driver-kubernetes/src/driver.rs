//! [`KubernetesDriver`]: the [`BayDriver`] for the `kubernetes` COE.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Resource, ResourceExt};
use magnum_bay_driver::{
    BayDriver, BayRef, DriverError, Health, NodeHealth, NodeInfo, NodeRole, Provisioned,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::config::{KubernetesConfig, KubernetesConfigError};
use crate::error::{CallError, from_kube};
use crate::objects::{
    self, BAY_UUID_LABEL, NETWORK_POLICY_NAME, QUOTA_NAME, ROLE_BINDING_NAME, ROLE_NAME,
    SERVICE_ACCOUNT_NAME,
};

/// Name of the one node a kubernetes bay reports: the host cluster's API server.
pub const API_SERVER_NODE: &str = "apiserver";

/// Attempts at a get-then-write before giving up on an object others keep changing.
const MAX_WRITE_ATTEMPTS: usize = 5;
/// First and longest pause between polls while a namespace terminates.
const DELETE_POLL_START: Duration = Duration::from_millis(100);
const DELETE_POLL_MAX: Duration = Duration::from_secs(2);

/// What the driver keeps in [`Provisioned::state`]: with the token, everything a client
/// needs to reach the bay. No secrets: the token is only ever in [`Provisioned::credential`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesBayState {
    /// The bay's namespace on the host cluster.
    pub namespace: String,
    /// The host cluster's API server URL.
    pub server: String,
    /// The ServiceAccount whose token is the bay's credential.
    pub service_account: String,
    /// When the credential expires (RFC 3339), as the API server reported it.
    pub token_expires_at: Option<String>,
    /// PEM certificates of the host cluster's CA, from the driver's kubeconfig (or the
    /// in-cluster CA); empty: the system roots (or a plain-http server). Defaulted, as
    /// states stored before it was recorded lack it.
    #[serde(default)]
    pub certificate_authority_pem: Vec<String>,
    /// The driver's kubeconfig turns TLS verification off for the host cluster
    /// (`insecure-skip-tls-verify`).
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
}

/// How a client verifies the host cluster's API server, as the driver's own client does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ServerTrust {
    certificate_authority_pem: Vec<String>,
    insecure_skip_tls_verify: bool,
}

impl ServerTrust {
    fn of(config: &kube::Config) -> Self {
        Self {
            certificate_authority_pem: config
                .root_cert
                .as_deref()
                .map(der_certificates_to_pem)
                .unwrap_or_default(),
            insecure_skip_tls_verify: config.accept_invalid_certs,
        }
    }
}

/// DER certificates (as kube keeps a kubeconfig's CA) as PEM, one string each, `\n` line
/// endings (the `pem` crate's default is CRLF).
fn der_certificates_to_pem(certificates: &[Vec<u8>]) -> Vec<String> {
    let lf = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    certificates
        .iter()
        .map(|der| pem::encode_config(&pem::Pem::new("CERTIFICATE", der.as_slice()), lf))
        .collect()
}

/// The kubernetes bay driver: a bay is a namespace on a host cluster.
#[derive(Clone)]
pub struct KubernetesDriver {
    client: Client,
    /// The cluster URL without a trailing `/` (for `api_address` and messages).
    server: String,
    /// The host part of `server` (the address of the bay's one node).
    host: String,
    /// Recorded in each bay's state, for the bay's clients.
    trust: ServerTrust,
    config: KubernetesConfig,
}

impl Debug for KubernetesDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesDriver")
            .field("server", &self.server)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KubernetesDriver {
    /// Checks `config` and builds a client for the host cluster from its kubeconfig and
    /// context (without `kubeconfig`, from `$KUBECONFIG`/`~/.kube/config`, or in-cluster).
    /// Does not contact the cluster.
    pub async fn new(config: KubernetesConfig) -> Result<Self, KubernetesConfigError> {
        config.validate()?;
        // kube builds its TLS config from rustls' process-wide provider; ring is the
        // workspace's only one. A no-op when the service's main already installed it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let options = KubeConfigOptions {
            context: config.context.clone(),
            ..KubeConfigOptions::default()
        };
        let context_error = |source| KubernetesConfigError::Context {
            context: config.context.clone(),
            source,
        };
        let mut client_config = match (&config.kubeconfig, &config.context) {
            (Some(path), _) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|source| {
                    KubernetesConfigError::Kubeconfig {
                        path: path.clone(),
                        source,
                    }
                })?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(context_error)?
            }
            (None, Some(_)) => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(context_error)?,
            (None, None) => kube::Config::infer().await?,
        };
        let timeout = Some(Duration::from_secs(config.request_timeout_secs));
        client_config.connect_timeout = timeout;
        client_config.read_timeout = timeout;
        client_config.write_timeout = timeout;
        let cluster_url = client_config.cluster_url.clone();
        let trust = ServerTrust::of(&client_config);
        let client = Client::try_from(client_config)?;
        Self::with_uri(client, &cluster_url, trust, config)
    }

    /// A driver using an existing client for the cluster at `server` (tests, or a caller that
    /// builds its own client). Bays record no CA certificates and TLS verification on: the
    /// client's own TLS settings cannot be read back.
    pub fn from_client(
        client: Client,
        server: &str,
        config: KubernetesConfig,
    ) -> Result<Self, KubernetesConfigError> {
        config.validate()?;
        let uri: http::Uri = server
            .parse()
            .map_err(|_| KubernetesConfigError::ServerUrl(server.to_owned()))?;
        Self::with_uri(client, &uri, ServerTrust::default(), config)
    }

    fn with_uri(
        client: Client,
        uri: &http::Uri,
        trust: ServerTrust,
        config: KubernetesConfig,
    ) -> Result<Self, KubernetesConfigError> {
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            .ok_or_else(|| KubernetesConfigError::ServerUrl(uri.to_string()))?;
        Ok(Self {
            client,
            server: uri.to_string().trim_end_matches('/').to_owned(),
            host,
            trust,
            config,
        })
    }

    /// The host cluster's API server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The namespace a bay gets (`<namespace_prefix><uuid>`).
    pub fn namespace_name(&self, bay: &BayRef) -> String {
        objects::namespace_name(&self.config.namespace_prefix, &bay.uuid)
    }

    /// The bay's namespace: from the stored state when there is one (the prefix may have been
    /// reconfigured since), else derived from the uuid.
    fn namespace_of(&self, bay: &BayRef, current: Option<&Provisioned>) -> String {
        current
            .and_then(|p| serde_json::from_value::<KubernetesBayState>(p.state.clone()).ok())
            .map(|state| state.namespace)
            .unwrap_or_else(|| self.namespace_name(bay))
    }

    /// Runs one API call, bounded by `request_timeout_secs`.
    async fn call<T>(
        &self,
        action: &str,
        request: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, CallError> {
        let timeout = Duration::from_secs(self.config.request_timeout_secs);
        // One span per API call, so a bay's trace shows each call to the host cluster.
        let span = tracing::info_span!("kubernetes", action = %action);
        match tokio::time::timeout(timeout, request)
            .instrument(span)
            .await
        {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(from_kube(&self.server, action, error)),
            Err(_) => Err(CallError::Driver(DriverError::Unavailable(format!(
                "Kubernetes API server {} did not answer within {}s ({action})",
                self.server, self.config.request_timeout_secs
            )))),
        }
    }

    /// [`Self::call`] for calls whose every failure is final.
    async fn call_final<T>(
        &self,
        action: &str,
        request: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, DriverError> {
        self.call(action, request)
            .await
            .map_err(|e| e.into_driver_error(&self.server, action))
    }

    /// Makes `desired` exist: creates it, or brings an existing one in line with
    /// `reconcile(existing, desired)` (`Ok(None)`: it already is). Races with other writers
    /// (AlreadyExists on create, Conflict on replace) are retried from a fresh read.
    async fn ensure<K>(
        &self,
        api: &Api<K>,
        desired: &K,
        reconcile: impl Fn(&K, &K) -> Result<Option<K>, DriverError>,
    ) -> Result<K, DriverError>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
    {
        let kind = K::kind(&());
        let name = desired.name_any();
        let place = desired
            .namespace()
            .map(|ns| format!(" in namespace {ns}"))
            .unwrap_or_default();
        let what = format!("{kind} {name}{place}");
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let existing = self
                .call_final(&format!("getting {what}"), api.get_opt(&name))
                .await?;
            let Some(existing) = existing else {
                let action = format!("creating {what}");
                match self
                    .call(&action, api.create(&PostParams::default(), desired))
                    .await
                {
                    Ok(created) => {
                        tracing::debug!(object = %what, "created");
                        return Ok(created);
                    }
                    Err(e) if e.is_already_exists() => continue,
                    Err(e) => return Err(e.into_driver_error(&self.server, &action)),
                }
            };
            let Some(changed) = reconcile(&existing, desired)? else {
                return Ok(existing);
            };
            let action = format!("updating {what}");
            match self
                .call(
                    &action,
                    api.replace(&name, &PostParams::default(), &changed),
                )
                .await
            {
                Ok(replaced) => {
                    tracing::debug!(object = %what, "updated");
                    return Ok(replaced);
                }
                Err(e) if e.is_conflict() || e.is_not_found() => continue,
                Err(e) => return Err(e.into_driver_error(&self.server, &action)),
            }
        }
        Err(DriverError::Failed(format!(
            "{what} kept changing while the driver was writing it; try again"
        )))
    }

    fn namespaced<K>(&self, namespace: &str) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// The namespace if it exists, after checking it is this bay's.
    async fn find_namespace(
        &self,
        bay: &BayRef,
        name: &str,
    ) -> Result<Option<Namespace>, DriverError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let found = self
            .call_final(&format!("getting namespace {name}"), api.get_opt(name))
            .await?;
        match found {
            Some(ns) => {
                check_owner(bay, &ns)?;
                Ok(Some(ns))
            }
            None => Ok(None),
        }
    }

    async fn ensure_namespace(&self, bay: &BayRef, name: &str) -> Result<(), DriverError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        self.ensure(&api, &objects::namespace(bay, name), |existing, desired| {
            check_owner(bay, existing)?;
            if is_terminating(existing) {
                return Err(DriverError::Failed(format!(
                    "namespace {name} is being deleted; create the bay again once it is gone"
                )));
            }
            Ok(with_metadata_of(existing, desired))
        })
        .await?;
        Ok(())
    }

    async fn ensure_quota(
        &self,
        bay: &BayRef,
        namespace: &str,
        node_count: u32,
    ) -> Result<(), DriverError> {
        let hard = objects::quota_hard(&self.config.quota_per_node, node_count).map_err(
            |(resource, error)| DriverError::Invalid(format!("quota {resource}: {error}")),
        )?;
        let desired = objects::resource_quota(bay, namespace, hard);
        self.ensure(
            &self.namespaced(namespace),
            &desired,
            |existing, desired| {
                let hard = |q: &ResourceQuota| q.spec.as_ref().and_then(|s| s.hard.clone());
                if hard(existing) == hard(desired) {
                    return Ok(with_metadata_of(existing, desired));
                }
                let mut changed =
                    with_metadata_of(existing, desired).unwrap_or_else(|| existing.clone());
                changed.spec = desired.spec.clone();
                Ok(Some(changed))
            },
        )
        .await?;
        Ok(())
    }

    /// Everything in the namespace (quota, isolation, account and its rights).
    async fn ensure_contents(&self, bay: &BayRef, namespace: &str) -> Result<(), DriverError> {
        self.ensure_quota(bay, namespace, bay.node_count).await?;
        self.ensure(
            &self.namespaced(namespace),
            &objects::network_policy(bay, namespace),
            |existing: &NetworkPolicy, desired| {
                let mut changed = with_metadata_of(existing, desired);
                if existing.spec != desired.spec {
                    let mut c = changed.unwrap_or_else(|| existing.clone());
                    c.spec = desired.spec.clone();
                    changed = Some(c);
                }
                Ok(changed)
            },
        )
        .await?;
        self.ensure(
            &self.namespaced(namespace),
            &objects::service_account(bay, namespace),
            |existing: &ServiceAccount, desired| Ok(with_metadata_of(existing, desired)),
        )
        .await?;
        self.ensure(
            &self.namespaced(namespace),
            &objects::role(bay, namespace),
            |existing: &Role, desired| {
                let mut changed = with_metadata_of(existing, desired);
                if existing.rules != desired.rules {
                    let mut c = changed.unwrap_or_else(|| existing.clone());
                    c.rules = desired.rules.clone();
                    changed = Some(c);
                }
                Ok(changed)
            },
        )
        .await?;
        self.ensure(
            &self.namespaced(namespace),
            &objects::role_binding(bay, namespace),
            |existing: &RoleBinding, desired| {
                // roleRef is immutable; ours never changes, so a different one was made by hand.
                if existing.role_ref != desired.role_ref {
                    return Err(DriverError::Failed(format!(
                        "RoleBinding {ROLE_BINDING_NAME} in namespace {namespace} refers to {} {}, not Role {ROLE_NAME}; delete it and try again",
                        existing.role_ref.kind, existing.role_ref.name
                    )));
                }
                let mut changed = with_metadata_of(existing, desired);
                if existing.subjects != desired.subjects {
                    let mut c = changed.unwrap_or_else(|| existing.clone());
                    c.subjects = desired.subjects.clone();
                    changed = Some(c);
                }
                Ok(changed)
            },
        )
        .await?;
        Ok(())
    }

    /// A fresh token for the bay's ServiceAccount, and when it expires.
    async fn request_token(
        &self,
        namespace: &str,
    ) -> Result<(String, Option<String>), DriverError> {
        let api: Api<ServiceAccount> = self.namespaced(namespace);
        let request = TokenRequest {
            spec: TokenRequestSpec {
                expiration_seconds: Some(self.config.token_expiration_secs),
                ..TokenRequestSpec::default()
            },
            ..TokenRequest::default()
        };
        let action = format!(
            "requesting a token for ServiceAccount {SERVICE_ACCOUNT_NAME} in namespace {namespace}"
        );
        let issued = self
            .call_final(
                &action,
                api.create_token_request(SERVICE_ACCOUNT_NAME, &PostParams::default(), &request),
            )
            .await?;
        match issued.status {
            Some(status) if !status.token.is_empty() => Ok((
                status.token,
                Some(status.expiration_timestamp.0.to_string()),
            )),
            _ => Err(DriverError::Failed(format!(
                "{action}: the API server answered without a token"
            ))),
        }
    }

    fn provisioned(
        &self,
        namespace: String,
        credential: Option<Vec<u8>>,
        token_expires_at: Option<String>,
    ) -> Result<Provisioned, DriverError> {
        let state = KubernetesBayState {
            namespace,
            server: self.server.clone(),
            service_account: SERVICE_ACCOUNT_NAME.to_owned(),
            token_expires_at,
            certificate_authority_pem: self.trust.certificate_authority_pem.clone(),
            insecure_skip_tls_verify: self.trust.insecure_skip_tls_verify,
        };
        let state = serde_json::to_value(&state)
            .map_err(|e| DriverError::Failed(format!("encoding the bay's state: {e}")))?;
        Ok(Provisioned {
            api_address: Some(self.server.clone()),
            nodes: vec![NodeInfo {
                name: API_SERVER_NODE.to_owned(),
                address: self.host.clone(),
                role: NodeRole::Master,
            }],
            state,
            credential,
        })
    }

    /// Why the bay is unhealthy, or `None` when it is healthy.
    async fn find_problem(&self, bay: &BayRef, namespace: &str) -> Option<String> {
        let ns = match self.find_namespace(bay, namespace).await {
            Ok(Some(ns)) => ns,
            Ok(None) => return Some(format!("namespace {namespace} does not exist")),
            Err(e) => return Some(e.message().to_owned()),
        };
        let phase = ns.status.and_then(|s| s.phase).unwrap_or_default();
        if phase != "Active" {
            return Some(format!("namespace {namespace} is {phase}, not Active"));
        }
        let checks = [
            self.missing::<ServiceAccount>(namespace, SERVICE_ACCOUNT_NAME)
                .await,
            self.missing::<Role>(namespace, ROLE_NAME).await,
            self.missing::<RoleBinding>(namespace, ROLE_BINDING_NAME)
                .await,
            self.missing::<ResourceQuota>(namespace, QUOTA_NAME).await,
            self.missing::<NetworkPolicy>(namespace, NETWORK_POLICY_NAME)
                .await,
        ];
        checks.into_iter().find_map(|check| match check {
            Ok(problem) => problem,
            Err(e) => Some(e.message().to_owned()),
        })
    }

    /// `Some("<Kind> <name> is missing ...")` when the object does not exist.
    async fn missing<K>(&self, namespace: &str, name: &str) -> Result<Option<String>, DriverError>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let kind = K::kind(&());
        let api: Api<K> = self.namespaced(namespace);
        let found = self
            .call_final(
                &format!("getting {kind} {name} in namespace {namespace}"),
                api.get_opt(name),
            )
            .await?;
        Ok(found
            .is_none()
            .then(|| format!("{kind} {name} is missing from namespace {namespace}")))
    }

    /// Polls until the namespace is gone, for at most `delete_wait_secs`.
    async fn wait_until_gone(&self, name: &str) -> Result<(), DriverError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let deadline =
            tokio::time::Instant::now() + Duration::from_secs(self.config.delete_wait_secs);
        let mut pause = DELETE_POLL_START;
        loop {
            let found = self
                .call_final(&format!("getting namespace {name}"), api.get_opt(name))
                .await?;
            if found.is_none() {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                // The cluster finishes the deletion in the background; the bay is gone for us.
                tracing::warn!(
                    namespace = name,
                    waited_secs = self.config.delete_wait_secs,
                    "namespace still terminating; leaving it to the cluster"
                );
                return Ok(());
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(DELETE_POLL_MAX);
        }
    }
}

/// Refuses a namespace that is not this bay's (another bay's, or made by hand).
fn check_owner(bay: &BayRef, ns: &Namespace) -> Result<(), DriverError> {
    let uuid = bay.uuid.hyphenated().to_string();
    if ns.labels().get(BAY_UUID_LABEL) == Some(&uuid) {
        return Ok(());
    }
    Err(DriverError::Invalid(format!(
        "namespace {} exists but does not belong to bay {uuid} (its label {BAY_UUID_LABEL} is not the bay's uuid); the driver leaves it alone",
        ns.name_any()
    )))
}

fn is_terminating(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating")
}

/// `existing` with `desired`'s labels and annotations added, when any are missing.
fn with_metadata_of<K: Resource + Clone>(existing: &K, desired: &K) -> Option<K> {
    if objects::has_metadata_of(existing.meta(), desired.meta()) {
        return None;
    }
    let mut changed = existing.clone();
    objects::merge_metadata(changed.meta_mut(), desired.meta());
    Some(changed)
}

#[async_trait::async_trait]
impl BayDriver for KubernetesDriver {
    fn coe(&self) -> &'static str {
        "kubernetes"
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn create(&self, bay: &BayRef) -> Result<Provisioned, DriverError> {
        let namespace = self.namespace_name(bay);
        self.ensure_namespace(bay, &namespace).await?;
        fail::fail_point!("kubernetes-create-after-namespace", |_| Err(
            DriverError::Failed("failpoint kubernetes-create-after-namespace".to_owned())
        ));
        self.ensure_contents(bay, &namespace).await?;
        let (token, expires_at) = self.request_token(&namespace).await?;
        tracing::info!(namespace = %namespace, "bay namespace ready");
        self.provisioned(namespace, Some(token.into_bytes()), expires_at)
    }

    /// Changes the quota to the new node count. The returned `credential` is `None`: the
    /// token issued at create is unchanged.
    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn resize(
        &self,
        bay: &BayRef,
        current: &Provisioned,
    ) -> Result<Provisioned, DriverError> {
        let namespace = self.namespace_of(bay, Some(current));
        let Some(ns) = self.find_namespace(bay, &namespace).await? else {
            return Err(DriverError::Failed(format!(
                "namespace {namespace} of bay {} does not exist",
                bay.uuid
            )));
        };
        if is_terminating(&ns) {
            return Err(DriverError::Failed(format!(
                "namespace {namespace} is being deleted"
            )));
        }
        self.ensure_quota(bay, &namespace, bay.node_count).await?;
        let expires_at = serde_json::from_value::<KubernetesBayState>(current.state.clone())
            .ok()
            .and_then(|state| state.token_expires_at);
        tracing::info!(namespace = %namespace, node_count = bay.node_count, "bay quota resized");
        self.provisioned(namespace, None, expires_at)
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn delete(&self, bay: &BayRef, current: Option<&Provisioned>) -> Result<(), DriverError> {
        let namespace = self.namespace_of(bay, current);
        let Some(ns) = self.find_namespace(bay, &namespace).await? else {
            return Ok(());
        };
        if !is_terminating(&ns) {
            let api: Api<Namespace> = Api::all(self.client.clone());
            // The uid precondition keeps a namespace recreated meanwhile from being deleted
            // on the strength of the ownership check above.
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: ns.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            let action = format!("deleting namespace {namespace}");
            match self.call(&action, api.delete(&namespace, &params)).await {
                Ok(_) => tracing::info!(namespace = %namespace, "bay namespace deleted"),
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e.into_driver_error(&self.server, &action)),
            }
        }
        self.wait_until_gone(&namespace).await
    }

    #[tracing::instrument(skip_all, fields(bay = %bay.uuid))]
    async fn health(&self, bay: &BayRef, current: &Provisioned) -> Result<Health, DriverError> {
        let namespace = self.namespace_of(bay, Some(current));
        let reason = self.find_problem(bay, &namespace).await;
        Ok(Health {
            nodes: vec![NodeHealth {
                name: API_SERVER_NODE.to_owned(),
                healthy: reason.is_none(),
                reason,
            }],
        })
    }
}

#[cfg(test)]
#[path = "driver_test.rs"]
mod tests;
