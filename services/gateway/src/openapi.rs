//! The OpenAPI document of what the gateway serves (`GET /openapi.json`). Output schemas
//! are derived from the wire types; input schemas from the attribute tables, so the
//! document cannot drift from the parsing rules.

use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDocument, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::{ErrorDocument, ErrorEntry};
use crate::links::Link;
use crate::routes::{
    Accepted, baymodels, bays, certificates, clusters, clustertemplates, containers, credentials,
    kubernetes, mservices, nodegroups, nodes, quotas, stats,
};
use crate::versions;

/// One JSON-patch operation (spec §1.8).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JsonPatchOperation {
    /// `add`, `replace` or `remove`.
    #[schema(example = "replace")]
    pub op: PatchOp,
    /// `^(/[\w-]+)+$`; internal paths (`/uuid`, `/links`, ...) are refused.
    #[schema(example = "/name", pattern = r"^(/[\w-]+)+$")]
    pub path: String,
    /// Required for add and replace: a string or an integer (booleans count as
    /// integers). For `/labels`, a Python literal dict such as `"{'key': 'value'}"`.
    pub value: Option<PatchValue>,
}

/// The operations accepted.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PatchOp {
    Add,
    Replace,
    Remove,
}

/// A patch value.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PatchValue {
    String(String),
    Integer(i64),
    Boolean(bool),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "magnum-rs gateway",
        description = "OpenStack Magnum's v1 REST API, wire-compatible with python-magnumclient \
0.2.1, 1.1.0, 2.17.0 and 4.x.\n\n\
Paths without `/v1` are served as `/v1` paths (`/baymodels/<id>` is `/v1/baymodels/<id>`), and \
empty path segments and trailing slashes are ignored.\n\n\
Microversions: `OpenStack-API-Version: container-infra <1.1..1.12|latest>` or \
`X-OpenStack-Magnum-API-Version: <version>`; absent means 1.1. Every `/v1` response names the \
negotiated version and the supported range in both header families.\n\n\
Every response carries `x-openstack-request-id`. Errors are `{\"errors\": [...]}` documents.\n\n\
`image_id`, `keypair_id`, flavors and networks are stored as given: the bay drivers need no \
image, compute or network service, so they are not checked against one."
    ),
    paths(
        versions::root,
        versions::v1,
        versions::healthcheck,
        versions::openapi,
        baymodels::list,
        baymodels::detail,
        baymodels::show,
        baymodels::create,
        baymodels::update,
        baymodels::remove,
        bays::list,
        bays::detail,
        bays::show,
        bays::create,
        bays::update,
        bays::remove,
        certificates::show,
        certificates::sign,
        certificates::rotate,
        clustertemplates::list,
        clustertemplates::detail,
        clustertemplates::show,
        clustertemplates::create,
        clustertemplates::update,
        clustertemplates::remove,
        clusters::list,
        clusters::detail,
        clusters::show,
        clusters::create,
        clusters::update,
        clusters::remove,
        clusters::resize,
        clusters::upgrade,
        credentials::rotate,
        mservices::list,
        nodegroups::list,
        nodegroups::show,
        nodegroups::create,
        nodegroups::update,
        nodegroups::remove,
        quotas::list,
        quotas::show,
        quotas::create,
        quotas::update,
        quotas::remove,
        stats::show,
        containers::list,
        containers::detail,
        containers::show,
        containers::create,
        containers::update,
        containers::remove,
        containers::start,
        containers::stop,
        containers::reboot,
        containers::pause,
        containers::unpause,
        containers::logs,
        containers::execute,
        kubernetes::list_pods,
        kubernetes::detail_pods,
        kubernetes::create_pod,
        kubernetes::show_pod,
        kubernetes::update_pod,
        kubernetes::delete_pod,
        kubernetes::show_pod_in_bay,
        kubernetes::update_pod_in_bay,
        kubernetes::delete_pod_in_bay,
        kubernetes::list_services,
        kubernetes::detail_services,
        kubernetes::create_service,
        kubernetes::show_service,
        kubernetes::update_service,
        kubernetes::delete_service,
        kubernetes::show_service_in_bay,
        kubernetes::update_service_in_bay,
        kubernetes::delete_service_in_bay,
        kubernetes::list_rcs,
        kubernetes::detail_rcs,
        kubernetes::create_rc,
        kubernetes::show_rc,
        kubernetes::update_rc,
        kubernetes::delete_rc,
        kubernetes::show_rc_in_bay,
        kubernetes::update_rc_in_bay,
        kubernetes::delete_rc_in_bay,
        nodes::list,
        nodes::detail,
        nodes::show,
        nodes::create,
        nodes::update,
        nodes::remove,
    ),
    components(schemas(
        ErrorDocument,
        ErrorEntry,
        Link,
        versions::RootDocument,
        versions::VersionEntry,
        versions::V1Document,
        versions::MediaType,
        baymodels::BayModelView,
        baymodels::BayModelCollection,
        bays::BayView,
        bays::BayCollection,
        clustertemplates::ClusterTemplateView,
        clustertemplates::ClusterTemplateCollection,
        clusters::ClusterView,
        clusters::ClusterCollection,
        mservices::MagnumServiceView,
        mservices::MagnumServiceCollection,
        nodegroups::NodeGroupView,
        nodegroups::NodeGroupCollection,
        quotas::QuotaView,
        quotas::QuotaCollection,
        stats::StatsView,
        certificates::CaCertificateView,
        certificates::SignedCertificateView,
        Accepted,
        containers::ContainerView,
        containers::ContainerSummary,
        containers::ContainerCollection,
        containers::ContainerDetailCollection,
        containers::ContainerOutput,
        kubernetes::PodView,
        kubernetes::PodSummary,
        kubernetes::ServiceView,
        kubernetes::ServiceSummary,
        kubernetes::RcView,
        kubernetes::RcSummary,
        nodes::NodeView,
        nodes::NodeSummary,
        nodes::NodeCollection,
        nodes::NodeDetailCollection,
        JsonPatchOperation,
        PatchOp,
        PatchValue,
    )),
    modifiers(&InputSchemas, &KeystoneToken),
    security(("keystone" = [])),
    tags(
        (name = "versions", description = "Public documents (no token)."),
        (name = "baymodels", description = "Bay models (cluster templates)."),
        (name = "bays", description = "Bays (clusters). API 1.1 shows Liberty's fields and answers create/update with the bay (201/200); 1.2+ shows the Newton+ fields and answers 202 `{\"uuid\"}`."),
        (name = "certificates", description = "A bay's CA: show, sign a CSR, rotate."),
        (name = "containers", description = "Docker containers on swarm bays (Liberty), served at every version."),
        (name = "pods", description = "Kubernetes pods on kubernetes bays, from manifests (Liberty), served at every version."),
        (name = "services", description = "Kubernetes services (`coe-service` in the clients) on kubernetes bays."),
        (name = "rcs", description = "Kubernetes replication controllers on kubernetes bays; a patch of /replicas scales."),
        (name = "clustertemplates", description = "Cluster templates: the modern name of baymodels (the same records)."),
        (name = "clusters", description = "Clusters: the modern name of bays (the same records); changes answer 202 `{\"uuid\"}`."),
        (name = "credentials", description = "Cluster cloud credentials (1.12+): clusters here hold none, so rotation is refused with the reason."),
        (name = "mservices", description = "Every service replica and whether its heartbeats keep coming (admins)."),
        (name = "nodegroups", description = "A cluster's node groups (1.9+): default-master, default-worker and added worker groups; a cluster's node_count is the sum of its worker groups."),
        (name = "quotas", description = "How many clusters a project may have; enforced on create."),
        (name = "stats", description = "Cluster and node totals of a project."),
        (name = "nodes", description = "Node records (Liberty; addressed by uuid only)."),
    )
)]
struct ApiDoc;

