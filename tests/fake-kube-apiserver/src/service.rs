//! Services: defaulting (`SetDefaults_Service`), the service REST strategy's update
//! fix-ups (keep allocated values a PUT omits, sync `clusterIP`/`clusterIPs`, drop fields a
//! new type no longer uses), the cluster IP and node port allocators of a single-stack IPv4
//! cluster, and `ValidateService`/`ValidateServiceUpdate`.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::{
    LoadBalancerStatus, Service, ServicePort, ServiceSpec, ServiceStatus,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use crate::error::{Cause, Error};
use crate::pod::{typed, typed_or_cause, untyped};
use crate::store::Store;
use crate::validation::{
    NameRule, dns1123_label_problems, go_string_slice, label_causes, name_problems,
    port_name_problems, port_num_problems,
};

/// The service CIDR (`--service-cluster-ip-range` of kubeadm/kind clusters).
const SERVICE_CIDR: &str = "10.96.0.0/12";
const SERVICE_NET: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 0);
const SERVICE_BROADCAST: Ipv4Addr = Ipv4Addr::new(10, 111, 255, 255);
/// Held by the `kubernetes` service in `default` on every real cluster.
const KUBERNETES_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);
/// Dynamic allocation starts above the lower band the real allocator keeps for static IPs
/// (`min(max(16, size/16), 256)` addresses); the real one picks at random, the fake the
/// lowest free address, so tests are deterministic.
const DYNAMIC_IP_FIRST: Ipv4Addr = Ipv4Addr::new(10, 96, 1, 1);
/// `--service-node-port-range`.
const NODE_PORTS: std::ops::RangeInclusive<i32> = 30000..=32767;
/// Dynamic node ports start above the static band (`min(max(16, size/32), 128)` ports).
const DYNAMIC_NODE_PORT_FIRST: i32 = 30086;

fn default_str(field: &mut Option<String>, value: &str) {
    if field.as_deref().is_none_or(str::is_empty) {
        *field = Some(value.to_owned());
    }
}

/// `status: {loadBalancer: {}}`, what every service shows without a load-balancer controller.
fn empty_status() -> ServiceStatus {
    ServiceStatus {
        load_balancer: Some(LoadBalancerStatus::default()),
        ..ServiceStatus::default()
    }
}

fn type_of(spec: &ServiceSpec) -> &str {
    spec.type_.as_deref().unwrap_or_default()
}

fn needs_cluster_ip(spec: &ServiceSpec) -> bool {
    type_of(spec) != "ExternalName"
}

fn needs_node_port(spec: &ServiceSpec) -> bool {
    matches!(type_of(spec), "NodePort" | "LoadBalancer")
}

fn cluster_ips(spec: &ServiceSpec) -> &[String] {
    spec.cluster_ips.as_deref().unwrap_or_default()
}

fn is_headless(spec: &ServiceSpec) -> bool {
    cluster_ips(spec) == ["None"]
}

fn node_ports(spec: &ServiceSpec) -> Vec<i32> {
    spec.ports
        .iter()
        .flatten()
        .filter_map(|p| p.node_port.filter(|n| *n != 0))
        .collect()
}

/// What other services hold (every namespace): cluster IPs and node ports.
fn allocated(st: &Store, except: (&str, &str)) -> (BTreeSet<String>, BTreeSet<i64>) {
    let mut ips = BTreeSet::from([KUBERNETES_SERVICE_IP.to_string()]);
    let mut ports = BTreeSet::new();
    for (k, s) in st.list("", "services", None) {
        if (k.namespace.as_str(), k.name.as_str()) == except {
            continue;
        }
        for ip in s["spec"]["clusterIPs"].as_array().into_iter().flatten() {
            if let Some(ip) = ip.as_str() {
                ips.insert(ip.to_owned());
            }
        }
        for p in s["spec"]["ports"].as_array().into_iter().flatten() {
            if let Some(n) = p["nodePort"].as_i64() {
                ports.insert(n);
            }
        }
    }
    (ips, ports)
}

fn own_key(v: &Value) -> (&str, &str) {
    (
        v["metadata"]["namespace"].as_str().unwrap_or_default(),
        v["metadata"]["name"].as_str().unwrap_or_default(),
    )
}

