//! Every conversion between protobuf messages and domain types.

use chrono::{DateTime, Utc};
use magnum_proto::common::v1::ListOptions;
use magnum_proto::container::v1 as pb;
use prost_types::{FieldMask, Timestamp};

use crate::app::ListQuery;
use crate::domain::container::{Container, ContainerChanges, ContainerStatus, NewContainer};
use crate::error::Result;

impl From<pb::ContainerSpec> for NewContainer {
    fn from(spec: pb::ContainerSpec) -> Self {
        Self {
            uuid: spec.uuid,
            name: spec.name,
            image: spec.image,
            bay_uuid: spec.bay_uuid,
            command: spec.command,
            memory: spec.memory,
            environment: spec.environment.into_iter().collect(),
        }
    }
}

/// An update request's values and mask as domain changes.
pub(super) fn changes(
    update: Option<pb::ContainerUpdate>,
    mask: Option<FieldMask>,
) -> Result<ContainerChanges> {
    let update = update.unwrap_or_default();
    let paths = mask.map(|mask| mask.paths).unwrap_or_default();
    ContainerChanges::new(paths.iter().map(String::as_str), update.name)
}

pub(super) fn list_query(options: ListOptions, bay_ident: String) -> ListQuery {
    ListQuery {
        page_size: options.page_size,
        page_token: options.page_token,
        sort_key: options.sort_key,
        sort_dir: options.sort_dir,
        all_projects: options.all_projects,
        bay_ident,
    }
}

fn status(status: ContainerStatus) -> pb::ContainerStatus {
    match status {
        ContainerStatus::Creating => pb::ContainerStatus::Creating,
        ContainerStatus::Running => pb::ContainerStatus::Running,
        ContainerStatus::Stopped => pb::ContainerStatus::Stopped,
        ContainerStatus::Paused => pb::ContainerStatus::Paused,
        ContainerStatus::Error => pb::ContainerStatus::Error,
        ContainerStatus::Unknown => pb::ContainerStatus::Unknown,
    }
}

impl From<Container> for pb::Container {
    fn from(container: Container) -> Self {
        Self {
            uuid: container.uuid.to_string(),
            name: container.name,
            image: container.image,
            bay_uuid: container.bay_uuid.to_string(),
            command: container.command,
            memory: container.memory,
            environment: container.environment.into_iter().collect(),
            status: status(container.status).into(),
            status_reason: container.status_reason,
            host: container.host,
            project_id: container.project_id,
            user_id: container.user_id,
            created_at: Some(timestamp(container.created_at)),
            updated_at: container.updated_at.map(timestamp),
        }
    }
}

fn timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(i32::MAX),
    }
}
