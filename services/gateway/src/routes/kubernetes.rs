//! `/v1/pods`, `/v1/services` and `/v1/rcs` (spec §3.4–3.7, Liberty's Kubernetes objects):
//! translated to k8s-svc's three services. The bay checks, the manifest's parsing and the
//! cluster calls are k8s-svc's; this module applies the wire rules, which the three share:
//! the bay of an item may be named in the path (`/v1/pods/<pod>/<bay>`, 1.1.0), in the
//! query (`/v1/rcs/<rc>/?bay_ident=<bay>`, 1.1.0) or not at all (0.2.1); lists filter by
//! `?bay_ident=` when given.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::k8s::v1 as pb;
use prost_types::FieldMask;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, ResourceSchema, invalid_input};
use crate::body::JsonBody;
use crate::error::{Error, ErrorDocument, Result};
use crate::links::{BaseUrl, Link};
use crate::pagination::ListQuery;
use crate::patch;
use crate::routes::created;
use crate::state::AppState;
use crate::timestamps::format_timestamp;

use AttributeType::{Integer, Links, ObjectList, StringList, StringMap, Timestamp};
const STRING: AttributeType = AttributeType::String;

/// The three kinds, each a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pod,
    Service,
    Rc,
}

impl Kind {
    /// The collection's name in paths and list envelopes.
    pub const fn collection(self) -> &'static str {
        match self {
            Self::Pod => "pods",
            Self::Service => "services",
            Self::Rc => "rcs",
        }
    }

    /// The attribute table.
    pub const fn schema(self) -> &'static ResourceSchema {
        match self {
            Self::Pod => &POD_SCHEMA,
            Self::Service => &SERVICE_SCHEMA,
            Self::Rc => &RC_SCHEMA,
        }
    }

    /// The attributes a patch may change.
    const fn updatable(self) -> &'static [&'static str] {
        match self {
            Self::Pod => &["manifest", "manifest_url", "desc"],
            Self::Service => &["manifest", "manifest_url"],
            Self::Rc => &["manifest", "manifest_url", "replicas"],
        }
    }
}

const UUID: Attribute =
    Attribute::optional("uuid", STRING, "Client-chosen uuid; generated when absent.");
const NAME: Attribute = Attribute::read_only("name", STRING, "metadata.name of the manifest.");
const BAY_UUID: Attribute = Attribute::mandatory(
    "bay_uuid",
    STRING,
    "uuid of a kubernetes bay of the caller's project, CREATE_COMPLETE or UPDATE_COMPLETE.",
);
const MANIFEST: Attribute = Attribute::optional(
    "manifest",
    STRING,
    "The object's manifest, JSON or YAML; echoed only by the call that sends it.",
);
const MANIFEST_URL: Attribute = Attribute::optional(
    "manifest_url",
    STRING,
    "http(s) URL the server fetches the manifest from (size and time limited; `manifest` wins).",
);
const LABELS: Attribute = Attribute::read_only("labels", StringMap, "metadata.labels.");
const LINKS: Attribute = Attribute::read_only("links", Links, "self and bookmark links.");
const CREATED_AT: Attribute = Attribute::read_only("created_at", Timestamp, "Creation time.");
const UPDATED_AT: Attribute = Attribute::read_only(
    "updated_at",
    Timestamp,
    "Last update; null until the first.",
);

const POD_SCHEMA: ResourceSchema = ResourceSchema {
    argument: "pod",
    attributes: &[
        UUID,
        NAME,
        Attribute::optional("desc", STRING, "A description, stored."),
        BAY_UUID,
        Attribute::derived("images", StringList, "spec.containers[*].image."),
        LABELS,
        Attribute::derived("status", STRING, "status.phase as the cluster reports it."),
        Attribute::derived("host", STRING, "spec.nodeName."),
        MANIFEST,
        MANIFEST_URL,
        LINKS,
        CREATED_AT,
        UPDATED_AT,
    ],
    extra_internal_paths: &["/name", "/labels", "/images", "/status", "/host"],
    extra_non_removable_paths: &[],
};

