//! Replication controllers: defaulting (`SetDefaults_ReplicationController`, and the pod
//! template's spec as for pods), `ValidateReplicationController`, a simulated replication
//! manager that reports every replica ready at once, and the `scale` subresource
//! (`autoscaling/v1` `Scale`).
//!
//! The simulated controller creates no pods: it only writes the status a client would see
//! once the replicas are up.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ReplicationController;
use serde_json::{Value, json};

use crate::error::{Cause, Error};
use crate::pod::{
    check_spec_quantities, default_pod_spec, typed, typed_or_cause, untyped, validate_pod_spec,
};
use crate::store::Store;
use crate::validation::{annotation_causes, go_string_map, label_causes};

/// `KindSpec::decode` for replication controllers.
pub fn decode(v: &Value) -> Result<Value, String> {
    check_spec_quantities(&v["spec"]["template"]["spec"])?;
    crate::kinds::decode::<ReplicationController>(v)
}

/// `KindSpec::default` for replication controllers.
pub fn default(v: &mut Value, _: Option<&Value>, _: &Store) -> Result<(), Error> {
    let mut rc: ReplicationController = typed(v)?;
    let spec = rc.spec.get_or_insert_with(Default::default);
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone());
    if let Some(labels) = template_labels {
        if spec.selector.as_ref().is_none_or(BTreeMap::is_empty) {
            spec.selector = Some(labels.clone());
        }
        if rc.metadata.labels.as_ref().is_none_or(BTreeMap::is_empty) {
            rc.metadata.labels = Some(labels);
        }
    }
    spec.replicas.get_or_insert(1);
    if let Some(t) = &mut spec.template {
        // The template's spec is a struct (not a pointer) in Go: always there, defaulted.
        default_pod_spec(t.spec.get_or_insert_with(Default::default));
    }
    *v = untyped(&rc)?;
    Ok(())
}

/// `KindSpec::validate` for replication controllers (`ValidateReplicationControllerSpec`;
/// the selector may change, unlike a ReplicaSet's).
pub fn validate(v: &Value, _: Option<&Value>, _: &Store) -> Vec<Cause> {
    let rc: ReplicationController = match typed_or_cause(v) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let spec = rc.spec.unwrap_or_default();
    let mut out = Vec::new();
    let non_negative = "must be greater than or equal to 0";
    if let Some(m) = spec.min_ready_seconds.filter(|m| *m < 0) {
        out.push(Cause::invalid_raw(
            "spec.minReadySeconds",
            &m.to_string(),
            non_negative,
        ));
    }
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        out.push(Cause::required("spec.selector", ""));
    }
    if let Some(r) = spec.replicas.filter(|r| *r < 0) {
        out.push(Cause::invalid_raw(
            "spec.replicas",
            &r.to_string(),
            non_negative,
        ));
    }
    let Some(template) = &spec.template else {
        out.push(Cause::required("spec.template", ""));
        return out;
    };
    let meta = template.metadata.clone().unwrap_or_default();
    let labels = meta.labels.clone().unwrap_or_default();
    if !selector.is_empty() && !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
        out.push(Cause::invalid_raw(
            "spec.template.metadata.labels",
            &go_string_map(&labels),
            "`selector` does not match template `labels`",
        ));
    }
    out.extend(label_causes(
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "spec.template.metadata.labels",
    ));
    out.extend(annotation_causes(
        meta.annotations.iter().flatten().map(|(k, _)| k.as_str()),
        "spec.template.metadata.annotations",
    ));
    let pod_spec = template.spec.clone().unwrap_or_default();
    validate_pod_spec(&pod_spec, "spec.template.spec", &mut out);
    let restart = pod_spec.restart_policy.as_deref().unwrap_or_default();
    if restart != "Always" {
        out.push(Cause::not_supported(
            "spec.template.spec.restartPolicy",
            restart,
            &["Always"],
        ));
    }
    if pod_spec.active_deadline_seconds.is_some() {
        out.push(Cause::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in ReplicationController is not Supported",
        ));
    }
    out
}

/// `KindSpec::simulate` for replication controllers: the replication manager has every
/// replica running and ready, and has seen this generation.
pub fn simulate(v: &mut Value, _: Option<&Value>, _: &Store) {
    let replicas = v["spec"]["replicas"].as_i64().unwrap_or(1);
    let mut status = json!({ "replicas": replicas });
    if replicas > 0 {
        for f in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
            status[f] = json!(replicas);
        }
    }
    if let Some(g) = v["metadata"]["generation"].as_i64() {
        status["observedGeneration"] = json!(g);
    }
    v["status"] = status;
}

/// The `autoscaling/v1` `Scale` of a stored replication controller.
pub fn scale_of(rc: &Value) -> Value {
    let m = &rc["metadata"];
    let selector: Vec<String> = rc["spec"]["selector"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    let mut spec = json!({});
    if let Some(r) = rc["spec"]["replicas"].as_i64().filter(|r| *r != 0) {
        spec["replicas"] = json!(r);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"],
            "namespace": m["namespace"],
            "uid": m["uid"],
            "resourceVersion": m["resourceVersion"],
            "creationTimestamp": m["creationTimestamp"],
        },
        "spec": spec,
        "status": {
            "replicas": rc["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector.join(","),
        },
    })
}