/// `KindSpec::default` for services: defaulting, update fix-ups and allocation.
pub fn default(v: &mut Value, old: Option<&Value>, st: &Store) -> Result<(), Error> {
    let mut svc: Service = typed(v)?;
    let spec = svc.spec.get_or_insert_with(Default::default);
    // SetDefaults_Service.
    default_str(&mut spec.session_affinity, "None");
    default_str(&mut spec.type_, "ClusterIP");
    if spec.session_affinity.as_deref() == Some("ClientIP") {
        let ip = spec
            .session_affinity_config
            .get_or_insert_with(Default::default)
            .client_ip
            .get_or_insert_with(Default::default);
        ip.timeout_seconds.get_or_insert(10800);
    }
    for p in spec.ports.iter_mut().flatten() {
        default_str(&mut p.protocol, "TCP");
        let unset = match &p.target_port {
            None => true,
            Some(IntOrString::Int(n)) => *n == 0,
            Some(IntOrString::String(s)) => s.is_empty(),
        };
        if unset {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    if needs_node_port(spec) {
        default_str(&mut spec.external_traffic_policy, "Cluster");
    }
    if matches!(type_of(spec), "ClusterIP" | "NodePort" | "LoadBalancer") {
        default_str(&mut spec.internal_traffic_policy, "Cluster");
    }
    if type_of(spec) == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
    }

    match old {
        Some(old) => {
            let old: Service = typed(old)?;
            let old_spec = old.spec.unwrap_or_default();
            patch_allocated_values(spec, &old_spec);
            normalize_cluster_ips(spec, &old_spec);
            drop_type_dependent_fields(spec, &old_spec);
            // No load-balancer controller runs, and a type change away from LoadBalancer
            // clears what one would have written.
            if type_of(spec) != "LoadBalancer" {
                svc.status = Some(empty_status());
            }
        }
        None => {
            // An old client sets only the singular field.
            if spec.cluster_ip.as_deref().is_some_and(|ip| !ip.is_empty())
                && cluster_ips(spec).is_empty()
            {
                spec.cluster_ips = spec.cluster_ip.clone().map(|ip| vec![ip]);
            }
            svc.status = Some(empty_status());
        }
    }
    let spec = svc.spec.get_or_insert_with(Default::default);

    // The allocators. A static value is checked by `validate`.
    let (taken_ips, taken_ports) = allocated(st, own_key(v));
    if needs_cluster_ip(spec) {
        if spec.cluster_ip.as_deref().is_none_or(str::is_empty) && cluster_ips(spec).is_empty() {
            let free = (u32::from(DYNAMIC_IP_FIRST)..u32::from(SERVICE_BROADCAST))
                .map(|n| Ipv4Addr::from(n).to_string())
                .find(|ip| !taken_ips.contains(ip));
            let Some(ip) = free else {
                return Err(Error::internal(
                    "failed to allocate a serviceIP: range is full",
                ));
            };
            spec.cluster_ip = Some(ip.clone());
            spec.cluster_ips = Some(vec![ip]);
        }
        if spec.ip_families.as_ref().is_none_or(Vec::is_empty) {
            spec.ip_families = Some(vec!["IPv4".to_owned()]);
        }
        default_str(&mut spec.ip_family_policy, "SingleStack");
    }
    if needs_node_port(spec) {
        let mut in_use: BTreeSet<i64> = taken_ports;
        in_use.extend(node_ports(spec).into_iter().map(i64::from));
        for p in spec.ports.iter_mut().flatten() {
            if p.node_port.is_none_or(|n| n == 0) {
                let free = (DYNAMIC_NODE_PORT_FIRST..=*NODE_PORTS.end())
                    .chain(*NODE_PORTS.start()..DYNAMIC_NODE_PORT_FIRST)
                    .find(|n| !in_use.contains(&i64::from(*n)));
                let Some(n) = free else {
                    return Err(Error::internal(
                        "failed to allocate a nodePort: range is full",
                    ));
                };
                in_use.insert(i64::from(n));
                p.node_port = Some(n);
            }
        }
    }
    *v = untyped(&svc)?;
    Ok(())
}

/// `patchAllocatedValues`: a PUT that omits what the server allocated keeps it.
fn patch_allocated_values(new: &mut ServiceSpec, old: &ServiceSpec) {
    if needs_cluster_ip(old) && needs_cluster_ip(new) {
        if new.cluster_ip.as_deref().is_none_or(str::is_empty) {
            new.cluster_ip.clone_from(&old.cluster_ip);
        }
        if cluster_ips(new).is_empty() && !cluster_ips(old).is_empty() {
            new.cluster_ips.clone_from(&old.cluster_ips);
        }
    }
    if needs_node_port(old) && needs_node_port(new) {
        let old_ports = node_ports(old);
        let new_ports = node_ports(new);
        let used: BTreeSet<i32> = old_ports
            .iter()
            .filter(|p| new_ports.contains(p))
            .copied()
            .collect();
        for p in new.ports.iter_mut().flatten() {
            if p.node_port.is_none_or(|n| n == 0) {
                let by_name = old
                    .ports
                    .iter()
                    .flatten()
                    .find(|o| o.name == p.name)
                    .and_then(|o| o.node_port);
                if let Some(n) = by_name.filter(|n| !used.contains(n)) {
                    p.node_port = Some(n);
                }
            }
        }
    }
}

/// `normalizeClusterIPs` for an update: keep `clusterIPs` in step with `clusterIP` when a
/// client only changed the singular field.
fn normalize_cluster_ips(new: &mut ServiceSpec, old: &ServiceSpec) {
    let old_ip = old.cluster_ip.clone().unwrap_or_default();
    let new_ip = new.cluster_ip.clone().unwrap_or_default();
    if !cluster_ips(old).is_empty() && cluster_ips(new).is_empty() && old_ip == new_ip {
        new.cluster_ips.clone_from(&old.cluster_ips);
    }
    if old_ip != new_ip && cluster_ips(old) == cluster_ips(new) {
        new.cluster_ips = if new_ip.is_empty() {
            None
        } else {
            Some(vec![new_ip])
        };
    }
}

/// `dropTypeDependentFields`: a type change drops what the new type does not use, unless
/// the client also changed it.
fn drop_type_dependent_fields(new: &mut ServiceSpec, old: &ServiceSpec) {
    if needs_cluster_ip(old) && !needs_cluster_ip(new) {
        if cluster_ips(old) == cluster_ips(new) {
            new.cluster_ip = None;
            new.cluster_ips = None;
        }
        if old.ip_families == new.ip_families {
            new.ip_families = None;
        }
        if old.ip_family_policy == new.ip_family_policy {
            new.ip_family_policy = None;
        }
    }
    if needs_node_port(old) && !needs_node_port(new) && node_ports(old) == node_ports(new) {
        for p in new.ports.iter_mut().flatten() {
            p.node_port = None;
        }
    }
    if type_of(old) == "LoadBalancer"
        && type_of(new) != "LoadBalancer"
        && old.allocate_load_balancer_node_ports == new.allocate_load_balancer_node_ports
    {
        new.allocate_load_balancer_node_ports = None;
    }
    if needs_node_port(old)
        && !needs_node_port(new)
        && old.external_traffic_policy == new.external_traffic_policy
    {
        new.external_traffic_policy = None;
    }
}

/// `ValidatePortNumOrName`.
pub fn port_num_or_name(port: &IntOrString, field: &str, out: &mut Vec<Cause>) {
    match port {
        IntOrString::Int(n) => {
            for msg in port_num_problems(i64::from(*n)) {
                out.push(Cause::invalid_raw(field, &n.to_string(), &msg));
            }
        }
        IntOrString::String(s) => {
            for msg in port_name_problems(s) {
                out.push(Cause::invalid(field, s, &msg));
            }
        }
    }
}

/// The key of a port in the duplicate check, printed as Go's `%#v` of a `core.ServicePort`.
fn go_port_key(protocol: &str, port: i32) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{protocol:?}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}"
    )
}