const SERVICE_SCHEMA: ResourceSchema = ResourceSchema {
    argument: "service",
    attributes: &[
        UUID,
        NAME,
        BAY_UUID,
        LABELS,
        Attribute::read_only("selector", StringMap, "spec.selector."),
        Attribute::derived("ip", STRING, "The cluster IP, once assigned."),
        Attribute::read_only("ports", ObjectList, "spec.ports, verbatim."),
        MANIFEST,
        MANIFEST_URL,
        LINKS,
        CREATED_AT,
        UPDATED_AT,
    ],
    extra_internal_paths: &["/name", "/labels", "/selector", "/ports", "/ip"],
    extra_non_removable_paths: &[],
};

const REPLICAS: Attribute = Attribute::optional(
    "replicas",
    Integer,
    "spec.replicas. Read-only on create; a patch of /replicas scales the controller.",
)
.at_least(0);

const RC_SCHEMA: ResourceSchema = ResourceSchema {
    argument: "rc",
    attributes: &[
        UUID,
        NAME,
        BAY_UUID,
        Attribute::derived(
            "images",
            StringList,
            "spec.template.spec.containers[*].image.",
        ),
        LABELS,
        REPLICAS,
        MANIFEST,
        MANIFEST_URL,
        LINKS,
        CREATED_AT,
        UPDATED_AT,
    ],
    extra_internal_paths: &["/name", "/labels", "/images"],
    extra_non_removable_paths: &["/replicas"],
};

/// Every route of the three collections.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/pods", get(list_pods).post(create_pod))
        .route("/v1/pods/detail", get(detail_pods))
        .route(
            "/v1/pods/{ident}",
            get(show_pod).patch(update_pod).delete(delete_pod),
        )
        .route(
            "/v1/pods/{ident}/{bay_ident}",
            get(show_pod_in_bay)
                .patch(update_pod_in_bay)
                .delete(delete_pod_in_bay),
        )
        .route("/v1/services", get(list_services).post(create_service))
        .route("/v1/services/detail", get(detail_services))
        .route(
            "/v1/services/{ident}",
            get(show_service)
                .patch(update_service)
                .delete(delete_service),
        )
        .route(
            "/v1/services/{ident}/{bay_ident}",
            get(show_service_in_bay)
                .patch(update_service_in_bay)
                .delete(delete_service_in_bay),
        )
        .route("/v1/rcs", get(list_rcs).post(create_rc))
        .route("/v1/rcs/detail", get(detail_rcs))
        .route(
            "/v1/rcs/{ident}",
            get(show_rc).patch(update_rc).delete(delete_rc),
        )
        .route(
            "/v1/rcs/{ident}/{bay_ident}",
            get(show_rc_in_bay)
                .patch(update_rc_in_bay)
                .delete(delete_rc_in_bay),
        )
}

/// An object of any kind, as k8s-svc answered it.
#[derive(Debug, Clone, Default, PartialEq)]
struct Item {
    uuid: String,
    name: String,
    bay_uuid: String,
    desc: Option<String>,
    images: Vec<String>,
    labels: std::collections::BTreeMap<String, String>,
    status: Option<String>,
    host: Option<String>,
    selector: std::collections::BTreeMap<String, String>,
    ip: Option<String>,
    ports: Vec<Value>,
    replicas: i32,
    manifest: Option<String>,
    manifest_url: Option<String>,
    created_at: Option<prost_types::Timestamp>,
    updated_at: Option<prost_types::Timestamp>,
}

impl From<pb::Pod> for Item {
    fn from(pod: pb::Pod) -> Self {
        Self {
            uuid: pod.uuid,
            name: pod.name,
            bay_uuid: pod.bay_uuid,
            desc: pod.desc,
            images: pod.images,
            labels: pod.labels.into_iter().collect(),
            status: pod.status,
            host: pod.host,
            manifest: pod.manifest,
            manifest_url: pod.manifest_url,
            created_at: pod.created_at,
            updated_at: pod.updated_at,
            ..Self::default()
        }
    }
}

impl From<pb::CoeService> for Item {
    fn from(service: pb::CoeService) -> Self {
        Self {
            uuid: service.uuid,
            name: service.name,
            bay_uuid: service.bay_uuid,
            labels: service.labels.into_iter().collect(),
            selector: service.selector.into_iter().collect(),
            ip: service.ip,
            ports: service
                .ports
                .iter()
                .map(magnum_proto::json::from_struct)
                .collect(),
            manifest: service.manifest,
            manifest_url: service.manifest_url,
            created_at: service.created_at,
            updated_at: service.updated_at,
            ..Self::default()
        }
    }
}

