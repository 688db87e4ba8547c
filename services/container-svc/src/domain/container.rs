//! Containers: the record, its statuses, and the checks of what callers send.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The longest container name.
pub const NAME_MAX: usize = 255;

/// A container's status as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerStatus {
    /// The record exists; the Docker container is being made.
    Creating,
    Running,
    Stopped,
    Paused,
    /// Creation failed or the engine lost the container (see the reason).
    Error,
    /// The engine could not be asked.
    Unknown,
}

impl ContainerStatus {
    /// The stored (and Magnum's capitalised) form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "Creating",
            Self::Running => "Running",
            Self::Stopped => "Stopped",
            Self::Paused => "Paused",
            Self::Error => "Error",
            Self::Unknown => "Unknown",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Creating,
            Self::Running,
            Self::Stopped,
            Self::Paused,
            Self::Error,
            Self::Unknown,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// What the engine says about a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineState {
    Running,
    Paused,
    /// Created, exited or dead.
    Stopped,
    /// The engine has no such container.
    Missing,
}

impl EngineState {
    /// The status a container in this state shows, with its reason.
    pub fn status(self) -> (ContainerStatus, Option<String>) {
        match self {
            Self::Running => (ContainerStatus::Running, None),
            Self::Paused => (ContainerStatus::Paused, None),
            Self::Stopped => (ContainerStatus::Stopped, None),
            Self::Missing => (
                ContainerStatus::Error,
                Some("The Docker container is missing on the bay's engine.".to_owned()),
            ),
        }
    }
}

/// A container record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub uuid: Uuid,
    pub name: Option<String>,
    pub image: String,
    pub bay_uuid: Uuid,
    pub command: Option<String>,
    pub memory: Option<String>,
    pub environment: BTreeMap<String, String>,
    pub status: ContainerStatus,
    pub status_reason: Option<String>,
    /// The bay node (engine pool entry) the container was placed on.
    pub host: Option<String>,
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Container {
    /// The Docker container's name.
    pub fn docker_name(&self) -> String {
        format!("magnum-{}", self.uuid)
    }

    /// The container as the engine's `state` shows it: `Some` when that changes its status
    /// (a known failure keeps its own reason over the generic one).
    pub fn observe(&self, state: EngineState, now: DateTime<Utc>) -> Option<Self> {
        let (status, reason) = state.status();
        if status == self.status && (reason.is_none() || self.status_reason.is_some()) {
            return None;
        }
        Some(self.clone().with_status(status, reason, now))
    }

    /// When the record last changed.
    pub fn changed_at(&self) -> DateTime<Utc> {
        self.updated_at.unwrap_or(self.created_at)
    }

    /// Sets the status (and reason) at `now`.
    pub fn with_status(
        mut self,
        status: ContainerStatus,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        self.status = status;
        self.status_reason = reason;
        self.updated_at = Some(now);
        self
    }
}

/// The owner of a new container: the caller's project and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub project_id: String,
    pub user_id: String,
}

/// A create request as the caller sent it (unchecked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewContainer {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub image: String,
    pub bay_uuid: String,
    pub command: Option<String>,
    pub memory: Option<String>,
    pub environment: BTreeMap<String, String>,
}

impl NewContainer {
    /// The checked record (status `Creating`, no host yet).
    pub fn into_container(self, owner: Owner, now: DateTime<Utc>) -> Result<Container> {
        let uuid = match self.uuid.as_deref() {
            None | Some("") => Uuid::new_v4(),
            Some(value) => parse_uuid("uuid", value)?,
        };
        if let Some(name) = &self.name {
            validate_name(name)?;
        }
        if self.image.trim().is_empty() {
            return Err(invalid("image", &self.image, "Mandatory field missing."));
        }
        if self.image.chars().count() > NAME_MAX {
            return Err(invalid(
                "image",
                &self.image,
                "Value should have a maximum character requirement of 255",
            ));
        }
        if self.bay_uuid.is_empty() {
            return Err(invalid("bay_uuid", "", "Mandatory field missing."));
        }
        let bay_uuid = parse_uuid("bay_uuid", &self.bay_uuid)?;
        if let Some(memory) = &self.memory {
            parse_memory(memory)?;
        }
        if let Some(command) = &self.command {
            split_command(command).map_err(|reason| invalid("command", command, &reason))?;
        }
        Ok(Container {
            uuid,
            name: self.name,
            image: self.image,
            bay_uuid,
            command: self.command.filter(|command| !command.trim().is_empty()),
            memory: self.memory.filter(|memory| !memory.is_empty()),
            environment: self.environment,
            status: ContainerStatus::Creating,
            status_reason: None,
            host: None,
            project_id: owner.project_id,
            user_id: owner.user_id,
            created_at: now,
            updated_at: None,
        })
    }
}

/// Changes of an update (stored fields only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerChanges {
    /// `Some(None)` clears the name.
    pub name: Option<Option<String>>,
}

impl ContainerChanges {
    /// The changes named by `paths` (an update mask), with values from `name`.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>, name: Option<String>) -> Result<Self> {
        let mut changes = Self::default();
        for path in paths {
            match path {
                "name" => changes.name = Some(name.clone()),
                "uuid" | "bay_uuid" | "image" | "command" | "memory" | "environment" | "status"
                | "host" | "project_id" | "user_id" | "created_at" | "updated_at" => {
                    return Err(Error::ImmutableField(path.to_owned()));
                }
                other => return Err(Error::UnknownUpdateField(other.to_owned())),
            }
        }
        Ok(changes)
    }
}

