//! `/v1/baymodels` (spec §3.1, with the Newton+ field set of §4.11): translated to
//! bay-svc's `BayModelService`. Validation of values (lengths, enums, ports, addresses)
//! and ownership is bay-svc's; this module applies the wire rules only.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{
    BayModel, BayModelSpec, CreateBayModelRequest, DeleteBayModelRequest, GetBayModelRequest,
    Labels, ListBayModelsRequest, UpdateBayModelRequest,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, AttributeValues, ResourceSchema};
use crate::body::JsonBody;
use crate::error::{ErrorDocument, Result};
use crate::links::{BaseUrl, Link};
use crate::pagination::ListQuery;
use crate::patch;
use crate::routes::created;
use crate::state::AppState;
use crate::timestamps::format_timestamp;

/// The collection's name in paths and list envelopes.
pub const COLLECTION: &str = "baymodels";

/// The attributes baymodels and cluster templates share: `$keypair` is each one's
/// keypair rule, `$extra` the attributes only one of them has.
macro_rules! template_attributes {
    ($keypair:expr $(, $extra:expr)* $(,)?) => {{
        use $crate::attributes::Attribute;
        use $crate::attributes::AttributeType::{Boolean, Integer, Links, StringMap, Timestamp};
        const STRING: $crate::attributes::AttributeType = $crate::attributes::AttributeType::String;
        &[
        Attribute::optional("uuid", STRING, "Client-chosen uuid; generated when absent."),
        Attribute::optional("name", STRING, "1-255 characters; not unique."),
        Attribute::mandatory(
            "coe",
            STRING,
            "Container orchestration engine: kubernetes or swarm.",
        ),
        Attribute::mandatory("image_id", STRING, "Image reference, stored as given."),
        $keypair,
        Attribute::optional("flavor_id", STRING, "Flavor of the nodes."),
        Attribute::optional("master_flavor_id", STRING, "Flavor of the masters."),
        Attribute::optional("dns_nameserver", STRING, "IPv4 address of the DNS server."),
        Attribute::optional("external_network_id", STRING, "External network."),
        Attribute::optional("fixed_network", STRING, "Fixed network."),
        Attribute::optional("fixed_subnet", STRING, "Fixed subnet."),
        Attribute::optional("network_driver", STRING, "Container network driver."),
        Attribute::optional("volume_driver", STRING, "Container volume driver."),
        Attribute::optional("apiserver_port", Integer, "API server port, 1024-65535."),
        Attribute::optional(
            "docker_volume_size",
            Integer,
            "Docker volume size in GB, >= 1.",
        ),
        Attribute::optional("docker_storage_driver", STRING, "Docker storage driver."),
        Attribute::optional(
            "ssh_authorized_key",
            STRING,
            "SSH public key for the nodes.",
        ),
        Attribute::derived("cluster_distro", STRING, "From the `os_distro` label."),
        Attribute::optional("http_proxy", STRING, "HTTP proxy for the nodes."),
        Attribute::optional("https_proxy", STRING, "HTTPS proxy for the nodes."),
        Attribute::optional("no_proxy", STRING, "Hosts reached without the proxy."),
        Attribute::optional("insecure_registry", STRING, "Insecure registry URL."),
        Attribute::optional(
            "registry_enabled",
            Boolean,
            "Run a Docker registry (default false).",
        ),
        Attribute::optional("labels", StringMap, "Free-form labels; values are strings."),
        Attribute::optional("tls_disabled", Boolean, "Disable TLS (default false)."),
        Attribute::optional(
            "public",
            Boolean,
            "Visible to every project (default false).",
        ),
        Attribute::optional("server_type", STRING, "vm (default) or bm."),
        Attribute::optional(
            "master_lb_enabled",
            Boolean,
            "Load balancer for masters (default false).",
        ),
        Attribute::optional(
            "floating_ip_enabled",
            Boolean,
            "Floating IPs for nodes (default true).",
        ),
        Attribute::optional("hidden", Boolean, "Hidden from lists (default false)."),
        Attribute::optional("tags", STRING, "Comma-separated tags."),
        $($extra,)*
        Attribute::read_only("links", Links, "self and bookmark links."),
        Attribute::read_only("created_at", Timestamp, "Creation time."),
        Attribute::read_only(
            "updated_at",
            Timestamp,
            "Last update; null until the first.",
        ),
        ]
    }};
}
pub(crate) use template_attributes;

