//! Bearer-token authentication and RBAC authorisation, evaluated like the real RBAC
//! authorizer for RoleBindings (ClusterRoleBindings do not exist in the fake).

use serde_json::Value;

use crate::error::Error;
use crate::store::Store;

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The admin token given at start: allowed everything (like `cluster-admin`).
    Admin,
    /// A service account, authenticated by a token from its TokenRequest.
    ServiceAccount {
        /// The service account's namespace.
        namespace: String,
        /// The service account's name.
        name: String,
    },
}

impl Principal {
    /// The user name the real server reports (`system:serviceaccount:ns:name`).
    pub fn user_name(&self) -> String {
        match self {
            Principal::Admin => "admin".to_owned(),
            Principal::ServiceAccount { namespace, name } => {
                format!("system:serviceaccount:{namespace}:{name}")
            }
        }
    }

    fn groups(&self) -> Vec<String> {
        match self {
            Principal::Admin => vec!["system:masters".to_owned()],
            Principal::ServiceAccount { namespace, .. } => vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_owned(),
            ],
        }
    }
}

/// What a request wants to do, in the authorizer's terms.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    /// `get`, `list`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: &'a str,
    /// API group.
    pub group: &'a str,
    /// Resource (plural).
    pub resource: &'a str,
    /// Subresource (`token`), or empty.
    pub subresource: &'a str,
    /// Namespace, empty for cluster scope.
    pub namespace: &'a str,
    /// Object name, empty for collections and create.
    pub name: &'a str,
}

/// Built-in ClusterRoles a RoleBinding may reference. Approximations of the real aggregated
/// `admin`/`edit`/`view` roles, limited to the kinds the fake serves (and persistent volume
/// claims). Any other ClusterRole grants nothing, as a binding to a ClusterRole that does not
/// exist grants nothing on a real cluster.
fn builtin_cluster_role(name: &str) -> Option<Vec<Value>> {
    use serde_json::json;
    const RW: &[&str] = &[
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    const RO: &[&str] = &["get", "list", "watch"];
    let workloads = json!({
        "apiGroups": [""],
        "resources": ["pods", "services", "replicationcontrollers", "replicationcontrollers/scale",
                      "configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims"],
        "verbs": RW,
    });
    let token =
        json!({ "apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"] });
    let netpol = json!({ "apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": RW });
    let read_ns =
        json!({ "apiGroups": [""], "resources": ["namespaces", "resourcequotas"], "verbs": RO });
    match name {
        "admin" => Some(vec![
            workloads,
            token,
            netpol,
            read_ns,
            json!({ "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": RW }),
        ]),
        "edit" => Some(vec![workloads, token, netpol, read_ns]),
        "view" => Some(vec![json!({
            "apiGroups": ["", "networking.k8s.io"],
            "resources": ["pods", "services", "replicationcontrollers", "replicationcontrollers/scale",
                          "configmaps", "serviceaccounts",
                          "persistentvolumeclaims", "namespaces", "resourcequotas", "networkpolicies"],
            "verbs": RO,
        })]),
        _ => None,
    }
}

