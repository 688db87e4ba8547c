//! `/v1/mservices` (spec §3.10, §4.8): every replica of every service, from the
//! heartbeats bay-svc reads in the bus's registry. Admin only; never paginated.

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{ListMagnumServicesRequest, MagnumService};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ErrorDocument, Result};
use crate::state::AppState;
use crate::timestamps::format_timestamp;

/// The collection's name in paths and the list envelope.
pub const COLLECTION: &str = "mservices";

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/mservices", get(list))
}

/// One replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MagnumServiceView {
    pub id: i64,
    pub host: String,
    /// e.g. `magnum-bay-svc`.
    pub binary: String,
    /// `up` or `down` (no heartbeat for `[bay] service_down_time_secs`).
    pub state: String,
    pub report_count: i64,
    /// Always false.
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: Option<String>,
    /// The last heartbeat.
    pub updated_at: Option<String>,
}

impl From<MagnumService> for MagnumServiceView {
    fn from(service: MagnumService) -> Self {
        Self {
            id: service.id,
            host: service.host,
            binary: service.binary,
            state: service.state,
            report_count: service.report_count,
            disabled: service.disabled,
            disabled_reason: service.disabled_reason,
            created_at: service.created_at.as_ref().map(format_timestamp),
            updated_at: service.updated_at.as_ref().map(format_timestamp),
        }
    }
}

/// `GET /v1/mservices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MagnumServiceCollection {
    pub mservices: Vec<MagnumServiceView>,
}

/// Lists every service replica and whether it is up.
#[utoipa::path(
    get,
    path = "/v1/mservices",
    operation_id = "listMagnumServices",
    tag = "mservices",
    responses(
        (status = 200, description = "Every replica seen in the last day.", body = MagnumServiceCollection),
        (status = 403, description = "Not an admin.", body = ErrorDocument),
        (status = 503, description = "The registry cannot be read.", body = ErrorDocument),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
) -> Result<Json<MagnumServiceCollection>> {
    let services = state
        .magnum_services()
        .list_magnum_services(request(&context, ListMagnumServicesRequest {}))
        .await?
        .into_inner()
        .services;
    Ok(Json(MagnumServiceCollection {
        mservices: services.into_iter().map(Into::into).collect(),
    }))
}
