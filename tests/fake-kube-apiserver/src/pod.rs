//! Pods: the real server's defaulting (`SetDefaults_Pod`, `SetDefaults_PodSpec`,
//! `SetDefaults_Container`, ...), the admission plugins that change a new pod
//! (ServiceAccount, Priority, DefaultTolerationSeconds), validation (`ValidatePodCreate`,
//! `ValidatePodUpdate`; the pod spec part is shared with replication controller templates),
//! and a simulated scheduler and kubelet, so a client sees the pod scheduled on a node and
//! running, with an IP, as it would a moment after creating it on a real cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, Pod, PodSpec, Probe, Toleration, Volume, VolumeMount,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Cause, Error};
use crate::store::Store;
use crate::validation::{
    NameRule, dns1123_label_problems, env_var_name_problems, label_causes, name_problems,
    port_name_problems, port_num_problems,
};

/// The one node of the fake cluster: every schedulable pod lands here.
pub const FAKE_NODE: &str = "fake-node-1";
/// The node's InternalIP (a kind-like address).
const FAKE_NODE_IP: &str = "172.18.0.2";
/// The node's labels, for `nodeSelector`.
const FAKE_NODE_LABELS: &[(&str, &str)] = &[
    ("kubernetes.io/arch", "amd64"),
    ("kubernetes.io/hostname", FAKE_NODE),
    ("kubernetes.io/os", "linux"),
];
/// Pod IPs come from this range (the usual `--cluster-cidr` of kubeadm/kind clusters).
const POD_IP_FIRST: Ipv4Addr = Ipv4Addr::new(10, 244, 0, 2);
const POD_IP_LAST: Ipv4Addr = Ipv4Addr::new(10, 244, 255, 254);

const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// `quantities must match ...`: the decode error for a malformed resource quantity.
pub const QUANTITY_RE: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Converts a stored (already decoded) object to its `k8s-openapi` type.
pub(crate) fn typed<T: DeserializeOwned>(v: &Value) -> Result<T, Error> {
    serde_json::from_value(v.clone()).map_err(|e| Error::internal(e.to_string()))
}

/// Converts a `k8s-openapi` value back to JSON.
pub(crate) fn untyped<T: Serialize>(t: &T) -> Result<Value, Error> {
    serde_json::to_value(t).map_err(|e| Error::internal(e.to_string()))
}

/// A validation hook's view of the object; a decode failure (which admission already
/// excluded) is reported as a cause rather than a panic.
pub(crate) fn typed_or_cause<T: DeserializeOwned>(v: &Value) -> Result<T, Vec<Cause>> {
    serde_json::from_value(v.clone())
        .map_err(|e| vec![Cause::invalid("", "", &format!("cannot decode: {e}"))])
}

/// `Quantity` is a string newtype in `k8s-openapi`; the real decoder also parses it. Checks
/// the quantities of a pod spec (JSON) before the typed decode.
pub fn check_spec_quantities(spec: &Value) -> Result<(), String> {
    let mut maps: Vec<&Value> = vec![&spec["overhead"]];
    for list in ["containers", "initContainers"] {
        for c in spec[list].as_array().into_iter().flatten() {
            maps.push(&c["resources"]["limits"]);
            maps.push(&c["resources"]["requests"]);
        }
    }
    for m in maps.into_iter().filter_map(Value::as_object) {
        if !m
            .values()
            .all(|q| q.as_str().is_some_and(crate::validation::is_quantity))
        {
            return Err(QUANTITY_RE.to_owned());
        }
    }
    Ok(())
}

/// `KindSpec::decode` for pods.
pub fn decode(v: &Value) -> Result<Value, String> {
    check_spec_quantities(&v["spec"])?;
    crate::kinds::decode::<Pod>(v)
}

fn default_str(field: &mut Option<String>, value: &str) {
    if field.as_deref().is_none_or(str::is_empty) {
        *field = Some(value.to_owned());
    }
}

