//! Strategic merge patch (`application/strategic-merge-patch+json`) for the kinds served.
//!
//! A strategic merge patch is a JSON merge patch, except that some lists are merged by a key
//! (`patchMergeKey`) instead of being replaced, and `$`-directives steer the merge. The real
//! server reads the merge keys from the Go struct tags; the fake lists the ones of the kinds
//! it serves (pod specs, also inside replication controller templates, service ports,
//! service account secrets, object metadata). Every other list is replaced, as in the real
//! server for lists without a merge strategy.
//!
//! Supported directives: `$patch: replace` / `$patch: delete` on maps and list items,
//! `$deleteFromPrimitiveList/<field>`, `$retainKeys`; `$setElementOrder/<field>` is accepted
//! and ignored (new items are appended, existing ones keep their place).

use serde_json::{Map, Value};

/// How a list field is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListStrategy {
    /// Replaced whole (no `patchStrategy`).
    Replace,
    /// Items are maps merged by this key.
    MergeByKey(&'static str),
    /// A list of scalars merged as a set (`patchStrategy: merge` on a primitive list).
    Set,
}

fn list_strategy(kind: &str, path: &[&str]) -> ListStrategy {
    use ListStrategy::{MergeByKey, Replace, Set};
    match path {
        [.., "metadata", "finalizers"] => return Set,
        [.., "metadata", "ownerReferences"] => return MergeByKey("uid"),
        _ => {}
    }
    let pod_spec = match kind {
        "Pod" => path.strip_prefix(&["spec"][..]),
        "ReplicationController" => path.strip_prefix(&["spec", "template", "spec"][..]),
        _ => None,
    };
    if let Some(rel) = pod_spec {
        return match rel {
            ["containers" | "initContainers" | "ephemeralContainers"] => MergeByKey("name"),
            [
                "containers" | "initContainers" | "ephemeralContainers",
                field,
            ] => match *field {
                "ports" => MergeByKey("containerPort"),
                "env" => MergeByKey("name"),
                "volumeMounts" => MergeByKey("mountPath"),
                "volumeDevices" => MergeByKey("devicePath"),
                _ => Replace,
            },
            ["volumes" | "imagePullSecrets" | "resourceClaims" | "schedulingGates"] => {
                MergeByKey("name")
            }
            ["hostAliases"] => MergeByKey("ip"),
            ["topologySpreadConstraints"] => MergeByKey("topologyKey"),
            _ => Replace,
        };
    }
    match (kind, path) {
        ("Service", ["spec", "ports"]) => MergeByKey("port"),
        ("ServiceAccount", ["secrets"]) => MergeByKey("name"),
        _ => Replace,
    }
}

/// Applies a strategic merge `patch` to `doc` (an object of `kind`). `Err` is a malformed
/// patch (the real server answers those with a 400 or 422; the fake with a 400).
pub fn apply(doc: &mut Value, patch: &Value, kind: &str) -> Result<(), String> {
    let Some(patch) = patch.as_object() else {
        return Err("a strategic merge patch must be a JSON object".to_owned());
    };
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    match doc.as_object_mut() {
        Some(target) => merge_map(target, patch, kind, &mut Vec::new()),
        None => Ok(()),
    }
}

fn directive(patch: &Map<String, Value>) -> Option<&str> {
    patch.get("$patch").and_then(Value::as_str)
}

/// The patch map without its directives: what a new (or replaced) value becomes.
fn fresh(patch: &Map<String, Value>, kind: &str, path: &mut Vec<String>) -> Result<Value, String> {
    let mut out = Map::new();
    merge_map(&mut out, patch, kind, path)?;
    Ok(Value::Object(out))
}

fn merge_map(
    target: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    kind: &str,
    path: &mut Vec<String>,
) -> Result<(), String> {
    match directive(patch) {
        None => {}
        Some("replace") => {
            target.clear();
            let mut rest = patch.clone();
            rest.remove("$patch");
            return merge_map(target, &rest, kind, path);
        }
        Some("merge") => {}
        Some(other) => return Err(format!("unknown patch type: {other:?}")),
    }
    for (k, pv) in patch {
        if k == "$patch" || k == "$retainKeys" || k.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            let gone = pv.as_array().cloned().unwrap_or_default();
            if let Some(items) = target.get_mut(field).and_then(Value::as_array_mut) {
                items.retain(|i| !gone.contains(i));
            }
            continue;
        }
        path.push(k.clone());
        let result = merge_field(target, k, pv, kind, path);
        path.pop();
        result?;
    }
    if let Some(keep) = patch.get("$retainKeys").and_then(Value::as_array) {
        target.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k.as_str())));
    }
    Ok(())
}

