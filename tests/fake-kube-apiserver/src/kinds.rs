//! The per-kind table: which resources the fake serves, how their names are checked, and the
//! decoding, defaulting and validation hooks that make it as strict as the real server.
//!
//! To add a kind: add a [`KindSpec`] to [`KINDS`] with `decode::<TheK8sOpenApiType>` and,
//! where the real server does more than check names and metadata, `default` (defaulting and
//! mutating admission), `validate` and `simulate` (what controllers and kubelets would write)
//! hooks. The generic store and verbs do the rest. Pods, services and replication
//! controllers keep their hooks in their own modules.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::error::{Cause, Error};
use crate::store::Store;
use crate::validation::{NameRule, is_qualified_name, is_quantity};
use crate::{pod, replication_controller, service};

/// One served resource and its rules.
#[derive(Debug)]
pub struct KindSpec {
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource name in URLs (`serviceaccounts`).
    pub resource: &'static str,
    /// Singular name for discovery.
    pub singular: &'static str,
    /// `kind` in bodies.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// How `metadata.name` is validated.
    pub name_rule: NameRule,
    /// Whether the server maintains `metadata.generation` (bumped when anything outside
    /// `metadata` and `status` changes).
    pub generation: bool,
    /// Whether `status` is a subresource: writes to the main resource cannot set it.
    pub status_subresource: bool,
    /// Whether DELETE answers with the object (else with a `Status` of `Success`).
    pub return_deleted_object: bool,
    /// Graceful deletion (pods): the object DELETE answers with carries `deletionTimestamp`
    /// and `deletionGracePeriodSeconds` (the fake's kubelet then confirms at once).
    pub graceful_delete: bool,
    /// Whether DELETE orphans dependents by default (core/v1 replication controllers, for
    /// backwards compatibility): the answer is the object with the `orphan` finalizer.
    pub orphan_by_default: bool,
    /// Verbs listed in discovery and accepted.
    pub verbs: &'static [&'static str],
    /// Decodes into the `k8s-openapi` type and re-encodes; `Err` is a decode error (400).
    pub decode: fn(&Value) -> Result<Value, String>,
    /// Server-side defaulting and mutating admission after decode: `(new, old, store)` with
    /// `old` on updates. `Err` refuses the request (admission).
    pub default: fn(&mut Value, Option<&Value>, &Store) -> Result<(), Error>,
    /// Kind-specific validation: `(new, old, store)`; causes make a 422.
    pub validate: fn(&Value, Option<&Value>, &Store) -> Vec<Cause>,
    /// The simulated control plane (scheduler, kubelet, controllers), run on a valid object
    /// before it is stored: `(new, old, store)`.
    pub simulate: fn(&mut Value, Option<&Value>, &Store),
}

impl KindSpec {
    /// `v1` or `group/version`, as in `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
];
// The real API has no deletecollection for namespaces.
const NAMESPACE_VERBS: &[&str] = &["create", "delete", "get", "list", "patch", "update"];

