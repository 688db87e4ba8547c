//! `labelSelector` and `fieldSelector` query parameters, parsed as strictly as the real server.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::validation::{is_qualified_name, is_valid_label_value};

#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<Req>);

/// Splits on commas that are not inside `( )`.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn bad(req: &str, why: &str) -> Error {
    Error::bad_request(format!(
        "unable to parse requirement: {why} (in requirement {req:?})"
    ))
}

fn key(req: &str, k: &str) -> Result<String> {
    let k = k.trim();
    if is_qualified_name(k) {
        Ok(k.to_owned())
    } else {
        Err(bad(req, &format!("invalid label key {k:?}")))
    }
}

fn value(req: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if is_valid_label_value(v) {
        Ok(v.to_owned())
    } else {
        Err(bad(req, &format!("invalid label value: {v:?}")))
    }
}

fn set(req: &str, rest: &str) -> Result<Vec<String>> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad(req, "expected a parenthesised set of values"))?;
    inner.split(',').map(|v| value(req, v)).collect()
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k` (the Kubernetes selector grammar).
    pub fn parse(s: &str) -> Result<Self> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self(reqs));
        }
        for raw in split_top(s) {
            let r = raw.trim();
            let req = if let Some(k) = r.strip_prefix('!') {
                Req::NotExists(key(r, k)?)
            } else if let Some((k, v)) = r.split_once("!=") {
                Req::NotEq(key(r, k)?, value(r, v)?)
            } else if let Some((k, v)) = r.split_once("==").or_else(|| r.split_once('=')) {
                Req::Eq(key(r, k)?, value(r, v)?)
            } else if let Some((k, rest)) = r.split_once(" notin ") {
                Req::NotIn(key(r, k)?, set(r, rest)?)
            } else if let Some((k, rest)) = r.split_once(" in ") {
                Req::In(key(r, k)?, set(r, rest)?)
            } else {
                Req::Exists(key(r, r)?)
            };
            reqs.push(req);
        }
        Ok(Self(reqs))
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => labels.get(k) == Some(v),
            Req::NotEq(k, v) => labels.get(k) != Some(v),
            Req::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Req::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Req::Exists(k) => labels.contains_key(k),
            Req::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// A parsed field selector. Like the real server for most kinds, only `metadata.name` and
/// `metadata.namespace` are supported; any other field is a 400.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `metadata.name=x,metadata.namespace!=y`.
    pub fn parse(s: &str) -> Result<Self> {
        let mut out = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self(out));
        }
        for raw in s.split(',') {
            let (field, eq, v) = if let Some((f, v)) = raw.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = raw.split_once("==").or_else(|| raw.split_once('=')) {
                (f, true, v)
            } else {
                return Err(Error::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{raw}'"
                )));
            };
            let field = field.trim();
            if field != "metadata.name" && field != "metadata.namespace" {
                return Err(Error::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            out.push((field.to_owned(), eq, v.trim().to_owned()));
        }
        Ok(Self(out))
    }

    /// Whether an object with this name and namespace is selected.
    pub fn matches(&self, name: &str, namespace: &str) -> bool {
        self.0.iter().all(|(f, eq, v)| {
            let actual = if f == "metadata.name" {
                name
            } else {
                namespace
            };
            (actual == v) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn label_selector_grammar() {
        let l = labels(&[("app", "web"), ("tier", "a")]);
        let ok = |s: &str| LabelSelector::parse(s).map(|sel| sel.matches(&l));
        assert_eq!(ok("app=web").ok(), Some(true));
        assert_eq!(ok("app==web,tier=a").ok(), Some(true));
        assert_eq!(ok("app!=web").ok(), Some(false));
        assert_eq!(ok("tier in (a,b)").ok(), Some(true));
        assert_eq!(ok("tier notin (a,b)").ok(), Some(false));
        assert_eq!(ok("app,!missing").ok(), Some(true));
        assert_eq!(ok("").ok(), Some(true));
        assert!(LabelSelector::parse("app=we b").is_err());
        assert!(LabelSelector::parse("tier in a").is_err());
    }

    #[test]
    fn field_selector() {
        let f = FieldSelector::parse("metadata.name=x").ok();
        assert_eq!(f.map(|f| f.matches("x", "ns")), Some(true));
        assert!(FieldSelector::parse("spec.nodeName=x").is_err());
    }
}
