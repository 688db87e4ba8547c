//! `/v1/clusters/<cluster>/nodegroups` (spec §4.4, 1.9+): a cluster's node groups from
//! bay-svc's `NodeGroupService`. Every cluster has `default-master` and `default-worker`;
//! more worker groups may be added. Our drivers run one pool of workers per cluster, so a
//! cluster's `node_count` is the sum of its worker groups, and adding, resizing or
//! deleting a group resizes the cluster (asynchronously).

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{
    CreateNodeGroupRequest, DeleteNodeGroupRequest, GetNodeGroupRequest, Labels,
    ListNodeGroupsRequest, NodeGroup, NodeGroupSpec, UpdateNodeGroupLimitsRequest,
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, ResourceSchema, pick};
use crate::body::JsonBody;
use crate::error::{Error, ErrorDocument, Result};
use crate::links::{BaseUrl, Link};
use crate::microversion::ApiVersion;
use crate::patch;
use crate::routes::clusters::{self, cluster_error, require_version};
use crate::state::AppState;
use crate::timestamps::format_timestamp;

/// The default group of a cluster's workers.
pub const DEFAULT_WORKER: &str = "default-worker";

/// The first version with node groups.
const NODEGROUPS_VERSION: ApiVersion = ApiVersion::new(1, 9);

use AttributeType::{Boolean, Integer, Links, StringList, StringMap, Timestamp};
const STRING: AttributeType = AttributeType::String;

const ATTRIBUTES: &[Attribute] = &[
    Attribute::read_only("uuid", STRING, "Generated."),
    Attribute::mandatory("name", STRING, "1-255 characters, unique in the cluster.").length(1, 255),
    Attribute::read_only("cluster_id", STRING, "The cluster's uuid."),
    Attribute::read_only("project_id", STRING, "Owner project."),
    Attribute::optional(
        "docker_volume_size",
        Integer,
        "GB, >= 1; the cluster's when absent.",
    )
    .at_least(1),
    Attribute::optional("labels", StringMap, "The cluster's when absent."),
    Attribute::optional(
        "merge_labels",
        Boolean,
        "Overlay `labels` on the cluster's; always false on output.",
    ),
    Attribute::optional("flavor_id", STRING, "The cluster's when absent.").length(1, 255),
    Attribute::optional("image_id", STRING, "The template's when absent.").length(1, 255),
    Attribute::read_only(
        "node_addresses",
        StringList,
        "Addresses of the group's nodes.",
    ),
    Attribute::optional("node_count", Integer, ">= 0 (default 1).").at_least(0),
    Attribute::optional("role", STRING, "worker (default); master is refused."),
    Attribute::optional("min_node_count", Integer, ">= 0 (default 0).").at_least(0),
    Attribute::optional("max_node_count", Integer, ">= 0, or null for no limit.").at_least(0),
    Attribute::read_only(
        "is_default",
        Boolean,
        "One of the cluster's two default groups.",
    ),
    Attribute::read_only("stack_id", STRING, "The cluster's stack."),
    Attribute::read_only("status", STRING, "The cluster's status."),
    Attribute::read_only("status_reason", STRING, "The cluster's status reason."),
    Attribute::read_only("version", STRING, "Not tracked: null."),
    Attribute::read_only("links", Links, "self and bookmark links."),
    Attribute::read_only("created_at", Timestamp, "Creation time."),
    Attribute::read_only("updated_at", Timestamp, "Last update."),
];

/// The node group attribute table.
pub const SCHEMA: ResourceSchema = ResourceSchema {
    argument: "nodegroup",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[
        "/name",
        "/node_count",
        "/role",
        "/docker_volume_size",
        "/labels",
        "/merge_labels",
        "/flavor_id",
        "/image_id",
    ],
    extra_non_removable_paths: &["/min_node_count"],
};

/// The attributes of list items.
const SUMMARY: &[&str] = &[
    "uuid",
    "name",
    "flavor_id",
    "node_count",
    "role",
    "is_default",
    "image_id",
    "status",
    "stack_id",
];

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/clusters/{ident}/nodegroups", get(list).post(create))
        .route(
            "/v1/clusters/{ident}/nodegroups/{nodegroup}",
            get(show).patch(update).delete(remove),
        )
}

/// A node group as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NodeGroupView {
    pub uuid: String,
    pub name: String,
    /// The cluster's uuid.
    pub cluster_id: String,
    pub project_id: String,
    pub docker_volume_size: Option<i32>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// Always false (an input-only switch).
    pub merge_labels: bool,
    pub flavor_id: Option<String>,
    pub image_id: Option<String>,
    pub node_addresses: Vec<String>,
    pub node_count: i32,
    /// `master` or `worker`.
    pub role: String,
    pub min_node_count: i32,
    pub max_node_count: Option<i32>,
    pub is_default: bool,
    pub stack_id: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub version: Option<String>,
    pub links: Vec<Link>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A cluster's group with the cluster's state (groups have no lifecycle of their own).
