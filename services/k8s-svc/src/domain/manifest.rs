//! Manifests: the text a caller gives (JSON or YAML), decoded into the typed Kubernetes
//! object of the expected kind and checked the way Magnum checked it, plus the fields the
//! API shows, read from any object of the kind (the manifest or the cluster's copy).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ReplicationController, Service};
use serde_json::Value;

/// The objects k8s-svc manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pod,
    Service,
    ReplicationController,
}

impl Kind {
    /// The stored name, which is also the prefix of its policy rules (`rc:create`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pod => "pod",
            Self::Service => "service",
            Self::ReplicationController => "rc",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Pod, Self::Service, Self::ReplicationController]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }

    /// Kubernetes' `kind`, and Magnum's name of the object in messages.
    pub fn k8s_kind(self) -> &'static str {
        match self {
            Self::Pod => "Pod",
            Self::Service => "Service",
            Self::ReplicationController => "ReplicationController",
        }
    }
}

/// A Kubernetes object of one of the managed kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    Pod(Box<Pod>),
    Service(Box<Service>),
    ReplicationController(Box<ReplicationController>),
}

/// What the API shows of an object: read from the manifest at first, then from the
/// cluster.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Observed {
    /// `metadata.uid`, once the cluster has the object.
    pub uid: Option<String>,
    /// `metadata.labels` (an rc's are its template's, as Magnum showed them).
    pub labels: BTreeMap<String, String>,
    /// Container images (pods, rcs' templates).
    pub images: Vec<String>,
    /// A pod's `status.phase`.
    pub status: Option<String>,
    /// A pod's `spec.nodeName`.
    pub host: Option<String>,
    /// A service's `spec.selector`.
    pub selector: BTreeMap<String, String>,
    /// A service's `spec.ports`, verbatim.
    pub ports: Vec<Value>,
    /// A service's cluster IP.
    pub ip: Option<String>,
    /// An rc's `spec.replicas`.
    pub replicas: Option<i32>,
    /// An rc's `status.replicas`.
    pub current_replicas: Option<i32>,
}

/// Why a manifest was refused (each a 400 with this text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("'manifest' can't be empty")]
    Empty,
    #[error("Manifest is too large: {size} bytes, the limit is {limit} bytes.")]
    TooLarge { size: usize, limit: usize },
    #[error("Manifest is not valid {format}: {reason}")]
    Undecodable {
        format: &'static str,
        reason: String,
    },
    #[error("Manifest must be a mapping (an object), not {0}.")]
    NotAMapping(&'static str),
    #[error("The manifest describes a {found}, expecting a {expected}.")]
    WrongKind {
        found: String,
        expected: &'static str,
    },
    #[error("The manifest's apiVersion is {0}, expecting v1.")]
    WrongApiVersion(String),
    #[error(
        "The manifest names namespace {0:?}: the objects of a bay live in the bay's own \
         namespace (omit metadata.namespace)."
    )]
    ForeignNamespace(String),
    #[error("Manifest is not a valid {kind}: {reason}")]
    Invalid { kind: &'static str, reason: String },
    #[error("Field {0} can't be empty in manifest.")]
    MissingField(&'static str),
}

/// A manifest for `kind`, decoded and checked: `namespace` is the bay's namespace, which
/// the object gets; a manifest may name it, or `default` (the bay's default namespace as
/// its users see it), or nothing.
pub fn parse(
    kind: Kind,
    text: &str,
    namespace: &str,
    max_bytes: usize,
) -> Result<Workload, ManifestError> {
    if text.len() > max_bytes {
        return Err(ManifestError::TooLarge {
            size: text.len(),
            limit: max_bytes,
        });
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(ManifestError::Empty);
    }
    // Magnum's rule: JSON when it starts like JSON, YAML otherwise.
    let mut value: Value = if text.starts_with('{') {
        serde_json::from_str(text).map_err(|error| ManifestError::Undecodable {
            format: "JSON",
            reason: error.to_string(),
        })?
    } else {
        serde_saphyr::from_str(text).map_err(|error| ManifestError::Undecodable {
            format: "YAML",
            reason: error.to_string(),
        })?
    };
    let found = json_type(&value);
    let object = value
        .as_object_mut()
        .ok_or(ManifestError::NotAMapping(found))?;
    match object.get("kind") {
        None | Some(Value::Null) => {}
        Some(Value::String(found)) if found == kind.k8s_kind() => {}
        Some(found) => {
            return Err(ManifestError::WrongKind {
                found: found
                    .as_str()
                    .map_or_else(|| found.to_string(), str::to_owned),
                expected: kind.k8s_kind(),
            });
        }
    }
    match object.get("apiVersion") {
        None | Some(Value::Null) => {}
        Some(Value::String(version)) if version == "v1" => {}
        Some(other) => {
            return Err(ManifestError::WrongApiVersion(
                other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned),
            ));
        }
    }
    object.insert("kind".to_owned(), Value::from(kind.k8s_kind()));
    object.insert("apiVersion".to_owned(), Value::from("v1"));
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Some(metadata) = metadata.as_object_mut() {
        match metadata.get("namespace") {
            None | Some(Value::Null) => {}
            Some(Value::String(named)) if named == namespace || named == "default" => {}
            Some(other) => {
                return Err(ManifestError::ForeignNamespace(
                    other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_owned),
                ));
            }
        }
        metadata.insert("namespace".to_owned(), Value::from(namespace));
    }
    let workload = Workload::from_value(kind, value)?;
    workload.check()?;
    Ok(workload)
}

