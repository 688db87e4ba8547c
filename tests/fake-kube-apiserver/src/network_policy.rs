//! NetworkPolicy validation, after apimachinery's `ValidateNetworkPolicySpec`: selectors,
//! peers, ports, ipBlocks and policyTypes, with the real server's field paths and messages.

use std::net::IpAddr;

use serde_json::Value;

use crate::error::Cause;
use crate::validation::{is_qualified_name, is_valid_label_value};

const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// Every problem with a NetworkPolicy's `spec`.
pub fn validate(v: &Value, _: Option<&Value>, _: &crate::store::Store) -> Vec<Cause> {
    let mut out = Vec::new();
    let spec = &v["spec"];
    label_selector(&spec["podSelector"], "spec.podSelector", &mut out);
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in spec[direction].as_array().into_iter().flatten().enumerate() {
            let path = format!("spec.{direction}[{i}]");
            for (j, port) in rule["ports"].as_array().into_iter().flatten().enumerate() {
                network_policy_port(port, &format!("{path}.ports[{j}]"), &mut out);
            }
            for (j, peer) in rule[peers].as_array().into_iter().flatten().enumerate() {
                network_policy_peer(peer, &format!("{path}.{peers}[{j}]"), &mut out);
            }
        }
    }
    if let Some(types) = spec["policyTypes"].as_array() {
        for (i, t) in types.iter().enumerate() {
            let t = t.as_str().unwrap_or_default();
            if t != "Ingress" && t != "Egress" {
                out.push(Cause::not_supported(
                    format!("spec.policyTypes[{i}]"),
                    t,
                    &["Egress", "Ingress"],
                ));
            }
        }
        if types.len() > 2 {
            out.push(Cause::invalid(
                "spec.policyTypes",
                &Value::Array(types.clone()).to_string(),
                "may not specify more than two policyTypes",
            ));
        }
    }
    out
}

/// `ValidateLabelSelector` (metav1validation).
pub fn label_selector(selector: &Value, path: &str, out: &mut Vec<Cause>) {
    if let Some(labels) = selector["matchLabels"].as_object() {
        for (k, val) in labels {
            if !is_qualified_name(k) {
                out.push(Cause::invalid(
                    format!("{path}.matchLabels"),
                    k,
                    QUALIFIED_NAME_MSG,
                ));
            }
            let val = val.as_str().unwrap_or_default();
            if !is_valid_label_value(val) {
                out.push(Cause::invalid(
                    format!("{path}.matchLabels"),
                    val,
                    LABEL_VALUE_MSG,
                ));
            }
        }
    }
    for (i, req) in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = |f: &str| format!("{path}.matchExpressions[{i}].{f}");
        let values = req["values"].as_array().map_or(0, Vec::len);
        match req["operator"].as_str().unwrap_or_default() {
            "In" | "NotIn" if values == 0 => out.push(Cause::required(
                at("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if values > 0 => out.push(Cause::forbidden(
                at("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => out.push(Cause::invalid(
                at("operator"),
                other,
                "not a valid selector operator",
            )),
        }
        let key = req["key"].as_str().unwrap_or_default();
        if !is_qualified_name(key) {
            out.push(Cause::invalid(at("key"), key, QUALIFIED_NAME_MSG));
        }
        for v in req["values"].as_array().into_iter().flatten() {
            let v = v.as_str().unwrap_or_default();
            if !is_valid_label_value(v) {
                out.push(Cause::invalid(at("values"), v, LABEL_VALUE_MSG));
            }
        }
    }
}

fn network_policy_port(port: &Value, path: &str, out: &mut Vec<Cause>) {
    if let Some(protocol) = port["protocol"].as_str()
        && !matches!(protocol, "TCP" | "UDP" | "SCTP")
    {
        out.push(Cause::not_supported(
            format!("{path}.protocol"),
            protocol,
            &["SCTP", "TCP", "UDP"],
        ));
    }
    let end_port = port["endPort"].as_i64();
    match &port["port"] {
        Value::Number(n) => {
            let p = n.as_i64().unwrap_or_default();
            if !(1..=65535).contains(&p) {
                out.push(Cause::invalid(
                    format!("{path}.port"),
                    &p.to_string(),
                    "must be between 1 and 65535, inclusive",
                ));
            }
            if let Some(end) = end_port {
                if end < p {
                    out.push(Cause::invalid(
                        format!("{path}.endPort"),
                        &end.to_string(),
                        "must be greater than or equal to `port`",
                    ));
                }
                if !(1..=65535).contains(&end) {
                    out.push(Cause::invalid(
                        format!("{path}.endPort"),
                        &end.to_string(),
                        "must be between 1 and 65535, inclusive",
                    ));
                }
            }
        }
        Value::String(name) => {
            if let Some(end) = end_port {
                out.push(Cause::invalid(
                    format!("{path}.endPort"),
                    &end.to_string(),
                    "may not be specified when `port` is non-numeric",
                ));
            }
            for problem in port_name_problems(name) {
                out.push(Cause::invalid(format!("{path}.port"), name, problem));
            }
        }
        _ => {
            if let Some(end) = end_port {
                out.push(Cause::invalid(
                    format!("{path}.endPort"),
                    &end.to_string(),
                    "may not be specified when `port` is not specified",
                ));
            }
        }
    }
}

/// `IsValidPortName`: an IANA service name.
fn port_name_problems(name: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if name.is_empty() || name.len() > 15 {
        out.push("must be no more than 15 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        out.push("must contain at least one letter (a-z)");
    }
    if name.contains("--") {
        out.push("must not contain consecutive hyphens");
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push("must not begin or end with a hyphen");
    }
    out
}

fn network_policy_peer(peer: &Value, path: &str, out: &mut Vec<Cause>) {
    let has = |k: &str| !peer[k].is_null();
    let selectors = has("podSelector") || has("namespaceSelector");
    let ip_block = has("ipBlock");
    if !selectors && !ip_block {
        out.push(Cause::required(path, "must specify a peer"));
    } else if selectors && ip_block {
        out.push(Cause::forbidden(
            path,
            "may not specify both ipBlock and another peer",
        ));
    }
    if has("podSelector") {
        label_selector(&peer["podSelector"], &format!("{path}.podSelector"), out);
    }
    if has("namespaceSelector") {
        label_selector(
            &peer["namespaceSelector"],
            &format!("{path}.namespaceSelector"),
            out,
        );
    }
    if ip_block {
        validate_ip_block(&peer["ipBlock"], &format!("{path}.ipBlock"), out);
    }
}

/// A parsed CIDR: address bits (IPv4 in the low 32) and prefix length, per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    v6: bool,
    bits: u128,
    prefix: u32,
}

impl Cidr {
    fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = s.split_once('/')?;
        let prefix: u32 = prefix.parse().ok()?;
        let (v6, bits, width) = match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => (false, u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (true, u128::from(a), 128),
        };
        (prefix <= width).then_some(Self { v6, bits, prefix })
    }

    fn width(&self) -> u32 {
        if self.v6 { 128 } else { 32 }
    }

    fn network(&self) -> u128 {
        let host_bits = self.width() - self.prefix;
        if host_bits >= 128 {
            0
        } else {
            self.bits >> host_bits << host_bits
        }
    }

    /// Whether `self` lies inside `outer` and is smaller than it.
    fn strictly_inside(&self, outer: &Cidr) -> bool {
        self.v6 == outer.v6
            && self.prefix > outer.prefix
            && Cidr {
                prefix: outer.prefix,
                ..*self
            }
            .network()
                == outer.network()
    }
}