/// Adds the create-body schemas built from the attribute tables.
struct InputSchemas;

impl Modify for InputSchemas {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.schemas.insert(
            "BayModelInput".to_owned(),
            RefOr::T(baymodels::SCHEMA.input_schema()),
        );
        components.schemas.insert(
            "BayInput".to_owned(),
            RefOr::T(bays::API_1_3.schema.input_schema()),
        );
        components.schemas.insert(
            "CertificateInput".to_owned(),
            RefOr::T(certificates::SCHEMA.input_schema()),
        );
        components.schemas.insert(
            "ContainerInput".to_owned(),
            RefOr::T(containers::SCHEMA.input_schema()),
        );
        for (name, kind) in [
            ("PodInput", kubernetes::Kind::Pod),
            ("ServiceInput", kubernetes::Kind::Service),
            ("RcInput", kubernetes::Kind::Rc),
        ] {
            components
                .schemas
                .insert(name.to_owned(), RefOr::T(kind.schema().input_schema()));
        }
        components.schemas.insert(
            "ClusterTemplateInput".to_owned(),
            RefOr::T(clustertemplates::SCHEMA.input_schema()),
        );
        components.schemas.insert(
            "ClusterInput".to_owned(),
            RefOr::T(clusters::SCHEMA.input_schema()),
        );
        components.schemas.insert(
            "ClusterResizeInput".to_owned(),
            RefOr::T(clusters::RESIZE_SCHEMA.input_schema()),
        );
        components.schemas.insert(
            "NodeGroupInput".to_owned(),
            RefOr::T(nodegroups::SCHEMA.input_schema()),
        );
        components.schemas.insert(
            "QuotaInput".to_owned(),
            RefOr::T(quotas::SCHEMA.input_schema()),
        );
        components.schemas.insert(
            "NodeInput".to_owned(),
            RefOr::T(nodes::SCHEMA.input_schema()),
        );
    }
}

/// Declares the Keystone token header every non-public route requires.
struct KeystoneToken;

impl Modify for KeystoneToken {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "keystone",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "A Keystone token (any value in no-auth mode).",
            ))),
        );
    }
}

/// The OpenAPI document.
pub fn document() -> OpenApiDocument {
    ApiDoc::openapi()
}

#[cfg(test)]
#[path = "openapi_test.rs"]
mod tests;