impl From<pb::ReplicationController> for Item {
    fn from(rc: pb::ReplicationController) -> Self {
        Self {
            uuid: rc.uuid,
            name: rc.name,
            bay_uuid: rc.bay_uuid,
            labels: rc.labels.into_iter().collect(),
            images: rc.images,
            replicas: rc.replicas,
            manifest: rc.manifest,
            manifest_url: rc.manifest_url,
            created_at: rc.created_at,
            updated_at: rc.updated_at,
            ..Self::default()
        }
    }
}

/// A pod as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PodView {
    pub uuid: String,
    pub name: String,
    pub desc: Option<String>,
    pub bay_uuid: String,
    pub images: Vec<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// status.phase (`Pending`, `Running`, ...), or `failed` when the cluster refused it.
    pub status: Option<String>,
    pub host: Option<String>,
    /// Only in the answer of the call that sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_url: Option<String>,
    pub links: Vec<Link>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A list item of `GET /v1/pods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PodSummary {
    pub uuid: String,
    pub name: String,
    pub desc: Option<String>,
    pub bay_uuid: String,
    pub images: Vec<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub status: Option<String>,
    pub host: Option<String>,
    pub links: Vec<Link>,
}

/// A Kubernetes service as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceView {
    pub uuid: String,
    pub name: String,
    pub bay_uuid: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub selector: std::collections::BTreeMap<String, String>,
    /// The cluster IP.
    pub ip: Option<String>,
    /// spec.ports, e.g. `{"port": 88, "targetPort": 6379, "protocol": "TCP"}`.
    #[schema(value_type = Vec<Object>)]
    pub ports: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_url: Option<String>,
    pub links: Vec<Link>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A list item of `GET /v1/services`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceSummary {
    pub uuid: String,
    pub name: String,
    pub bay_uuid: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub selector: std::collections::BTreeMap<String, String>,
    pub ip: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub ports: Vec<Value>,
    pub links: Vec<Link>,
}

/// A replication controller as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RcView {
    pub uuid: String,
    pub name: String,
    pub bay_uuid: String,
    /// The template's labels.
    pub labels: std::collections::BTreeMap<String, String>,
    pub images: Vec<String>,
    pub replicas: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_url: Option<String>,
    pub links: Vec<Link>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A list item of `GET /v1/rcs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RcSummary {
    pub uuid: String,
    pub name: String,
    pub images: Vec<String>,
    pub bay_uuid: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub replicas: i32,
    pub links: Vec<Link>,
}

impl Item {
    fn links(&self, kind: Kind, base: &BaseUrl) -> Vec<Link> {
        base.resource_links(kind.collection(), &self.uuid)
    }

    /// The full representation.
    fn full(self, kind: Kind, base: &BaseUrl) -> Value {
        let links = self.links(kind, base);
        let created_at = self.created_at.as_ref().map(format_timestamp);
        let updated_at = self.updated_at.as_ref().map(format_timestamp);
        let view = match kind {
            Kind::Pod => serde_json::to_value(PodView {
                uuid: self.uuid,
                name: self.name,
                desc: self.desc,
                bay_uuid: self.bay_uuid,
                images: self.images,
                labels: self.labels,
                status: self.status,
                host: self.host,
                manifest: self.manifest,
                manifest_url: self.manifest_url,
                links,
                created_at,
                updated_at,
            }),
            Kind::Service => serde_json::to_value(ServiceView {
                uuid: self.uuid,
                name: self.name,
                bay_uuid: self.bay_uuid,
                labels: self.labels,
                selector: self.selector,
                ip: self.ip,
                ports: self.ports,
                manifest: self.manifest,
                manifest_url: self.manifest_url,
                links,
                created_at,
                updated_at,
            }),
            Kind::Rc => serde_json::to_value(RcView {
                uuid: self.uuid,
                name: self.name,
                bay_uuid: self.bay_uuid,
                labels: self.labels,
                images: self.images,
                replicas: self.replicas,
                manifest: self.manifest,
                manifest_url: self.manifest_url,
                links,
                created_at,
                updated_at,
            }),
        };
        view.unwrap_or(Value::Null)
    }

