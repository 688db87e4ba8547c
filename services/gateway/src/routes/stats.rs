//! `/v1/stats` (spec §4.6): how many clusters and nodes a project has, from bay-svc.

use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::GetStatsRequest;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, ErrorDocument, Result};
use crate::state::AppState;

/// The collection's name in paths.
pub const COLLECTION: &str = "stats";

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/stats", get(show))
}

/// A project's (or, for admins without `project_id`, every project's) totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatsView {
    pub clusters: i64,
    /// Masters and workers.
    pub nodes: i64,
}

/// The caller's project's clusters and nodes; `project_id` names another project
/// (admins only: 403 otherwise); `type` may only be `cluster`.
#[utoipa::path(
    get,
    path = "/v1/stats",
    operation_id = "getStats",
    tag = "stats",
    params(
        ("project_id" = Option<String>, Query, description = "The project to count (admins: any; absent: every project)."),
        ("type" = Option<String>, Query, description = "Only `cluster`."),
    ),
    responses(
        (status = 200, description = "The totals.", body = StatsView),
        (status = 400, description = "A type other than cluster.", body = ErrorDocument),
        (status = 403, description = "Another project's totals, not being an admin.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    uri: Uri,
) -> Result<Json<StatsView>> {
    if let Some(kind) = crate::query::value(&uri, "type")?
        && kind != "cluster"
    {
        return Err(Error::BadRequest(format!(
            "Invalid stats type {kind}; the only type is cluster."
        )));
    }
    let project_id = crate::query::value(&uri, "project_id")?;
    let stats = state
        .bays()
        .get_stats(request(&context, GetStatsRequest { project_id }))
        .await?
        .into_inner();
    Ok(Json(StatsView {
        clusters: stats.bays,
        nodes: stats.nodes,
    }))
}
