//! Unit tests of `openapi`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn describes_every_route_and_the_input_schema() {
    let value = serde_json::to_value(document()).unwrap();
    let paths = value["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/", &["get"][..]),
        ("/v1", &["get"]),
        ("/healthcheck", &["get"]),
        ("/openapi.json", &["get"]),
        ("/v1/baymodels", &["get", "post"]),
        ("/v1/baymodels/detail", &["get"]),
        ("/v1/baymodels/{ident}", &["get", "patch", "delete"]),
        ("/v1/bays", &["get", "post"]),
        ("/v1/bays/detail", &["get"]),
        ("/v1/bays/{ident}", &["get", "patch", "delete"]),
        ("/v1/certificates", &["post"]),
        ("/v1/certificates/{ident}", &["get", "patch"]),
        ("/v1/clustertemplates", &["get", "post"]),
        ("/v1/clustertemplates/detail", &["get"]),
        ("/v1/clustertemplates/{ident}", &["get", "patch", "delete"]),
        ("/v1/clusters", &["get", "post"]),
        ("/v1/clusters/detail", &["get"]),
        ("/v1/clusters/{ident}", &["get", "patch", "delete"]),
        ("/v1/clusters/{ident}/actions/resize", &["post"]),
        ("/v1/clusters/{ident}/actions/upgrade", &["post"]),
        ("/v1/clusters/{ident}/nodegroups", &["get", "post"]),
        (
            "/v1/clusters/{ident}/nodegroups/{nodegroup}",
            &["get", "patch", "delete"],
        ),
        ("/v1/quotas", &["get", "post"]),
        (
            "/v1/quotas/{project_id}/{resource}",
            &["get", "patch", "delete"],
        ),
        ("/v1/stats", &["get"]),
        ("/v1/mservices", &["get"]),
        ("/v1/credentials/{ident}", &["patch"]),
        ("/v1/containers", &["get", "post"]),
        ("/v1/containers/detail", &["get"]),
        ("/v1/containers/{ident}", &["get", "patch", "delete"]),
        ("/v1/containers/{ident}/start", &["put"]),
        ("/v1/containers/{ident}/stop", &["put"]),
        ("/v1/containers/{ident}/reboot", &["put"]),
        ("/v1/containers/{ident}/pause", &["put"]),
        ("/v1/containers/{ident}/unpause", &["put"]),
        ("/v1/containers/{ident}/logs", &["get"]),
        ("/v1/containers/{ident}/execute", &["put"]),
        ("/v1/pods", &["get", "post"]),
        ("/v1/pods/detail", &["get"]),
        ("/v1/pods/{ident}", &["get", "patch", "delete"]),
        ("/v1/pods/{ident}/{bay_ident}", &["get", "patch", "delete"]),
        ("/v1/services", &["get", "post"]),
        ("/v1/services/detail", &["get"]),
        ("/v1/services/{ident}", &["get", "patch", "delete"]),
        (
            "/v1/services/{ident}/{bay_ident}",
            &["get", "patch", "delete"],
        ),
        ("/v1/rcs", &["get", "post"]),
        ("/v1/rcs/detail", &["get"]),
        ("/v1/rcs/{ident}", &["get", "patch", "delete"]),
        ("/v1/rcs/{ident}/{bay_ident}", &["get", "patch", "delete"]),
        ("/v1/nodes", &["get", "post"]),
        ("/v1/nodes/detail", &["get"]),
        ("/v1/nodes/{uuid}", &["get", "patch", "delete"]),
    ] {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for method in methods {
            assert!(item.get(*method).is_some(), "{method} {path} missing");
        }
    }
    assert_eq!(
        paths.len(),
        52,
        "undocumented or stale paths: {:?}",
        paths.keys()
    );
    let mut operation_ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let count = operation_ids.len();
    operation_ids.sort_unstable();
    operation_ids.dedup();
    assert_eq!(operation_ids.len(), count, "operation ids must be unique");
    let input = &value["components"]["schemas"]["BayModelInput"];
    assert_eq!(
        input["required"],
        serde_json::json!(["coe", "image_id", "keypair_id"])
    );
    let bay_input = &value["components"]["schemas"]["BayInput"];
    assert_eq!(bay_input["required"], serde_json::json!(["baymodel_id"]));
    assert_eq!(bay_input["properties"]["node_count"]["minimum"], 1);
    assert_eq!(bay_input["properties"]["name"]["maxLength"], 255);
    assert!(bay_input["properties"].get("stack_id").is_none());
    let template_input = &value["components"]["schemas"]["ClusterTemplateInput"];
    assert_eq!(
        template_input["required"],
        serde_json::json!(["coe", "image_id"])
    );
    let cluster_input = &value["components"]["schemas"]["ClusterInput"];
    assert_eq!(
        cluster_input["required"],
        serde_json::json!(["cluster_template_id"])
    );
    assert_eq!(cluster_input["properties"]["name"]["maxLength"], 242);
    let certificate_input = &value["components"]["schemas"]["CertificateInput"];
    assert_eq!(certificate_input["required"], serde_json::json!(["csr"]));
    let container_input = &value["components"]["schemas"]["ContainerInput"];
    assert_eq!(container_input["required"], serde_json::json!(["bay_uuid"]));
    assert!(container_input["properties"]["image_id"].is_object());
    assert!(container_input["properties"].get("links").is_none());
    let node_input = &value["components"]["schemas"]["NodeInput"];
    assert!(node_input.get("required").is_none(), "{node_input}");
    let mut node_fields: Vec<&str> = node_input["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    node_fields.sort_unstable();
    assert_eq!(node_fields, ["image_id", "ironic_node_id", "type", "uuid"]);
    let summary = &value["components"]["schemas"]["NodeSummary"]["properties"];
    assert!(
        summary["type"].is_object(),
        "serde's rename reaches the schema"
    );
    assert!(summary.get("node_type").is_none());
    assert!(value["components"]["securitySchemes"]["keystone"].is_object());
    assert!(value["paths"]["/"]["get"]["security"].is_array());
}