fn validate_port(
    p: &ServicePort,
    at: &str,
    require_name: bool,
    names: &mut BTreeSet<String>,
    out: &mut Vec<Cause>,
) {
    let name = p.name.as_deref().unwrap_or_default();
    if require_name && name.is_empty() {
        out.push(Cause::required(format!("{at}.name"), ""));
    } else if !name.is_empty() {
        for msg in dns1123_label_problems(name) {
            out.push(Cause::invalid(format!("{at}.name"), name, &msg));
        }
        if !names.insert(name.to_owned()) {
            out.push(Cause::duplicate(format!("{at}.name"), name));
        }
    }
    for msg in port_num_problems(i64::from(p.port)) {
        out.push(Cause::invalid_raw(
            format!("{at}.port"),
            &p.port.to_string(),
            &msg,
        ));
    }
    match p.protocol.as_deref().unwrap_or_default() {
        "" => out.push(Cause::required(format!("{at}.protocol"), "")),
        "TCP" | "UDP" | "SCTP" => {}
        other => out.push(Cause::not_supported(
            format!("{at}.protocol"),
            other,
            &["SCTP", "TCP", "UDP"],
        )),
    }
    if let Some(tp) = &p.target_port {
        port_num_or_name(tp, &format!("{at}.targetPort"), out);
    }
}

