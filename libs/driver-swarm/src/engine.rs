//! One pool entry: a lazily connected Docker client plus the few calls the driver makes, each
//! bounded in time and with its errors turned into [`DriverError`]s that name the engine.

use std::collections::{HashMap, HashSet};
use std::error::Error as _;
use std::future::Future;
use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::models::{Network, NetworkCreateRequest};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};
use futures::FutureExt as _;
use http_body_util::BodyExt as _;
use magnum_bay_driver::DriverError;
use tokio::sync::OnceCell;
use tracing::Instrument;
use uuid::Uuid;

use crate::config::{EngineConfig, EngineEndpoint};
use crate::labels;

/// What an engine holds that placement needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EngineSurvey {
    /// Distinct other bays whose networks were placed through this pool entry.
    pub(crate) other_bays: usize,
    /// Pool entries (`magnum.engine` labels) this bay's networks on this engine were placed through.
    pub(crate) bay_placed_through: Vec<String>,
}

/// The bay's network on one engine, as found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BayNetwork {
    pub(crate) id: String,
    pub(crate) name: String,
    /// The bridge's gateway IP (the engine host as seen from the bay's containers).
    pub(crate) gateway: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) config: EngineConfig,
    endpoint: Option<EngineEndpoint>,
    connect_timeout: Duration,
    request_timeout: Duration,
    /// Set on first successful contact; a failed contact is retried on the next call.
    client: OnceCell<Docker>,
}

/// The bay's network name on every engine.
pub(crate) fn network_name(bay: Uuid) -> String {
    format!("magnum-bay-{bay}")
}

