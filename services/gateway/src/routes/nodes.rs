//! `/v1/nodes` (spec §3.3, Liberty only): plain node records, translated to bay-svc's
//! `NodeService`. Nodes are addressed by uuid only; uniqueness of `ironic_node_id` and
//! ownership are bay-svc's.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{
    CreateNodeRequest, DeleteNodeRequest, GetNodeRequest, ListNodesRequest, Node, NodeSpec,
    UpdateNodeRequest,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, AttributeValues, ResourceSchema};
use crate::body::JsonBody;
use crate::error::{Error, ErrorDocument, Result};
use crate::links::{BaseUrl, Link};
use crate::pagination::ListQuery;
use crate::patch;
use crate::routes::created;
use crate::state::AppState;
use crate::timestamps::format_timestamp;

/// The collection's name in paths and list envelopes.
pub const COLLECTION: &str = "nodes";

use AttributeType::{Links, Timestamp};
const STRING: AttributeType = AttributeType::String;

const ATTRIBUTES: &[Attribute] = &[
    Attribute::optional("uuid", STRING, "Client-chosen uuid; generated when absent."),
    Attribute::optional("type", STRING, "virt or bare (free text)."),
    Attribute::optional("image_id", STRING, "Image reference, stored as given."),
    Attribute::optional(
        "ironic_node_id",
        STRING,
        "Ironic node; unique across nodes (409 when taken).",
    ),
    Attribute::read_only("links", Links, "self and bookmark links."),
    Attribute::read_only("created_at", Timestamp, "Creation time."),
    Attribute::read_only(
        "updated_at",
        Timestamp,
        "Last update; null until the first.",
    ),
];

/// The node attribute table (no `name`: nodes have none).
pub const SCHEMA: ResourceSchema = ResourceSchema {
    argument: "node",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[],
    extra_non_removable_paths: &[],
};

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/nodes", get(list).post(create))
        .route("/v1/nodes/detail", get(detail))
        .route("/v1/nodes/{uuid}", get(show).patch(update).delete(remove))
}

/// A node as clients see it (the full representation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NodeView {
    pub uuid: String,
    /// `virt` or `bare` (free text).
    #[serde(rename = "type")]
    pub node_type: Option<String>,
    pub image_id: Option<String>,
    pub ironic_node_id: Option<String>,
    pub links: Vec<Link>,
    /// ISO 8601 with UTC offset, e.g. `2016-08-29T06:51:31+00:00`.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl NodeView {
    /// The representation of a stored node, with links under `base`.
    pub fn new(node: &Node, base: &BaseUrl) -> Self {
        Self {
            uuid: node.uuid.clone(),
            node_type: node.r#type.clone(),
            image_id: node.image_id.clone(),
            ironic_node_id: node.ironic_node_id.clone(),
            links: base.resource_links(COLLECTION, &node.uuid),
            created_at: node.created_at.as_ref().map(format_timestamp),
            updated_at: node.updated_at.as_ref().map(format_timestamp),
        }
    }
}

/// A list item of `GET /v1/nodes` (Liberty's summary set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NodeSummary {
    pub uuid: String,
    #[serde(rename = "type")]
    pub node_type: Option<String>,
    pub image_id: Option<String>,
    pub ironic_node_id: Option<String>,
    pub links: Vec<Link>,
}

impl From<NodeView> for NodeSummary {
    fn from(view: NodeView) -> Self {
        Self {
            uuid: view.uuid,
            node_type: view.node_type,
            image_id: view.image_id,
            ironic_node_id: view.ironic_node_id,
            links: view.links,
        }
    }
}

/// `GET /v1/nodes`: summary items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NodeCollection {
    pub nodes: Vec<NodeSummary>,
    /// The next page; present only when this page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /v1/nodes/detail`: full items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NodeDetailCollection {
    pub nodes: Vec<NodeView>,
    /// The next page; present only when this page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The create/update request fields of a node.
fn spec_from(values: &AttributeValues) -> NodeSpec {
    NodeSpec {
        uuid: values.string("uuid"),
        r#type: values.string("type"),
        image_id: values.string("image_id"),
        ironic_node_id: values.string("ironic_node_id"),
    }
}

/// Node idents are uuids only (Liberty's `types.uuid`: any case, dashes optional,
/// `urn:uuid:` or braces allowed); a name is refused before bay-svc is asked. Returns the
/// canonical form, which is how uuids are stored.
fn node_uuid(ident: &str) -> Result<String> {
    uuid::Uuid::try_parse(ident)
        .map(|uuid| uuid.to_string())
        .map_err(|_| Error::BadRequest(format!("Expected a uuid but received {ident}.")))
}