/// Every kind the fake serves.
pub static KINDS: &[KindSpec] = &[
    KindSpec {
        group: "",
        version: "v1",
        resource: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        name_rule: NameRule::Dns1123Label,
        generation: false,
        status_subresource: true,
        return_deleted_object: true,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: NAMESPACE_VERBS,
        decode: decode::<Namespace>,
        default: default_namespace,
        validate: no_validation,
        simulate: no_simulation,
    },
    KindSpec {
        group: "",
        version: "v1",
        resource: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        name_rule: NameRule::Dns1123Subdomain,
        generation: false,
        status_subresource: false,
        return_deleted_object: true,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode::<ServiceAccount>,
        default: no_default,
        validate: no_validation,
        simulate: no_simulation,
    },
    KindSpec {
        group: "",
        version: "v1",
        resource: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        name_rule: NameRule::Dns1123Subdomain,
        generation: false,
        status_subresource: false,
        return_deleted_object: false,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode::<Secret>,
        default: default_secret,
        validate: validate_secret,
        simulate: no_simulation,
    },
    KindSpec {
        group: "",
        version: "v1",
        resource: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        name_rule: NameRule::Dns1123Subdomain,
        generation: false,
        status_subresource: false,
        return_deleted_object: false,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode::<ConfigMap>,
        default: no_default,
        validate: validate_config_map,
        simulate: no_simulation,
    },
    KindSpec {
        group: "",
        version: "v1",
        resource: "resourcequotas",
        singular: "resourcequota",
        kind: "ResourceQuota",
        namespaced: true,
        name_rule: NameRule::Dns1123Subdomain,
        generation: false,
        status_subresource: true,
        return_deleted_object: false,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode_quota,
        default: default_quota,
        validate: validate_quota,
        simulate: no_simulation,
    },
    KindSpec {
        group: "",
        version: "v1",
        resource: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        name_rule: NameRule::Dns1123Subdomain,
        generation: false,
        status_subresource: true,
        return_deleted_object: true,
        graceful_delete: true,
        orphan_by_default: false,
        verbs: VERBS,
        decode: pod::decode,
        default: pod::default,
        validate: pod::validate,
        simulate: pod::simulate,
    },
    KindSpec {
        group: "",
        version: "v1",
        resource: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        name_rule: NameRule::Dns1035Label,
        generation: false,
        status_subresource: true,
        return_deleted_object: true,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode::<Service>,
        default: service::default,
        validate: service::validate,
        simulate: no_simulation,
    },
    KindSpec {
        group: "",
        version: "v1",
        resource: "replicationcontrollers",
        singular: "replicationcontroller",
        kind: "ReplicationController",
        namespaced: true,
        name_rule: NameRule::Dns1123Subdomain,
        generation: true,
        status_subresource: true,
        return_deleted_object: false,
        graceful_delete: false,
        orphan_by_default: true,
        verbs: VERBS,
        decode: replication_controller::decode,
        default: replication_controller::default,
        validate: replication_controller::validate,
        simulate: replication_controller::simulate,
    },
    KindSpec {
        group: "networking.k8s.io",
        version: "v1",
        resource: "networkpolicies",
        singular: "networkpolicy",
        kind: "NetworkPolicy",
        namespaced: true,
        name_rule: NameRule::Dns1123Subdomain,
        generation: true,
        status_subresource: false,
        return_deleted_object: false,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode::<NetworkPolicy>,
        default: no_default,
        validate: crate::network_policy::validate,
        simulate: no_simulation,
    },
    KindSpec {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        resource: "roles",
        singular: "role",
        kind: "Role",
        namespaced: true,
        name_rule: NameRule::PathSegment,
        generation: false,
        status_subresource: false,
        return_deleted_object: false,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode::<Role>,
        default: no_default,
        validate: validate_role,
        simulate: no_simulation,
    },
    KindSpec {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        resource: "rolebindings",
        singular: "rolebinding",
        kind: "RoleBinding",
        namespaced: true,
        name_rule: NameRule::PathSegment,
        generation: false,
        status_subresource: false,
        return_deleted_object: false,
        graceful_delete: false,
        orphan_by_default: false,
        verbs: VERBS,
        decode: decode::<RoleBinding>,
        default: no_default,
        validate: validate_role_binding,
        simulate: no_simulation,
    },
];

/// The kind served at `group/version/resource`, if any.
pub fn lookup(group: &str, version: &str, resource: &str) -> Option<&'static KindSpec> {
    KINDS
        .iter()
        .find(|k| k.group == group && k.version == version && k.resource == resource)
}

/// Decodes `v` as `K` (which checks types, `apiVersion` and `kind`) and re-encodes it; the
/// re-encoding is what gets stored, so unknown fields never survive.
pub(crate) fn decode<K: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let typed: K = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

fn no_default(_: &mut Value, _: Option<&Value>, _: &Store) -> Result<(), Error> {
    Ok(())
}

fn no_validation(_: &Value, _: Option<&Value>, _: &Store) -> Vec<Cause> {
    Vec::new()
}

fn no_simulation(_: &mut Value, _: Option<&Value>, _: &Store) {}