impl Engine {
    pub(crate) fn new(
        config: EngineConfig,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Self {
        Self {
            endpoint: EngineEndpoint::parse(&config.url),
            config,
            connect_timeout,
            request_timeout,
            client: OnceCell::new(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    /// The address users reach this node at, unless the bay network's gateway must stand in.
    pub(crate) fn configured_address(&self) -> Option<String> {
        self.config
            .address
            .clone()
            .or_else(|| match &self.endpoint {
                Some(EngineEndpoint::Tcp { host, .. }) => Some(host.clone()),
                _ => None,
            })
    }

    async fn client(&self) -> Result<&Docker, DriverError> {
        self.client
            .get_or_try_init(|| async {
                let docker = self
                    .connect()
                    .map_err(|err| self.unreachable(&describe(&err)))?;
                // Recent bollard speaks a newer API than older engines accept (e.g. 1.41 for
                // Docker 20.10) and does not step down by itself.
                match tokio::time::timeout(self.connect_timeout, docker.negotiate_version()).await {
                    Ok(Ok(docker)) => Ok(docker),
                    Ok(Err(err)) => Err(self.unreachable(&describe(&err))),
                    Err(_) => Err(self.unreachable(&format!(
                        "no answer within {}s",
                        self.connect_timeout.as_secs()
                    ))),
                }
            })
            .await
    }

    fn connect(&self) -> Result<Docker, DockerError> {
        let timeout = self.request_timeout.as_secs();
        let docker = match (&self.endpoint, &self.config.tls) {
            (Some(EngineEndpoint::Unix(path)), _) => {
                Docker::connect_with_unix(path, timeout, API_DEFAULT_VERSION)?
            }
            (Some(EngineEndpoint::Tcp { authority, .. }), None) => {
                Docker::connect_with_http(authority, timeout, API_DEFAULT_VERSION)?
            }
            (Some(EngineEndpoint::Tcp { authority, .. }), Some(tls)) => {
                // rustls needs a process-wide provider when more than one could be built in;
                // ring is the only one this workspace uses. Already installed is fine.
                let _ = rustls::crypto::ring::default_provider().install_default();
                Docker::connect_with_ssl(
                    authority,
                    &tls.key_file,
                    &tls.cert_file,
                    &tls.ca_file,
                    timeout,
                    API_DEFAULT_VERSION,
                )?
            }
            (None, _) => {
                return Err(DockerError::UnsupportedURISchemeError {
                    uri: self.config.url.clone(),
                });
            }
        };
        Ok(docker.with_request_modifier(with_check_duplicate))
    }

    /// Runs one Docker call within the request timeout, in a `docker` span (so a bay's
    /// trace shows each call to its engines).
    async fn bounded<T>(
        &self,
        action: &'static str,
        call: impl Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        let span = tracing::info_span!("docker", engine = %self.config.name, action);
        tokio::time::timeout(self.request_timeout, call)
            .instrument(span)
            .await
            .unwrap_or(Err(DockerError::RequestTimeoutError))
    }

    fn unreachable(&self, err: &dyn std::fmt::Display) -> DriverError {
        DriverError::Unavailable(format!(
            "Docker engine {} ({}) is unreachable: {err}",
            self.config.name, self.config.url
        ))
    }

    fn failed(&self, action: &str, err: DockerError) -> DriverError {
        let name = &self.config.name;
        match err {
            DockerError::DockerResponseServerError {
                status_code,
                message,
            } => match status_code {
                400 => DriverError::Invalid(format!(
                    "Docker engine {name} refused to {action}: {message}"
                )),
                401..=499 => DriverError::Failed(format!(
                    "Docker engine {name} refused to {action}: {message}"
                )),
                _ => DriverError::Unavailable(format!(
                    "Docker engine {name} failed to {action}: {message}"
                )),
            },
            DockerError::RequestTimeoutError => DriverError::Unavailable(format!(
                "Docker engine {name} ({}) did not {action} within {}s",
                self.config.url,
                self.request_timeout.as_secs()
            )),
            DockerError::JsonDataError { .. } | DockerError::JsonSerdeError { .. } => {
                DriverError::Failed(format!(
                    "Docker engine {name} answered unexpectedly to {action}: {}",
                    describe(&err)
                ))
            }
            other => self.unreachable(&describe(&other)),
        }
    }

    /// Checks that the engine answers.
    pub(crate) async fn ping(&self) -> Result<(), DriverError> {
        let docker = self.client().await?;
        match tokio::time::timeout(self.connect_timeout, docker.ping()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(self.failed("answer a ping", err)),
            Err(_) => Err(self.unreachable(&format!(
                "no answer to a ping within {}s",
                self.connect_timeout.as_secs()
            ))),
        }
    }

    async fn networks_labelled(&self, label: String) -> Result<Vec<Network>, DriverError> {
        let docker = self.client().await?;
        let options = ListNetworksOptionsBuilder::new()
            .filters(&HashMap::from([("label", vec![label])]))
            .build();
        self.bounded("list networks", docker.list_networks(Some(options)))
            .await
            .map_err(|err| self.failed("list networks", err))
    }

    async fn bay_networks(&self, bay: Uuid) -> Result<Vec<Network>, DriverError> {
        self.networks_labelled(format!("{}={bay}", labels::BAY_UUID))
            .await
    }

    /// Counts the bays placed through this entry and finds earlier placements of `bay`.
    pub(crate) async fn survey(&self, bay: Uuid) -> Result<EngineSurvey, DriverError> {
        let managed = self
            .networks_labelled(format!("{}=true", labels::MANAGED))
            .await?;
        let bay = bay.to_string();
        let mut other_bays = HashSet::new();
        let mut bay_placed_through = Vec::new();
        for network in &managed {
            let Some(network_labels) = &network.labels else {
                continue;
            };
            let (Some(bay_label), Some(engine_label)) = (
                network_labels.get(labels::BAY_UUID),
                network_labels.get(labels::ENGINE),
            ) else {
                continue;
            };
            if *bay_label == bay {
                bay_placed_through.push(engine_label.clone());
            } else if *engine_label == self.config.name {
                other_bays.insert(bay_label.as_str());
            }
        }
        Ok(EngineSurvey {
            other_bays: other_bays.len(),
            bay_placed_through,
        })
    }

    /// The bay's network on this engine, if it exists (the oldest, should a pre-1.44 engine
    /// ever have let a duplicate through).
    pub(crate) async fn find_bay_network(
        &self,
        bay: Uuid,
    ) -> Result<Option<BayNetwork>, DriverError> {
        let name = network_name(bay);
        let mut found: Vec<Network> = self
            .bay_networks(bay)
            .await?
            .into_iter()
            .filter(|network| network.name.as_deref() == Some(name.as_str()))
            .collect();
        found.sort_by(|a, b| {
            (a.created.as_ref().map(ToString::to_string), &a.id)
                .cmp(&(b.created.as_ref().map(ToString::to_string), &b.id))
        });
        Ok(found.into_iter().next().and_then(|network| {
            let gateway = network
                .ipam
                .as_ref()
                .and_then(|ipam| ipam.config.as_ref())
                .and_then(|configs| configs.iter().find_map(|config| config.gateway.clone()));
            Some(BayNetwork {
                id: network.id?,
                name: network.name?,
                gateway,
            })
        }))
    }

    /// Finds the bay's network on this engine, or makes it labelled as placed through this entry.
    pub(crate) async fn ensure_bay_network(
        &self,
        bay: Uuid,
        project_id: &str,
    ) -> Result<BayNetwork, DriverError> {
        if let Some(network) = self.find_bay_network(bay).await? {
            return Ok(network);
        }
        let docker = self.client().await?;
        let request = NetworkCreateRequest {
            name: network_name(bay),
            driver: Some("bridge".to_owned()),
            labels: Some(HashMap::from([
                (labels::MANAGED.to_owned(), "true".to_owned()),
                (labels::BAY_UUID.to_owned(), bay.to_string()),
                (labels::PROJECT.to_owned(), project_id.to_owned()),
                (labels::ENGINE.to_owned(), self.config.name.clone()),
            ])),
            ..Default::default()
        };
        match self
            .bounded("create network", docker.create_network(request))
            .await
        {
            Ok(_) => {
                tracing::info!(engine = %self.config.name, network = %network_name(bay), "created bay network");
                fail::fail_point!("swarm-create-after-network");
            }
            // Made meanwhile by a concurrent attempt: use that one.
            Err(DockerError::DockerResponseServerError {
                status_code: 409, ..
            }) => {}
            Err(err) => return Err(self.failed("create a network", err)),
        }
        self.find_bay_network(bay).await?.ok_or_else(|| {
            DriverError::Failed(format!(
                "network {} vanished from Docker engine {} right after it was created",
                network_name(bay),
                self.config.name
            ))
        })
    }

    /// Whether the bay's network (by id, else by name) is still on this engine.
    pub(crate) async fn has_bay_network(
        &self,
        bay: Uuid,
        network_id: &str,
    ) -> Result<bool, DriverError> {
        let name = network_name(bay);
        Ok(self.bay_networks(bay).await?.iter().any(|network| {
            network.id.as_deref() == Some(network_id) || network.name.as_deref() == Some(&name)
        }))
    }

    /// Force-removes the bay's containers, only those on `network` when given.
    pub(crate) async fn remove_bay_containers(
        &self,
        bay: Uuid,
        network: Option<&str>,
    ) -> Result<(), DriverError> {
        let docker = self.client().await?;
        let mut filters = HashMap::from([("label", vec![format!("{}={bay}", labels::BAY_UUID)])]);
        if let Some(network) = network {
            filters.insert("network", vec![network.to_owned()]);
        }
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let containers = self
            .bounded("list containers", docker.list_containers(Some(options)))
            .await
            .map_err(|err| self.failed("list containers", err))?;
        for id in containers.into_iter().filter_map(|container| container.id) {
            let options = RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            match self
                .bounded(
                    "remove container",
                    docker.remove_container(&id, Some(options)),
                )
                .await
            {
                // Gone already, or being removed by a concurrent call.
                Ok(())
                | Err(DockerError::DockerResponseServerError {
                    status_code: 404 | 409,
                    ..
                }) => {}
                Err(err) => return Err(self.failed(&format!("remove container {id}"), err)),
            }
        }
        Ok(())
    }

    /// Removes a network; already gone counts as removed.
    pub(crate) async fn remove_network(&self, network: &str) -> Result<(), DriverError> {
        let docker = self.client().await?;
        match self
            .bounded("remove network", docker.remove_network(network))
            .await
        {
            Ok(())
            | Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(err) => Err(self.failed(&format!("remove network {network}"), err)),
        }
    }

    /// Removes every container, then every network, labelled with the bay's uuid.
    pub(crate) async fn purge_bay(&self, bay: Uuid) -> Result<(), DriverError> {
        self.remove_bay_containers(bay, None).await?;
        for network in self.bay_networks(bay).await? {
            if let Some(id) = network.id {
                self.remove_network(&id).await?;
            }
        }
        Ok(())
    }
}

/// A Docker client for one pool entry, connected and with its API version negotiated
/// (older engines, e.g. Docker 20.10 = API 1.41, refuse the newer default), for other
/// services that work on the bay's engines (container-svc). `connect_timeout` bounds the
/// first contact, `request_timeout` every later call of the client.
pub async fn connect_engine(
    engine: &EngineConfig,
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<Docker, DriverError> {
    let engine = Engine::new(engine.clone(), connect_timeout, request_timeout);
    engine.client().await.cloned()
}

/// Engines before API 1.44 create a second network of the same name unless the request says
/// `CheckDuplicate`; bollard's request type dropped that field, so add it to the JSON body.
fn with_check_duplicate(request: BollardRequest) -> BollardRequest {
    if request.method() != http::Method::POST || !request.uri().path().ends_with("/networks/create")
    {
        return request;
    }
    let (parts, body) = request.into_parts();
    // The body is an in-memory buffer, so it is ready at once.
    let bytes = match body.collect().now_or_never() {
        Some(Ok(collected)) => collected.to_bytes(),
        _ => bytes::Bytes::new(),
    };
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.insert("CheckDuplicate".to_owned(), serde_json::Value::Bool(true));
            serde_json::to_vec(&fields).map_or(bytes, bytes::Bytes::from)
        }
        _ => bytes,
    };
    http::Request::from_parts(parts, bollard::body_full(bytes))
}

/// An error with its causes, which bollard's own messages leave out (e.g. "connection refused").
fn describe(err: &DockerError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[path = "engine_test.rs"]
mod tests;
