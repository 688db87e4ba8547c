//! Use cases: what a caller may do with containers. Each takes the caller's
//! `RequestContext`, applies policy and tenancy, and returns domain values or the crate
//! `Error`; the gRPC handlers are thin layers on top.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use magnum_common::{RequestContext, Scope};
use magnum_policy::{Policy, ResourceGuard};
use uuid::Uuid;

use crate::domain::container::{
    self, Container, ContainerChanges, ContainerSortKey, ContainerStatus, EngineState, Ident,
    NewContainer, Owner,
};
use crate::domain::listing::{Page, PageRequest, SortDir};
use crate::domain::ports::{BayDirectory, ContainerRepository};
use crate::engine::{CreateSpec, Engines, Snapshot};
use crate::error::{Error, Result};

/// The default grace period of stop and reboot, in seconds.
pub const DEFAULT_STOP_TIMEOUT: u32 = 10;

/// A list request as the caller gave it (unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page_size: u32,
    pub page_token: String,
    pub sort_key: String,
    pub sort_dir: String,
    pub all_projects: bool,
    /// uuid or name of a bay; empty = every bay.
    pub bay_ident: String,
}

/// Bounds of the calls that wait on an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub logs_max_bytes: usize,
    pub execute_timeout: Duration,
    /// How long a create may work on the engine before it gives up.
    pub create_timeout: Duration,
    /// A record still `Creating` this long after it was made has lost its creator (the
    /// replica stopped): the sweeper settles it.
    pub abandoned_after: Duration,
}

/// Why a swept create failed.
pub const ABANDONED_REASON: &str = "container-svc stopped before the Docker container was made; \
     delete this container and create it again.";

/// How many abandoned creates one sweep settles at most.
const SWEEP_BATCH: u32 = 100;

/// The container use cases.
#[derive(Clone)]
pub struct Containers {
    repository: Arc<dyn ContainerRepository>,
    bays: Arc<dyn BayDirectory>,
    engines: Arc<Engines>,
    guard: ResourceGuard,
    limits: Limits,
}

/// A Docker action on a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop { timeout_secs: u32 },
    Reboot { timeout_secs: u32 },
    Pause,
    Unpause,
}

impl Action {
    fn rule(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop { .. } => "stop",
            Self::Reboot { .. } => "reboot",
            Self::Pause => "pause",
            Self::Unpause => "unpause",
        }
    }
}

impl Containers {
    pub fn new(
        repository: Arc<dyn ContainerRepository>,
        bays: Arc<dyn BayDirectory>,
        engines: Arc<Engines>,
        policy: Policy,
        limits: Limits,
    ) -> Self {
        Self {
            repository,
            bays,
            engines,
            guard: ResourceGuard::new(policy, "container"),
            limits,
        }
    }