    /// The list item.
    fn summary(self, kind: Kind, base: &BaseUrl) -> Value {
        let links = self.links(kind, base);
        let view = match kind {
            Kind::Pod => serde_json::to_value(PodSummary {
                uuid: self.uuid,
                name: self.name,
                desc: self.desc,
                bay_uuid: self.bay_uuid,
                images: self.images,
                labels: self.labels,
                status: self.status,
                host: self.host,
                links,
            }),
            Kind::Service => serde_json::to_value(ServiceSummary {
                uuid: self.uuid,
                name: self.name,
                bay_uuid: self.bay_uuid,
                labels: self.labels,
                selector: self.selector,
                ip: self.ip,
                ports: self.ports,
                links,
            }),
            Kind::Rc => serde_json::to_value(RcSummary {
                uuid: self.uuid,
                name: self.name,
                images: self.images,
                bay_uuid: self.bay_uuid,
                labels: self.labels,
                replicas: self.replicas,
                links,
            }),
        };
        view.unwrap_or(Value::Null)
    }
}

/// The item URL's object and bay: the path's bay segment wins over `?bay_ident=`.
fn reference(ident: String, bay_in_path: Option<String>, uri: &Uri) -> Result<pb::ObjectRef> {
    let bay_ident = match bay_in_path {
        Some(bay) => bay,
        None => crate::query::value(uri, "bay_ident")?.unwrap_or_default(),
    };
    Ok(pb::ObjectRef { ident, bay_ident })
}

/// The changes of an update, for k8s-svc.
#[derive(Debug, Default)]
struct Update {
    manifest: Option<pb::ManifestSource>,
    desc: Option<String>,
    replicas: i32,
    paths: Vec<String>,
}

async fn create_item(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    body: &Value,
) -> Result<Item> {
    let schema = kind.schema();
    let values = schema.parse_create(body)?;
    if kind == Kind::Rc
        && let Some(replicas) = body.get(REPLICAS.name).filter(|value| !value.is_null())
    {
        return Err(invalid_input(
            REPLICAS.name,
            replicas,
            "Cannot set read only field.",
        ));
    }
    let bay_uuid = values.string(BAY_UUID.name).unwrap_or_default();
    let manifest = Some(pb::ManifestSource {
        manifest: values.string(MANIFEST.name),
        manifest_url: values.string(MANIFEST_URL.name),
    });
    let uuid = values.string(UUID.name);
    let context = context.clone();
    // A bay named in the body that cannot be found is a 400.
    let item = match kind {
        Kind::Pod => state
            .pods()
            .create_pod(request(
                &context,
                pb::CreatePodRequest {
                    bay_uuid,
                    manifest,
                    desc: values.string("desc"),
                    uuid,
                },
            ))
            .await
            .map(|answer| Item::from(answer.into_inner())),
        Kind::Service => state
            .coe_services()
            .create_coe_service(request(
                &context,
                pb::CreateCoeServiceRequest {
                    bay_uuid,
                    manifest,
                    uuid,
                },
            ))
            .await
            .map(|answer| Item::from(answer.into_inner())),
        Kind::Rc => state
            .rcs()
            .create_replication_controller(request(
                &context,
                pb::CreateReplicationControllerRequest {
                    bay_uuid,
                    manifest,
                    uuid,
                },
            ))
            .await
            .map(|answer| Item::from(answer.into_inner())),
    };
    item.map_err(Error::from_reference)
}

