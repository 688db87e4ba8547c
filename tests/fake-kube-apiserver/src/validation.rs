//! Field checks the real API server makes: name formats, label keys and values, unknown
//! fields (strict field validation) and quantities. Messages follow apimachinery's wording.

use serde_json::Value;

use crate::error::Cause;

/// How a kind's `metadata.name` is validated (apimachinery's `ValidateNameFunc`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 label: at most 63 characters of `[a-z0-9-]`, alphanumeric at both ends (namespaces).
    Dns1123Label,
    /// RFC 1035 label: a DNS-1123 label that starts with a letter (services).
    Dns1035Label,
    /// RFC 1123 subdomain: at most 253 characters, dot-separated labels (most kinds).
    Dns1123Subdomain,
    /// Path segment: anything except `.`, `..`, or containing `/` or `%` (RBAC kinds).
    PathSegment,
}

const LABEL_FMT: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_FMT: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_FMT: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// The problems with `name` under `rule`, as apimachinery reports them (empty when valid).
pub fn name_problems(rule: NameRule, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    match rule {
        NameRule::Dns1123Label => {
            if name.len() > 63 {
                out.push("must be no more than 63 characters".to_owned());
            }
            if !is_dns1123_label(name) {
                out.push(LABEL_FMT.to_owned());
            }
        }
        NameRule::Dns1035Label => {
            if name.len() > 63 {
                out.push("must be no more than 63 characters".to_owned());
            }
            if !(is_dns1123_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase())) {
                out.push(DNS1035_FMT.to_owned());
            }
        }
        NameRule::Dns1123Subdomain => {
            if name.len() > 253 {
                out.push("must be no more than 253 characters".to_owned());
            }
            if !name.split('.').all(is_dns1123_label) {
                out.push(SUBDOMAIN_FMT.to_owned());
            }
        }
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                out.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    out.push(format!("may not contain '{bad}'"));
                }
            }
        }
    }
    out
}

/// `name` checks as causes on `field`.
pub fn name_causes(rule: NameRule, field: &str, name: &str) -> Vec<Cause> {
    name_problems(rule, name)
        .into_iter()
        .map(|p| Cause::invalid(field, name, &p))
        .collect()
}

fn is_label_value(s: &str) -> bool {
    // `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`, at most 63 characters.
    let b = s.as_bytes();
    b.len() <= 63
        && (b.is_empty()
            || (b
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                && b.first().is_some_and(u8::is_ascii_alphanumeric)
                && b.last().is_some_and(u8::is_ascii_alphanumeric)))
}

/// Whether `key` is a qualified name (`[prefix/]name`), as label and annotation keys must be.
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix
        .is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(is_dns1123_label));
    prefix_ok && !name.is_empty() && is_label_value(name)
}

/// Whether `value` is a valid label value.
pub fn is_valid_label_value(value: &str) -> bool {
    is_label_value(value)
}

/// `ValidateLabels`: every key a qualified name, every value a label value; all causes on
/// `field` (`metadata.labels`, `spec.selector`, ...), as the real server reports them.
pub fn label_causes<'a>(
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    field: &str,
) -> Vec<Cause> {
    let mut out = Vec::new();
    for (k, v) in labels {
        if !is_qualified_name(k) {
            out.push(Cause::invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
        }
        if !is_label_value(v) {
            out.push(Cause::invalid(field, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
        }
    }
    out
}

/// `ValidateAnnotations` (key format only).
pub fn annotation_causes<'a>(keys: impl IntoIterator<Item = &'a str>, field: &str) -> Vec<Cause> {
    keys.into_iter()
        .filter(|k| !is_qualified_name(&k.to_lowercase()))
        .map(|k| Cause::invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
        .collect()
}

/// Checks `metadata.labels` and `metadata.annotations` keys (and label values).
pub fn metadata_map_causes(meta: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        out.extend(label_causes(
            labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
            "metadata.labels",
        ));
    }
    if let Some(ann) = meta.get("annotations").and_then(Value::as_object) {
        out.extend(annotation_causes(
            ann.keys().map(String::as_str),
            "metadata.annotations",
        ));
    }
    out
}

/// `IsValidPortNum`: the problems with a port number (empty when it is 1..65535).
pub fn port_num_problems(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec!["must be between 1 and 65535, inclusive".to_owned()]
    }
}

/// `IsValidPortName` (an IANA service name): the problems with a named port.
pub fn port_name_problems(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if name.len() > 15 {
        out.push("must be no more than 15 characters".to_owned());
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        out.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned(),
        );
    }
    if !name.bytes().any(|c| c.is_ascii_lowercase()) {
        out.push("must contain at least one letter (a-z)".to_owned());
    }
    if name.contains("--") {
        out.push("must not contain consecutive hyphens".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push("must not begin or end with a hyphen".to_owned());
    }
    out
}

/// `IsEnvVarName`: the problems with an environment variable name.
pub fn env_var_name_problems(name: &str) -> Vec<String> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let ok =
        name.chars().all(valid_char) && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    let mut out = Vec::new();
    if !ok {
        out.push("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')".to_owned());
    }
    out
}