const CIDR_MSG: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

fn validate_ip_block(block: &Value, path: &str, out: &mut Vec<Cause>) {
    let cidr = block["cidr"].as_str().unwrap_or_default();
    if cidr.is_empty() {
        out.push(Cause::required(format!("{path}.cidr"), ""));
        return;
    }
    let Some(outer) = Cidr::parse(cidr) else {
        out.push(Cause::invalid(format!("{path}.cidr"), cidr, CIDR_MSG));
        return;
    };
    for (i, except) in block["except"].as_array().into_iter().flatten().enumerate() {
        let field = format!("{path}.except[{i}]");
        let except = except.as_str().unwrap_or_default();
        match Cidr::parse(except) {
            None => out.push(Cause::invalid(field, except, CIDR_MSG)),
            Some(inner) if !inner.strictly_inside(&outer) => out.push(Cause::invalid(
                field,
                except,
                "must be a strict subset of `cidr`",
            )),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(spec: Value) -> Vec<String> {
        validate(
            &json!({ "spec": spec }),
            None,
            &crate::store::Store::default(),
        )
        .into_iter()
        .map(|c| c.field)
        .collect()
    }

    #[test]
    fn the_isolation_policy_is_valid() {
        assert!(
            fields(json!({
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{ "from": [{ "podSelector": {} }] }],
            }))
            .is_empty()
        );
    }

    #[test]
    fn peers_need_exactly_one_kind() {
        assert_eq!(
            fields(json!({ "podSelector": {}, "ingress": [{ "from": [{}] }] })),
            ["spec.ingress[0].from[0]"]
        );
        assert_eq!(
            fields(json!({ "podSelector": {}, "egress": [{ "to": [
                { "podSelector": {}, "ipBlock": { "cidr": "10.0.0.0/8" } }
            ] }] })),
            ["spec.egress[0].to[0]"]
        );
    }

    #[test]
    fn selectors_ports_and_cidrs_are_checked() {
        assert_eq!(
            fields(json!({ "podSelector": { "matchExpressions": [
                { "key": "app", "operator": "In" },
                { "key": "app", "operator": "Exists", "values": ["x"] },
                { "key": "app", "operator": "Near" },
            ] } })),
            [
                "spec.podSelector.matchExpressions[0].values",
                "spec.podSelector.matchExpressions[1].values",
                "spec.podSelector.matchExpressions[2].operator",
            ]
        );
        assert_eq!(
            fields(json!({ "podSelector": {}, "ingress": [{ "ports": [
                { "protocol": "ICMP", "port": 80 },
                { "port": 0 },
                { "port": "http", "endPort": 90 },
                { "port": 90, "endPort": 80 },
                { "port": "Not_A_Name" },
            ] }] })),
            [
                "spec.ingress[0].ports[0].protocol",
                "spec.ingress[0].ports[1].port",
                "spec.ingress[0].ports[2].endPort",
                "spec.ingress[0].ports[3].endPort",
                "spec.ingress[0].ports[4].port",
            ]
        );
        assert_eq!(
            fields(json!({ "podSelector": {}, "ingress": [{ "from": [
                { "ipBlock": { "cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"] } },
                { "ipBlock": { "cidr": "10.0.0.0/33" } },
                { "ipBlock": { "cidr": "10.0.0.0/8", "except": ["11.0.0.0/16", "10.0.0.0/8"] } },
                { "ipBlock": { "cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"] } },
            ] }] })),
            [
                "spec.ingress[0].from[1].ipBlock.cidr",
                "spec.ingress[0].from[2].ipBlock.except[0]",
                "spec.ingress[0].from[2].ipBlock.except[1]",
            ]
        );
    }
}
