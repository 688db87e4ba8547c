//! `/v1/clusters/<cluster>/nodegroups` (spec §4.4, 1.9+): every cluster has Magnum's two
//! default groups, `default-master` (its masters) and `default-worker` (its workers),
//! derived from the bay's counts and addresses. Resizing the worker group is a cluster
//! resize; groups beyond the defaults are refused, because our drivers place one pool of
//! workers per bay.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{Bay, GetBayModelRequest};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::attributes::pick;
use crate::body::JsonBody;
use crate::error::{Error, ErrorDocument, Result};
use crate::links::{BaseUrl, Link};
use crate::microversion::ApiVersion;
use crate::routes::bays::status_name;
use crate::routes::clusters::{self, require_version};
use crate::state::AppState;
use crate::timestamps::format_timestamp;

/// The default group of a cluster's workers.
pub const DEFAULT_WORKER: &str = "default-worker";
/// The default group of a cluster's masters.
pub const DEFAULT_MASTER: &str = "default-master";

/// The first version with node groups.
const NODEGROUPS_VERSION: ApiVersion = ApiVersion::new(1, 9);

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
    /// 1 for the master group, 2 for the worker group (per cluster).
    pub id: i64,
    pub uuid: String,
    pub name: String,
    /// The cluster's uuid.
    pub cluster_id: String,
    pub project_id: String,
    pub docker_volume_size: Option<i32>,
    pub labels: std::collections::BTreeMap<String, String>,
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
    /// Always false (an input-only switch).
    pub merge_labels: bool,
    pub links: Vec<Link>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// The two default groups of `cluster`; `image_id` is its template's image.
fn groups(cluster: &Bay, image_id: Option<&str>, base: &BaseUrl) -> [NodeGroupView; 2] {
    let group = |id: i64, name: &str, role: &str| {
        let master = role == "master";
        let uuid = Uuid::parse_str(&cluster.uuid)
            .map(|cluster| Uuid::new_v5(&cluster, name.as_bytes()).to_string())
            .unwrap_or_default();
        NodeGroupView {
            id,
            links: base.resource_links(
                &format!("{}/{}/nodegroups", clusters::COLLECTION, cluster.uuid),
                &uuid,
            ),
            uuid,
            name: name.to_owned(),
            cluster_id: cluster.uuid.clone(),
            project_id: cluster.project_id.clone(),
            docker_volume_size: cluster.docker_volume_size,
            labels: cluster
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            flavor_id: if master {
                cluster.master_flavor_id.clone()
            } else {
                cluster.flavor_id.clone()
            },
            image_id: image_id.map(str::to_owned),
            node_addresses: if master {
                cluster.master_addresses.clone()
            } else {
                cluster.node_addresses.clone()
            },
            node_count: if master {
                cluster.master_count
            } else {
                cluster.node_count
            },
            role: role.to_owned(),
            min_node_count: if master { cluster.master_count } else { 1 },
            max_node_count: master.then_some(cluster.master_count),
            is_default: true,
            stack_id: cluster.stack_id.clone(),
            status: status_name(cluster.status()).map(str::to_owned),
            status_reason: cluster.status_reason.clone(),
            version: None,
            merge_labels: false,
            created_at: cluster.created_at.as_ref().map(format_timestamp),
            updated_at: cluster.updated_at.as_ref().map(format_timestamp),
        }
    };
    [
        group(1, DEFAULT_MASTER, "master"),
        group(2, DEFAULT_WORKER, "worker"),
    ]
}

/// The group `ident` (uuid, name or id) names among `groups`.
fn find_group<'a>(groups: &'a [NodeGroupView], ident: &str) -> Result<&'a NodeGroupView> {
    groups
        .iter()
        .find(|group| group.uuid == ident || group.name == ident || group.id.to_string() == ident)
        .ok_or_else(|| Error::NotFound(format!("Nodegroup {ident} could not be found.")))
}

/// Checks that a resize may target `group` of `cluster`: the worker group only.
pub(crate) fn resizable(cluster: &Bay, group: &str) -> Result<()> {
    let base = BaseUrl::from_request(&Default::default(), &Uri::from_static("/"));
    let groups = groups(cluster, None, &base);
    if find_group(&groups, group)?.role == "master" {
        return Err(Error::BadRequest(
            "Resizing a master nodegroup is not supported.".to_owned(),
        ));
    }
    Ok(())
}