const ATTRIBUTES: &[Attribute] = template_attributes!(Attribute::mandatory(
    "keypair_id",
    AttributeType::String,
    "Keypair name, stored as given."
));

/// The baymodel attribute table.
pub const SCHEMA: ResourceSchema = ResourceSchema {
    argument: "baymodel",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[],
    extra_non_removable_paths: &[],
};

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/baymodels", get(list).post(create))
        .route("/v1/baymodels/detail", get(detail))
        .route(
            "/v1/baymodels/{ident}",
            get(show).patch(update).delete(remove),
        )
}

/// A baymodel as clients see it (the full representation); cluster templates add their
/// own fields around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BayModelView {
    pub uuid: String,
    pub name: Option<String>,
    pub coe: String,
    pub image_id: String,
    pub keypair_id: Option<String>,
    pub flavor_id: Option<String>,
    pub master_flavor_id: Option<String>,
    pub dns_nameserver: Option<String>,
    pub external_network_id: Option<String>,
    pub fixed_network: Option<String>,
    pub fixed_subnet: Option<String>,
    pub network_driver: Option<String>,
    pub volume_driver: Option<String>,
    pub apiserver_port: Option<i32>,
    pub docker_volume_size: Option<i32>,
    pub docker_storage_driver: Option<String>,
    pub ssh_authorized_key: Option<String>,
    pub cluster_distro: Option<String>,
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub insecure_registry: Option<String>,
    pub registry_enabled: bool,
    pub labels: BTreeMap<String, String>,
    pub tls_disabled: bool,
    pub public: bool,
    pub server_type: String,
    pub master_lb_enabled: bool,
    pub floating_ip_enabled: bool,
    pub hidden: bool,
    pub tags: Option<String>,
    pub links: Vec<Link>,
    /// ISO 8601 with UTC offset, e.g. `2016-08-29T06:51:31+00:00`.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl BayModelView {
    /// The representation of a stored baymodel, with links under `base`.
    pub fn new(model: &BayModel, base: &BaseUrl) -> Self {
        Self::in_collection(model, base, COLLECTION)
    }

    /// The representation with links to `collection` (`baymodels` or `clustertemplates`).
    pub fn in_collection(model: &BayModel, base: &BaseUrl, collection: &str) -> Self {
        Self {
            uuid: model.uuid.clone(),
            name: model.name.clone(),
            coe: model.coe.clone(),
            image_id: model.image_id.clone(),
            keypair_id: model.keypair_id.clone(),
            flavor_id: model.flavor_id.clone(),
            master_flavor_id: model.master_flavor_id.clone(),
            dns_nameserver: model.dns_nameserver.clone(),
            external_network_id: model.external_network_id.clone(),
            fixed_network: model.fixed_network.clone(),
            fixed_subnet: model.fixed_subnet.clone(),
            network_driver: model.network_driver.clone(),
            volume_driver: model.volume_driver.clone(),
            apiserver_port: model.apiserver_port,
            docker_volume_size: model.docker_volume_size,
            docker_storage_driver: model.docker_storage_driver.clone(),
            ssh_authorized_key: model.ssh_authorized_key.clone(),
            cluster_distro: model.cluster_distro.clone(),
            http_proxy: model.http_proxy.clone(),
            https_proxy: model.https_proxy.clone(),
            no_proxy: model.no_proxy.clone(),
            insecure_registry: model.insecure_registry.clone(),
            registry_enabled: model.registry_enabled,
            labels: model
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            tls_disabled: model.tls_disabled,
            public: model.public,
            server_type: model.server_type.clone(),
            master_lb_enabled: model.master_lb_enabled,
            floating_ip_enabled: model.floating_ip_enabled,
            hidden: model.hidden,
            tags: model.tags.clone(),
            links: base.resource_links(collection, &model.uuid),
            created_at: model.created_at.as_ref().map(format_timestamp),
            updated_at: model.updated_at.as_ref().map(format_timestamp),
        }
    }
}

