//! `/v1/clustertemplates` (spec §4.2): the modern name of baymodels, served from the same
//! records by bay-svc's `BayModelService` (a template made here is a baymodel there, and
//! the other way round). The differences are the wire's: `keypair_id` is optional, the
//! owner (`project_id`, `user_id`) and `driver` are shown, and errors speak of cluster
//! templates.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{
    BayModel, CreateBayModelRequest, DeleteBayModelRequest, GetBayModelRequest,
    ListBayModelsRequest, UpdateBayModelRequest,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, ResourceSchema};
use crate::body::JsonBody;
use crate::error::{ErrorDocument, Result};
use crate::links::BaseUrl;
use crate::pagination::ListQuery;
use crate::patch;
use crate::routes::baymodels::{BayModelView, spec_from, template_attributes};
use crate::routes::clusters::cluster_error;
use crate::routes::created;
use crate::state::AppState;

/// The collection's name in paths and list envelopes.
pub const COLLECTION: &str = "clustertemplates";

const ATTRIBUTES: &[Attribute] = template_attributes!(
    Attribute::optional(
        "keypair_id",
        AttributeType::String,
        "Keypair name, stored as given; clusters without their own keypair take it."
    ),
    Attribute::derived(
        "driver",
        AttributeType::String,
        "The driver serving the template's clusters (from the COE)."
    ),
    Attribute::read_only("project_id", AttributeType::String, "Owner project."),
    Attribute::read_only("user_id", AttributeType::String, "Owner user."),
);

/// The cluster template attribute table.
pub const SCHEMA: ResourceSchema = ResourceSchema {
    argument: "clustertemplate",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[],
    extra_non_removable_paths: &[
        "/network_driver",
        "/external_network_id",
        "/tls_disabled",
        "/public",
        "/server_type",
        "/registry_enabled",
        "/cluster_distro",
        "/hidden",
    ],
};

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/clustertemplates", get(list).post(create))
        .route("/v1/clustertemplates/detail", get(detail))
        .route(
            "/v1/clustertemplates/{ident}",
            get(show).patch(update).delete(remove),
        )
}

/// A cluster template as clients see it: a baymodel's fields and its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClusterTemplateView {
    #[serde(flatten)]
    pub template: BayModelView,
    pub driver: String,
    pub project_id: String,
    pub user_id: String,
}

impl ClusterTemplateView {
    pub fn new(model: &BayModel, base: &BaseUrl) -> Self {
        Self {
            template: BayModelView::in_collection(model, base, COLLECTION),
            driver: model.driver.clone(),
            project_id: model.project_id.clone(),
            user_id: model.user_id.clone(),
        }
    }
}

/// `GET /v1/clustertemplates` and `/detail`: full items in both (spec §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClusterTemplateCollection {
    pub clustertemplates: Vec<ClusterTemplateView>,
    /// The next page; present only when this page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

async fn collection(
    state: &AppState,
    context: &RequestContext,
    base: &BaseUrl,
    uri: &Uri,
    path: &str,
) -> Result<Json<ClusterTemplateCollection>> {
    let page = ListQuery::page(uri, state.max_limit())?;
    let response = state
        .baymodels()
        .list_bay_models(request(
            context,
            ListBayModelsRequest {
                options: Some(page.list_options()),
            },
        ))
        .await
        .map_err(cluster_error)?
        .into_inner();
    Ok(Json(ClusterTemplateCollection {
        clustertemplates: response
            .baymodels
            .iter()
            .map(|model| ClusterTemplateView::new(model, base))
            .collect(),
        next: page.next(base, path, &response.next_page_token),
    }))
}

async fn find(state: &AppState, context: &RequestContext, ident: String) -> Result<BayModel> {
    Ok(state
        .baymodels()
        .get_bay_model(request(context, GetBayModelRequest { ident }))
        .await
        .map_err(cluster_error)?
        .into_inner())
}

/// Lists the caller's cluster templates and the public ones.
#[utoipa::path(
    get,
    path = "/v1/clustertemplates",
    operation_id = "listClusterTemplates",
    tag = "clustertemplates",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of cluster templates.", body = ClusterTemplateCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker does not exist.", body = ErrorDocument),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<ClusterTemplateCollection>> {
    collection(&state, &context, &base, &uri, COLLECTION).await
}

