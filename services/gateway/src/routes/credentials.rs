//! `/v1/credentials/<cluster>` (spec §4.10, 1.12+): rotating a cluster's cloud
//! credentials. Our clusters hold none (no OpenStack trust or trustee user: the drivers
//! act with the deployment's own access to Docker engines and the host cluster), so the
//! call finds the cluster, as Magnum does, and then says there is nothing to rotate.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::patch;
use axum::{Extension, Router};
use magnum_common::RequestContext;

use crate::error::{Error, ErrorDocument, Result};
use crate::microversion::ApiVersion;
use crate::routes::clusters::{self, require_version};
use crate::state::AppState;

/// The collection's name in paths.
pub const COLLECTION: &str = "credentials";

/// The first version with the credentials API.
const CREDENTIALS_VERSION: ApiVersion = ApiVersion::new(1, 12);

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/credentials/{ident}", patch(rotate))
}

/// Rotates a cluster's cloud credentials (no body): refused, with the reason.
#[utoipa::path(
    patch,
    path = "/v1/credentials/{ident}",
    operation_id = "rotateCredentials",
    tag = "credentials",
    params(("ident" = String, Path, description = "uuid or name of the cluster")),
    responses(
        (status = 400, description = "The cluster holds no cloud credentials to rotate.", body = ErrorDocument),
        (status = 404, description = "No such cluster.", body = ErrorDocument),
        (status = 406, description = "API version below 1.12.", body = ErrorDocument),
    )
)]
pub async fn rotate(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(version): Extension<ApiVersion>,
    Path(ident): Path<String>,
) -> Result<Response> {
    require_version(version, CREDENTIALS_VERSION, "credentials")?;
    let cluster = clusters::find(&state, &context, ident).await?;
    Err(Error::BadRequest(format!(
        "Cluster {} holds no cloud credentials to rotate: this deployment's drivers keep no \
         OpenStack trust or trustee user for clusters.",
        cluster.name.unwrap_or(cluster.uuid)
    )))
}
