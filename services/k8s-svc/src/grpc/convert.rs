//! Every conversion between protobuf messages and domain types.

use chrono::{DateTime, Utc};
use magnum_proto::common::v1::ListOptions;
use magnum_proto::k8s::v1 as pb;
use prost_types::{FieldMask, Timestamp};

use crate::app::{Changes, ListQuery, ManifestSource, ObjectRef, Shown};
use crate::domain::manifest::Kind;
use crate::error::{Error, Result};

pub(super) fn source(source: Option<pb::ManifestSource>) -> ManifestSource {
    let source = source.unwrap_or_default();
    ManifestSource {
        manifest: source.manifest,
        manifest_url: source.manifest_url,
    }
}

pub(super) fn reference(kind: Kind, reference: Option<pb::ObjectRef>) -> ObjectRef {
    let reference = reference.unwrap_or_default();
    ObjectRef {
        kind,
        ident: reference.ident,
        bay_ident: reference.bay_ident,
    }
}

pub(super) fn list_query(options: Option<ListOptions>, filter: Option<pb::BayFilter>) -> ListQuery {
    let options = options.unwrap_or_default();
    ListQuery {
        page_size: options.page_size,
        page_token: options.page_token,
        sort_key: options.sort_key,
        sort_dir: options.sort_dir,
        all_projects: options.all_projects,
        bay_ident: filter.unwrap_or_default().bay_ident,
    }
}

/// The changes an update mask names, with values from the update; an unknown path is
/// refused.
pub(super) fn changes(
    mask: Option<FieldMask>,
    allowed: &[&str],
    manifest: Option<pb::ManifestSource>,
    desc: Option<String>,
    replicas: i32,
) -> Result<Changes> {
    let mut changes = Changes::default();
    for path in mask.map(|mask| mask.paths).unwrap_or_default() {
        if !allowed.contains(&path.as_str()) {
            return Err(Error::UnknownUpdateField(path));
        }
        match path.as_str() {
            "manifest" => changes.manifest = Some(source(manifest.clone())),
            "desc" => changes.desc = Some(desc.clone()),
            "replicas" => changes.replicas = Some(replicas),
            _ => return Err(Error::UnknownUpdateField(path)),
        }
    }
    Ok(changes)
}

pub(super) fn pod(shown: Shown) -> pb::Pod {
    let Shown { object, source } = shown;
    pb::Pod {
        uuid: object.uuid.to_string(),
        name: object.name,
        bay_uuid: object.bay_uuid.to_string(),
        desc: object.desc,
        images: object.observed.images,
        labels: object.observed.labels.into_iter().collect(),
        status: object.observed.status,
        host: object.observed.host,
        manifest: source.manifest,
        manifest_url: source.manifest_url,
        project_id: object.project_id,
        user_id: object.user_id,
        created_at: Some(timestamp(object.created_at)),
        updated_at: object.updated_at.map(timestamp),
    }
}

pub(super) fn service(shown: Shown) -> pb::CoeService {
    let Shown { object, source } = shown;
    pb::CoeService {
        uuid: object.uuid.to_string(),
        name: object.name,
        bay_uuid: object.bay_uuid.to_string(),
        labels: object.observed.labels.into_iter().collect(),
        selector: object.observed.selector.into_iter().collect(),
        ip: object.observed.ip,
        ports: object
            .observed
            .ports
            .iter()
            .filter_map(serde_json::Value::as_object)
            .map(magnum_proto::json::to_struct)
            .collect(),
        manifest: source.manifest,
        manifest_url: source.manifest_url,
        project_id: object.project_id,
        user_id: object.user_id,
        created_at: Some(timestamp(object.created_at)),
        updated_at: object.updated_at.map(timestamp),
    }
}

pub(super) fn rc(shown: Shown) -> pb::ReplicationController {
    let Shown { object, source } = shown;
    pb::ReplicationController {
        uuid: object.uuid.to_string(),
        name: object.name,
        bay_uuid: object.bay_uuid.to_string(),
        labels: object.observed.labels.into_iter().collect(),
        images: object.observed.images,
        replicas: object.observed.replicas.unwrap_or(1),
        current_replicas: object.observed.current_replicas.unwrap_or(0),
        manifest: source.manifest,
        manifest_url: source.manifest_url,
        project_id: object.project_id,
        user_id: object.user_id,
        created_at: Some(timestamp(object.created_at)),
        updated_at: object.updated_at.map(timestamp),
    }
}

fn timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(i32::MAX),
    }
}
