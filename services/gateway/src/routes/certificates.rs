//! `/v1/certificates` (spec §3.9, §4.7): a bay's CA certificate, signing a CSR with it,
//! and CA rotation, translated to bay-svc's `CertificateService`. The bay is named
//! `bay_uuid` (Liberty, 1.1.0) or `cluster_uuid` (Newton+); both are accepted and both
//! are returned. Links use the bay's uuid.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1::{GetCaCertificateRequest, RotateCaRequest, SignCertificateRequest};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::attributes::{Attribute, AttributeType, ResourceSchema, invalid_input};
use crate::body::JsonBody;
use crate::error::{Error, ErrorDocument, Result};
use crate::links::{BaseUrl, Link};
use crate::routes::{Accepted, accepted};
use crate::state::AppState;

/// The collection's name in paths and links.
pub const COLLECTION: &str = "certificates";

use AttributeType::{Links, Timestamp};
const STRING: AttributeType = AttributeType::String;

const BAY_UUID: Attribute = Attribute::optional(
    "bay_uuid",
    STRING,
    "uuid or name of the bay (Liberty's key; give it or cluster_uuid). Unknown: 400.",
);
const CLUSTER_UUID: Attribute = Attribute::optional(
    "cluster_uuid",
    STRING,
    "uuid or name of the bay (Newton+'s key; give it or bay_uuid). Unknown: 400.",
);

const ATTRIBUTES: &[Attribute] = &[
    BAY_UUID,
    CLUSTER_UUID,
    Attribute::mandatory(
        "csr",
        STRING,
        "PEM certificate signing request, >= 1 character.",
    )
    .min_length(1),
    Attribute::derived("pem", STRING, "The signed certificate (output)."),
    Attribute::optional(
        "ca_cert_type",
        STRING,
        "Which CA of the bay signs (default: the bay's main CA).",
    ),
    Attribute::read_only("links", Links, "self and bookmark links (the bay's uuid)."),
    Attribute::read_only("created_at", Timestamp, "Never set."),
    Attribute::read_only("updated_at", Timestamp, "Never set."),
];

/// The certificate attribute table (the body of `POST /v1/certificates`).
pub const SCHEMA: ResourceSchema = ResourceSchema {
    argument: "certificate",
    attributes: ATTRIBUTES,
    extra_internal_paths: &[],
    extra_non_removable_paths: &[],
};

/// The routes of this collection.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/certificates", post(sign))
        .route("/v1/certificates/{ident}", get(show).patch(rotate))
}

/// A bay's CA certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CaCertificateView {
    /// The bay's uuid (Liberty's key).
    pub bay_uuid: String,
    /// The bay's uuid (Newton+'s key).
    pub cluster_uuid: String,
    /// The CA certificate, PEM.
    pub pem: String,
    pub links: Vec<Link>,
}

/// A certificate signed by a bay's CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SignedCertificateView {
    /// The bay's uuid (Liberty's key).
    pub bay_uuid: String,
    /// The bay's uuid (Newton+'s key).
    pub cluster_uuid: String,
    /// The request, as sent.
    pub csr: String,
    /// The signed certificate, PEM.
    pub pem: String,
    /// Present when the request named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert_type: Option<String>,
    pub links: Vec<Link>,
}

