//! The Kubernetes objects that make up a bay, built from the bay and the configuration.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, ResourceQuota, ResourceQuotaSpec, ServiceAccount};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use magnum_bay_driver::BayRef;

use crate::quantity::{self, QuantityError};

/// Label every object of a bay carries (`"true"`).
pub const MANAGED_LABEL: &str = "magnum.managed";
/// Label with the bay's uuid; how the driver recognises its own namespace.
pub const BAY_UUID_LABEL: &str = "magnum.bay.uuid";
/// Label (when the id is a valid label value) and annotation with the bay's project id.
pub const PROJECT_KEY: &str = "magnum.project";

pub const QUOTA_NAME: &str = "magnum-bay-quota";
pub const NETWORK_POLICY_NAME: &str = "magnum-bay-isolation";
pub const SERVICE_ACCOUNT_NAME: &str = "magnum-bay";
pub const ROLE_NAME: &str = "magnum-bay";
pub const ROLE_BINDING_NAME: &str = "magnum-bay";

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const READ: &[&str] = &["get", "list", "watch"];

/// The namespace of bay `bay_uuid`.
pub fn namespace_name(prefix: &str, bay_uuid: &uuid::Uuid) -> String {
    format!("{prefix}{}", bay_uuid.hyphenated())
}

/// Labels on every object of the bay.
pub fn labels(bay: &BayRef) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (MANAGED_LABEL.to_owned(), "true".to_owned()),
        (BAY_UUID_LABEL.to_owned(), bay.uuid.hyphenated().to_string()),
    ]);
    // Keystone ids are 32 hex characters, but a label value that the API server would refuse
    // must not fail the bay: the annotation always has the id.
    if is_label_value(&bay.project_id) {
        labels.insert(PROJECT_KEY.to_owned(), bay.project_id.clone());
    }
    labels
}

fn annotations(bay: &BayRef) -> BTreeMap<String, String> {
    BTreeMap::from([(PROJECT_KEY.to_owned(), bay.project_id.clone())])
}

/// Whether `value` is a valid label value: at most 63 characters of `[A-Za-z0-9-_.]`,
/// alphanumeric at both ends (or empty).
pub fn is_label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() <= 63
        && (bytes.is_empty()
            || (bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)))
}

fn metadata(bay: &BayRef, name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: Some(labels(bay)),
        annotations: Some(annotations(bay)),
        ..ObjectMeta::default()
    }
}

pub fn namespace(bay: &BayRef, name: &str) -> Namespace {
    Namespace {
        metadata: metadata(bay, name, None),
        ..Namespace::default()
    }
}

/// The quota's hard limits: `per_node` times the node count. A bay always gets at least one
/// node's worth, so a bay scaled to zero nodes can still run its own housekeeping.
pub fn quota_hard(
    per_node: &BTreeMap<String, String>,
    node_count: u32,
) -> Result<BTreeMap<String, Quantity>, (String, QuantityError)> {
    per_node
        .iter()
        .map(|(resource, per)| {
            quantity::scale(per, node_count.max(1))
                .map(|q| (resource.clone(), Quantity(q)))
                .map_err(|e| (resource.clone(), e))
        })
        .collect()
}

pub fn resource_quota(
    bay: &BayRef,
    namespace: &str,
    hard: BTreeMap<String, Quantity>,
) -> ResourceQuota {
    ResourceQuota {
        metadata: metadata(bay, QUOTA_NAME, Some(namespace)),
        spec: Some(ResourceQuotaSpec {
            hard: Some(hard),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    }
}

/// Every pod of the bay accepts traffic only from pods of the same namespace.
pub fn network_policy(bay: &BayRef, namespace: &str) -> NetworkPolicy {
    NetworkPolicy {
        metadata: metadata(bay, NETWORK_POLICY_NAME, Some(namespace)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".to_owned()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector::default()),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: None,
            }]),
            egress: None,
        }),
    }
}

pub fn service_account(bay: &BayRef, namespace: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: metadata(bay, SERVICE_ACCOUNT_NAME, Some(namespace)),
        ..ServiceAccount::default()
    }
}

fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

/// What the bay's user may do, in the bay's namespace only: run workloads and read what the
/// cluster says about them, but not touch RBAC, the quota or the network policy.
pub fn role_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            "",
            &[
                "pods",
                "services",
                "replicationcontrollers",
                "endpoints",
                "configmaps",
                "secrets",
                "persistentvolumeclaims",
            ],
            READ_WRITE,
        ),
        rule("", &["pods/log"], READ),
        rule("", &["pods/exec"], &["create", "get"]),
        rule("", &["events", "resourcequotas"], READ),
        rule(
            "apps",
            &[
                "deployments",
                "replicasets",
                "statefulsets",
                "daemonsets",
                "deployments/scale",
                "replicasets/scale",
                "statefulsets/scale",
            ],
            READ_WRITE,
        ),
        rule("batch", &["jobs", "cronjobs"], READ_WRITE),
    ]
}

pub fn role(bay: &BayRef, namespace: &str) -> Role {
    Role {
        metadata: metadata(bay, ROLE_NAME, Some(namespace)),
        rules: Some(role_rules()),
    }
}

pub fn role_binding(bay: &BayRef, namespace: &str) -> RoleBinding {
    RoleBinding {
        metadata: metadata(bay, ROLE_BINDING_NAME, Some(namespace)),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.to_owned(),
            kind: "Role".to_owned(),
            name: ROLE_NAME.to_owned(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: SERVICE_ACCOUNT_NAME.to_owned(),
            namespace: Some(namespace.to_owned()),
            api_group: None,
        }]),
    }
}

/// Whether `existing` carries every label and annotation of `desired`.
pub fn has_metadata_of(existing: &ObjectMeta, desired: &ObjectMeta) -> bool {
    fn contains(
        have: Option<&BTreeMap<String, String>>,
        want: Option<&BTreeMap<String, String>>,
    ) -> bool {
        want.into_iter()
            .flatten()
            .all(|(k, v)| have.and_then(|h| h.get(k)) == Some(v))
    }
    contains(existing.labels.as_ref(), desired.labels.as_ref())
        && contains(existing.annotations.as_ref(), desired.annotations.as_ref())
}

/// `existing`'s metadata with `desired`'s labels and annotations added (others are kept: a
/// cluster's own controllers may add theirs).
pub fn merge_metadata(existing: &mut ObjectMeta, desired: &ObjectMeta) {
    for (have, want) in [
        (&mut existing.labels, &desired.labels),
        (&mut existing.annotations, &desired.annotations),
    ] {
        if let Some(want) = want {
            have.get_or_insert_with(BTreeMap::new)
                .extend(want.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
}

#[cfg(test)]
#[path = "objects_test.rs"]
mod tests;