fn view(group: &NodeGroup, cluster: &magnum_proto::bay::v1::Bay, base: &BaseUrl) -> NodeGroupView {
    let addresses = match (group.is_default, group.role.as_str()) {
        (true, "master") => cluster.master_addresses.clone(),
        (true, _) => cluster.node_addresses.clone(),
        // One pool of workers: the extra groups' nodes are not told apart.
        (false, _) => Vec::new(),
    };
    NodeGroupView {
        uuid: group.uuid.clone(),
        name: group.name.clone(),
        cluster_id: group.bay_uuid.clone(),
        project_id: group.project_id.clone(),
        docker_volume_size: group.docker_volume_size,
        labels: group
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        merge_labels: false,
        flavor_id: group.flavor_id.clone(),
        image_id: group.image_id.clone(),
        node_addresses: addresses,
        node_count: group.node_count,
        role: group.role.clone(),
        min_node_count: group.min_node_count,
        max_node_count: group.max_node_count,
        is_default: group.is_default,
        stack_id: cluster.stack_id.clone(),
        status: crate::routes::bays::status_name(cluster.status()).map(str::to_owned),
        status_reason: cluster.status_reason.clone(),
        version: None,
        links: base.resource_links(
            &format!("{}/{}/nodegroups", clusters::COLLECTION, group.bay_uuid),
            &group.uuid,
        ),
        created_at: group.created_at.as_ref().map(format_timestamp),
        updated_at: group.updated_at.as_ref().map(format_timestamp),
    }
}

async fn get_group(
    state: &AppState,
    context: &RequestContext,
    bay_ident: String,
    ident: String,
) -> Result<NodeGroup> {
    Ok(state
        .node_groups()
        .get_node_group(request(context, GetNodeGroupRequest { bay_ident, ident }))
        .await
        .map_err(cluster_error)?
        .into_inner())
}

/// The full representation, with the cluster's current state.
async fn full(
    state: &AppState,
    context: &RequestContext,
    base: &BaseUrl,
    group: &NodeGroup,
) -> Result<NodeGroupView> {
    let cluster = clusters::find(state, context, group.bay_uuid.clone()).await?;
    Ok(view(group, &cluster, base))
}

/// `GET .../nodegroups`: the groups' summary items.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NodeGroupCollection {
    #[schema(value_type = Vec<NodeGroupView>)]
    pub nodegroups: Vec<Map<String, Value>>,
}