impl Container {
    /// The container with `changes` applied, checked.
    pub fn apply(mut self, changes: &ContainerChanges, now: DateTime<Utc>) -> Result<Self> {
        if let Some(name) = &changes.name {
            if let Some(name) = name {
                validate_name(name)?;
            }
            self.name = name.clone();
        }
        self.updated_at = Some(now);
        Ok(self)
    }
}

/// A container named by the caller: its uuid, or else its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    Uuid(Uuid),
    Name(String),
}

impl Ident {
    pub fn parse(ident: &str) -> Self {
        match Uuid::parse_str(ident) {
            Ok(uuid) => Self::Uuid(uuid),
            Err(_) => Self::Name(ident.to_owned()),
        }
    }
}

/// The columns a container list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerSortKey {
    Id,
    Uuid,
    Name,
    Image,
    BayUuid,
    Status,
    Memory,
    Host,
    CreatedAt,
    UpdatedAt,
}

impl ContainerSortKey {
    /// `""` means `id`.
    pub fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "" | "id" => Self::Id,
            "uuid" => Self::Uuid,
            "name" => Self::Name,
            "image" => Self::Image,
            "bay_uuid" => Self::BayUuid,
            "status" => Self::Status,
            "memory" => Self::Memory,
            "host" => Self::Host,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            other => return Err(Error::InvalidSortKey(other.to_owned())),
        })
    }
}

/// A bay as container-svc sees it (from bay-svc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayInfo {
    pub uuid: Uuid,
    /// The COE of the bay's baymodel.
    pub coe: String,
    /// bay-svc's status name, e.g. `CREATE_COMPLETE`.
    pub status: String,
    /// Names of the bay's worker nodes (engine pool entries).
    pub workers: Vec<String>,
}

impl BayInfo {
    /// Containers go only on complete swarm bays with at least one worker.
    pub fn check_usable(&self, ident: &str) -> Result<()> {
        if self.coe != "swarm" {
            return Err(Error::WrongCoe(self.coe.clone()));
        }
        if !matches!(self.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
            return Err(Error::BayNotReady {
                bay: ident.to_owned(),
                status: self.status.clone(),
            });
        }
        if self.workers.is_empty() {
            return Err(Error::BayHasNoNodes(ident.to_owned()));
        }
        Ok(())
    }

    /// The Docker network of the bay on each of its engines.
    pub fn network(&self) -> String {
        format!("magnum-bay-{}", self.uuid)
    }

    /// The worker carrying the fewest of the bay's containers (`counts` by host), ties
    /// by node order.
    pub fn pick_worker(&self, counts: &HashMap<String, u64>) -> Option<&str> {
        self.workers
            .iter()
            .min_by_key(|worker| counts.get(worker.as_str()).copied().unwrap_or(0))
            .map(String::as_str)
    }
}

/// A name: 1 to 255 characters.
pub fn validate_name(name: &str) -> Result<()> {
    let length = name.chars().count();
    if length == 0 {
        return Err(invalid(
            "name",
            name,
            "Value should have a minimum character requirement of 1",
        ));
    }
    if length > NAME_MAX {
        return Err(invalid(
            "name",
            name,
            "Value should have a maximum character requirement of 255",
        ));
    }
    Ok(())
}

/// A Docker memory limit `<number>[b|k|m|g]` (either case) in bytes.
pub fn parse_memory(value: &str) -> Result<i64> {
    let bad = || invalid("memory", value, "Expected <number>[b|k|m|g], e.g. 512m.");
    let (digits, factor) = match value.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('b') => (&value[..value.len() - 1], 1_i64),
        Some('k') => (&value[..value.len() - 1], 1 << 10),
        Some('m') => (&value[..value.len() - 1], 1 << 20),
        Some('g') => (&value[..value.len() - 1], 1 << 30),
        Some(c) if c.is_ascii_digit() => (value, 1),
        _ => return Err(bad()),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let number: i64 = digits.parse().map_err(|_| bad())?;
    let bytes = number.checked_mul(factor).ok_or_else(bad)?;
    if bytes == 0 {
        return Err(bad());
    }
    Ok(bytes)
}

/// Splits a command line into words like a POSIX shell would (quotes and backslashes; no
/// expansion). The error says what is wrong.
pub fn split_command(line: &str) -> std::result::Result<Vec<String>, String> {
    shell_words::split(line).map_err(|error| format!("{error}."))
}

/// Keeps the last `max` bytes of `buffer`; true when something was cut.
pub fn keep_tail(buffer: &mut Vec<u8>, max: usize) -> bool {
    if buffer.len() <= max {
        return false;
    }
    let cut = buffer.len() - max;
    buffer.drain(..cut);
    true
}

fn parse_uuid(field: &'static str, value: &str) -> Result<Uuid> {
    Uuid::parse_str(value).map_err(|_| {
        invalid(
            field,
            value,
            &format!("Expected a UUID but received {value}."),
        )
    })
}

fn invalid(field: &'static str, value: &str, reason: &str) -> Error {
    Error::InvalidField {
        field,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
#[path = "container_test.rs"]
mod tests;