/// Lists the caller's cluster templates and the public ones (the same full items).
#[utoipa::path(
    get,
    path = "/v1/clustertemplates/detail",
    operation_id = "listClusterTemplatesDetail",
    tag = "clustertemplates",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of cluster templates.", body = ClusterTemplateCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 404, description = "The marker does not exist.", body = ErrorDocument),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<ClusterTemplateCollection>> {
    collection(&state, &context, &base, &uri, "clustertemplates/detail").await
}

/// Shows a cluster template by uuid or name.
#[utoipa::path(
    get,
    path = "/v1/clustertemplates/{ident}",
    operation_id = "getClusterTemplate",
    tag = "clustertemplates",
    params(("ident" = String, Path, description = "uuid or name")),
    responses(
        (status = 200, description = "The cluster template.", body = ClusterTemplateView),
        (status = 404, description = "No such cluster template.", body = ErrorDocument),
        (status = 409, description = "Several cluster templates have this name.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
) -> Result<Json<ClusterTemplateView>> {
    let model = find(&state, &context, ident).await?;
    Ok(Json(ClusterTemplateView::new(&model, &base)))
}

/// Creates a cluster template (201 with the full object and `Location`).
#[utoipa::path(
    post,
    path = "/v1/clustertemplates",
    operation_id = "createClusterTemplate",
    tag = "clustertemplates",
    request_body(content = ref("#/components/schemas/ClusterTemplateInput"), content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = ClusterTemplateView,
         headers(("Location" = String, description = "URL of the new cluster template"))),
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
        .await
        .map_err(cluster_error)?
        .into_inner();
    created(
        &base,
        COLLECTION,
        &model.uuid,
        ClusterTemplateView::new(&model, &base),
    )
}

/// Updates a cluster template with a JSON patch (`add`, `replace`, `remove`).
#[utoipa::path(
    patch,
    path = "/v1/clustertemplates/{ident}",
    operation_id = "updateClusterTemplate",
    tag = "clustertemplates",
    params(("ident" = String, Path, description = "uuid or name")),
    request_body(content = Vec<crate::openapi::JsonPatchOperation>, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated cluster template.", body = ClusterTemplateView),
        (status = 400, description = "Invalid patch or values.", body = ErrorDocument),
        (status = 403, description = "Not the owner.", body = ErrorDocument),
        (status = 404, description = "No such cluster template.", body = ErrorDocument),
        (status = 409, description = "Several cluster templates have this name.", body = ErrorDocument),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    Path(ident): Path<String>,
    body: JsonBody,
) -> Result<Json<ClusterTemplateView>> {
    let operations = patch::parse(&SCHEMA, &body.required("patch")?)?;
    let current = find(&state, &context, ident).await?;
    let current_view = ClusterTemplateView::new(&current, &base);
    let Some(changes) = patch::plan(&SCHEMA, &current_view, &operations)? else {
        return Ok(Json(current_view));
    };
    let updated = state
        .baymodels()
        .update_bay_model(request(
            &context,
            UpdateBayModelRequest {
                ident: current.uuid,
                spec: Some(spec_from(&changes.values)),
                update_mask: Some(changes.update_mask()),
            },
        ))
        .await
        .map_err(cluster_error)?
        .into_inner();
    Ok(Json(ClusterTemplateView::new(&updated, &base)))
}

/// Deletes a cluster template (400 while a cluster uses it).
#[utoipa::path(
    delete,
    path = "/v1/clustertemplates/{ident}",
    operation_id = "deleteClusterTemplate",
    tag = "clustertemplates",
    params(("ident" = String, Path, description = "uuid or name")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "A cluster uses it.", body = ErrorDocument),
        (status = 404, description = "No such cluster template.", body = ErrorDocument),
        (status = 409, description = "Several cluster templates have this name.", body = ErrorDocument),
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
        .await
        .map_err(cluster_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[path = "clustertemplates_test.rs"]
mod tests;