/// `IsDNS1123Label` problems (container, port and volume names).
pub fn dns1123_label_problems(name: &str) -> Vec<String> {
    name_problems(NameRule::Dns1123Label, name)
}

/// A Go `%#v` of a `[]string`, as the real server prints such values in messages.
pub fn go_string_slice(items: &[String]) -> String {
    if items.is_empty() {
        return "[]string(nil)".to_owned();
    }
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// A Go `%#v` of a `map[string]string` (keys sorted, as Go prints maps).
pub fn go_string_map<'a>(map: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut pairs: Vec<(&String, &String)> = map.into_iter().collect();
    if pairs.is_empty() {
        return "map[string]string(nil)".to_owned();
    }
    pairs.sort();
    let items: Vec<String> = pairs.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", items.join(", "))
}

/// Paths of fields in `input` that the typed round trip (`typed`) dropped: the fields the
/// `k8s-openapi` type does not know, i.e. what strict field validation calls unknown.
pub fn unknown_fields(input: &Value, typed: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(input, typed, "", &mut out);
    out
}

fn walk(input: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(i), Value::Object(t)) => {
            for (k, v) in i {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match t.get(k) {
                    Some(tv) => walk(v, tv, &p, out),
                    // A null is "unset", which every decoder accepts.
                    None if v.is_null() => {}
                    None => out.push(p),
                }
            }
        }
        (Value::Array(i), Value::Array(t)) => {
            for (n, (iv, tv)) in i.iter().zip(t).enumerate() {
                walk(iv, tv, &format!("{path}[{n}]"), out);
            }
        }
        _ => {}
    }
}

/// Whether `q` parses as a `resource.Quantity` (`[+-]digits[.digits][suffix]`).
pub fn is_quantity(q: &str) -> bool {
    let s = q.strip_prefix(['+', '-']).unwrap_or(q);
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let num_ok = !num.is_empty()
        && num.chars().filter(|c| *c == '.').count() <= 1
        && num.chars().any(|c| c.is_ascii_digit());
    let suffix_ok = matches!(
        suffix,
        "" | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
            | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
        .is_some_and(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_digit()));
    num_ok && suffix_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(name_problems(NameRule::Dns1123Label, "bay-1").is_empty());
        assert!(!name_problems(NameRule::Dns1123Label, "Bay_1").is_empty());
        assert!(!name_problems(NameRule::Dns1123Label, "a.b").is_empty());
        assert!(!name_problems(NameRule::Dns1123Label, &"a".repeat(64)).is_empty());
        assert!(name_problems(NameRule::Dns1035Label, "web-1").is_empty());
        assert!(!name_problems(NameRule::Dns1035Label, "1web").is_empty());
        assert!(name_problems(NameRule::Dns1123Subdomain, "a.b-c").is_empty());
        assert!(!name_problems(NameRule::Dns1123Subdomain, "-a").is_empty());
        assert!(name_problems(NameRule::PathSegment, "system:Admin").is_empty());
        assert!(!name_problems(NameRule::PathSegment, "a/b").is_empty());
        assert!(!name_problems(NameRule::PathSegment, "..").is_empty());
    }

    #[test]
    fn qualified_names_and_values() {
        assert!(is_qualified_name("app"));
        assert!(is_qualified_name("magnum.openstack.org/bay-uuid"));
        assert!(!is_qualified_name("/x"));
        assert!(!is_qualified_name("a b"));
        assert!(is_valid_label_value(""));
        assert!(!is_valid_label_value("-x"));
    }

    #[test]
    fn ports_env_and_go_values() {
        assert!(port_name_problems("http").is_empty());
        assert!(!port_name_problems("8080").is_empty());
        assert!(!port_name_problems("a--b").is_empty());
        assert!(!port_name_problems("much-too-long-name").is_empty());
        assert!(port_num_problems(65535).is_empty());
        assert!(!port_num_problems(0).is_empty());
        assert!(env_var_name_problems("MY_VAR.x-1").is_empty());
        assert!(!env_var_name_problems("1VAR").is_empty());
        assert_eq!(
            go_string_slice(&["10.96.0.1".to_owned()]),
            r#"[]string{"10.96.0.1"}"#
        );
        let m: std::collections::BTreeMap<String, String> =
            [("b".into(), "2".into()), ("a".into(), "1".into())].into();
        assert_eq!(go_string_map(&m), r#"map[string]string{"a":"1", "b":"2"}"#);
    }

    #[test]
    fn unknown_field_paths() {
        let input =
            json!({"metadata": {"name": "a", "bogus": 1}, "spec": {"x": null, "y": [{"z": 1}]}});
        let typed = json!({"metadata": {"name": "a"}, "spec": {"y": [{}]}});
        assert_eq!(
            unknown_fields(&input, &typed),
            vec!["metadata.bogus".to_owned(), "spec.y[0].z".to_owned()]
        );
    }

    #[test]
    fn quantities() {
        for ok in ["1", "10", "1.5", "100m", "2Gi", "1e3", "+3"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "abc", "1..2", "1Gb", "Gi"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