/// `SetDefaults_Container`'s pull policy: `Always` for `:latest` or an untagged image
/// without a digest, else `IfNotPresent`.
fn default_pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    // The tag follows a ':' in the last path component (a ':' before a '/' is a port).
    let last = name.rsplit('/').next().unwrap_or(name);
    match (last.split_once(':').map(|(_, t)| t), digest) {
        (Some("latest"), _) | (None, false) => "Always",
        _ => "IfNotPresent",
    }
}

fn default_probe(p: &mut Option<Probe>) {
    if let Some(p) = p {
        p.timeout_seconds.get_or_insert(1);
        p.period_seconds.get_or_insert(10);
        p.success_threshold.get_or_insert(1);
        p.failure_threshold.get_or_insert(3);
        if let Some(h) = &mut p.http_get {
            default_str(&mut h.path, "/");
            default_str(&mut h.scheme, "HTTP");
        }
    }
}

fn default_container(c: &mut Container) {
    if c.image_pull_policy.as_deref().is_none_or(str::is_empty) {
        let policy = default_pull_policy(c.image.as_deref().unwrap_or_default());
        c.image_pull_policy = Some(policy.to_owned());
    }
    default_str(&mut c.termination_message_path, "/dev/termination-log");
    default_str(&mut c.termination_message_policy, "File");
    // `resources` is a struct (not a pointer) in Go, so the server always answers with it.
    c.resources.get_or_insert_with(Default::default);
    for p in c.ports.iter_mut().flatten() {
        default_str(&mut p.protocol, "TCP");
    }
    for e in c.env.iter_mut().flatten() {
        if let Some(f) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            default_str(&mut f.api_version, "v1");
        }
    }
    default_probe(&mut c.liveness_probe);
    default_probe(&mut c.readiness_probe);
    default_probe(&mut c.startup_probe);
}

fn default_volume(v: &mut Volume) {
    let bare = Volume {
        name: v.name.clone(),
        ..Volume::default()
    };
    if *v == bare {
        v.empty_dir = Some(Default::default());
    }
    if let Some(s) = &mut v.secret {
        s.default_mode.get_or_insert(0o644);
    }
    if let Some(s) = &mut v.config_map {
        s.default_mode.get_or_insert(0o644);
    }
    if let Some(s) = &mut v.downward_api {
        s.default_mode.get_or_insert(0o644);
    }
    if let Some(s) = &mut v.projected {
        s.default_mode.get_or_insert(0o644);
    }
    if let Some(h) = &mut v.host_path {
        h.type_.get_or_insert_with(String::new);
    }
}

/// `SetDefaults_PodSpec` and the defaults of what it contains: what pods and pod templates
/// (replication controllers) share.
pub fn default_pod_spec(spec: &mut PodSpec) {
    default_str(&mut spec.dns_policy, "ClusterFirst");
    default_str(&mut spec.restart_policy, "Always");
    spec.security_context.get_or_insert_with(Default::default);
    spec.termination_grace_period_seconds.get_or_insert(30);
    default_str(&mut spec.scheduler_name, "default-scheduler");
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        default_container(c);
    }
    for v in spec.volumes.iter_mut().flatten() {
        default_volume(v);
    }
}

/// `KindSpec::default` for pods: defaulting, and on create the mutating admission plugins.
pub fn default(v: &mut Value, old: Option<&Value>, st: &Store) -> Result<(), Error> {
    let mut pod: Pod = typed(v)?;
    let spec = pod.spec.get_or_insert_with(Default::default);
    default_pod_spec(spec);
    // SetDefaults_Pod: requests default to limits (pods only, not templates).
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if let Some(r) = &mut c.resources
            && let Some(limits) = r.limits.clone()
        {
            let requests = r.requests.get_or_insert_with(BTreeMap::new);
            for (k, q) in limits {
                requests.entry(k).or_insert(q);
            }
        }
    }
    spec.enable_service_links.get_or_insert(true);
    // The deprecated `serviceAccount` is an alias the server keeps in sync.
    if spec
        .service_account_name
        .as_deref()
        .is_none_or(str::is_empty)
    {
        spec.service_account_name = spec.service_account.clone().filter(|s| !s.is_empty());
    }
    if old.is_none() {
        admit_new_pod(&mut pod, st)?;
    }
    if let Some(spec) = &mut pod.spec {
        spec.service_account = spec.service_account_name.clone();
    }
    *v = untyped(&pod)?;
    Ok(())
}