fn default_namespace(v: &mut Value, old: Option<&Value>, _: &Store) -> Result<(), Error> {
    let name = v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Since 1.21 the server labels every namespace with its own name (NetworkPolicies rely on it).
    if !v["metadata"]["labels"].is_object() {
        v["metadata"]["labels"] = json!({});
    }
    v["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
    match old {
        None => {
            v["spec"] = json!({ "finalizers": ["kubernetes"] });
            v["status"] = json!({ "phase": "Active" });
        }
        // spec.finalizers only change through the /finalize subresource.
        Some(old) => v["spec"] = old["spec"].clone(),
    }
    Ok(())
}

fn default_secret(v: &mut Value, _: Option<&Value>, _: &Store) -> Result<(), Error> {
    use base64::Engine as _;
    // stringData is write-only: the server merges it into data (stringData wins) and drops it.
    if let Some(Value::Object(sd)) = v.as_object_mut().and_then(|o| o.remove("stringData")) {
        if !v["data"].is_object() {
            v["data"] = json!({});
        }
        for (k, s) in sd {
            let enc =
                base64::engine::general_purpose::STANDARD.encode(s.as_str().unwrap_or_default());
            v["data"][k] = json!(enc);
        }
    }
    if v["type"].as_str().is_none_or(str::is_empty) {
        v["type"] = json!("Opaque");
    }
    Ok(())
}

/// `IsConfigMapKey` for every key of the object's `field` map (Secret and ConfigMap data).
fn config_key_causes(v: &Value, field: &str, out: &mut Vec<Cause>) {
    if let Some(data) = v[field].as_object() {
        for k in data.keys() {
            let ok = !k.is_empty()
                && k.len() <= 253
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok || k == "." || k == ".." {
                out.push(Cause::invalid(
                    format!("{field}[{k}]"),
                    k,
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                ));
            }
        }
    }
}

fn validate_config_map(v: &Value, old: Option<&Value>, _: &Store) -> Vec<Cause> {
    let mut out = Vec::new();
    config_key_causes(v, "data", &mut out);
    config_key_causes(v, "binaryData", &mut out);
    // A key may be in data or binaryData, not both.
    if let (Some(data), Some(binary)) = (v["data"].as_object(), v["binaryData"].as_object()) {
        for k in data.keys().filter(|k| binary.contains_key(*k)) {
            out.push(Cause::invalid(
                format!("data[{k}]"),
                k,
                "duplicate of key present in binaryData",
            ));
        }
    }
    if let Some(old) = old
        && old["immutable"] == json!(true)
    {
        if old["data"] != v["data"] || old["binaryData"] != v["binaryData"] {
            out.push(Cause::forbidden(
                "data",
                "field is immutable when `immutable` is set",
            ));
        }
        if v["immutable"] != json!(true) {
            out.push(Cause::forbidden(
                "immutable",
                "field is immutable when `immutable` is set",
            ));
        }
    }
    out
}

fn validate_secret(v: &Value, old: Option<&Value>, _: &Store) -> Vec<Cause> {
    let mut out = Vec::new();
    config_key_causes(v, "data", &mut out);
    if let Some(old) = old {
        if old["type"] != v["type"] {
            out.push(Cause::invalid(
                "type",
                v["type"].as_str().unwrap_or_default(),
                "field is immutable",
            ));
        }
        if old["immutable"] == json!(true)
            && (old["data"] != v["data"] || v["immutable"] != json!(true))
        {
            out.push(Cause::forbidden(
                "data",
                "field is immutable when `immutable` is set",
            ));
        }
    }
    out
}

fn decode_quota(v: &Value) -> Result<Value, String> {
    // Quantity is a string newtype in k8s-openapi; the real decoder also parses it.
    if let Some(hard) = v["spec"]["hard"].as_object() {
        for q in hard.values() {
            if !q.as_str().is_some_and(is_quantity) {
                return Err(pod::QUANTITY_RE.to_owned());
            }
        }
    }
    decode::<ResourceQuota>(v)
}

fn default_quota(v: &mut Value, _: Option<&Value>, _: &Store) -> Result<(), Error> {
    // The quota controller copies spec.hard into status.hard; do it synchronously so tests
    // need not wait for it.
    let hard = v["spec"]["hard"].clone();
    if hard.is_object() {
        v["status"] = json!({ "hard": hard });
    }
    Ok(())
}

/// Standard quota resource names (`IsStandardQuotaResourceName`).
const QUOTA_NAMES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
    "cpu",
    "memory",
    "storage",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
];