/// `KindSpec::validate` for services.
pub fn validate(v: &Value, old: Option<&Value>, st: &Store) -> Vec<Cause> {
    let svc: Service = match typed_or_cause(v) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let old_spec = match old.map(typed_or_cause::<Service>).transpose() {
        Ok(o) => o.map(|o| o.spec.unwrap_or_default()),
        Err(c) => return c,
    };
    let spec = svc.spec.unwrap_or_default();
    let mut out = Vec::new();
    if let Some(old) = &old_spec {
        upgrade_downgrade_cluster_ips(&spec, old, &mut out);
    }
    let typ = type_of(&spec);
    let ports = spec.ports.as_deref().unwrap_or_default();
    let cluster_ip = spec.cluster_ip.as_deref().unwrap_or_default();
    if ports.is_empty() && !is_headless(&spec) && cluster_ip != "None" && typ != "ExternalName" {
        out.push(Cause::required("spec.ports", ""));
    }
    match typ {
        "LoadBalancer" | "NodePort" if cluster_ip == "None" => out.push(Cause::invalid(
            "spec.clusterIP",
            cluster_ip,
            &format!("may not be set to 'None' for {typ} services"),
        )),
        "ExternalName" => {
            for (field, set) in [
                ("clusterIPs", !cluster_ips(&spec).is_empty()),
                (
                    "ipFamilies",
                    spec.ip_families.as_ref().is_some_and(|f| !f.is_empty()),
                ),
                ("ipFamilyPolicy", spec.ip_family_policy.is_some()),
            ] {
                if set {
                    out.push(Cause::forbidden(
                        format!("spec.{field}"),
                        "may not be set for ExternalName services",
                    ));
                }
            }
            // The CNAME may end with a dot to mark it fully qualified.
            let cname = spec.external_name.as_deref().unwrap_or_default();
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                out.push(Cause::required("spec.externalName", ""));
            } else {
                for msg in name_problems(NameRule::Dns1123Subdomain, cname) {
                    out.push(Cause::invalid("spec.externalName", cname, &msg));
                }
            }
        }
        _ => {}
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        validate_port(
            p,
            &format!("spec.ports[{i}]"),
            ports.len() > 1,
            &mut names,
            &mut out,
        );
    }
    if let Some(sel) = &spec.selector {
        out.extend(label_causes(
            sel.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            "spec.selector",
        ));
    }
    let affinity = spec.session_affinity.as_deref().unwrap_or_default();
    match affinity {
        "" => out.push(Cause::required("spec.sessionAffinity", "")),
        "ClientIP" => {
            let timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds);
            if let Some(t) = timeout.filter(|t| !(1..=86400).contains(t)) {
                out.push(Cause::invalid_raw(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    &t.to_string(),
                    "must be greater than 0 and less than 86400",
                ));
            }
        }
        "None" => {
            if spec.session_affinity_config.is_some() {
                out.push(Cause::forbidden(
                    "spec.sessionAffinityConfig",
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => out.push(Cause::not_supported(
            "spec.sessionAffinity",
            other,
            &["ClientIP", "None"],
        )),
    }
    match typ {
        "" => out.push(Cause::required("spec.type", "")),
        "ClusterIP" | "ExternalName" | "LoadBalancer" | "NodePort" => {}
        other => out.push(Cause::not_supported(
            "spec.type",
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    if typ == "ClusterIP" {
        for (i, p) in ports.iter().enumerate() {
            if p.node_port.is_some_and(|n| n != 0) {
                out.push(Cause::forbidden(
                    format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut seen_node_ports = BTreeSet::new();
    let mut seen_ports = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let protocol = p.protocol.as_deref().unwrap_or_default();
        if let Some(n) = p.node_port.filter(|n| *n != 0)
            && !seen_node_ports.insert((protocol, n))
        {
            out.push(Cause::duplicate_raw(
                format!("spec.ports[{i}].nodePort"),
                &n.to_string(),
            ));
        }
        if !seen_ports.insert((protocol, p.port)) {
            out.push(Cause::duplicate_raw(
                format!("spec.ports[{i}]"),
                &go_port_key(protocol, p.port),
            ));
        }
    }
    if typ != "ExternalName" {
        validate_cluster_ips(&spec, &mut out);
    }
    check_allocation(&spec, old_spec.as_ref(), st, own_key(v), &mut out);
    out
}

/// `ValidateServiceClusterIPsRelatedFields` for a single-stack IPv4 cluster.
fn validate_cluster_ips(spec: &ServiceSpec, out: &mut Vec<Cause>) {
    let ips = cluster_ips(spec);
    match spec.cluster_ip.as_deref().unwrap_or_default() {
        "" => {
            if !ips.is_empty() {
                out.push(Cause::invalid_raw(
                    "spec.clusterIPs",
                    &go_string_slice(ips),
                    "must be empty when `clusterIP` is not specified",
                ));
            }
        }
        ip => match ips.first() {
            None => out.push(Cause::required("spec.clusterIPs", "")),
            Some(first) if first != ip => out.push(Cause::invalid_raw(
                "spec.clusterIPs",
                &go_string_slice(ips),
                "first value must match `clusterIP`",
            )),
            Some(_) => {}
        },
    }
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            continue;
        }
        if ip.parse::<std::net::IpAddr>().is_err() {
            out.push(Cause::invalid(
                format!("spec.clusterIPs[{i}]"),
                ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    if ips.len() > 1 {
        out.push(Cause::invalid_raw(
            "spec.clusterIPs",
            &go_string_slice(ips),
            "may specify no more than one IP for each IP family",
        ));
    }
    for (i, f) in spec.ip_families.iter().flatten().enumerate() {
        match f.as_str() {
            "IPv4" => {}
            "IPv6" => out.push(Cause::invalid(
                format!("spec.ipFamilies[{i}]"),
                f,
                "not configured on this cluster",
            )),
            other => out.push(Cause::not_supported(
                format!("spec.ipFamilies[{i}]"),
                other,
                &["IPv4", "IPv6"],
            )),
        }
    }
    match spec.ip_family_policy.as_deref() {
        None | Some("SingleStack" | "PreferDualStack") => {}
        Some("RequireDualStack") => out.push(Cause::invalid(
            "spec.ipFamilyPolicy",
            "RequireDualStack",
            "this cluster is not configured for dual-stack services",
        )),
        Some(other) => out.push(Cause::not_supported(
            "spec.ipFamilyPolicy",
            other,
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        )),
    }
}

/// `validateUpgradeDowngradeClusterIPs` (single-stack): an allocated cluster IP stays.
fn upgrade_downgrade_cluster_ips(new: &ServiceSpec, old: &ServiceSpec, out: &mut Vec<Cause>) {
    if !needs_cluster_ip(new) || !needs_cluster_ip(old) || (is_headless(new) && is_headless(old)) {
        return;
    }
    let (n, o) = (cluster_ips(new), cluster_ips(old));
    if n.is_empty() && !o.is_empty() {
        out.push(Cause::invalid_raw(
            "spec.clusterIPs[0]",
            &go_string_slice(n),
            "primary clusterIP can not be unset",
        ));
    } else if let (Some(a), Some(b)) = (n.first(), o.first())
        && a != b
    {
        out.push(Cause::invalid_raw(
            "spec.clusterIPs[0]",
            &go_string_slice(n),
            "may not change once set",
        ));
    }
}

/// The allocators' answers for static values: in range and not held by another service.
fn check_allocation(
    spec: &ServiceSpec,
    old: Option<&ServiceSpec>,
    st: &Store,
    own: (&str, &str),
    out: &mut Vec<Cause>,
) {
    let (taken_ips, taken_ports) = allocated(st, own);
    if needs_cluster_ip(spec)
        && let Some(ip) = cluster_ips(spec).first()
        && let Ok(addr) = ip.parse::<Ipv4Addr>()
        && old.is_none_or(|o| cluster_ips(o).first() != Some(ip))
    {
        let n = u32::from(addr);
        let in_range = n > u32::from(SERVICE_NET) && n < u32::from(SERVICE_BROADCAST);
        let why = if !in_range {
            Some(format!(
                "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}"
            ))
        } else if taken_ips.contains(ip) {
            Some("provided IP is already allocated".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            out.push(Cause::invalid_raw(
                "spec.clusterIPs",
                &go_string_slice(cluster_ips(spec)),
                &format!("failed to allocate IP {ip}: {why}"),
            ));
        }
    }
    if needs_node_port(spec) {
        let old_ports = old.map(node_ports).unwrap_or_default();
        for (i, p) in spec.ports.iter().flatten().enumerate() {
            let Some(n) = p.node_port.filter(|n| *n != 0 && !old_ports.contains(n)) else {
                continue;
            };
            let why = if !NODE_PORTS.contains(&n) {
                Some(format!(
                    "provided port is not in the valid range. The range of valid ports is {}-{}",
                    NODE_PORTS.start(),
                    NODE_PORTS.end()
                ))
            } else if taken_ports.contains(&i64::from(n)) {
                Some("provided port is already allocated".to_owned())
            } else {
                None
            };
            if let Some(why) = why {
                out.push(Cause::invalid_raw(
                    format!("spec.ports[{i}].nodePort"),
                    &n.to_string(),
                    &why,
                ));
            }
        }
    }
}