/// The mutating admission plugins of a real cluster, for a pod being created.
fn admit_new_pod(pod: &mut Pod, st: &Store) -> Result<(), Error> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let spec = pod.spec.get_or_insert_with(Default::default);
    let forbidden = |why: &str| Error::forbidden("", "pods", &name, why);

    // ServiceAccount: the account must exist (the fake has no controller creating
    // `default` in every namespace, so `default` counts as present), and its token is
    // mounted unless automounting is off.
    let sa_name = spec
        .service_account_name
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let sa = st.get("", "serviceaccounts", &ns, &sa_name);
    if sa.is_none() && sa_name != "default" {
        return Err(forbidden(&format!(
            "error looking up service account {ns}/{sa_name}: serviceaccount {sa_name:?} not found"
        )));
    }
    spec.service_account_name = Some(sa_name);
    let automount = spec
        .automount_service_account_token
        .or_else(|| sa.and_then(|s| s["automountServiceAccountToken"].as_bool()))
        .unwrap_or(true);
    if automount {
        mount_token_volume(spec);
    }

    // Priority: no PriorityClass objects exist but the two built-in ones.
    let priority = match spec.priority_class_name.as_deref().unwrap_or_default() {
        "" => 0,
        "system-cluster-critical" => 2_000_000_000,
        "system-node-critical" => 2_000_001_000,
        other => {
            return Err(forbidden(&format!(
                "no PriorityClass with name {other} was found"
            )));
        }
    };
    if let Some(given) = spec.priority
        && given != priority
    {
        return Err(forbidden(&format!(
            "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        )));
    }
    spec.priority = Some(priority);
    default_str(&mut spec.preemption_policy, "PreemptLowerPriority");

    // DefaultTolerationSeconds.
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = tolerations.iter().any(|t| {
            let key_ok = t.key.as_deref() == Some(key)
                || (t.key.as_deref().is_none_or(str::is_empty)
                    && t.operator.as_deref() == Some("Exists"));
            key_ok
                && t.effect
                    .as_deref()
                    .is_none_or(|e| e.is_empty() || e == "NoExecute")
        });
        if !tolerated {
            tolerations.push(Toleration {
                key: Some(key.to_owned()),
                operator: Some("Exists".to_owned()),
                effect: Some("NoExecute".to_owned()),
                toleration_seconds: Some(300),
                value: None,
            });
        }
    }
    Ok(())
}

/// The projected `kube-api-access-*` volume the ServiceAccount admission plugin adds, and its
/// mount in every container that has nothing at the token path yet.
fn mount_token_volume(spec: &mut PodSpec) {
    let has_mount = |c: &Container| {
        c.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == TOKEN_MOUNT_PATH)
    };
    let all = || {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
    };
    if all().all(has_mount) {
        return;
    }
    let name = format!("kube-api-access-{}", crate::server::random_suffix());
    let volume: Result<Volume, _> = serde_json::from_value(json!({
        "name": name,
        "projected": {
            "defaultMode": 0o644,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace",
                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    }));
    let Ok(volume) = volume else { return };
    spec.volumes.get_or_insert_with(Vec::new).push(volume);
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if !has_mount(c) {
            c.volume_mounts
                .get_or_insert_with(Vec::new)
                .push(VolumeMount {
                    name: name.clone(),
                    mount_path: TOKEN_MOUNT_PATH.to_owned(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                });
        }
    }
}

fn not_supported(
    out: &mut Vec<Cause>,
    field: String,
    value: Option<&str>,
    supported: &[&str],
    required_detail: &str,
) {
    match value.unwrap_or_default() {
        "" => out.push(Cause::required(field, required_detail)),
        v if supported.contains(&v) => {}
        v => out.push(Cause::not_supported(field, v, supported)),
    }
}

fn validate_ports(ports: &[ContainerPort], path: &str, out: &mut Vec<Cause>) {
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let at = |f: &str| format!("{path}[{i}].{f}");
        if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
            let problems = port_name_problems(name);
            if !problems.is_empty() {
                for msg in problems {
                    out.push(Cause::invalid(at("name"), name, &msg));
                }
            } else if !names.insert(name) {
                out.push(Cause::duplicate(at("name"), name));
            }
        }
        if p.container_port == 0 {
            out.push(Cause::required(at("containerPort"), ""));
        } else {
            for msg in port_num_problems(i64::from(p.container_port)) {
                out.push(Cause::invalid_raw(
                    at("containerPort"),
                    &p.container_port.to_string(),
                    &msg,
                ));
            }
        }
        if let Some(hp) = p.host_port.filter(|hp| *hp != 0) {
            for msg in port_num_problems(i64::from(hp)) {
                out.push(Cause::invalid_raw(at("hostPort"), &hp.to_string(), &msg));
            }
        }
        not_supported(
            out,
            at("protocol"),
            p.protocol.as_deref(),
            &["SCTP", "TCP", "UDP"],
            "",
        );
    }
}