/// `GET /v1/baymodels` and `GET /v1/baymodels/detail`: full items in both, as Newton+
/// servers answered (a superset of Liberty's summary items, which old clients accept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BayModelCollection {
    pub baymodels: Vec<BayModelView>,
    /// The next page; present only when this page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The create/update request fields of a baymodel or cluster template.
pub(crate) fn spec_from(values: &AttributeValues) -> BayModelSpec {
    BayModelSpec {
        uuid: values.string("uuid"),
        name: values.string("name"),
        coe: values.string("coe"),
        image_id: values.string("image_id"),
        keypair_id: values.string("keypair_id"),
        flavor_id: values.string("flavor_id"),
        master_flavor_id: values.string("master_flavor_id"),
        dns_nameserver: values.string("dns_nameserver"),
        external_network_id: values.string("external_network_id"),
        fixed_network: values.string("fixed_network"),
        fixed_subnet: values.string("fixed_subnet"),
        network_driver: values.string("network_driver"),
        volume_driver: values.string("volume_driver"),
        apiserver_port: values.integer("apiserver_port"),
        docker_volume_size: values.integer("docker_volume_size"),
        docker_storage_driver: values.string("docker_storage_driver"),
        ssh_authorized_key: values.string("ssh_authorized_key"),
        http_proxy: values.string("http_proxy"),
        https_proxy: values.string("https_proxy"),
        no_proxy: values.string("no_proxy"),
        insecure_registry: values.string("insecure_registry"),
        registry_enabled: values.boolean("registry_enabled"),
        labels: values.string_map("labels").map(|labels| Labels {
            values: labels.into_iter().collect(),
        }),
        tls_disabled: values.boolean("tls_disabled"),
        public: values.boolean("public"),
        server_type: values.string("server_type"),
        master_lb_enabled: values.boolean("master_lb_enabled"),
        floating_ip_enabled: values.boolean("floating_ip_enabled"),
        hidden: values.boolean("hidden"),
        tags: values.string("tags"),
    }
}

/// A page of the baymodels the caller sees, with the `next` link under `path` (list and
/// detail answer the same full items, as Newton+ servers did).
async fn collection(
    state: &AppState,
    context: &RequestContext,
    base: &BaseUrl,
    uri: &Uri,
    path: &str,
) -> Result<Json<BayModelCollection>> {
    let page = ListQuery::page(uri, state.max_limit())?;
    let response = state
        .baymodels()
        .list_bay_models(request(
            context,
            ListBayModelsRequest {
                options: Some(page.list_options()),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(BayModelCollection {
        baymodels: response
            .baymodels
            .iter()
            .map(|model| BayModelView::new(model, base))
            .collect(),
        next: page.next(base, path, &response.next_page_token),
    }))
}

/// Lists the caller's baymodels and the public ones.
#[utoipa::path(
    get,
    path = "/v1/baymodels",
    operation_id = "listBayModels",
    tag = "baymodels",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of baymodels.", body = BayModelCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker does not exist.", body = ErrorDocument),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<BayModelCollection>> {
    collection(&state, &context, &base, &uri, COLLECTION).await
}

/// Lists the caller's baymodels and the public ones (full items).
#[utoipa::path(
    get,
    path = "/v1/baymodels/detail",
    operation_id = "listBayModelsDetail",
    tag = "baymodels",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of baymodels.", body = BayModelCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker does not exist.", body = ErrorDocument),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<BayModelCollection>> {
    collection(&state, &context, &base, &uri, "baymodels/detail").await
}

