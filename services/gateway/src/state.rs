//! What every handler shares: the backend clients (built once, cloned per request), the
//! authenticator with its token cache, the limits, and the pre-rendered OpenAPI document.

use std::sync::Arc;

use axum::http::HeaderValue;
use bytes::Bytes;
use magnum_grpc::Authenticator;
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::bay::v1::bay_model_service_client::BayModelServiceClient;
use magnum_proto::bay::v1::bay_service_client::BayServiceClient;
use magnum_proto::bay::v1::certificate_service_client::CertificateServiceClient;
use magnum_proto::bay::v1::magnum_service_service_client::MagnumServiceServiceClient;
use magnum_proto::bay::v1::node_group_service_client::NodeGroupServiceClient;
use magnum_proto::bay::v1::node_service_client::NodeServiceClient;
use magnum_proto::bay::v1::quota_service_client::QuotaServiceClient;
use magnum_proto::container::v1::container_service_client::ContainerServiceClient;
use magnum_proto::k8s::v1::coe_service_service_client::CoeServiceServiceClient;
use magnum_proto::k8s::v1::pod_service_client::PodServiceClient;
use magnum_proto::k8s::v1::replication_controller_service_client::ReplicationControllerServiceClient;

use crate::config::Config;
use crate::error::{Error, Result};

/// Shared state of the router; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    authenticator: Authenticator,
    baymodels: BayModelServiceClient<Channel>,
    bays: BayServiceClient<Channel>,
    certificates: CertificateServiceClient<Channel>,
    nodes: NodeServiceClient<Channel>,
    quotas: QuotaServiceClient<Channel>,
    node_groups: NodeGroupServiceClient<Channel>,
    magnum_services: MagnumServiceServiceClient<Channel>,
    containers: ContainerServiceClient<Channel>,
    pods: PodServiceClient<Channel>,
    coe_services: CoeServiceServiceClient<Channel>,
    rcs: ReplicationControllerServiceClient<Channel>,
    max_body_bytes: usize,
    max_limit: u32,
    openapi_json: Bytes,
    www_authenticate: Option<HeaderValue>,
}

impl AppState {
    /// Builds the clients. Channels connect lazily, so the gateway starts (and answers
    /// 503) while the services it calls are still coming up.
    pub fn new(config: &Config) -> Result<Self> {
        config.validate()?;
        let identity = magnum_grpc::client::channel(&config.auth.identity_url)?;
        let bay = magnum_grpc::client::channel(&config.bay_url)?;
        let container = magnum_grpc::client::channel(&config.container_url)?;
        let k8s = magnum_grpc::client::channel(&config.k8s_url)?;
        let openapi_json = serde_json::to_vec(&crate::openapi::document()).map_err(|error| {
            Error::Internal(format!("cannot render the OpenAPI document: {error}"))
        })?;
        Ok(Self {
            inner: Arc::new(Shared {
                authenticator: Authenticator::new(identity, &config.auth),
                baymodels: BayModelServiceClient::new(bay.clone()),
                bays: BayServiceClient::new(bay.clone()),
                certificates: CertificateServiceClient::new(bay.clone()),
                nodes: NodeServiceClient::new(bay.clone()),
                quotas: QuotaServiceClient::new(bay.clone()),
                node_groups: NodeGroupServiceClient::new(bay.clone()),
                magnum_services: MagnumServiceServiceClient::new(bay),
                containers: ContainerServiceClient::new(container),
                pods: PodServiceClient::new(k8s.clone()),
                coe_services: CoeServiceServiceClient::new(k8s.clone()),
                rcs: ReplicationControllerServiceClient::new(k8s),
                max_body_bytes: config.max_body_bytes,
                max_limit: config.max_limit,
                openapi_json: Bytes::from(openapi_json),
                www_authenticate: config
                    .www_authenticate_uri
                    .as_ref()
                    .and_then(|uri| HeaderValue::from_str(&format!("Keystone uri=\"{uri}\"")).ok()),
            }),
        })
    }

    /// The `WWW-Authenticate` value of 401 answers, if configured.
    pub fn www_authenticate(&self) -> Option<&HeaderValue> {
        self.inner.www_authenticate.as_ref()
    }

    /// Validates tokens (cached).
    pub fn authenticator(&self) -> &Authenticator {
        &self.inner.authenticator
    }

    /// A client for bay-svc's baymodels (a clone: tonic clients are cheap handles).
    pub fn baymodels(&self) -> BayModelServiceClient<Channel> {
        self.inner.baymodels.clone()
    }

    /// A client for bay-svc's bays (same channel as the baymodels).
    pub fn bays(&self) -> BayServiceClient<Channel> {
        self.inner.bays.clone()
    }

    /// A client for bay-svc's bay certificates (same channel as the baymodels).
    pub fn certificates(&self) -> CertificateServiceClient<Channel> {
        self.inner.certificates.clone()
    }

    /// A client for bay-svc's nodes (same channel as the baymodels).
    pub fn nodes(&self) -> NodeServiceClient<Channel> {
        self.inner.nodes.clone()
    }

    /// A client for bay-svc's node groups (same channel as the baymodels).
    pub fn node_groups(&self) -> NodeGroupServiceClient<Channel> {
        self.inner.node_groups.clone()
    }

    /// A client for bay-svc's quotas (same channel as the baymodels).
    pub fn quotas(&self) -> QuotaServiceClient<Channel> {
        self.inner.quotas.clone()
    }

    /// A client for bay-svc's view of the service registry (same channel as the baymodels).
    pub fn magnum_services(&self) -> MagnumServiceServiceClient<Channel> {
        self.inner.magnum_services.clone()
    }

    /// A client for container-svc's containers.
    pub fn containers(&self) -> ContainerServiceClient<Channel> {
        self.inner.containers.clone()
    }

    /// A client for k8s-svc's pods.
    pub fn pods(&self) -> PodServiceClient<Channel> {
        self.inner.pods.clone()
    }

    /// A client for k8s-svc's services (same channel as the pods).
    pub fn coe_services(&self) -> CoeServiceServiceClient<Channel> {
        self.inner.coe_services.clone()
    }

    /// A client for k8s-svc's replication controllers (same channel as the pods).
    pub fn rcs(&self) -> ReplicationControllerServiceClient<Channel> {
        self.inner.rcs.clone()
    }

    /// Largest request body accepted.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// Largest page size.
    pub fn max_limit(&self) -> u32 {
        self.inner.max_limit
    }

    /// The rendered OpenAPI document.
    pub fn openapi_json(&self) -> Bytes {
        self.inner.openapi_json.clone()
    }
}