/// Lists a cluster's node groups (`?role=` filters).
#[utoipa::path(
    get,
    path = "/v1/clusters/{ident}/nodegroups",
    operation_id = "listNodeGroups",
    tag = "nodegroups",
    params(
        ("ident" = String, Path, description = "uuid or name of the cluster"),
        ("role" = Option<String>, Query, description = "Only the groups of this role."),
    ),
    responses(
        (status = 200, description = "The node groups.", body = NodeGroupCollection),
        (status = 404, description = "No such cluster.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    base: BaseUrl,
    uri: Uri,
    Path(ident): Path<String>,
) -> Result<Json<NodeGroupCollection>> {
    require_version(version, NODEGROUPS_VERSION, "nodegroups")?;
    let role = crate::query::value(&uri, "role")?;
    let cluster = clusters::find(&state, &context, ident).await?;
    let groups = state
        .node_groups()
        .list_node_groups(request(
            &context,
            ListNodeGroupsRequest {
                bay_ident: cluster.uuid.clone(),
            },
        ))
        .await
        .map_err(cluster_error)?
        .into_inner()
        .node_groups;
    let nodegroups = groups
        .iter()
        .filter(|group| role.as_deref().is_none_or(|role| group.role == role))
        .map(|group| {
            let value = serde_json::to_value(view(group, &cluster, &base)).map_err(|error| {
                Error::Internal(format!("cannot represent a nodegroup: {error}"))
            })?;
            Ok(pick(&value, SUMMARY.iter().copied()))
        })
        .collect::<Result<_>>()?;
    Ok(Json(NodeGroupCollection { nodegroups }))
}

/// Shows a node group by uuid or name.
#[utoipa::path(
    get,
    path = "/v1/clusters/{ident}/nodegroups/{nodegroup}",
    operation_id = "getNodeGroup",
    tag = "nodegroups",
    params(
        ("ident" = String, Path, description = "uuid or name of the cluster"),
        ("nodegroup" = String, Path, description = "uuid or name of the node group"),
    ),
    responses(
        (status = 200, description = "The node group.", body = NodeGroupView),
        (status = 404, description = "No such cluster or node group.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    base: BaseUrl,
    Path((ident, nodegroup)): Path<(String, String)>,
) -> Result<Json<NodeGroupView>> {
    require_version(version, NODEGROUPS_VERSION, "nodegroups")?;
    let group = get_group(&state, &context, ident, nodegroup).await?;
    Ok(Json(full(&state, &context, &base, &group).await?))
}

/// Adds a worker group: 202 with the group; the cluster grows by its nodes.
#[utoipa::path(
    post,
    path = "/v1/clusters/{ident}/nodegroups",
    operation_id = "createNodeGroup",
    tag = "nodegroups",
    params(("ident" = String, Path, description = "uuid or name of the cluster")),
    request_body(content = ref("#/components/schemas/NodeGroupInput"), content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: the new group.", body = NodeGroupView),
        (status = 400, description = "Invalid body, a master group, or the cluster's status does not allow it.", body = ErrorDocument),
        (status = 404, description = "No such cluster.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
        (status = 409, description = "The name is taken, or the counts are out of bounds.", body = ErrorDocument),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    base: BaseUrl,
    Path(ident): Path<String>,
    body: JsonBody,
) -> Result<Response> {
    require_version(version, NODEGROUPS_VERSION, "nodegroups")?;
    let body = body.required(SCHEMA.argument)?;
    let values = SCHEMA.parse_create(&body)?;
    let spec = NodeGroupSpec {
        name: values.string("name").unwrap_or_default(),
        role: values.string("role"),
        node_count: values.integer("node_count"),
        min_node_count: values.integer("min_node_count"),
        max_node_count: values.integer("max_node_count"),
        docker_volume_size: values.integer("docker_volume_size"),
        labels: values.string_map("labels").map(|labels| Labels {
            values: labels.into_iter().collect(),
        }),
        merge_labels: values.boolean("merge_labels"),
        flavor_id: values.string("flavor_id"),
        image_id: values.string("image_id"),
    };
    let created = state
        .node_groups()
        .create_node_group(request(
            &context,
            CreateNodeGroupRequest {
                bay_ident: ident,
                spec: Some(spec),
            },
        ))
        .await
        .map_err(cluster_error)?
        .into_inner()
        .node_group
        .ok_or_else(|| Error::Internal("bay-svc made a node group but did not return it".into()))?;
    let view = full(&state, &context, &base, &created).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// Changes a group's `/min_node_count` or `/max_node_count` (JSON patch): 202 with the
/// group. The default groups' limits cannot change.
#[utoipa::path(
    patch,
    path = "/v1/clusters/{ident}/nodegroups/{nodegroup}",
    operation_id = "updateNodeGroup",
    tag = "nodegroups",
    params(
        ("ident" = String, Path, description = "uuid or name of the cluster"),
        ("nodegroup" = String, Path, description = "uuid or name of the node group"),
    ),
    request_body(content = Vec<crate::openapi::JsonPatchOperation>, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: the group.", body = NodeGroupView),
        (status = 400, description = "Another path, or a default group.", body = ErrorDocument),
        (status = 404, description = "No such cluster or node group.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
        (status = 409, description = "The counts are out of bounds.", body = ErrorDocument),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    base: BaseUrl,
    Path((ident, nodegroup)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Response> {
    require_version(version, NODEGROUPS_VERSION, "nodegroups")?;
    let operations = patch::parse(&SCHEMA, &body.required("patch")?)?;
    let current = get_group(&state, &context, ident, nodegroup).await?;
    let current_view = full(&state, &context, &base, &current).await?;
    let Some(changes) = patch::plan(&SCHEMA, &current_view, &operations)? else {
        return Ok((StatusCode::ACCEPTED, Json(current_view)).into_response());
    };
    changes.only(&["min_node_count", "max_node_count"], SCHEMA.argument)?;
    let max_changed = changes.changed.contains(&"max_node_count");
    let max = changes.values.integer("max_node_count");
    let updated = state
        .node_groups()
        .update_node_group_limits(request(
            &context,
            UpdateNodeGroupLimitsRequest {
                bay_ident: current.bay_uuid.clone(),
                ident: current.uuid.clone(),
                min_node_count: changes.values.integer("min_node_count"),
                max_node_count: max,
                clear_max_node_count: max_changed && max.is_none(),
            },
        ))
        .await
        .map_err(cluster_error)?
        .into_inner();
    let view = full(&state, &context, &base, &updated).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// Deletes a worker group (not a default one); the cluster shrinks by its nodes.
#[utoipa::path(
    delete,
    path = "/v1/clusters/{ident}/nodegroups/{nodegroup}",
    operation_id = "deleteNodeGroup",
    tag = "nodegroups",
    params(
        ("ident" = String, Path, description = "uuid or name of the cluster"),
        ("nodegroup" = String, Path, description = "uuid or name of the node group"),
    ),
    responses(
        (status = 204, description = "Deleted; the cluster is resized."),
        (status = 400, description = "A default group, or the cluster's status does not allow it.", body = ErrorDocument),
        (status = 404, description = "No such cluster or node group.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    Path((ident, nodegroup)): Path<(String, String)>,
) -> Result<StatusCode> {
    require_version(version, NODEGROUPS_VERSION, "nodegroups")?;
    state
        .node_groups()
        .delete_node_group(request(
            &context,
            DeleteNodeGroupRequest {
                bay_ident: ident,
                ident: nodegroup,
            },
        ))
        .await
        .map_err(cluster_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[path = "nodegroups_test.rs"]
mod tests;
