//! Public documents: version discovery (`GET /`, `GET /v1`, spec §2), the health check
//! and the OpenAPI document.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::links::{BaseUrl, Link};
use crate::microversion::{MAX_VERSION, MIN_VERSION};
use crate::routes::COLLECTIONS;
use crate::state::AppState;

/// Upstream's API reference, linked from `/v1` as Magnum does.
const API_REFERENCE_URL: &str = "http://docs.openstack.org/developer/magnum/dev/api-spec-v1.html";

/// `GET /`: the modern form plus Liberty's `default_version`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RootDocument {
    #[schema(example = "OpenStack Magnum API")]
    pub name: String,
    pub description: String,
    pub versions: Vec<VersionEntry>,
    pub default_version: VersionEntry,
}

/// One API version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionEntry {
    #[schema(example = "v1")]
    pub id: String,
    #[schema(example = "CURRENT")]
    pub status: String,
    #[schema(example = "1.1")]
    pub min_version: String,
    #[schema(example = "1.12")]
    pub max_version: String,
    pub links: Vec<Link>,
}

/// `GET /v1`: the version's media types and links to its collections.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct V1Document {
    #[schema(example = "v1")]
    pub id: String,
    pub media_types: Vec<MediaType>,
    pub links: Vec<Link>,
    /// One entry per collection served (e.g. `baymodels`): its `self` and `bookmark`
    /// links.
    #[serde(flatten)]
    pub collections: BTreeMap<String, Vec<Link>>,
}

/// A media type the version speaks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaType {
    pub base: String,
    #[serde(rename = "type")]
    pub media_type: String,
}

fn v1_entry(base: &BaseUrl) -> VersionEntry {
    VersionEntry {
        id: "v1".to_owned(),
        status: "CURRENT".to_owned(),
        min_version: MIN_VERSION.to_string(),
        max_version: MAX_VERSION.to_string(),
        links: vec![Link::new(format!("{}/v1/", base.as_str()), "self")],
    }
}

/// Lists the API versions.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "getVersions",
    tag = "versions",
    security(()),
    responses((status = 200, description = "The API versions.", body = RootDocument))
)]
pub async fn root(base: BaseUrl) -> Json<RootDocument> {
    let entry = v1_entry(&base);
    Json(RootDocument {
        name: "OpenStack Magnum API".to_owned(),
        description: "Magnum is an OpenStack project which aims to provide container cluster \
                      management."
            .to_owned(),
        versions: vec![entry.clone()],
        default_version: entry,
    })
}

/// Describes version 1 and links to its collections.
#[utoipa::path(
    get,
    path = "/v1",
    operation_id = "getVersion1",
    tag = "versions",
    security(()),
    responses((status = 200, description = "Version 1.", body = V1Document))
)]
pub async fn v1(base: BaseUrl) -> Json<V1Document> {
    let base_url = base.as_str();
    let collections = COLLECTIONS
        .iter()
        .map(|collection| {
            (
                (*collection).to_owned(),
                vec![
                    Link::new(format!("{base_url}/v1/{collection}/"), "self"),
                    Link::new(format!("{base_url}/{collection}/"), "bookmark"),
                ],
            )
        })
        .collect();
    Json(V1Document {
        id: "v1".to_owned(),
        media_types: vec![MediaType {
            base: "application/json".to_owned(),
            media_type: "application/vnd.openstack.magnum.v1+json".to_owned(),
        }],
        links: vec![
            Link::new(format!("{base_url}/v1/"), "self"),
            Link {
                href: API_REFERENCE_URL.to_owned(),
                rel: "describedby".to_owned(),
                media_type: Some("text/html".to_owned()),
            },
        ],
        collections,
    })
}

/// Liveness for probes: the process is up and serving HTTP.
#[utoipa::path(
    get,
    path = "/healthcheck",
    operation_id = "healthcheck",
    tag = "versions",
    security(()),
    responses((status = 200, description = "The gateway is serving.", body = String, content_type = "text/plain"))
)]
pub async fn healthcheck() -> &'static str {
    "OK"
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "getOpenApi",
    tag = "versions",
    security(()),
    responses((status = 200, description = "The OpenAPI document of the gateway.", content_type = "application/json"))
)]
pub async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        state.openapi_json(),
    )
        .into_response()
}
