//! The bay's Docker engines: one lazily connected client per pool entry, and the container
//! calls the use cases make, each bounded in time, with Docker's errors turned into the
//! crate's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, ContainerSummaryStateEnum, ExecConfig,
    HostConfig,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, LogsOptions, RemoveContainerOptions,
    RestartContainerOptions, StopContainerOptions,
};
use chrono::{DateTime, SubsecRound as _, Utc};
use futures::StreamExt as _;
use magnum_driver_swarm::{EngineConfig, SwarmConfig};
use moka::future::Cache;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::domain::container::{self, Container, EngineState};
use crate::error::{Error, Result};

/// Label of a Docker container: the container record's uuid.
pub const LABEL_CONTAINER: &str = "magnum.container.uuid";
/// Label of a Docker container: its bay (the swarm driver removes them with the bay).
pub const LABEL_BAY: &str = "magnum.bay.uuid";
/// Label of a Docker container: its project.
pub const LABEL_PROJECT: &str = "magnum.project";

/// What a Docker container is made from.
#[derive(Debug, Clone)]
pub struct CreateSpec {
    pub memory_bytes: Option<i64>,
    pub cmd: Option<Vec<String>>,
    pub network: String,
}

/// What one engine said about every container of ours on it, and when it was asked.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Taken before the question was sent: a record changed later is newer than this.
    pub taken_at: DateTime<Utc>,
    pub states: HashMap<Uuid, EngineState>,
}

/// The engine pool's clients.
pub struct Engines {
    pool: HashMap<String, EngineConfig>,
    clients: Mutex<HashMap<String, Docker>>,
    connect_timeout: Duration,
    request_timeout: Duration,
    /// Per engine, at most `status_max_age` old: lists cost one Docker call per engine.
    snapshots: Cache<String, Arc<Snapshot>>,
}

impl Engines {
    pub fn new(swarm: &SwarmConfig, request_timeout: Duration, status_max_age: Duration) -> Self {
        Self {
            snapshots: Cache::builder()
                .max_capacity(swarm.engines.len().max(1) as u64)
                .time_to_live(status_max_age)
                .build(),
            pool: swarm
                .engines
                .iter()
                .map(|engine| (engine.name.clone(), engine.clone()))
                .collect(),
            clients: Mutex::new(HashMap::new()),
            connect_timeout: Duration::from_secs(swarm.connect_timeout_secs.max(1)),
            request_timeout,
        }
    }

    /// The client of pool entry `node`, connecting on first use.
    async fn client(&self, node: &str) -> Result<Docker> {
        if let Some(client) = self.clients.lock().await.get(node) {
            return Ok(client.clone());
        }
        let config = self
            .pool
            .get(node)
            .ok_or_else(|| Error::UnknownEngine(node.to_owned()))?;
        let client =
            magnum_driver_swarm::connect_engine(config, self.connect_timeout, self.request_timeout)
                .await
                .map_err(|error| Error::EngineUnavailable(error.to_string()))?;
        self.clients
            .lock()
            .await
            .insert(node.to_owned(), client.clone());
        Ok(client)
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        tokio::time::timeout(self.request_timeout, call)
            .await
            .unwrap_or(Err(DockerError::RequestTimeoutError))
    }