/// Shows a baymodel by uuid or name.
#[utoipa::path(
    get,
    path = "/v1/baymodels/{ident}",
    operation_id = "getBayModel",
    tag = "baymodels",
    params(("ident" = String, Path, description = "uuid or name")),
    responses(
        (status = 200, description = "The baymodel.", body = BayModelView),
        (status = 404, description = "No such baymodel.", body = ErrorDocument),
        (status = 409, description = "Several baymodels have this name.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
) -> Result<Json<BayModelView>> {
    let model = state
        .baymodels()
        .get_bay_model(request(&context, GetBayModelRequest { ident }))
        .await?
        .into_inner();
    Ok(Json(BayModelView::new(&model, &base)))
}

/// Creates a baymodel (synchronous; 201 with the full object and `Location`).
#[utoipa::path(
    post,
    path = "/v1/baymodels",
    operation_id = "createBayModel",
    tag = "baymodels",
    request_body(content = ref("#/components/schemas/BayModelInput"), content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = BayModelView,
         headers(("Location" = String, description = "URL of the new baymodel"))),
        (status = 400, description = "Invalid body or values.", body = ErrorDocument),
        (status = 403, description = "Not allowed (e.g. setting public).", body = ErrorDocument),
        (status = 413, description = "Body too large.", body = ErrorDocument),
        (status = 415, description = "Body is not JSON.", body = ErrorDocument),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    body: JsonBody,
) -> Result<Response> {
    let body = body.required(SCHEMA.argument)?;
    let values = SCHEMA.parse_create(&body)?;
    let model = state
        .baymodels()
        .create_bay_model(request(
            &context,
            CreateBayModelRequest {
                spec: Some(spec_from(&values)),
            },
        ))
        .await?
        .into_inner();
    created(
        &base,
        COLLECTION,
        &model.uuid,
        BayModelView::new(&model, &base),
    )
}

/// Updates a baymodel with a JSON patch (`add`, `replace`, `remove`).
#[utoipa::path(
    patch,
    path = "/v1/baymodels/{ident}",
    operation_id = "updateBayModel",
    tag = "baymodels",
    params(("ident" = String, Path, description = "uuid or name")),
    request_body(content = Vec<crate::openapi::JsonPatchOperation>, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated baymodel.", body = BayModelView),
        (status = 400, description = "Invalid patch or values.", body = ErrorDocument),
        (status = 403, description = "Not the owner.", body = ErrorDocument),
        (status = 404, description = "No such baymodel.", body = ErrorDocument),
        (status = 409, description = "Several baymodels have this name.", body = ErrorDocument),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
    body: JsonBody,
) -> Result<Json<BayModelView>> {
    // As in Magnum, the patch document is checked before the object is looked up.
    let operations = patch::parse(&SCHEMA, &body.required("patch")?)?;
    let mut client = state.baymodels();
    let current = client
        .get_bay_model(request(&context, GetBayModelRequest { ident }))
        .await?
        .into_inner();
    let current_view = BayModelView::new(&current, &base);
    let Some(changes) = patch::plan(&SCHEMA, &current_view, &operations)? else {
        return Ok(Json(current_view));
    };
    let updated = client
        .update_bay_model(request(
            &context,
            UpdateBayModelRequest {
                // The uuid, not the ident: a name may have been taken meanwhile.
                ident: current.uuid,
                spec: Some(spec_from(&changes.values)),
                update_mask: Some(changes.update_mask()),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(BayModelView::new(&updated, &base)))
}

/// Deletes a baymodel (400 while a bay uses it).
#[utoipa::path(
    delete,
    path = "/v1/baymodels/{ident}",
    operation_id = "deleteBayModel",
    tag = "baymodels",
    params(("ident" = String, Path, description = "uuid or name")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "A bay uses it.", body = ErrorDocument),
        (status = 404, description = "No such baymodel.", body = ErrorDocument),
        (status = 409, description = "Several baymodels have this name.", body = ErrorDocument),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path(ident): Path<String>,
) -> Result<StatusCode> {
    state
        .baymodels()
        .delete_bay_model(request(&context, DeleteBayModelRequest { ident }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[path = "baymodels_test.rs"]
mod tests;