fn validate_quota(v: &Value, _: Option<&Value>, _: &Store) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(hard) = v["spec"]["hard"].as_object() {
        for (k, q) in hard {
            let field = format!("spec.hard[{k}]");
            let standard = QUOTA_NAMES.contains(&k.as_str())
                || k.starts_with("count/")
                || k.starts_with("requests.hugepages-")
                || k.contains('/');
            if !is_qualified_name(k.trim_start_matches("count/")) && !k.starts_with("count/") {
                out.push(Cause::invalid(field.clone(), k, "must be a qualified name"));
            } else if !standard {
                out.push(Cause::invalid(
                    field.clone(),
                    k,
                    "must be a standard resource for quota",
                ));
            }
            if q.as_str().is_some_and(|s| s.starts_with('-')) {
                out.push(Cause::invalid(
                    field,
                    q.as_str().unwrap_or_default(),
                    "must be greater than or equal to 0",
                ));
            }
        }
    }
    out
}

fn validate_role(v: &Value, _: Option<&Value>, _: &Store) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, rule) in v["rules"].as_array().into_iter().flatten().enumerate() {
        let f = |s: &str| format!("rules[{i}].{s}");
        let empty = |k: &str| rule[k].as_array().is_none_or(Vec::is_empty);
        if empty("verbs") {
            out.push(Cause::required(
                f("verbs"),
                "verbs must contain at least one value",
            ));
        }
        if !empty("nonResourceURLs") {
            out.push(Cause::invalid(
                f("nonResourceURLs"),
                &rule["nonResourceURLs"].to_string(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if empty("apiGroups") {
            out.push(Cause::required(
                f("apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if empty("resources") {
            out.push(Cause::required(
                f("resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
    out
}

fn validate_role_binding(v: &Value, old: Option<&Value>, _: &Store) -> Vec<Cause> {
    let mut out = Vec::new();
    let rr = &v["roleRef"];
    let api_group = rr["apiGroup"].as_str().unwrap_or_default();
    if api_group != "rbac.authorization.k8s.io" {
        out.push(Cause::not_supported(
            "roleRef.apiGroup",
            api_group,
            &["rbac.authorization.k8s.io"],
        ));
    }
    let kind = rr["kind"].as_str().unwrap_or_default();
    if kind != "Role" && kind != "ClusterRole" {
        out.push(Cause::not_supported(
            "roleRef.kind",
            kind,
            &["ClusterRole", "Role"],
        ));
    }
    let name = rr["name"].as_str().unwrap_or_default();
    if name.is_empty() {
        out.push(Cause::required("roleRef.name", ""));
    } else {
        out.extend(crate::validation::name_causes(
            NameRule::PathSegment,
            "roleRef.name",
            name,
        ));
    }
    for (i, s) in v["subjects"].as_array().into_iter().flatten().enumerate() {
        let f = |k: &str| format!("subjects[{i}].{k}");
        let kind = s["kind"].as_str().unwrap_or_default();
        let group = s["apiGroup"].as_str().unwrap_or_default();
        let sname = s["name"].as_str().unwrap_or_default();
        if sname.is_empty() {
            out.push(Cause::required(f("name"), ""));
        }
        match kind {
            "ServiceAccount" => {
                if !group.is_empty() {
                    out.push(Cause::not_supported(f("apiGroup"), group, &[""]));
                }
                if !sname.is_empty() {
                    out.extend(crate::validation::name_causes(
                        NameRule::Dns1123Subdomain,
                        &f("name"),
                        sname,
                    ));
                }
            }
            "User" | "Group" => {
                if group != "rbac.authorization.k8s.io" {
                    out.push(Cause::not_supported(
                        f("apiGroup"),
                        group,
                        &["rbac.authorization.k8s.io"],
                    ));
                }
            }
            other => out.push(Cause::not_supported(
                f("kind"),
                other,
                &["Group", "ServiceAccount", "User"],
            )),
        }
    }
    if let Some(old) = old
        && old["roleRef"] != v["roleRef"]
    {
        out.push(Cause::invalid(
            "roleRef",
            &v["roleRef"].to_string(),
            "cannot change roleRef",
        ));
    }
    out
}

/// Labels of a stored object (for selectors).
pub fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}