fn validate_probe(
    probe: Option<&Probe>,
    path: &str,
    liveness_or_startup: bool,
    out: &mut Vec<Cause>,
) {
    let Some(p) = probe else { return };
    let handlers = [
        p.exec.is_some(),
        p.http_get.is_some(),
        p.tcp_socket.is_some(),
        p.grpc.is_some(),
    ];
    if !handlers.contains(&true) {
        out.push(Cause::required(path, "must specify a handler type"));
    }
    if let Some(h) = &p.http_get {
        crate::service::port_num_or_name(&h.port, &format!("{path}.httpGet.port"), out);
    }
    if let Some(t) = &p.tcp_socket {
        crate::service::port_num_or_name(&t.port, &format!("{path}.tcpSocket.port"), out);
    }
    if liveness_or_startup && p.success_threshold.is_some_and(|s| s != 1) {
        out.push(Cause::invalid_raw(
            format!("{path}.successThreshold"),
            &p.success_threshold.unwrap_or_default().to_string(),
            "must be 1",
        ));
    }
}

/// `validateContainers` (and the init-container name check against `others`).
fn validate_containers(
    containers: &[Container],
    volumes: &BTreeSet<&str>,
    path: &str,
    others: &[Container],
    out: &mut Vec<Cause>,
) {
    let mut names: BTreeSet<&str> = others.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in containers.iter().enumerate() {
        let at = |f: &str| format!("{path}[{i}].{f}");
        if c.name.is_empty() {
            out.push(Cause::required(at("name"), ""));
        } else {
            for msg in dns1123_label_problems(&c.name) {
                out.push(Cause::invalid(at("name"), &c.name, &msg));
            }
        }
        if !names.insert(c.name.as_str()) {
            out.push(Cause::duplicate(at("name"), &c.name));
        }
        if c.image.as_deref().is_none_or(str::is_empty) {
            out.push(Cause::required(at("image"), ""));
        }
        validate_probe(c.liveness_probe.as_ref(), &at("livenessProbe"), true, out);
        validate_probe(c.startup_probe.as_ref(), &at("startupProbe"), true, out);
        match c.termination_message_policy.as_deref().unwrap_or_default() {
            "File" | "FallbackToLogsOnError" => {}
            "" => out.push(Cause::required(
                at("terminationMessagePolicy"),
                "must be 'File' or 'FallbackToLogsOnError'",
            )),
            other => out.push(Cause::invalid(
                at("terminationMessagePolicy"),
                other,
                "must be 'File' or 'FallbackToLogsOnError'",
            )),
        }
        validate_probe(
            c.readiness_probe.as_ref(),
            &at("readinessProbe"),
            false,
            out,
        );
        validate_ports(c.ports.as_deref().unwrap_or_default(), &at("ports"), out);
        for (j, e) in c.env.iter().flatten().enumerate() {
            let field = format!("{path}[{i}].env[{j}].name");
            if e.name.is_empty() {
                out.push(Cause::required(field, ""));
            } else {
                for msg in env_var_name_problems(&e.name) {
                    out.push(Cause::invalid(field.clone(), &e.name, &msg));
                }
            }
        }
        let mut mount_paths = BTreeSet::new();
        for (j, m) in c.volume_mounts.iter().flatten().enumerate() {
            let mat = |f: &str| format!("{path}[{i}].volumeMounts[{j}].{f}");
            if m.name.is_empty() {
                out.push(Cause::required(mat("name"), ""));
            }
            if !volumes.contains(m.name.as_str()) {
                out.push(Cause::not_found(mat("name"), &m.name));
            }
            if m.mount_path.is_empty() {
                out.push(Cause::required(mat("mountPath"), ""));
            }
            if !mount_paths.insert(m.mount_path.as_str()) {
                out.push(Cause::invalid(
                    mat("mountPath"),
                    &m.mount_path,
                    "must be unique",
                ));
            }
        }
        not_supported(
            out,
            at("imagePullPolicy"),
            c.image_pull_policy.as_deref(),
            &["Always", "IfNotPresent", "Never"],
            "",
        );
    }
}