/// The cluster and its groups, as the caller may see them.
async fn cluster_groups(
    state: &AppState,
    context: &RequestContext,
    base: &BaseUrl,
    cluster: String,
) -> Result<[NodeGroupView; 2]> {
    let cluster = clusters::find(state, context, cluster).await?;
    // The template may be another project's public one; the image is then still known.
    let image_id = state
        .baymodels()
        .get_bay_model(request(
            context,
            GetBayModelRequest {
                ident: cluster.baymodel_id.clone(),
            },
        ))
        .await
        .ok()
        .map(|template| template.into_inner().image_id);
    Ok(groups(&cluster, image_id.as_deref(), base))
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
    let groups = cluster_groups(&state, &context, &base, ident).await?;
    let nodegroups = groups
        .iter()
        .filter(|group| role.as_deref().is_none_or(|role| group.role == role))
        .map(|group| {
            let value = serde_json::to_value(group).map_err(|error| {
                Error::Internal(format!("cannot represent a nodegroup: {error}"))
            })?;
            Ok(pick(&value, SUMMARY.iter().copied()))
        })
        .collect::<Result<_>>()?;
    Ok(Json(NodeGroupCollection { nodegroups }))
}

/// Shows a node group by uuid, name or id.
#[utoipa::path(
    get,
    path = "/v1/clusters/{ident}/nodegroups/{nodegroup}",
    operation_id = "getNodeGroup",
    tag = "nodegroups",
    params(
        ("ident" = String, Path, description = "uuid or name of the cluster"),
        ("nodegroup" = String, Path, description = "uuid, name or id of the node group"),
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
    let groups = cluster_groups(&state, &context, &base, ident).await?;
    Ok(Json(find_group(&groups, &nodegroup)?.clone()))
}

/// Creating a group beyond the defaults is refused (our drivers place one worker pool
/// per cluster); the cluster must exist.
#[utoipa::path(
    post,
    path = "/v1/clusters/{ident}/nodegroups",
    operation_id = "createNodeGroup",
    tag = "nodegroups",
    params(("ident" = String, Path, description = "uuid or name of the cluster")),
    responses(
        (status = 400, description = "Extra node groups are not supported.", body = ErrorDocument),
        (status = 404, description = "No such cluster.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    Path(ident): Path<String>,
    body: JsonBody,
) -> Result<Response> {
    require_version(version, NODEGROUPS_VERSION, "nodegroups")?;
    body.required("nodegroup")?;
    let cluster = clusters::find(&state, &context, ident).await?;
    Err(Error::BadRequest(format!(
        "Cluster {} cannot have node groups other than {DEFAULT_MASTER} and {DEFAULT_WORKER}: \
         this deployment's drivers place one pool of workers per cluster. Resize \
         {DEFAULT_WORKER} instead.",
        cluster.name.unwrap_or(cluster.uuid)
    )))
}

/// Node group updates change only min/max counts, which the default groups do not keep;
/// resize the cluster instead.
#[utoipa::path(
    patch,
    path = "/v1/clusters/{ident}/nodegroups/{nodegroup}",
    operation_id = "updateNodeGroup",
    tag = "nodegroups",
    params(
        ("ident" = String, Path, description = "uuid or name of the cluster"),
        ("nodegroup" = String, Path, description = "uuid, name or id of the node group"),
    ),
    responses(
        (status = 400, description = "The default groups' limits cannot change.", body = ErrorDocument),
        (status = 404, description = "No such cluster or node group.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
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
    body.required("patch")?;
    let groups = cluster_groups(&state, &context, &base, ident).await?;
    let group = find_group(&groups, &nodegroup)?;
    Err(Error::BadRequest(format!(
        "Nodegroup {} has no adjustable limits here: its size follows the cluster's \
         node_count (use cluster resize).",
        group.name
    )))
}

/// Deleting a default group is refused, as in Magnum.
#[utoipa::path(
    delete,
    path = "/v1/clusters/{ident}/nodegroups/{nodegroup}",
    operation_id = "deleteNodeGroup",
    tag = "nodegroups",
    params(
        ("ident" = String, Path, description = "uuid or name of the cluster"),
        ("nodegroup" = String, Path, description = "uuid, name or id of the node group"),
    ),
    responses(
        (status = 400, description = "Deleting a default node group is not supported.", body = ErrorDocument),
        (status = 404, description = "No such cluster or node group.", body = ErrorDocument),
        (status = 406, description = "API version below 1.9.", body = ErrorDocument),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    base: BaseUrl,
    Path((ident, nodegroup)): Path<(String, String)>,
) -> Result<StatusCode> {
    require_version(version, NODEGROUPS_VERSION, "nodegroups")?;
    let groups = cluster_groups(&state, &context, &base, ident).await?;
    find_group(&groups, &nodegroup)?;
    Err(Error::BadRequest(
        "Deleting a default nodegroup is not supported.".to_owned(),
    ))
}

#[cfg(test)]
#[path = "nodegroups_test.rs"]
mod tests;
