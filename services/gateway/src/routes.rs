//! The REST resources, one module each: wire types, attribute table, handlers; and the
//! little they share.

pub mod baymodels;
pub mod bays;
pub mod certificates;
pub mod clusters;
pub mod clustertemplates;
pub mod containers;
pub mod credentials;
pub mod kubernetes;
pub mod mservices;
pub mod nodegroups;
pub mod nodes;
pub mod quotas;
pub mod stats;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::links::BaseUrl;
use crate::state::AppState;

/// The collections served under `/v1` (listed by `GET /v1`).
pub const COLLECTIONS: &[&str] = &[
    baymodels::COLLECTION,
    bays::COLLECTION,
    certificates::COLLECTION,
    clusters::COLLECTION,
    clustertemplates::COLLECTION,
    containers::COLLECTION,
    credentials::COLLECTION,
    kubernetes::Kind::Pod.collection(),
    kubernetes::Kind::Service.collection(),
    kubernetes::Kind::Rc.collection(),
    mservices::COLLECTION,
    nodes::COLLECTION,
    quotas::COLLECTION,
    stats::COLLECTION,
];

/// Every resource route; all of them require authentication.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(baymodels::router())
        .merge(bays::router())
        .merge(certificates::router())
        .merge(clusters::router())
        .merge(clustertemplates::router())
        .merge(containers::router())
        .merge(credentials::router())
        .merge(kubernetes::router())
        .merge(mservices::router())
        .merge(nodegroups::router())
        .merge(nodes::router())
        .merge(quotas::router())
        .merge(stats::router())
}

/// `201 Created` with `Location: <base>/v1/<collection>/<uuid>` and the new object.
pub(crate) fn created<T: Serialize>(
    base: &BaseUrl,
    collection: &str,
    uuid: &str,
    object: T,
) -> Result<Response> {
    let location = HeaderValue::try_from(base.resource_url(collection, uuid))
        .map_err(|_| Error::Internal(format!("unusable uuid {uuid:?} in {collection}")))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(object),
    )
        .into_response())
}

/// The body of a `202 Accepted` answer to an asynchronous operation (Newton+).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Accepted {
    /// The bay (cluster) the operation works on.
    pub uuid: String,
}

/// `202 Accepted` with `{"uuid": <uuid>}` (no links: clients only print the uuid).
pub(crate) fn accepted(uuid: String) -> Response {
    (StatusCode::ACCEPTED, Json(Accepted { uuid })).into_response()
}