/// `ValidatePodSpec` (the parts a client of the fake is likely to get wrong), with `path`
/// the spec's own path (`spec`, or `spec.template.spec` in a replication controller).
pub fn validate_pod_spec(spec: &PodSpec, path: &str, out: &mut Vec<Cause>) {
    // Volumes: a name, one source each; only valid volumes can be mounted.
    let mut volumes = BTreeSet::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let at = format!("{path}.volumes[{i}]");
        let mut errs = Vec::new();
        let sources: Vec<String> = serde_json::to_value(v)
            .ok()
            .and_then(|x| x.as_object().cloned())
            .map(|o| o.keys().filter(|k| *k != "name").cloned().collect())
            .unwrap_or_default();
        match sources.as_slice() {
            [] => errs.push(Cause::required(at.clone(), "must specify a volume type")),
            [_] => {}
            [_, second, ..] => errs.push(Cause::forbidden(
                format!("{at}.{second}"),
                "may not specify more than 1 volume type",
            )),
        }
        if v.name.is_empty() {
            errs.push(Cause::required(format!("{at}.name"), ""));
        } else {
            for msg in dns1123_label_problems(&v.name) {
                errs.push(Cause::invalid(format!("{at}.name"), &v.name, &msg));
            }
        }
        if volumes.contains(v.name.as_str()) {
            errs.push(Cause::duplicate(format!("{at}.name"), &v.name));
        }
        if errs.is_empty() {
            volumes.insert(v.name.as_str());
        }
        out.extend(errs);
    }
    let containers_path = format!("{path}.containers");
    if spec.containers.is_empty() {
        out.push(Cause::required(containers_path, ""));
    } else {
        validate_containers(&spec.containers, &volumes, &containers_path, &[], out);
    }
    if let Some(init) = spec.init_containers.as_deref().filter(|i| !i.is_empty()) {
        validate_containers(
            init,
            &volumes,
            &format!("{path}.initContainers"),
            &spec.containers,
            out,
        );
    }
    not_supported(
        out,
        format!("{path}.restartPolicy"),
        spec.restart_policy.as_deref(),
        &["Always", "OnFailure", "Never"],
        "",
    );
    not_supported(
        out,
        format!("{path}.dnsPolicy"),
        spec.dns_policy.as_deref(),
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        "",
    );
    if let Some(sel) = &spec.node_selector {
        out.extend(label_causes(
            sel.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &format!("{path}.nodeSelector"),
        ));
    }
    for (field, value, rule) in [
        (
            "serviceAccountName",
            &spec.service_account_name,
            NameRule::Dns1123Subdomain,
        ),
        ("nodeName", &spec.node_name, NameRule::Dns1123Subdomain),
        ("hostname", &spec.hostname, NameRule::Dns1123Label),
        ("subdomain", &spec.subdomain, NameRule::Dns1123Label),
    ] {
        if let Some(value) = value.as_deref().filter(|s| !s.is_empty()) {
            for msg in name_problems(rule, value) {
                out.push(Cause::invalid(format!("{path}.{field}"), value, &msg));
            }
        }
    }
    if let Some(ads) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        out.push(Cause::invalid_raw(
            format!("{path}.activeDeadlineSeconds"),
            &ads.to_string(),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        let at = |f: &str| format!("{path}.tolerations[{i}].{f}");
        let key = t.key.as_deref().unwrap_or_default();
        let op = t.operator.as_deref().unwrap_or_default();
        if key.is_empty() && op != "Exists" {
            out.push(Cause::invalid(
                at("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        let effect = t.effect.as_deref().unwrap_or_default();
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            out.push(Cause::invalid(
                at("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        if !matches!(op, "" | "Equal" | "Exists") {
            out.push(Cause::not_supported(
                at("operator"),
                op,
                &["Equal", "Exists"],
            ));
        }
        if !matches!(effect, "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            out.push(Cause::not_supported(
                at("effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
}

/// `KindSpec::validate` for pods.
pub fn validate(v: &Value, old: Option<&Value>, _: &Store) -> Vec<Cause> {
    let pod: Pod = match typed_or_cause(v) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let spec = pod.spec.unwrap_or_default();
    let mut out = Vec::new();
    validate_pod_spec(&spec, "spec", &mut out);
    // Pods only (not templates): no whitespace around images.
    for (list, containers) in [
        ("containers", spec.containers.as_slice()),
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or_default(),
        ),
    ] {
        for (i, c) in containers.iter().enumerate() {
            let image = c.image.as_deref().unwrap_or_default();
            if image.trim() != image {
                out.push(Cause::invalid(
                    format!("spec.{list}[{i}].image"),
                    image,
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
    if let Some(old) = old {
        match typed_or_cause::<Pod>(old) {
            Ok(o) => validate_update(&spec, &o.spec.unwrap_or_default(), &mut out),
            Err(c) => out.extend(c),
        }
    }
    out
}

/// The pod update rules (`ValidatePodUpdate`): the spec is immutable but for container
/// images, a lower `activeDeadlineSeconds` and added tolerations.
fn validate_update(new: &PodSpec, old: &PodSpec, out: &mut Vec<Cause>) {
    let init_len = |s: &PodSpec| s.init_containers.as_ref().map_or(0, Vec::len);
    if new.containers.len() != old.containers.len() {
        out.push(Cause::forbidden(
            "spec.containers",
            "pod updates may not add or remove containers",
        ));
        return;
    }
    if init_len(new) != init_len(old) {
        out.push(Cause::forbidden(
            "spec.initContainers",
            "pod updates may not add or remove containers",
        ));
        return;
    }
    match (new.active_deadline_seconds, old.active_deadline_seconds) {
        (Some(n), Some(o)) if n > o => out.push(Cause::invalid_raw(
            "spec.activeDeadlineSeconds",
            &n.to_string(),
            "must be less than or equal to previous value",
        )),
        (None, Some(_)) => out.push(Cause::invalid_raw(
            "spec.activeDeadlineSeconds",
            "(*int64)(nil)",
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    let new_tolerations = new.tolerations.as_deref().unwrap_or_default();
    for o in old.tolerations.iter().flatten() {
        let kept = new_tolerations.iter().any(|n| {
            let mut o = o.clone();
            o.toleration_seconds = n.toleration_seconds;
            o == *n
        });
        if !kept {
            out.push(Cause::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }
    // Put the mutable fields of the old spec into the new one; anything left different is
    // a change the real server forbids.
    let mut munged = new.clone();
    for (n, o) in munged.containers.iter_mut().zip(&old.containers) {
        n.image.clone_from(&o.image);
    }
    if let (Some(ni), Some(oi)) = (&mut munged.init_containers, &old.init_containers) {
        for (n, o) in ni.iter_mut().zip(oi) {
            n.image.clone_from(&o.image);
        }
    }
    munged.active_deadline_seconds = old.active_deadline_seconds;
    munged.tolerations.clone_from(&old.tolerations);
    munged.scheduling_gates.clone_from(&old.scheduling_gates);
    let (Ok(mut a), Ok(mut b)) = (serde_json::to_value(old), serde_json::to_value(&munged)) else {
        return;
    };
    // Go's semantic equality treats an empty list like a missing one.
    drop_empty_lists(&mut a);
    drop_empty_lists(&mut b);
    if a != b {
        out.push(Cause::forbidden("spec", &format!(
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n{}",
            spec_diff(&a, &b)
        )));
    }
}

fn drop_empty_lists(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !(x.is_null() || x.as_array().is_some_and(Vec::is_empty)));
            m.values_mut().for_each(drop_empty_lists);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_empty_lists),
        _ => {}
    }
}

/// A short diff of the changed spec fields, in the spirit of (not identical to) the
/// `cmp.Diff` the real server appends.
fn spec_diff(old: &Value, new: &Value) -> String {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    let mut lines = vec!["  core.PodSpec{".to_owned()];
    for k in keys {
        if o.get(k) != n.get(k) {
            if let Some(x) = o.get(k) {
                lines.push(format!("- \t{k}: {x},"));
            }
            if let Some(x) = n.get(k) {
                lines.push(format!("+ \t{k}: {x},"));
            }
        }
    }
    lines.push("  }".to_owned());
    lines.join("\n")
}

/// `status.qosClass`, from requests and limits of cpu and memory (quantities compared as
/// written, so `1` and `1000m` count as different).
fn qos_class(spec: &PodSpec) -> &'static str {
    let containers: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let get = |c: &Container, limits: bool, r: &str| {
        c.resources
            .as_ref()
            .and_then(|x| {
                if limits {
                    x.limits.as_ref()
                } else {
                    x.requests.as_ref()
                }
            })
            .and_then(|m| m.get(r))
            .map(|q| q.0.clone())
    };
    let any = containers.iter().any(|c| {
        ["cpu", "memory"]
            .iter()
            .any(|r| get(c, true, r).is_some() || get(c, false, r).is_some())
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|r| {
            let l = get(c, true, r);
            l.is_some() && l == get(c, false, r)
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn next_pod_ip(st: &Store) -> Option<String> {
    let used: BTreeSet<String> = st
        .list("", "pods", None)
        .filter_map(|(_, p)| p["status"]["podIP"].as_str().map(str::to_owned))
        .collect();
    (u32::from(POD_IP_FIRST)..=u32::from(POD_IP_LAST))
        .map(|n| Ipv4Addr::from(n).to_string())
        .find(|ip| !used.contains(ip))
}

fn container_id() -> String {
    format!(
        "containerd://{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A stable made-up digest per image, as a kubelet reports the pulled image's.
fn image_id(image: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let digest: String = (0u8..4)
        .map(|i| {
            let mut h = DefaultHasher::new();
            (i, image).hash(&mut h);
            format!("{:016x}", h.finish())
        })
        .collect();
    format!("{image}@sha256:{digest}")
}

fn running_status(c: &Container, now: &str, restarts: i64) -> Value {
    let image = c.image.clone().unwrap_or_default();
    json!({
        "name": c.name,
        "image": image,
        "imageID": image_id(&image),
        "containerID": container_id(),
        "ready": true,
        "started": true,
        "restartCount": restarts,
        "state": {"running": {"startedAt": now}},
        "lastState": {},
    })
}

/// `KindSpec::simulate` for pods: the scheduler binds a new pod to the fake node and its
/// kubelet starts the containers at once; an image change restarts the container.
pub fn simulate(v: &mut Value, old: Option<&Value>, st: &Store) {
    let Ok(mut pod) = serde_json::from_value::<Pod>(v.clone()) else {
        return;
    };
    let now = crate::server::now();
    let spec = pod.spec.get_or_insert_with(Default::default);
    if let Some(old) = old {
        // The kubelet restarts a container whose image changed.
        let old_images: Vec<Option<String>> = old["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["image"].as_str().map(str::to_owned))
            .collect();
        let statuses = v
            .get_mut("status")
            .and_then(|s| s.get_mut("containerStatuses"))
            .and_then(Value::as_array_mut);
        if let Some(statuses) = statuses {
            for (i, c) in spec.containers.iter().enumerate() {
                if old_images.get(i).is_some_and(|o| *o != c.image)
                    && let Some(s) = statuses.iter_mut().find(|s| s["name"] == c.name.as_str())
                {
                    let restarts = s["restartCount"].as_i64().unwrap_or(0) + 1;
                    *s = running_status(c, &now, restarts);
                }
            }
        }
        return;
    }
    let qos = qos_class(spec);
    if spec.node_name.as_deref().is_none_or(str::is_empty) {
        let fits = spec
            .node_selector
            .iter()
            .flatten()
            .all(|(k, val)| FAKE_NODE_LABELS.iter().any(|(nk, nv)| nk == k && nv == val));
        if !fits {
            v["status"] = json!({
                "phase": "Pending",
                "qosClass": qos,
                "conditions": [{
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": null,
                    "lastTransitionTime": now,
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
                }],
            });
            return;
        }
        spec.node_name = Some(FAKE_NODE.to_owned());
    }
    if spec.node_name.as_deref() != Some(FAKE_NODE) {
        // Bound to a node that does not exist: no kubelet will ever run it.
        v["status"] = json!({ "phase": "Pending", "qosClass": qos });
        if let Ok(with_node) = serde_json::to_value(&pod) {
            v["spec"] = with_node["spec"].clone();
        }
        return;
    }
    let Some(ip) = next_pod_ip(st) else {
        v["status"] = json!({ "phase": "Pending", "qosClass": qos });
        return;
    };
    let condition = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
    let init_statuses: Vec<Value> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| {
            let mut s = running_status(c, &now, 0);
            s["ready"] = json!(true);
            s["started"] = json!(false);
            s["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed",
                "startedAt": now, "finishedAt": now, "containerID": s["containerID"]}});
            s
        })
        .collect();
    let mut status = json!({
        "phase": "Running",
        "conditions": [
            condition("PodReadyToStartContainers"),
            condition("Initialized"),
            condition("Ready"),
            condition("ContainersReady"),
            condition("PodScheduled"),
        ],
        "hostIP": FAKE_NODE_IP,
        "hostIPs": [{"ip": FAKE_NODE_IP}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": now,
        "containerStatuses": spec.containers.iter().map(|c| running_status(c, &now, 0)).collect::<Vec<_>>(),
        "qosClass": qos,
    });
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    if let Ok(with_node) = serde_json::to_value(&pod) {
        v["spec"] = with_node["spec"].clone();
    }
    v["status"] = status;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("nginx:1.25"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/nginx"), "Always");
        assert_eq!(
            default_pull_policy("localhost:5000/nginx:2"),
            "IfNotPresent"
        );
        assert_eq!(default_pull_policy("nginx@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn defaulted_pod_spec_round_trips_without_unknown_fields() {
        let input = json!({"containers": [{"name": "web", "image": "nginx",
            "ports": [{"containerPort": 80}], "livenessProbe": {"httpGet": {"port": 80}}}],
            "volumes": [{"name": "data"}, {"name": "cfg", "configMap": {"name": "c"}}]});
        let mut spec: PodSpec = serde_json::from_value(input).unwrap();
        default_pod_spec(&mut spec);
        let out = serde_json::to_value(&spec).unwrap();
        let back: PodSpec = serde_json::from_value(out.clone()).unwrap();
        assert_eq!(serde_json::to_value(back).unwrap(), out);
        assert_eq!(out["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(out["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            out["containers"][0]["livenessProbe"]["httpGet"]["path"],
            "/"
        );
        assert_eq!(out["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(out["volumes"][1]["configMap"]["defaultMode"], 420);
        assert_eq!(out["terminationGracePeriodSeconds"], 30);
    }
}
