//! `/v1/quotas` (spec §4.5): how many clusters a project may have, kept and enforced by
//! bay-svc's `QuotaService`. Updates take a plain quota object, not a JSON patch.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{
    CreateQuotaRequest, DeleteQuotaRequest, GetQuotaRequest, ListQuotasRequest, Quota,
    UpdateQuotaRequest,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, ResourceSchema};
use crate::body::JsonBody;
use crate::error::{Error, ErrorDocument, Result};
use crate::links::BaseUrl;
use crate::pagination::ListQuery;
use crate::state::AppState;
use crate::timestamps::format_timestamp;

/// The collection's name in paths and list envelopes.
pub const COLLECTION: &str = "quotas";

const ATTRIBUTES: &[Attribute] = &[
    Attribute::read_only("id", AttributeType::Integer, "Stored quotas only."),
    Attribute::mandatory("project_id", AttributeType::String, "The project limited.")
        .length(1, 255),
    Attribute::mandatory("resource", AttributeType::String, "Only `Cluster`."),
    Attribute::optional(
        "hard_limit",
        AttributeType::Integer,
        "The most clusters the project may have, >= 0 (default 1).",
    )
    .at_least(0),
    Attribute::read_only("created_at", AttributeType::Timestamp, "Creation time."),
    Attribute::read_only("updated_at", AttributeType::Timestamp, "Last update."),
];

/// The quota attribute table (create and update bodies).
pub const SCHEMA: ResourceSchema = ResourceSchema {
    argument: "quota",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[],
    extra_non_removable_paths: &[],
};

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/quotas", get(list).post(create))
        .route(
            "/v1/quotas/{project_id}/{resource}",
            get(show).patch(update).delete(remove),
        )
}

/// A quota as clients see it; a project's default (not stored) has no `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuotaView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub project_id: String,
    pub resource: String,
    pub hard_limit: i32,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl From<Quota> for QuotaView {
    fn from(quota: Quota) -> Self {
        Self {
            id: (quota.id != 0).then_some(quota.id),
            project_id: quota.project_id,
            resource: quota.resource,
            hard_limit: quota.hard_limit,
            created_at: quota.created_at.as_ref().map(format_timestamp),
            updated_at: quota.updated_at.as_ref().map(format_timestamp),
        }
    }
}

/// `GET /v1/quotas`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuotaCollection {
    pub quotas: Vec<QuotaView>,
    /// The next page; present only when this page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Lists quotas: admins only; with `all_tenants`, every project's.
#[utoipa::path(
    get,
    path = "/v1/quotas",
    operation_id = "listQuotas",
    tag = "quotas",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of quotas (ordered by id; the marker is an id).", body = QuotaCollection),
        (status = 400, description = "Invalid limit, marker, sort_key or sort_dir.", body = ErrorDocument),
        (status = 403, description = "Not an admin.", body = ErrorDocument),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
) -> Result<Json<QuotaCollection>> {
    let page = ListQuery::page(&uri, state.max_limit())?;
    if page.sort_key != "id" {
        return Err(Error::BadRequest(format!(
            "The sort_key value \"{}\" is an invalid field for sorting",
            page.sort_key
        )));
    }
    let response = state
        .quotas()
        .list_quotas(request(
            &context,
            ListQuotasRequest {
                options: Some(page.list_options()),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(QuotaCollection {
        quotas: response.quotas.into_iter().map(QuotaView::from).collect(),
        next: page.next(&base, COLLECTION, &response.next_page_token),
    }))
}

/// A project's quota for a resource; its default when none is stored.
#[utoipa::path(
    get,
    path = "/v1/quotas/{project_id}/{resource}",
    operation_id = "getQuota",
    tag = "quotas",
    params(
        ("project_id" = String, Path, description = "The project."),
        ("resource" = String, Path, description = "`Cluster`."),
    ),
    responses(
        (status = 200, description = "The quota.", body = QuotaView),
        (status = 400, description = "An unknown resource.", body = ErrorDocument),
        (status = 403, description = "Another project's quota, not being an admin.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path((project_id, resource)): Path<(String, String)>,
) -> Result<Json<QuotaView>> {
    let quota = state
        .quotas()
        .get_quota(request(
            &context,
            GetQuotaRequest {
                project_id,
                resource,
            },
        ))
        .await?
        .into_inner();
    Ok(Json(quota.into()))
}

/// Sets a project's quota (admins): 201 with the quota.
#[utoipa::path(
    post,
    path = "/v1/quotas",
    operation_id = "createQuota",
    tag = "quotas",
    request_body(content = ref("#/components/schemas/QuotaInput"), content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = QuotaView),
        (status = 400, description = "Invalid body or values.", body = ErrorDocument),
        (status = 403, description = "Not an admin.", body = ErrorDocument),
        (status = 409, description = "The project already has a quota for the resource.", body = ErrorDocument),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    body: JsonBody,
) -> Result<Response> {
    let body = body.required(SCHEMA.argument)?;
    let values = SCHEMA.parse_create(&body)?;
    let quota = state
        .quotas()
        .create_quota(request(
            &context,
            CreateQuotaRequest {
                project_id: values.string("project_id").unwrap_or_default(),
                resource: values.string("resource").unwrap_or_default(),
                hard_limit: values.integer("hard_limit"),
            },
        ))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(QuotaView::from(quota))).into_response())
}

/// Changes a project's quota (admins) with a plain quota object: 202 with the quota.
#[utoipa::path(
    patch,
    path = "/v1/quotas/{project_id}/{resource}",
    operation_id = "updateQuota",
    tag = "quotas",
    params(
        ("project_id" = String, Path, description = "The project."),
        ("resource" = String, Path, description = "`Cluster`."),
    ),
    request_body(content = ref("#/components/schemas/QuotaInput"), content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted; the quota as it is now.", body = QuotaView),
        (status = 400, description = "Invalid body or values.", body = ErrorDocument),
        (status = 403, description = "Not an admin.", body = ErrorDocument),
        (status = 404, description = "The project has no stored quota for the resource.", body = ErrorDocument),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path((project_id, resource)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Response> {
    let body = body.required(SCHEMA.argument)?;
    let values = SCHEMA.parse_create(&body)?;
    // The body repeats the path's project and resource; the path decides.
    let quota = state
        .quotas()
        .update_quota(request(
            &context,
            UpdateQuotaRequest {
                project_id,
                resource,
                hard_limit: values.integer("hard_limit").unwrap_or(1),
            },
        ))
        .await?
        .into_inner();
    Ok((StatusCode::ACCEPTED, Json(QuotaView::from(quota))).into_response())
}

/// Deletes a project's quota (admins); the default applies again.
#[utoipa::path(
    delete,
    path = "/v1/quotas/{project_id}/{resource}",
    operation_id = "deleteQuota",
    tag = "quotas",
    params(
        ("project_id" = String, Path, description = "The project."),
        ("resource" = String, Path, description = "`Cluster`."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Not an admin.", body = ErrorDocument),
        (status = 404, description = "The project has no stored quota for the resource.", body = ErrorDocument),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path((project_id, resource)): Path<(String, String)>,
) -> Result<StatusCode> {
    state
        .quotas()
        .delete_quota(request(
            &context,
            DeleteQuotaRequest {
                project_id,
                resource,
            },
        ))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