    /// Creates the record, then the (stopped) Docker container on the bay's least loaded
    /// worker. A failure on the engine leaves the record in `Error` with the reason.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, ctx: &RequestContext, new: NewContainer) -> Result<Container> {
        self.guard.enforce("create", ctx, None)?;
        let owner = Owner {
            project_id: ctx.project_id.clone(),
            user_id: ctx.user_id.clone(),
        };
        let mut container = new.into_container(owner, now())?;
        let bay_ident = container.bay_uuid.to_string();
        let bay = self.bays.bay(ctx, &bay_ident).await?;
        bay.check_usable(&bay_ident)?;
        let counts = self.repository.count_by_host(bay.uuid).await?;
        let node = bay
            .pick_worker(&counts)
            .ok_or_else(|| Error::BayHasNoNodes(bay_ident.clone()))?
            .to_owned();
        container.host = Some(node.clone());
        let cmd =
            match &container.command {
                Some(command) => Some(container::split_command(command).map_err(|reason| {
                    Error::InvalidField {
                        field: "command",
                        value: command.clone(),
                        reason,
                    }
                })?),
                None => None,
            };
        let memory_bytes = container
            .memory
            .as_deref()
            .map(container::parse_memory)
            .transpose()?;
        self.repository.insert(&container).await?;
        fail::fail_point!("container-create-before-engine");
        let spec = CreateSpec {
            memory_bytes,
            cmd,
            network: bay.network(),
        };
        let made = tokio::time::timeout(self.limits.create_timeout, async {
            if self.engines.find(&node, &container).await?.is_none() {
                self.engines.create(&node, &container, spec).await?;
            }
            Ok(())
        })
        .await
        .unwrap_or_else(|_| {
            Err(Error::EngineUnavailable(format!(
                "Docker engine {node} did not create the container within {} seconds.",
                self.limits.create_timeout.as_secs()
            )))
        });
        fail::fail_point!("container-create-after-engine");
        if let Err(error) = made {
            let failed =
                container.with_status(ContainerStatus::Error, Some(error.to_string()), now());
            // Whoever settled it first (the sweeper, a delete) had the last word.
            self.repository
                .set_status(&failed, Some(ContainerStatus::Creating))
                .await?;
            tracing::warn!(container = %failed.uuid, %error, "container create failed");
            return Err(error);
        }
        let created = self.settle_create(container).await?;
        tracing::info!(container = %created.uuid, host = %node, "container created");
        Ok(created)
    }

    /// Records a made Docker container as `Stopped`, unless the record was settled
    /// meanwhile: a sweeper that saw the Docker container leaves it as it found it; one
    /// that gave up on it (or a delete) means the Docker container must go again, so that
    /// none is left without a record.
    async fn settle_create(&self, container: Container) -> Result<Container> {
        let created = container.with_status(ContainerStatus::Stopped, None, now());
        if self
            .repository
            .set_status(&created, Some(ContainerStatus::Creating))
            .await?
        {
            return Ok(created);
        }
        let scope = Scope::Project(created.project_id.clone());
        match self.repository.find_by_uuid(&scope, created.uuid).await? {
            Some(current) if current.status != ContainerStatus::Error => Ok(current),
            _ => {
                if let Err(error) = self.engines.remove(&created, true).await {
                    tracing::warn!(container = %created.uuid, %error,
                        "cannot remove the Docker container of an abandoned create");
                }
                Err(Error::CreateAbandoned(created.uuid))
            }
        }
    }

    /// Settles the creates their replica abandoned (it stopped mid-way): a record whose
    /// Docker container exists becomes `Stopped`, one without fails with a reason. An
    /// engine that cannot be asked leaves its records for the next sweep. Any replica may
    /// sweep: every change is conditional on the record still being `Creating`.
    #[tracing::instrument(skip_all)]
    pub async fn sweep_abandoned_creates(&self) -> Result<usize> {
        let age = chrono::Duration::from_std(self.limits.abandoned_after)
            .unwrap_or(chrono::Duration::MAX);
        let before = now()
            .checked_sub_signed(age)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut settled = 0;
        for container in self.repository.creating_before(before, SWEEP_BATCH).await? {
            let found = match container.host.as_deref() {
                Some(host) => match self.engines.find(host, &container).await {
                    Ok(found) => found.is_some(),
                    Err(error) => {
                        tracing::warn!(container = %container.uuid, %error,
                            "cannot settle an abandoned create yet");
                        continue;
                    }
                },
                None => false,
            };
            let outcome = if found {
                container.with_status(ContainerStatus::Stopped, None, now())
            } else {
                container.with_status(
                    ContainerStatus::Error,
                    Some(ABANDONED_REASON.to_owned()),
                    now(),
                )
            };
            if self
                .repository
                .set_status(&outcome, Some(ContainerStatus::Creating))
                .await?
            {
                tracing::info!(container = %outcome.uuid, status = outcome.status.as_str(),
                    "abandoned create settled");
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// A container by uuid or name, its status refreshed from the engine (`Unknown` when
    /// the engine cannot be asked).
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn get(&self, ctx: &RequestContext, ident: &str) -> Result<Container> {
        self.guard.enforce("get", ctx, None)?;
        let container = self.find(&ctx.object_scope(), ident).await?;
        if container.status == ContainerStatus::Creating {
            return Ok(container);
        }
        match self.engines.state(&container).await {
            Ok(state) => self.record(container, state).await,
            Err(Error::EngineUnavailable(reason)) => Ok(Container {
                status: ContainerStatus::Unknown,
                status_reason: Some(reason),
                ..container
            }),
            Err(error) => Err(error),
        }
    }

    /// The caller's project's containers, optionally of one bay, their statuses refreshed
    /// from each engine's recent snapshot.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, ctx: &RequestContext, query: ListQuery) -> Result<Page<Container>> {
        let scope = self.guard.list_scope(ctx, query.all_projects)?;
        let page = PageRequest::new(
            query.page_size,
            &query.page_token,
            ContainerSortKey::parse(&query.sort_key)?,
            SortDir::parse(&query.sort_dir)?,
        )?;
        let bay = match query.bay_ident.as_str() {
            "" => None,
            ident => Some(self.bays.bay(ctx, ident).await?.uuid),
        };
        let items = self.repository.list(&scope, bay, &page).await?;
        let full = u32::try_from(items.len()).is_ok_and(|len| len == page.size);
        let next_marker = if full {
            items.last().map(|container| container.uuid)
        } else {
            None
        };
        let items = self.refresh(items).await?;
        Ok(Page { items, next_marker })
    }

    /// Overlays what the engines' snapshots say on `items`, storing the changes. A record
    /// changed after its engine's snapshot was taken is newer than it and stays; one on an
    /// engine that cannot be asked shows `Unknown`.
    async fn refresh(&self, items: Vec<Container>) -> Result<Vec<Container>> {
        let mut hosts: Vec<&str> = items
            .iter()
            .filter(|container| container.status != ContainerStatus::Creating)
            .filter_map(|container| container.host.as_deref())
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        let snapshots: HashMap<String, Result<Arc<Snapshot>>> = futures::future::join_all(
            hosts
                .into_iter()
                .map(|host| async move { (host.to_owned(), self.engines.snapshot(host).await) }),
        )
        .await
        .into_iter()
        .collect();
        let mut refreshed = Vec::with_capacity(items.len());
        for container in items {
            let snapshot = match container.host.as_deref() {
                Some(host) if container.status != ContainerStatus::Creating => snapshots.get(host),
                _ => None,
            };
            let container = match snapshot {
                None => container,
                Some(Err(error)) => Container {
                    status: ContainerStatus::Unknown,
                    status_reason: Some(error.to_string()),
                    ..container
                },
                Some(Ok(snapshot)) if container.changed_at() > snapshot.taken_at => container,
                Some(Ok(snapshot)) => {
                    let state = snapshot
                        .states
                        .get(&container.uuid)
                        .copied()
                        .unwrap_or(EngineState::Missing);
                    match container.observe(state, now()) {
                        Some(observed) => {
                            self.repository
                                .set_status(&observed, Some(container.status))
                                .await?;
                            observed
                        }
                        None => container,
                    }
                }
            };
            refreshed.push(container);
        }
        Ok(refreshed)
    }

    /// Renames (stored fields only).
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn update(
        &self,
        ctx: &RequestContext,
        ident: &str,
        changes: ContainerChanges,
    ) -> Result<Container> {
        let scope = ctx.object_scope();
        let current = self.find(&scope, ident).await?;
        self.guard.enforce(
            "update",
            ctx,
            Some((current.project_id.as_str(), current.user_id.as_str())),
        )?;
        let updated = current.apply(&changes, now())?;
        self.repository.update(&scope, &updated).await?;
        Ok(updated)
    }

    /// Removes the Docker container (a running one only with `force`), then the record.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn delete(&self, ctx: &RequestContext, ident: &str, force: bool) -> Result<()> {
        let scope = ctx.object_scope();
        let current = self.find(&scope, ident).await?;
        self.guard.enforce(
            "delete",
            ctx,
            Some((current.project_id.as_str(), current.user_id.as_str())),
        )?;
        if !force && current.host.is_some() && current.status != ContainerStatus::Error {
            let state = self.engines.state(&current).await?;
            if matches!(state, EngineState::Running | EngineState::Paused) {
                return Err(Error::ContainerRunning);
            }
        }
        self.engines.remove(&current, force).await?;
        self.repository.delete(&scope, current.uuid).await?;
        tracing::info!(container = %current.uuid, "container deleted");
        Ok(())
    }

    /// Runs `action` on the Docker container, then records the state it left.
    #[tracing::instrument(skip_all, fields(ident = %ident, action = action.rule()))]
    pub async fn act(
        &self,
        ctx: &RequestContext,
        ident: &str,
        action: Action,
    ) -> Result<Container> {
        let current = self.find(&ctx.object_scope(), ident).await?;
        self.guard.enforce(
            action.rule(),
            ctx,
            Some((current.project_id.as_str(), current.user_id.as_str())),
        )?;
        self.usable(&current)?;
        let grace = |timeout_secs: u32| {
            if timeout_secs == 0 {
                DEFAULT_STOP_TIMEOUT
            } else {
                timeout_secs
            }
        };
        match action {
            Action::Start => self.engines.start(&current).await?,
            Action::Stop { timeout_secs } => {
                self.engines.stop(&current, grace(timeout_secs)).await?;
            }
            Action::Reboot { timeout_secs } => {
                self.engines.restart(&current, grace(timeout_secs)).await?;
            }
            Action::Pause => self.engines.pause(&current).await?,
            Action::Unpause => self.engines.unpause(&current).await?,
        }
        let state = self.engines.state(&current).await?;
        self.record(current, state).await
    }

    /// The container's output, bounded by the configured size.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn logs(
        &self,
        ctx: &RequestContext,
        ident: &str,
        tail: u32,
        timestamps: bool,
    ) -> Result<(String, bool)> {
        let current = self.find(&ctx.object_scope(), ident).await?;
        self.guard.enforce(
            "logs",
            ctx,
            Some((current.project_id.as_str(), current.user_id.as_str())),
        )?;
        self.usable(&current)?;
        self.engines
            .logs(&current, tail, timestamps, self.limits.logs_max_bytes)
            .await
    }

    /// Runs `command` (split like a shell) in the running container.
    #[tracing::instrument(skip_all, fields(ident = %ident))]
    pub async fn execute(
        &self,
        ctx: &RequestContext,
        ident: &str,
        command: &str,
        timeout_secs: u32,
    ) -> Result<(String, i32)> {
        let current = self.find(&ctx.object_scope(), ident).await?;
        self.guard.enforce(
            "execute",
            ctx,
            Some((current.project_id.as_str(), current.user_id.as_str())),
        )?;
        self.usable(&current)?;
        let invalid = |reason: String| Error::InvalidField {
            field: "command",
            value: command.to_owned(),
            reason,
        };
        let cmd = container::split_command(command).map_err(invalid)?;
        if cmd.is_empty() {
            return Err(invalid("Mandatory field missing.".to_owned()));
        }
        let timeout = if timeout_secs == 0 {
            self.limits.execute_timeout
        } else {
            Duration::from_secs(u64::from(timeout_secs))
        };
        self.engines
            .execute(&current, cmd, timeout, self.limits.logs_max_bytes)
            .await
    }

    /// Forgets every container of a deleted bay (its Docker containers went with it).
    pub async fn bay_deleted(&self, bay: Uuid) -> Result<u64> {
        let deleted = self.repository.delete_of_bay(bay).await?;
        if deleted > 0 {
            tracing::info!(%bay, deleted, "containers of a deleted bay forgotten");
        }
        Ok(deleted)
    }

    /// Actions need a container that was made on an engine.
    fn usable(&self, container: &Container) -> Result<()> {
        if container.host.is_none() || container.status == ContainerStatus::Creating {
            return Err(Error::DockerConflict(format!(
                "Container {} has no Docker container ({}).",
                container.uuid,
                container
                    .status_reason
                    .as_deref()
                    .unwrap_or(container.status.as_str())
            )));
        }
        Ok(())
    }

    /// Stores the status the engine reported, when it changed.
    async fn record(&self, container: Container, state: EngineState) -> Result<Container> {
        let Some(observed) = container.observe(state, now()) else {
            return Ok(container);
        };
        self.repository.set_status(&observed, None).await?;
        Ok(observed)
    }

    /// Resolves a uuid or a (unique) name within `scope`.
    async fn find(&self, scope: &Scope, ident: &str) -> Result<Container> {
        let found = match Ident::parse(ident) {
            Ident::Uuid(uuid) => self.repository.find_by_uuid(scope, uuid).await?,
            Ident::Name(name) => {
                let mut named = self.repository.find_by_name(scope, &name, 2).await?;
                if named.len() > 1 {
                    return Err(Error::AmbiguousContainerName(name));
                }
                named.pop()
            }
        };
        found.ok_or_else(|| Error::ContainerNotFound(ident.to_owned()))
    }
}

/// Now, at the precision every database keeps (microseconds).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