async fn get_item(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    reference: pb::ObjectRef,
) -> Result<Item> {
    let r#ref = Some(reference);
    Ok(match kind {
        Kind::Pod => state
            .pods()
            .get_pod(request(context, pb::GetPodRequest { r#ref }))
            .await?
            .into_inner()
            .into(),
        Kind::Service => state
            .coe_services()
            .get_coe_service(request(context, pb::GetCoeServiceRequest { r#ref }))
            .await?
            .into_inner()
            .into(),
        Kind::Rc => state
            .rcs()
            .get_replication_controller(request(
                context,
                pb::GetReplicationControllerRequest { r#ref },
            ))
            .await?
            .into_inner()
            .into(),
    })
}

async fn update_item(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    reference: pb::ObjectRef,
    update: Update,
) -> Result<Item> {
    let r#ref = Some(reference);
    let update_mask = Some(FieldMask {
        paths: update.paths,
    });
    Ok(match kind {
        Kind::Pod => state
            .pods()
            .update_pod(request(
                context,
                pb::UpdatePodRequest {
                    r#ref,
                    update: Some(pb::PodUpdate {
                        manifest: update.manifest,
                        desc: update.desc,
                    }),
                    update_mask,
                },
            ))
            .await?
            .into_inner()
            .into(),
        Kind::Service => state
            .coe_services()
            .update_coe_service(request(
                context,
                pb::UpdateCoeServiceRequest {
                    r#ref,
                    update: Some(pb::CoeServiceUpdate {
                        manifest: update.manifest,
                    }),
                    update_mask,
                },
            ))
            .await?
            .into_inner()
            .into(),
        Kind::Rc => state
            .rcs()
            .update_replication_controller(request(
                context,
                pb::UpdateReplicationControllerRequest {
                    r#ref,
                    update: Some(pb::ReplicationControllerUpdate {
                        manifest: update.manifest,
                        replicas: update.replicas,
                    }),
                    update_mask,
                },
            ))
            .await?
            .into_inner()
            .into(),
    })
}

async fn delete_item(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    reference: pb::ObjectRef,
) -> Result<()> {
    let r#ref = Some(reference);
    match kind {
        Kind::Pod => {
            state
                .pods()
                .delete_pod(request(context, pb::DeletePodRequest { r#ref }))
                .await?;
        }
        Kind::Service => {
            state
                .coe_services()
                .delete_coe_service(request(context, pb::DeleteCoeServiceRequest { r#ref }))
                .await?;
        }
        Kind::Rc => {
            state
                .rcs()
                .delete_replication_controller(request(
                    context,
                    pb::DeleteReplicationControllerRequest { r#ref },
                ))
                .await?;
        }
    }
    Ok(())
}

/// One page of a kind's objects and the `next` link for `path`.
async fn list_items(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    base: &BaseUrl,
    uri: &Uri,
    path: &str,
) -> Result<(Vec<Item>, Option<String>)> {
    let page = ListQuery::page(uri, state.max_limit())?;
    let filter = Some(pb::BayFilter {
        bay_ident: crate::query::value(uri, "bay_ident")?.unwrap_or_default(),
    });
    let options = Some(page.list_options());
    let (items, token): (Vec<Item>, String) = match kind {
        Kind::Pod => {
            let answer = state
                .pods()
                .list_pods(request(context, pb::ListPodsRequest { filter, options }))
                .await?
                .into_inner();
            (
                answer.pods.into_iter().map(Item::from).collect(),
                answer.next_page_token,
            )
        }
        Kind::Service => {
            let answer = state
                .coe_services()
                .list_coe_services(request(
                    context,
                    pb::ListCoeServicesRequest { filter, options },
                ))
                .await?
                .into_inner();
            (
                answer.services.into_iter().map(Item::from).collect(),
                answer.next_page_token,
            )
        }
        Kind::Rc => {
            let answer = state
                .rcs()
                .list_replication_controllers(request(
                    context,
                    pb::ListReplicationControllersRequest { filter, options },
                ))
                .await?
                .into_inner();
            (
                answer.rcs.into_iter().map(Item::from).collect(),
                answer.next_page_token,
            )
        }
    };
    Ok((items, page.next(base, path, &token)))
}

/// `{"<collection>": [...], "next": ...}`.
fn collection(kind: Kind, items: Vec<Value>, next: Option<String>) -> Json<Value> {
    let mut envelope = serde_json::Map::new();
    envelope.insert(kind.collection().to_owned(), Value::Array(items));
    if let Some(next) = next {
        envelope.insert("next".to_owned(), Value::String(next));
    }
    Json(Value::Object(envelope))
}

async fn list(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    base: &BaseUrl,
    uri: &Uri,
) -> Result<Json<Value>> {
    let (items, next) = list_items(state, context, kind, base, uri, kind.collection()).await?;
    let items = items
        .into_iter()
        .map(|item| item.summary(kind, base))
        .collect();
    Ok(collection(kind, items, next))
}

async fn detail(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    base: &BaseUrl,
    uri: &Uri,
) -> Result<Json<Value>> {
    let path = format!("{}/detail", kind.collection());
    let (items, next) = list_items(state, context, kind, base, uri, &path).await?;
    let items = items
        .into_iter()
        .map(|item| item.full(kind, base))
        .collect();
    Ok(collection(kind, items, next))
}

async fn show(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    base: &BaseUrl,
    reference: pb::ObjectRef,
) -> Result<Json<Value>> {
    let item = get_item(state, context, kind, reference).await?;
    Ok(Json(item.full(kind, base)))
}

async fn create(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    base: &BaseUrl,
    body: JsonBody,
) -> Result<Response> {
    let body = body.required(kind.schema().argument)?;
    let item = create_item(state, context, kind, &body).await?;
    let uuid = item.uuid.clone();
    created(base, kind.collection(), &uuid, item.full(kind, base))
}

/// Applies a JSON patch: `/manifest` or `/manifest_url` replaces the object from a new
/// manifest, `/desc` (pods) is stored, `/replicas` (rcs) scales; anything else is refused.
async fn update(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    base: &BaseUrl,
    reference: pb::ObjectRef,
    body: JsonBody,
) -> Result<Json<Value>> {
    let schema = kind.schema();
    // As in Magnum, the patch document is checked before the object is looked up.
    let operations = patch::parse(schema, &body.required("patch")?)?;
    let current = get_item(state, context, kind, reference.clone()).await?;
    let mut target = current.clone().full(kind, base);
    // The manifest is never shown by a read, but a patch replaces it.
    if let Value::Object(fields) = &mut target {
        for name in [MANIFEST.name, MANIFEST_URL.name] {
            fields.entry(name).or_insert(Value::Null);
        }
    }
    let Some(changes) = patch::plan(schema, &target, &operations)? else {
        return Ok(Json(current.full(kind, base)));
    };
    changes.only(kind.updatable(), schema.argument)?;
    let mut update = Update::default();
    let manifest = changes.values.string(MANIFEST.name);
    let manifest_url = changes.values.string(MANIFEST_URL.name);
    if manifest.is_some() || manifest_url.is_some() {
        update.manifest = Some(pb::ManifestSource {
            manifest,
            manifest_url,
        });
        update.paths.push("manifest".to_owned());
    }
    if changes.changed.contains(&"desc") {
        update.desc = changes.values.string("desc");
        update.paths.push("desc".to_owned());
    }
    if let Some(replicas) = changes.values.integer(REPLICAS.name) {
        update.replicas = replicas;
        update.paths.push("replicas".to_owned());
    }
    // The uuid, not the ident: a name may have been taken meanwhile.
    let reference = pb::ObjectRef {
        ident: current.uuid,
        bay_ident: String::new(),
    };
    let updated = update_item(state, context, kind, reference, update).await?;
    Ok(Json(updated.full(kind, base)))
}

async fn remove(
    state: &AppState,
    context: &RequestContext,
    kind: Kind,
    reference: pb::ObjectRef,
) -> Result<StatusCode> {
    delete_item(state, context, kind, reference).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The handlers of one kind, each with its OpenAPI operation.
macro_rules! kind_routes {
    (
        $kind:expr, $tag:literal, $collection:literal, $one:literal,
        $view:ty, $summary:ty, $input:literal,
        $list:ident, $detail:ident, $create:ident,
        $show:ident, $update:ident, $delete:ident,
        $show_in_bay:ident, $update_in_bay:ident, $delete_in_bay:ident
    ) => {
        #[doc = concat!("Lists the caller's ", $collection, " (summary items).")]
        #[utoipa::path(
            get,
            path = concat!("/v1/", $collection),
            operation_id = concat!("list_", $collection),
            tag = $tag,
            params(
                ListQuery,
                ("bay_ident" = Option<String>, Query, description = "uuid or name of a bay: only its objects."),
            ),
            responses(
                (status = 200, description = "A page of summary items.", body = Vec<$summary>),
                (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
                (status = 404, description = "The marker or the bay does not exist.", body = ErrorDocument),
            )
        )]
        pub async fn $list(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            base: BaseUrl,
            uri: Uri,
        ) -> Result<Json<Value>> {
            list(&state, &context, $kind, &base, &uri).await
        }

        #[doc = concat!("Lists the caller's ", $collection, " (full items).")]
        #[utoipa::path(
            get,
            path = concat!("/v1/", $collection, "/detail"),
            operation_id = concat!("list_", $collection, "_detail"),
            tag = $tag,
            params(
                ListQuery,
                ("bay_ident" = Option<String>, Query, description = "uuid or name of a bay: only its objects."),
            ),
            responses(
                (status = 200, description = "A page of full items.", body = Vec<$view>),
                (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
            )
        )]
        pub async fn $detail(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            base: BaseUrl,
            uri: Uri,
        ) -> Result<Json<Value>> {
            detail(&state, &context, $kind, &base, &uri).await
        }

        #[doc = concat!("Creates a ", $one, " from a manifest in the bay's namespace, with the bay's credential.")]
        #[utoipa::path(
            post,
            path = concat!("/v1/", $collection),
            operation_id = concat!("create_", $collection),
            tag = $tag,
            request_body(content = ref($input), content_type = "application/json"),
            responses(
                (status = 201, description = "Created; the manifest is echoed.", body = $view,
                 headers(("Location" = String, description = "URL of the new object"))),
                (status = 400, description = "Invalid body or manifest, unknown or unusable bay, or \
the cluster refused the object (its message).", body = ErrorDocument),
                (status = 409, description = "The name is taken in the bay, or the uuid is.", body = ErrorDocument),
            )
        )]
        pub async fn $create(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            base: BaseUrl,
            body: JsonBody,
        ) -> Result<Response> {
            create(&state, &context, $kind, &base, body).await
        }

        #[doc = concat!("Shows a ", $one, " by uuid or name, refreshed from the cluster.")]
        #[utoipa::path(
            get,
            path = concat!("/v1/", $collection, "/{ident}"),
            operation_id = concat!("get_", $collection),
            tag = $tag,
            params(
                ("ident" = String, Path, description = "uuid or name"),
                ("bay_ident" = Option<String>, Query, description = "uuid or name of the object's bay"),
            ),
            responses(
                (status = 200, description = "The object.", body = $view),
                (status = 404, description = "No such object (or bay).", body = ErrorDocument),
            )
        )]
        pub async fn $show(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            base: BaseUrl,
            uri: Uri,
            Path(ident): Path<String>,
        ) -> Result<Json<Value>> {
            show(&state, &context, $kind, &base, reference(ident, None, &uri)?).await
        }

        #[doc = concat!("Changes a ", $one, " with a JSON patch.")]
        #[utoipa::path(
            patch,
            path = concat!("/v1/", $collection, "/{ident}"),
            operation_id = concat!("update_", $collection),
            tag = $tag,
            params(
                ("ident" = String, Path, description = "uuid or name"),
                ("bay_ident" = Option<String>, Query, description = "uuid or name of the object's bay"),
            ),
            request_body(content = Vec<crate::openapi::JsonPatchOperation>, content_type = "application/json"),
            responses(
                (status = 200, description = "The updated object.", body = $view),
                (status = 400, description = "Invalid patch or manifest, or the cluster refused it.", body = ErrorDocument),
                (status = 404, description = "No such object (or bay).", body = ErrorDocument),
            )
        )]
        pub async fn $update(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            base: BaseUrl,
            uri: Uri,
            Path(ident): Path<String>,
            body: JsonBody,
        ) -> Result<Json<Value>> {
            update(&state, &context, $kind, &base, reference(ident, None, &uri)?, body).await
        }

        #[doc = concat!("Deletes a ", $one, " from the cluster and its record.")]
        #[utoipa::path(
            delete,
            path = concat!("/v1/", $collection, "/{ident}"),
            operation_id = concat!("delete_", $collection),
            tag = $tag,
            params(
                ("ident" = String, Path, description = "uuid or name"),
                ("bay_ident" = Option<String>, Query, description = "uuid or name of the object's bay"),
            ),
            responses(
                (status = 204, description = "Deleted."),
                (status = 404, description = "No such object (or bay).", body = ErrorDocument),
            )
        )]
        pub async fn $delete(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            uri: Uri,
            Path(ident): Path<String>,
        ) -> Result<StatusCode> {
            remove(&state, &context, $kind, reference(ident, None, &uri)?).await
        }

        #[doc = concat!("Shows a ", $one, " of the bay named in the path (1.1.0's form).")]
        #[utoipa::path(
            get,
            path = concat!("/v1/", $collection, "/{ident}/{bay_ident}"),
            operation_id = concat!("get_", $collection, "_in_bay"),
            tag = $tag,
            params(
                ("ident" = String, Path, description = "uuid or name"),
                ("bay_ident" = String, Path, description = "uuid or name of the object's bay"),
            ),
            responses(
                (status = 200, description = "The object.", body = $view),
                (status = 404, description = "No such object or bay, or not of that bay.", body = ErrorDocument),
            )
        )]
        pub async fn $show_in_bay(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            base: BaseUrl,
            uri: Uri,
            Path((ident, bay)): Path<(String, String)>,
        ) -> Result<Json<Value>> {
            show(&state, &context, $kind, &base, reference(ident, Some(bay), &uri)?).await
        }

        #[doc = concat!("Changes a ", $one, " of the bay named in the path (1.1.0's form).")]
        #[utoipa::path(
            patch,
            path = concat!("/v1/", $collection, "/{ident}/{bay_ident}"),
            operation_id = concat!("update_", $collection, "_in_bay"),
            tag = $tag,
            params(
                ("ident" = String, Path, description = "uuid or name"),
                ("bay_ident" = String, Path, description = "uuid or name of the object's bay"),
            ),
            request_body(content = Vec<crate::openapi::JsonPatchOperation>, content_type = "application/json"),
            responses(
                (status = 200, description = "The updated object.", body = $view),
                (status = 400, description = "Invalid patch or manifest.", body = ErrorDocument),
                (status = 404, description = "No such object or bay.", body = ErrorDocument),
            )
        )]
        pub async fn $update_in_bay(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            base: BaseUrl,
            uri: Uri,
            Path((ident, bay)): Path<(String, String)>,
            body: JsonBody,
        ) -> Result<Json<Value>> {
            update(&state, &context, $kind, &base, reference(ident, Some(bay), &uri)?, body).await
        }

        #[doc = concat!("Deletes a ", $one, " of the bay named in the path (1.1.0's form).")]
        #[utoipa::path(
            delete,
            path = concat!("/v1/", $collection, "/{ident}/{bay_ident}"),
            operation_id = concat!("delete_", $collection, "_in_bay"),
            tag = $tag,
            params(
                ("ident" = String, Path, description = "uuid or name"),
                ("bay_ident" = String, Path, description = "uuid or name of the object's bay"),
            ),
            responses(
                (status = 204, description = "Deleted."),
                (status = 404, description = "No such object or bay.", body = ErrorDocument),
            )
        )]
        pub async fn $delete_in_bay(
            State(state): State<AppState>,
            Extension(context): Extension<RequestContext>,
            uri: Uri,
            Path((ident, bay)): Path<(String, String)>,
        ) -> Result<StatusCode> {
            remove(&state, &context, $kind, reference(ident, Some(bay), &uri)?).await
        }
    };
}

kind_routes!(
    Kind::Pod,
    "pods",
    "pods",
    "pod",
    PodView,
    PodSummary,
    "#/components/schemas/PodInput",
    list_pods,
    detail_pods,
    create_pod,
    show_pod,
    update_pod,
    delete_pod,
    show_pod_in_bay,
    update_pod_in_bay,
    delete_pod_in_bay
);
kind_routes!(
    Kind::Service,
    "services",
    "services",
    "service",
    ServiceView,
    ServiceSummary,
    "#/components/schemas/ServiceInput",
    list_services,
    detail_services,
    create_service,
    show_service,
    update_service,
    delete_service,
    show_service_in_bay,
    update_service_in_bay,
    delete_service_in_bay
);
kind_routes!(
    Kind::Rc,
    "rcs",
    "rcs",
    "replication controller",
    RcView,
    RcSummary,
    "#/components/schemas/RcInput",
    list_rcs,
    detail_rcs,
    create_rc,
    show_rc,
    update_rc,
    delete_rc,
    show_rc_in_bay,
    update_rc_in_bay,
    delete_rc_in_bay
);