    fn host<'a>(&self, container: &'a Container) -> Result<&'a str> {
        container
            .host
            .as_deref()
            .ok_or_else(|| Error::EngineFailed(format!("container {} has no host", container.uuid)))
    }

    /// The id of the Docker container labelled as `container`'s on `node`, if any.
    pub async fn find(&self, node: &str, container: &Container) -> Result<Option<String>> {
        let docker = self.client(node).await?;
        let filters = HashMap::from([(
            "label".to_owned(),
            vec![format!("{LABEL_CONTAINER}={}", container.uuid)],
        )]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..ListContainersOptions::default()
        };
        let found = self
            .bounded(docker.list_containers(Some(options)))
            .await
            .map_err(|error| failed(node, "list containers", error))?;
        Ok(found.into_iter().find_map(|summary| summary.id))
    }

    /// The state of every container of ours on `node`, at most `status_max_age` old (one
    /// question per engine however many ask at once).
    pub async fn snapshot(&self, node: &str) -> Result<Arc<Snapshot>> {
        let entry = self
            .snapshots
            .entry(node.to_owned())
            .or_try_insert_with(async { self.take_snapshot(node).await.map(Arc::new) })
            .await
            .map_err(|error| match error.as_ref() {
                Error::UnknownEngine(node) => Error::UnknownEngine(node.clone()),
                other => Error::EngineUnavailable(other.to_string()),
            })?;
        magnum_telemetry::metrics::cache_lookup("engine_snapshots", !entry.is_fresh());
        Ok(entry.into_value())
    }

    async fn take_snapshot(&self, node: &str) -> Result<Snapshot> {
        let taken_at = Utc::now().trunc_subsecs(6);
        let docker = self.client(node).await?;
        let filters = HashMap::from([("label".to_owned(), vec![LABEL_CONTAINER.to_owned()])]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..ListContainersOptions::default()
        };
        let listed = self
            .bounded(docker.list_containers(Some(options)))
            .await
            .map_err(|error| failed(node, "list containers", error))?;
        let states = listed
            .into_iter()
            .filter_map(|summary| {
                let uuid = summary
                    .labels
                    .as_ref()
                    .and_then(|labels| labels.get(LABEL_CONTAINER))
                    .and_then(|value| Uuid::parse_str(value).ok())?;
                let state = match summary.state {
                    Some(ContainerSummaryStateEnum::PAUSED) => EngineState::Paused,
                    Some(
                        ContainerSummaryStateEnum::RUNNING
                        | ContainerSummaryStateEnum::RESTARTING
                        | ContainerSummaryStateEnum::STOPPING,
                    ) => EngineState::Running,
                    _ => EngineState::Stopped,
                };
                Some((uuid, state))
            })
            .collect();
        Ok(Snapshot { taken_at, states })
    }

    /// Creates the Docker container of `container` on `node` (never pulling its image).
    pub async fn create(&self, node: &str, container: &Container, spec: CreateSpec) -> Result<()> {
        let docker = self.client(node).await?;
        let labels = HashMap::from([
            (LABEL_CONTAINER.to_owned(), container.uuid.to_string()),
            (LABEL_BAY.to_owned(), container.bay_uuid.to_string()),
            (LABEL_PROJECT.to_owned(), container.project_id.clone()),
        ]);
        let env: Vec<String> = container
            .environment
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        let body = ContainerCreateBody {
            image: Some(container.image.clone()),
            hostname: Some(container.uuid.to_string()),
            cmd: spec.cmd,
            env: (!env.is_empty()).then_some(env),
            labels: Some(labels),
            host_config: Some(HostConfig {
                memory: spec.memory_bytes,
                network_mode: Some(spec.network),
                init: Some(true),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptions {
            name: Some(container.docker_name()),
            ..CreateContainerOptions::default()
        };
        match self
            .bounded(docker.create_container(Some(options), body))
            .await
        {
            Ok(_) => Ok(()),
            Err(DockerError::DockerResponseServerError {
                status_code: 404,
                message,
            }) if message.contains("image") => Err(Error::ImageNotFound(container.image.clone())),
            Err(error) => Err(failed(node, "create the container", error)),
        }
    }

    /// What the engine says about the container.
    pub async fn state(&self, container: &Container) -> Result<EngineState> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        match self
            .bounded(docker.inspect_container(&container.docker_name(), None))
            .await
        {
            Ok(inspected) => {
                let state = inspected.state.unwrap_or_default();
                Ok(match state.status {
                    Some(ContainerStateStatusEnum::PAUSED) => EngineState::Paused,
                    Some(
                        ContainerStateStatusEnum::RUNNING | ContainerStateStatusEnum::RESTARTING,
                    ) => EngineState::Running,
                    _ if state.paused == Some(true) => EngineState::Paused,
                    _ if state.running == Some(true) => EngineState::Running,
                    _ => EngineState::Stopped,
                })
            }
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(EngineState::Missing),
            Err(error) => Err(failed(node, "inspect the container", error)),
        }
    }

    pub async fn start(&self, container: &Container) -> Result<()> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        self.bounded(docker.start_container(&container.docker_name(), None))
            .await
            .map_err(|error| failed(node, "start the container", error))
    }

    pub async fn stop(&self, container: &Container, timeout_secs: u32) -> Result<()> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        let options = StopContainerOptions {
            t: Some(i32::try_from(timeout_secs).unwrap_or(i32::MAX)),
            ..StopContainerOptions::default()
        };
        // Docker itself waits up to `t` before killing: allow for it.
        let name = container.docker_name();
        let call = docker.stop_container(&name, Some(options));
        tokio::time::timeout(
            self.request_timeout + Duration::from_secs(u64::from(timeout_secs)),
            call,
        )
        .await
        .unwrap_or(Err(DockerError::RequestTimeoutError))
        .map_err(|error| failed(node, "stop the container", error))
    }

    pub async fn restart(&self, container: &Container, timeout_secs: u32) -> Result<()> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        let options = RestartContainerOptions {
            t: Some(i32::try_from(timeout_secs).unwrap_or(i32::MAX)),
            ..RestartContainerOptions::default()
        };
        let name = container.docker_name();
        let call = docker.restart_container(&name, Some(options));
        tokio::time::timeout(
            self.request_timeout + Duration::from_secs(u64::from(timeout_secs)),
            call,
        )
        .await
        .unwrap_or(Err(DockerError::RequestTimeoutError))
        .map_err(|error| failed(node, "restart the container", error))
    }

    pub async fn pause(&self, container: &Container) -> Result<()> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        self.bounded(docker.pause_container(&container.docker_name()))
            .await
            .map_err(|error| failed(node, "pause the container", error))
    }

    pub async fn unpause(&self, container: &Container) -> Result<()> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        self.bounded(docker.unpause_container(&container.docker_name()))
            .await
            .map_err(|error| failed(node, "unpause the container", error))
    }

    /// Removes the Docker container (killing it when `force`); already gone is fine.
    pub async fn remove(&self, container: &Container, force: bool) -> Result<()> {
        let Some(node) = container.host.as_deref() else {
            return Ok(());
        };
        let docker = self.client(node).await?;
        let options = RemoveContainerOptions {
            force,
            v: true,
            ..RemoveContainerOptions::default()
        };
        match self
            .bounded(docker.remove_container(&container.docker_name(), Some(options)))
            .await
        {
            Ok(()) => Ok(()),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(error) => Err(failed(node, "remove the container", error)),
        }
    }

    /// The container's stdout and stderr (the last `tail` lines, 0 = all), keeping the
    /// last `max_bytes`; true when cut.
    pub async fn logs(
        &self,
        container: &Container,
        tail: u32,
        timestamps: bool,
        max_bytes: usize,
    ) -> Result<(String, bool)> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            timestamps,
            tail: if tail == 0 {
                "all".to_owned()
            } else {
                tail.to_string()
            },
            ..LogsOptions::default()
        };
        let mut stream = docker.logs(&container.docker_name(), Some(options));
        let collect = async {
            let mut buffer = Vec::new();
            let mut truncated = false;
            while let Some(chunk) = stream.next().await {
                buffer.extend_from_slice(&chunk?.into_bytes());
                if buffer.len() > max_bytes.saturating_mul(2) {
                    truncated |= container::keep_tail(&mut buffer, max_bytes);
                }
            }
            truncated |= container::keep_tail(&mut buffer, max_bytes);
            Ok((buffer, truncated))
        };
        let (buffer, truncated) = self
            .bounded(collect)
            .await
            .map_err(|error| failed(node, "read the container's logs", error))?;
        Ok((String::from_utf8_lossy(&buffer).into_owned(), truncated))
    }

    /// Runs `cmd` in the container; its output (first `max_bytes`) and exit code, within
    /// `timeout`.
    pub async fn execute(
        &self,
        container: &Container,
        cmd: Vec<String>,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<(String, i32)> {
        let node = self.host(container)?;
        let docker = self.client(node).await?;
        let config = ExecConfig {
            cmd: Some(cmd),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..ExecConfig::default()
        };
        let exec = self
            .bounded(docker.create_exec(&container.docker_name(), config))
            .await
            .map_err(|error| failed(node, "run a command in the container", error))?;
        let run = async {
            let started = docker
                .start_exec(
                    &exec.id,
                    Some(StartExecOptions {
                        detach: false,
                        tty: false,
                        output_capacity: None,
                    }),
                )
                .await?;
            let mut buffer = Vec::new();
            if let StartExecResults::Attached { mut output, .. } = started {
                while let Some(chunk) = output.next().await {
                    let bytes = chunk?.into_bytes();
                    let room = max_bytes.saturating_sub(buffer.len());
                    buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
            }
            let inspected = docker.inspect_exec(&exec.id).await?;
            Ok::<_, DockerError>((buffer, inspected.exit_code))
        };
        let (buffer, exit_code) = tokio::time::timeout(timeout, run)
            .await
            .map_err(|_| Error::ExecTimeout(timeout.as_secs()))?
            .map_err(|error| failed(node, "run a command in the container", error))?;
        let exit_code = exit_code
            .and_then(|code| i32::try_from(code).ok())
            .unwrap_or(-1);
        Ok((String::from_utf8_lossy(&buffer).into_owned(), exit_code))
    }
}

/// A Docker failure as the crate's error: the caller's mistakes (400, 409) keep Docker's
/// message; a missing container is the engine having lost it.
fn failed(node: &str, action: &str, error: DockerError) -> Error {
    match error {
        DockerError::DockerResponseServerError {
            status_code,
            message,
        } => match status_code {
            400 => Error::DockerInvalid(message),
            409 | 304 => Error::DockerConflict(message),
            404 => Error::DockerConflict(format!(
                "The Docker container is missing on the bay's engine: {message}"
            )),
            401..=499 => Error::EngineFailed(format!(
                "Docker engine {node} refused to {action}: {message}"
            )),
            _ => Error::EngineUnavailable(format!(
                "Docker engine {node} failed to {action}: {message}"
            )),
        },
        DockerError::RequestTimeoutError => {
            Error::EngineUnavailable(format!("Docker engine {node} did not {action} in time"))
        }
        DockerError::JsonDataError { .. } | DockerError::JsonSerdeError { .. } => {
            Error::EngineFailed(format!(
                "Docker engine {node} answered unexpectedly to {action}: {error}"
            ))
        }
        other => Error::EngineUnavailable(format!(
            "Docker engine {node} is unreachable ({action}): {other}"
        )),
    }
}