/// Shows a bay's CA certificate.
#[utoipa::path(
    get,
    path = "/v1/certificates/{ident}",
    operation_id = "getCaCertificate",
    tag = "certificates",
    params(
        ("ident" = String, Path, description = "uuid or name of the bay"),
        ("ca_cert_type" = Option<String>, Query, description = "Which CA (default: the bay's \
main CA, `kubernetes` for kubernetes bays); not echoed."),
    ),
    responses(
        (status = 200, description = "The CA certificate.", body = CaCertificateView),
        (status = 400, description = "Unknown ca_cert_type.", body = ErrorDocument),
        (status = 403, description = "Not allowed.", body = ErrorDocument),
        (status = 404, description = "No such bay.", body = ErrorDocument),
        (status = 409, description = "Several bays have this name.", body = ErrorDocument),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    uri: Uri,
    Path(ident): Path<String>,
) -> Result<Json<CaCertificateView>> {
    let ca_cert_type = crate::query::value(&uri, "ca_cert_type")?.unwrap_or_default();
    let ca = state
        .certificates()
        .get_ca_certificate(request(
            &context,
            GetCaCertificateRequest {
                bay_ident: ident,
                ca_cert_type,
            },
        ))
        .await?
        .into_inner();
    Ok(Json(CaCertificateView {
        links: base.resource_links(COLLECTION, &ca.bay_uuid),
        cluster_uuid: ca.bay_uuid.clone(),
        bay_uuid: ca.bay_uuid,
        pem: ca.pem,
    }))
}

/// Signs a certificate signing request with the bay's CA (201, no `Location`, as
/// Magnum).
#[utoipa::path(
    post,
    path = "/v1/certificates",
    operation_id = "signCertificate",
    tag = "certificates",
    request_body(content = ref("#/components/schemas/CertificateInput"), content_type = "application/json"),
    responses(
        (status = 201, description = "Signed.", body = SignedCertificateView),
        (status = 400, description = "Invalid body, unknown bay or invalid CSR.", body = ErrorDocument),
        (status = 403, description = "Not allowed.", body = ErrorDocument),
        (status = 409, description = "Several bays have this name.", body = ErrorDocument),
        (status = 413, description = "Body too large.", body = ErrorDocument),
        (status = 415, description = "Body is not JSON.", body = ErrorDocument),
    )
)]
pub async fn sign(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    base: BaseUrl,
    body: JsonBody,
) -> Result<Response> {
    let body = body.required(SCHEMA.argument)?;
    let values = SCHEMA.parse_create(&body)?;
    // The bay, under either key.
    let bay_ident = values
        .aliased(BAY_UUID.name, CLUSTER_UUID.name)?
        .ok_or_else(|| {
            invalid_input(CLUSTER_UUID.name, &Value::Null, "Mandatory field missing.")
        })?;
    let ca_cert_type = values.string("ca_cert_type");
    let signed = state
        .certificates()
        .sign_certificate(request(
            &context,
            SignCertificateRequest {
                bay_ident,
                csr: values.string("csr").unwrap_or_default(),
                ca_cert_type: ca_cert_type.clone().unwrap_or_default(),
            },
        ))
        .await
        // The bay is named in the body: not finding it is a 400.
        .map_err(Error::from_reference)?
        .into_inner();
    let view = SignedCertificateView {
        links: base.resource_links(COLLECTION, &signed.bay_uuid),
        cluster_uuid: signed.bay_uuid.clone(),
        bay_uuid: signed.bay_uuid,
        csr: signed.csr,
        pem: signed.pem,
        ca_cert_type,
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Replaces the bay's CA (asynchronous; 202 `{"uuid"}`). The request has no body
/// (clients send `Content-Type: application/octet-stream` and nothing); any body is
/// ignored. Served at every version, as Magnum does.
#[utoipa::path(
    patch,
    path = "/v1/certificates/{ident}",
    operation_id = "rotateCa",
    tag = "certificates",
    params(("ident" = String, Path, description = "uuid or name of the bay")),
    responses(
        (status = 202, description = "Rotation started.", body = Accepted),
        (status = 400, description = "The bay has TLS disabled, or another operation is running.", body = ErrorDocument),
        (status = 403, description = "Not allowed.", body = ErrorDocument),
        (status = 404, description = "No such bay.", body = ErrorDocument),
        (status = 409, description = "Several bays have this name.", body = ErrorDocument),
    )
)]
pub async fn rotate(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path(ident): Path<String>,
) -> Result<Response> {
    let rotated = state
        .certificates()
        .rotate_ca(request(&context, RotateCaRequest { bay_ident: ident }))
        .await?
        .into_inner();
    Ok(accepted(rotated.bay_uuid))
}