/// One page of nodes, with the views under `base` and the `next` link for `path`.
async fn list_page(
    state: &AppState,
    context: &RequestContext,
    base: &BaseUrl,
    uri: &Uri,
    path: &str,
) -> Result<(Vec<NodeView>, Option<String>)> {
    let page = ListQuery::page(uri, state.max_limit())?;
    let response = state
        .nodes()
        .list_nodes(request(
            context,
            ListNodesRequest {
                options: Some(page.list_options()),
            },
        ))
        .await?
        .into_inner();
    let views = response
        .nodes
        .iter()
        .map(|node| NodeView::new(node, base))
        .collect();
    Ok((views, page.next(base, path, &response.next_page_token)))
}

/// Lists the caller's nodes (summary items).
#[utoipa::path(
    get,
    path = "/v1/nodes",
    operation_id = "listNodes",
    tag = "nodes",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of nodes.", body = NodeCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker does not exist.", body = ErrorDocument),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<NodeCollection>> {
    let (views, next) = list_page(&state, &context, &base, &uri, COLLECTION).await?;
    Ok(Json(NodeCollection {
        nodes: views.into_iter().map(NodeSummary::from).collect(),
        next,
    }))
}

/// Lists the caller's nodes (full items).
#[utoipa::path(
    get,
    path = "/v1/nodes/detail",
    operation_id = "listNodesDetail",
    tag = "nodes",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of nodes.", body = NodeDetailCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker does not exist.", body = ErrorDocument),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<NodeDetailCollection>> {
    let (nodes, next) = list_page(&state, &context, &base, &uri, "nodes/detail").await?;
    Ok(Json(NodeDetailCollection { nodes, next }))
}

/// Shows a node by uuid (names are refused: nodes have none).
#[utoipa::path(
    get,
    path = "/v1/nodes/{uuid}",
    operation_id = "getNode",
    tag = "nodes",
    params(("uuid" = String, Path, description = "uuid")),
    responses(
        (status = 200, description = "The node.", body = NodeView),
        (status = 400, description = "Not a uuid.", body = ErrorDocument),
        (status = 404, description = "No such node.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
) -> Result<Json<NodeView>> {
    let uuid = node_uuid(&ident)?;
    let node = state
        .nodes()
        .get_node(request(&context, GetNodeRequest { uuid }))
        .await?
        .into_inner();
    Ok(Json(NodeView::new(&node, &base)))
}

/// Creates a node record (201 with the full object and `Location`).
#[utoipa::path(
    post,
    path = "/v1/nodes",
    operation_id = "createNode",
    tag = "nodes",
    request_body(content = ref("#/components/schemas/NodeInput"), content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = NodeView,
         headers(("Location" = String, description = "URL of the new node"))),
        (status = 400, description = "Invalid body or values.", body = ErrorDocument),
        (status = 409, description = "The uuid or ironic_node_id is taken.", body = ErrorDocument),
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
    let node = state
        .nodes()
        .create_node(request(
            &context,
            CreateNodeRequest {
                spec: Some(spec_from(&values)),
            },
        ))
        .await?
        .into_inner();
    created(&base, COLLECTION, &node.uuid, NodeView::new(&node, &base))
}

/// Updates a node with a JSON patch (`add`, `replace`, `remove`).
#[utoipa::path(
    patch,
    path = "/v1/nodes/{uuid}",
    operation_id = "updateNode",
    tag = "nodes",
    params(("uuid" = String, Path, description = "uuid")),
    request_body(content = Vec<crate::openapi::JsonPatchOperation>, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated node.", body = NodeView),
        (status = 400, description = "Not a uuid, or an invalid patch.", body = ErrorDocument),
        (status = 404, description = "No such node.", body = ErrorDocument),
        (status = 409, description = "The ironic_node_id is taken.", body = ErrorDocument),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
    body: JsonBody,
) -> Result<Json<NodeView>> {
    let uuid = node_uuid(&ident)?;
    let operations = patch::parse(&SCHEMA, &body.required("patch")?)?;
    let mut client = state.nodes();
    let current = client
        .get_node(request(&context, GetNodeRequest { uuid }))
        .await?
        .into_inner();
    let current_view = NodeView::new(&current, &base);
    let Some(changes) = patch::plan(&SCHEMA, &current_view, &operations)? else {
        return Ok(Json(current_view));
    };
    let updated = client
        .update_node(request(
            &context,
            UpdateNodeRequest {
                uuid: current.uuid,
                spec: Some(spec_from(&changes.values)),
                update_mask: Some(changes.update_mask()),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(NodeView::new(&updated, &base)))
}

/// Deletes a node record.
#[utoipa::path(
    delete,
    path = "/v1/nodes/{uuid}",
    operation_id = "deleteNode",
    tag = "nodes",
    params(("uuid" = String, Path, description = "uuid")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "Not a uuid.", body = ErrorDocument),
        (status = 404, description = "No such node.", body = ErrorDocument),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path(ident): Path<String>,
) -> Result<StatusCode> {
    let uuid = node_uuid(&ident)?;
    state
        .nodes()
        .delete_node(request(&context, DeleteNodeRequest { uuid }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[path = "nodes_test.rs"]
mod tests;