fn merge_field(
    target: &mut Map<String, Value>,
    k: &str,
    pv: &Value,
    kind: &str,
    path: &mut Vec<String>,
) -> Result<(), String> {
    match pv {
        Value::Null => {
            target.remove(k);
        }
        Value::Object(pm) => {
            if directive(pm) == Some("delete") {
                target.remove(k);
            } else if let Some(Value::Object(tm)) = target.get_mut(k) {
                merge_map(tm, pm, kind, path)?;
            } else {
                target.insert(k.to_owned(), fresh(pm, kind, path)?);
            }
        }
        Value::Array(items) => {
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            let merged = match list_strategy(kind, &p) {
                ListStrategy::Replace => Value::Array(items.clone()),
                ListStrategy::Set => {
                    let mut out = target
                        .get(k)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for i in items {
                        if !out.contains(i) {
                            out.push(i.clone());
                        }
                    }
                    Value::Array(out)
                }
                ListStrategy::MergeByKey(key) => {
                    let existing = target
                        .get(k)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    Value::Array(merge_list(existing, items, key, kind, path)?)
                }
            };
            target.insert(k.to_owned(), merged);
        }
        scalar => {
            target.insert(k.to_owned(), scalar.clone());
        }
    }
    Ok(())
}

fn merge_list(
    mut existing: Vec<Value>,
    patch: &[Value],
    key: &str,
    kind: &str,
    path: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    // `{"$patch": "replace"}` as an item: the rest of the patch list is the new list.
    let replace = patch
        .iter()
        .any(|i| i.as_object().and_then(directive) == Some("replace"));
    if replace {
        existing.clear();
    }
    for item in patch {
        let Some(pm) = item.as_object() else {
            return Err(format!(
                "the list {} is merged by {key:?}; its items must be objects",
                path.join(".")
            ));
        };
        match directive(pm) {
            Some("replace") if pm.len() == 1 => continue,
            _ => {}
        }
        let Some(id) = pm.get(key) else {
            return Err(format!(
                "map: {} does not contain declared merge key: {key}",
                Value::Object(pm.clone())
            ));
        };
        let at = existing
            .iter()
            .position(|e| e.get(key).is_some_and(|v| v == id));
        match (directive(pm), at) {
            (Some("delete"), Some(i)) => {
                existing.remove(i);
            }
            (Some("delete"), None) => {}
            (_, Some(i)) => {
                if let Some(Value::Object(em)) = existing.get_mut(i) {
                    merge_map(em, pm, kind, path)?;
                }
            }
            (_, None) => existing.push(fresh(pm, kind, path)?),
        }
    }
    Ok(existing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "p", "finalizers": ["a"]},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                     "env": [{"name": "A", "value": "1"}]},
                    {"name": "side", "image": "busybox"},
                ],
                "tolerations": [{"key": "x", "operator": "Exists"}],
            },
        })
    }

    #[test]
    fn containers_merge_by_name() {
        let mut doc = pod();
        apply(
            &mut doc,
            &json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.26",
                     "env": [{"name": "B", "value": "2"}]}]}}),
            "Pod",
        )
        .unwrap();
        let c = &doc["spec"]["containers"];
        assert_eq!(c.as_array().unwrap().len(), 2);
        assert_eq!(c[0]["image"], "nginx:1.26");
        assert_eq!(c[0]["ports"][0]["containerPort"], 80);
        assert_eq!(c[0]["env"].as_array().unwrap().len(), 2);
        assert_eq!(c[1]["name"], "side");
    }

    #[test]
    fn directives_and_plain_lists() {
        let mut doc = pod();
        apply(
            &mut doc,
            &json!({
                "metadata": {"finalizers": ["b"]},
                "spec": {
                    "containers": [{"name": "side", "$patch": "delete"}],
                    "tolerations": [],
                    "$setElementOrder/containers": [{"name": "web"}],
                },
            }),
            "Pod",
        )
        .unwrap();
        assert_eq!(doc["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(doc["spec"]["containers"].as_array().unwrap().len(), 1);
        assert_eq!(doc["spec"]["tolerations"], json!([]));
        assert!(doc["spec"].get("$setElementOrder/containers").is_none());

        let mut doc = pod();
        apply(
            &mut doc,
            &json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}),
            "Pod",
        )
        .unwrap();
        assert_eq!(
            doc["spec"]["containers"],
            json!([{"name": "only", "image": "x"}])
        );

        // Without a merge key the list is refused, as on the real server.
        let mut doc = pod();
        assert!(
            apply(
                &mut doc,
                &json!({"spec": {"containers": [{"image": "x"}]}}),
                "Pod"
            )
            .is_err()
        );
    }

    #[test]
    fn service_ports_and_rc_templates() {
        let mut svc = json!({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}});
        apply(
            &mut svc,
            &json!({"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}),
            "Service",
        )
        .unwrap();
        assert_eq!(svc["spec"]["ports"][1]["targetPort"], 8443);
        assert_eq!(svc["spec"]["ports"][1]["name"], "https");

        let mut rc = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "web", "image": "a"}, {"name": "b", "image": "b"}]}}}});
        apply(
            &mut rc,
            &json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "c"}]}}}}),
            "ReplicationController",
        )
        .unwrap();
        assert_eq!(rc["spec"]["replicas"], 3);
        assert_eq!(
            rc["spec"]["template"]["spec"]["containers"][0]["image"],
            "c"
        );
        assert_eq!(rc["spec"]["template"]["spec"]["containers"][1]["name"], "b");
    }
}