fn strs(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

fn rule_allows(rule: &Value, a: &Attributes<'_>) -> bool {
    let verb_ok = strs(&rule["verbs"]).any(|v| v == "*" || v == a.verb);
    let group_ok = strs(&rule["apiGroups"]).any(|g| g == "*" || g == a.group);
    let combined = if a.subresource.is_empty() {
        a.resource.to_owned()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    // rbac's ResourceMatches: "*", the exact resource[/subresource], or "*/subresource".
    let resource_ok = strs(&rule["resources"]).any(|r| {
        r == "*"
            || r == combined
            || (!a.subresource.is_empty() && r.strip_prefix("*/") == Some(a.subresource))
    });
    let names: Vec<&str> = strs(&rule["resourceNames"]).collect();
    let name_ok = names.is_empty() || (!a.name.is_empty() && names.contains(&a.name));
    verb_ok && group_ok && resource_ok && name_ok
}

fn binding_applies(binding: &Value, who: &Principal, binding_ns: &str) -> bool {
    let user = who.user_name();
    let groups = who.groups();
    binding["subjects"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| match s["kind"].as_str().unwrap_or_default() {
            "ServiceAccount" => match who {
                Principal::ServiceAccount { namespace, name } => {
                    // An empty subject namespace means the binding's own namespace.
                    let sns = s["namespace"]
                        .as_str()
                        .filter(|n| !n.is_empty())
                        .unwrap_or(binding_ns);
                    s["name"].as_str() == Some(name.as_str()) && sns == namespace
                }
                Principal::Admin => false,
            },
            "User" => s["name"].as_str() == Some(user.as_str()),
            "Group" => s["name"]
                .as_str()
                .is_some_and(|g| groups.iter().any(|x| x == g)),
            _ => false,
        })
}

/// Every rule granted to `who` in `namespace` by that namespace's RoleBindings.
fn rules_for(store: &Store, who: &Principal, namespace: &str) -> Vec<Value> {
    if namespace.is_empty() {
        return Vec::new();
    }
    store
        .in_namespace("rbac.authorization.k8s.io", "rolebindings", namespace)
        .filter(|b| binding_applies(b, who, namespace))
        .flat_map(|b| role_rules(store, &b["roleRef"], namespace).unwrap_or_default())
        .collect()
}

/// The rules of a binding's roleRef; `None` when the role does not exist.
fn role_rules(store: &Store, role_ref: &Value, namespace: &str) -> Option<Vec<Value>> {
    let name = role_ref["name"].as_str().unwrap_or_default();
    match role_ref["kind"].as_str() {
        Some("Role") => store
            .get("rbac.authorization.k8s.io", "roles", namespace, name)
            .map(|r| r["rules"].as_array().cloned().unwrap_or_default()),
        Some("ClusterRole") => builtin_cluster_role(name),
        _ => None,
    }
}

fn allows(store: &Store, who: &Principal, a: &Attributes<'_>) -> bool {
    *who == Principal::Admin
        || rules_for(store, who, a.namespace)
            .iter()
            .any(|r| rule_allows(r, a))
}

/// RBAC escalation prevention, as the real server enforces it for Roles and RoleBindings: a
/// caller may only write a Role whose rules it already holds in that namespace (unless it
/// may `escalate` roles), and only bind a role whose rules it holds (unless it may `bind`
/// that role). `obj` is the Role or RoleBinding being written.
pub fn check_escalation(
    store: &Store,
    who: &Principal,
    resource: &str,
    namespace: &str,
    name: &str,
    obj: &Value,
) -> Result<(), Error> {
    const RBAC: &str = "rbac.authorization.k8s.io";
    if *who == Principal::Admin {
        return Ok(());
    }
    fn special<'a>(
        verb: &'a str,
        res: &'a str,
        namespace: &'a str,
        name: &'a str,
    ) -> Attributes<'a> {
        Attributes {
            verb,
            group: RBAC,
            resource: res,
            subresource: "",
            namespace,
            name,
        }
    }
    let granted: Vec<Value> = match resource {
        "roles" => {
            if allows(store, who, &special("escalate", "roles", namespace, name)) {
                return Ok(());
            }
            obj["rules"].as_array().cloned().unwrap_or_default()
        }
        "rolebindings" => {
            let rr = &obj["roleRef"];
            let rr_name = rr["name"].as_str().unwrap_or_default();
            let rr_resource = if rr["kind"] == "ClusterRole" {
                "clusterroles"
            } else {
                "roles"
            };
            if allows(
                store,
                who,
                &special("bind", rr_resource, namespace, rr_name),
            ) {
                return Ok(());
            }
            match role_rules(store, rr, namespace) {
                Some(rules) => rules,
                None => {
                    return Err(Error::forbidden(
                        RBAC,
                        resource,
                        name,
                        &format!(
                            "{}.{RBAC} {rr_name:?} not found",
                            rr_resource.trim_end_matches('s')
                        ),
                    ));
                }
            }
        }
        _ => return Ok(()),
    };
    let held = rules_for(store, who, namespace);
    let mut missing = Vec::new();
    for rule in &granted {
        let names: Vec<&str> = strs(&rule["resourceNames"]).collect();
        let names: Vec<&str> = if names.is_empty() { vec![""] } else { names };
        for g in strs(&rule["apiGroups"]) {
            for r in strs(&rule["resources"]) {
                let (res, sub) = r.split_once('/').unwrap_or((r, ""));
                for v in strs(&rule["verbs"]) {
                    for n in &names {
                        let atom = Attributes {
                            verb: v,
                            group: g,
                            resource: res,
                            subresource: sub,
                            namespace,
                            name: n,
                        };
                        // Wildcards are literal here: "*" is only covered by "*".
                        if !held.iter().any(|h| rule_allows(h, &atom)) {
                            missing.push(format!(
                                "{{APIGroups:[{g:?}], Resources:[{r:?}], Verbs:[{v:?}]}}"
                            ));
                        }
                    }
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    missing.dedup();
    let groups: Vec<String> = who.groups().iter().map(|g| format!("{g:?}")).collect();
    Err(Error::forbidden(
        RBAC,
        resource,
        name,
        &format!(
            "user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
            who.user_name(),
            groups.join(" "),
            missing.join("\n")
        ),
    ))
}

/// Allows or refuses `a` for `who`, with the real authorizer's 403 message.
pub fn authorize(store: &Store, who: &Principal, a: &Attributes<'_>) -> Result<(), Error> {
    let allowed = allows(store, who, a);
    if allowed {
        return Ok(());
    }
    let resource = if a.subresource.is_empty() {
        a.resource.to_owned()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_owned()
    } else {
        format!("in the namespace {:?}", a.namespace)
    };
    Err(Error::forbidden(
        a.group,
        a.resource,
        a.name,
        &format!(
            "User {:?} cannot {} resource {resource:?} in API group {:?} {scope}",
            who.user_name(),
            a.verb,
            a.group
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs<'a>(verb: &'a str, resource: &'a str, sub: &'a str, name: &'a str) -> Attributes<'a> {
        Attributes {
            verb,
            group: "",
            resource,
            subresource: sub,
            namespace: "ns",
            name,
        }
    }

    #[test]
    fn rule_matching() {
        let rule = json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]});
        assert!(rule_allows(&rule, &attrs("get", "secrets", "", "x")));
        assert!(!rule_allows(&rule, &attrs("list", "secrets", "", "")));
        assert!(!rule_allows(&rule, &attrs("get", "pods", "", "x")));
        let star = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]});
        assert!(rule_allows(
            &star,
            &attrs("create", "serviceaccounts", "token", "sa")
        ));
        let sub = json!({"apiGroups": [""], "resources": ["*/token"], "verbs": ["create"]});
        assert!(rule_allows(
            &sub,
            &attrs("create", "serviceaccounts", "token", "sa")
        ));
        assert!(!rule_allows(
            &sub,
            &attrs("create", "serviceaccounts", "", "")
        ));
        let named = json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"], "verbs": ["get", "create"]});
        assert!(rule_allows(&named, &attrs("get", "secrets", "", "a")));
        assert!(!rule_allows(&named, &attrs("get", "secrets", "", "b")));
        // create has no name, so resourceNames rules never allow it (as on a real cluster)
        assert!(!rule_allows(&named, &attrs("create", "secrets", "", "")));
    }
}