impl Workload {
    /// Decodes `value` as the typed object of `kind`.
    pub fn from_value(kind: Kind, value: Value) -> Result<Self, ManifestError> {
        let invalid = |error: serde_json::Error| ManifestError::Invalid {
            kind: kind.k8s_kind(),
            reason: error.to_string(),
        };
        Ok(match kind {
            Kind::Pod => Self::Pod(Box::new(serde_json::from_value(value).map_err(invalid)?)),
            Kind::Service => {
                Self::Service(Box::new(serde_json::from_value(value).map_err(invalid)?))
            }
            Kind::ReplicationController => Self::ReplicationController(Box::new(
                serde_json::from_value(value).map_err(invalid)?,
            )),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Self::Pod(_) => Kind::Pod,
            Self::Service(_) => Kind::Service,
            Self::ReplicationController(_) => Kind::ReplicationController,
        }
    }

    /// `metadata.name` (empty when absent).
    pub fn name(&self) -> &str {
        let metadata = match self {
            Self::Pod(pod) => &pod.metadata,
            Self::Service(service) => &service.metadata,
            Self::ReplicationController(rc) => &rc.metadata,
        };
        metadata.name.as_deref().unwrap_or_default()
    }

    /// Magnum's checks of a manifest: the fields its API shows must be there.
    fn check(&self) -> Result<(), ManifestError> {
        if self.name().is_empty() {
            return Err(ManifestError::MissingField("metadata['name']"));
        }
        match self {
            Self::Pod(pod) => {
                if pod
                    .spec
                    .as_ref()
                    .is_none_or(|spec| spec.containers.is_empty())
                {
                    return Err(ManifestError::MissingField("spec['containers']"));
                }
            }
            Self::Service(service) => {
                let ports = service.spec.as_ref().and_then(|spec| spec.ports.as_ref());
                if ports.is_none_or(Vec::is_empty) {
                    return Err(ManifestError::MissingField("spec['ports']"));
                }
            }
            Self::ReplicationController(rc) => {
                let spec = rc.spec.as_ref();
                if spec
                    .and_then(|spec| spec.selector.as_ref())
                    .is_none_or(BTreeMap::is_empty)
                {
                    return Err(ManifestError::MissingField("spec['selector']"));
                }
                let template = spec.and_then(|spec| spec.template.as_ref());
                if template
                    .and_then(|template| template.metadata.as_ref())
                    .and_then(|metadata| metadata.labels.as_ref())
                    .is_none_or(BTreeMap::is_empty)
                {
                    return Err(ManifestError::MissingField(
                        "spec['template']['metadata']['labels']",
                    ));
                }
                if template
                    .and_then(|template| template.spec.as_ref())
                    .is_none_or(|spec| spec.containers.is_empty())
                {
                    return Err(ManifestError::MissingField(
                        "spec['template']['spec']['containers']",
                    ));
                }
            }
        }
        Ok(())
    }

    /// What the API shows of this object.
    pub fn observe(&self) -> Observed {
        match self {
            Self::Pod(pod) => {
                let spec = pod.spec.as_ref();
                Observed {
                    uid: pod.metadata.uid.clone(),
                    labels: pod.metadata.labels.clone().unwrap_or_default(),
                    images: spec
                        .map(|spec| images(&spec.containers))
                        .unwrap_or_default(),
                    status: pod.status.as_ref().and_then(|status| status.phase.clone()),
                    host: spec.and_then(|spec| spec.node_name.clone()),
                    ..Observed::default()
                }
            }
            Self::Service(service) => {
                let spec = service.spec.as_ref();
                Observed {
                    uid: service.metadata.uid.clone(),
                    labels: service.metadata.labels.clone().unwrap_or_default(),
                    selector: spec
                        .and_then(|spec| spec.selector.clone())
                        .unwrap_or_default(),
                    ports: spec
                        .and_then(|spec| spec.ports.as_ref())
                        .map(|ports| {
                            ports
                                .iter()
                                .filter_map(|port| serde_json::to_value(port).ok())
                                .collect()
                        })
                        .unwrap_or_default(),
                    ip: spec
                        .and_then(|spec| spec.cluster_ip.clone())
                        .filter(|ip| !ip.is_empty() && ip != "None"),
                    ..Observed::default()
                }
            }
            Self::ReplicationController(rc) => {
                let spec = rc.spec.as_ref();
                let template = spec.and_then(|spec| spec.template.as_ref());
                Observed {
                    uid: rc.metadata.uid.clone(),
                    labels: template
                        .and_then(|template| template.metadata.as_ref())
                        .and_then(|metadata| metadata.labels.clone())
                        .unwrap_or_default(),
                    images: template
                        .and_then(|template| template.spec.as_ref())
                        .map(|spec| images(&spec.containers))
                        .unwrap_or_default(),
                    replicas: spec.and_then(|spec| spec.replicas),
                    current_replicas: rc.status.as_ref().map(|status| status.replicas),
                    ..Observed::default()
                }
            }
        }
    }

    /// The object with `metadata.resourceVersion` set (a replace must name the version it
    /// replaces) and the uid the cluster gave it.
    pub fn replacing(mut self, current: &Self) -> Self {
        let current = current.metadata();
        let metadata = self.metadata_mut();
        metadata
            .resource_version
            .clone_from(&current.resource_version);
        metadata.uid.clone_from(&current.uid);
        self
    }

    fn metadata(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Self::Pod(pod) => &pod.metadata,
            Self::Service(service) => &service.metadata,
            Self::ReplicationController(rc) => &rc.metadata,
        }
    }

    fn metadata_mut(&mut self) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Self::Pod(pod) => &mut pod.metadata,
            Self::Service(service) => &mut service.metadata,
            Self::ReplicationController(rc) => &mut rc.metadata,
        }
    }
}

fn images(containers: &[k8s_openapi::api::core::v1::Container]) -> Vec<String> {
    containers
        .iter()
        .filter_map(|container| container.image.clone())
        .collect()
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[path = "manifest_test.rs"]
mod tests;
