//! The policy: the built-in rules, an operator's overrides, and the checks services make.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use magnum_common::{ErrorCode, RequestContext, ServiceError};
use serde::{Deserialize, Serialize};

use crate::defaults;
use crate::rule::{Rule, Subject};

/// The rule an action falls back to when the policy has no rule of its name (as oslo).
pub const DEFAULT_RULE: &str = "default";
/// The rule that says who is an administrator.
pub const ADMIN_RULE: &str = "context_is_admin";

/// Where a service finds its policy file; embedded as a `policy` section of the service's
/// configuration (`[bay.policy] policy_file = "/etc/magnum/policy.yaml"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// A YAML or JSON file of rule overrides (see `policy.yaml.sample`); none means the
    /// built-in rules. A relative path is relative to the working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_file: Option<PathBuf>,
}

impl PolicyConfig {
    /// The built-in rules overridden by the configured file.
    pub fn load(&self) -> Result<Policy, PolicyError> {
        Policy::load(self.policy_file.as_deref())
    }
}

/// Why a policy could not be loaded. Every variant is a start-up failure: a service
/// never runs with a policy other than the one its operator wrote.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a map of rule names to rule strings.
    #[error("policy file {} is not a map of rule names to rule strings: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    /// A rule's text does not parse.
    #[error("{origin}: rule \"{name}\" is invalid: {reason}")]
    InvalidRule {
        origin: String,
        name: String,
        reason: String,
    },
    /// A `rule:<name>` names no rule.
    #[error("{origin}: rule \"{name}\" refers to rule:{missing}, which is not defined")]
    UnknownReference {
        origin: String,
        name: String,
        missing: String,
    },
    /// Rules refer to each other in a loop (`a -> b -> a`).
    #[error("{origin}: rules refer to each other in a cycle: {}", cycle.join(" -> "))]
    Cycle { origin: String, cycle: Vec<String> },
}

/// A refused action. Its text is Magnum's (Mitaka and later), which clients show as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Policy doesn't allow {rule} to be performed.")]
pub struct Forbidden {
    /// The rule that refused, as the caller asked for it (not its `default` fallback).
    pub rule: String,
}

impl ServiceError for Forbidden {
    fn code(&self) -> ErrorCode {
        ErrorCode::Forbidden
    }
}

/// Who is asking: what the rules' left-hand sides (`role:`, `is_admin:`, `project_id:`,
/// `user_id:`) look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials<'a> {
    pub user_id: &'a str,
    pub project_id: &'a str,
    pub roles: &'a [String],
    pub is_admin: bool,
}

impl<'a> From<&'a RequestContext> for Credentials<'a> {
    fn from(ctx: &'a RequestContext) -> Self {
        Self {
            user_id: &ctx.user_id,
            project_id: &ctx.project_id,
            roles: &ctx.roles,
            is_admin: ctx.is_admin,
        }
    }
}

/// The object acted on: its owner, which `%(project_id)s` and `%(user_id)s` stand for.
/// For a create or a list it is the caller's own ids (as Magnum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    pub project_id: &'a str,
    pub user_id: &'a str,
}

impl<'a> Target<'a> {
    /// An object owned by `project_id` / `user_id`.
    pub fn new(project_id: &'a str, user_id: &'a str) -> Self {
        Self {
            project_id,
            user_id,
        }
    }
}

impl<'a> From<&Credentials<'a>> for Target<'a> {
    /// The caller's own ids: the target of a create or a list.
    fn from(credentials: &Credentials<'a>) -> Self {
        Self::new(credentials.project_id, credentials.user_id)
    }
}

impl<'a> From<&'a RequestContext> for Target<'a> {
    /// The caller's own ids: the target of a create or a list.
    fn from(ctx: &'a RequestContext) -> Self {
        Self::new(&ctx.project_id, &ctx.user_id)
    }
}

/// Magnum's policy: every rule, parsed and checked for unknown references and cycles.
/// Cheap to clone (the rules are shared).
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

struct Inner {
    rules: HashMap<String, Rule>,
    /// Each rule's text as loaded (the built-in one or the override).
    texts: BTreeMap<String, String>,
}

/// Built once: services and tests ask for the defaults often.
static DEFAULTS: LazyLock<Policy> = LazyLock::new(|| match build(&BTreeMap::new(), "") {
    Ok(policy) => policy,
    Err(error) => {
        // Unreachable while the defaults test passes; refusing everything is the safe
        // way to survive a broken built-in rule.
        tracing::error!(%error, "built-in policy is invalid; refusing every action");
        Policy {
            inner: Arc::new(Inner {
                rules: HashMap::new(),
                texts: BTreeMap::new(),
            }),
        }
    }
});

impl Policy {
    /// The built-in rules (see `policy.yaml.sample`).
    pub fn defaults() -> Self {
        DEFAULTS.clone()
    }

    /// Defaults overridden by the rules in a file (JSON or YAML, both accepted as oslo
    /// does: a map of rule name -> rule string). A `.json` file is read as JSON, any other
    /// as YAML (which also reads most JSON). `None` gives the defaults.
    pub fn load(file: Option<&Path>) -> Result<Self, PolicyError> {
        let Some(path) = file else {
            return Ok(Self::defaults());
        };
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let overrides = parse_file(path, &text)?;
        let policy = build(&overrides, &format!("policy file {}", path.display()))?;
        tracing::info!(
            path = %path.display(),
            overrides = overrides.len(),
            "loaded policy file"
        );
        Ok(policy)
    }

    /// Defaults overridden by `overrides` (rule name -> rule text), as `load` does with a
    /// file's content. For tests and embedded setups.
    pub fn with_overrides<I, K, V>(overrides: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let overrides = overrides
            .into_iter()
            .map(|(name, rule)| (name.into(), rule.into()))
            .collect();
        build(&overrides, "policy overrides")
    }

    /// Ok(()) or Err(Forbidden) whose Display is exactly Magnum's "Policy doesn't allow
    /// <rule> to be performed."
    pub fn enforce(
        &self,
        rule: &str,
        credentials: &Credentials<'_>,
        target: &Target<'_>,
    ) -> Result<(), Forbidden> {
        if self.check(rule, credentials, target) {
            Ok(())
        } else {
            tracing::debug!(
                rule,
                user_id = credentials.user_id,
                project_id = credentials.project_id,
                target_project_id = target.project_id,
                "policy refused"
            );
            Err(Forbidden {
                rule: rule.to_owned(),
            })
        }
    }

    /// Whether `rule` allows the caller to act on `target`. A rule the policy does not
    /// define is checked against `default` (as oslo).
    pub fn check(&self, rule: &str, credentials: &Credentials<'_>, target: &Target<'_>) -> bool {
        let rules = &self.inner.rules;
        let Some(found) = rules.get(rule).or_else(|| rules.get(DEFAULT_RULE)) else {
            return false;
        };
        let subject = Subject {
            user_id: credentials.user_id,
            project_id: credentials.project_id,
            roles: credentials.roles,
            is_admin: credentials.is_admin,
            target_project_id: target.project_id,
            target_user_id: target.user_id,
        };
        found.eval(&subject, &|name| rules.get(name))
    }

    /// Whether the caller is an administrator by `context_is_admin`: what Magnum sets a
    /// request context's `is_admin` from.
    pub fn is_admin(&self, credentials: &Credentials<'_>) -> bool {
        self.check(ADMIN_RULE, credentials, &Target::from(credentials))
    }

    /// Whether the policy defines `rule` (else it falls back to `default`). Services can
    /// assert in tests that every rule they enforce is defined.
    pub fn has_rule(&self, rule: &str) -> bool {
        self.inner.rules.contains_key(rule)
    }

    /// The text of a rule as loaded (built-in or overridden).
    pub fn rule_text(&self, rule: &str) -> Option<&str> {
        self.inner.texts.get(rule).map(String::as_str)
    }

    /// Every rule name, sorted.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.inner.texts.keys().map(String::as_str)
    }

    /// The sample policy file (`policy.yaml.sample`): every built-in rule, commented out,
    /// with its description.
    pub fn sample() -> String {
        defaults::sample()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::defaults()
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("rules", &self.inner.rules.len())
            .finish_non_exhaustive()
    }
}

/// A policy file's content: a map of rule name -> rule text (an empty file or `null`
/// overrides nothing).
fn parse_file(path: &Path, text: &str) -> Result<BTreeMap<String, String>, PolicyError> {
    let format_error = |reason: String| PolicyError::Format {
        path: path.to_owned(),
        reason,
    };
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    let parsed: Option<RuleMap> = if is_json {
        serde_json::from_str(text).map_err(|e| format_error(e.to_string()))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| format_error(e.to_string()))?
    };
    Ok(parsed.map(|map| map.0).unwrap_or_default())
}

/// A policy file's map. A rule defined twice is refused in both formats (JSON parsers,
/// serde_json's and Python's alike, would silently keep the last).
struct RuleMap(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for RuleMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;

        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = RuleMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of rule names to rule strings")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RuleMap, A::Error> {
                let mut rules = BTreeMap::new();
                while let Some((name, rule)) = map.next_entry::<String, String>()? {
                    if rules.contains_key(&name) {
                        return Err(serde::de::Error::custom(format!(
                            "rule \"{name}\" is defined twice"
                        )));
                    }
                    rules.insert(name, rule);
                }
                Ok(RuleMap(rules))
            }
        }

        deserializer.deserialize_map(Entries)
    }
}

/// The defaults with `overrides` applied, parsed and checked. `origin` names the source
/// of the overrides in errors.
fn build(overrides: &BTreeMap<String, String>, origin: &str) -> Result<Policy, PolicyError> {
    let mut texts: BTreeMap<String, String> = defaults::default_rules()
        .map(|d| (d.name.clone(), d.rule.clone()))
        .collect();
    texts.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    // An error in a rule the overrides did not touch is a bug in the built-in rules.
    let origin_of = |name: &str| {
        if overrides.contains_key(name) {
            origin.to_owned()
        } else {
            "built-in policy".to_owned()
        }
    };

    let mut rules = HashMap::with_capacity(texts.len());
    for (name, text) in &texts {
        let rule = Rule::parse(text).map_err(|e| PolicyError::InvalidRule {
            origin: origin_of(name),
            name: name.clone(),
            reason: e.to_string(),
        })?;
        rules.insert(name.clone(), rule);
    }
    for name in texts.keys() {
        let Some(rule) = rules.get(name) else {
            continue;
        };
        if let Some(missing) = rule
            .references()
            .into_iter()
            .find(|r| !rules.contains_key(*r))
        {
            return Err(PolicyError::UnknownReference {
                origin: origin_of(name),
                name: name.clone(),
                missing: missing.to_owned(),
            });
        }
    }
    if let Some(cycle) = find_cycle(&texts, &rules) {
        let origin = if cycle.iter().any(|name| overrides.contains_key(name)) {
            origin.to_owned()
        } else {
            "built-in policy".to_owned()
        };
        return Err(PolicyError::Cycle { origin, cycle });
    }
    warn_about_unused(overrides, &rules, origin);
    Ok(Policy {
        inner: Arc::new(Inner { rules, texts }),
    })
}

/// The first `rule:` cycle in name order, as `[a, b, a]`.
fn find_cycle(
    texts: &BTreeMap<String, String>,
    rules: &HashMap<String, Rule>,
) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        OnPath,
        Done,
    }

    fn visit<'a>(
        name: &'a str,
        rules: &'a HashMap<String, Rule>,
        state: &mut HashMap<&'a str, State>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(name) {
            Some(State::Done) => return None,
            Some(State::OnPath) => {
                let start = path.iter().position(|n| *n == name).unwrap_or(0);
                let mut cycle: Vec<String> =
                    path[start..].iter().map(|n| (*n).to_owned()).collect();
                cycle.push(name.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(name, State::OnPath);
        path.push(name);
        if let Some(rule) = rules.get(name) {
            for next in rule.references() {
                if let Some(cycle) = visit(next, rules, state, path) {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        state.insert(name, State::Done);
        None
    }

    let mut state = HashMap::new();
    texts
        .keys()
        .find_map(|name| visit(name, rules, &mut state, &mut Vec::new()))
}

/// An override that is neither a built-in rule nor used by another rule is most likely a
/// misspelt rule name: it changes nothing, so say so.
fn warn_about_unused(
    overrides: &BTreeMap<String, String>,
    rules: &HashMap<String, Rule>,
    origin: &str,
) {
    let referenced: HashSet<&str> = rules.values().flat_map(Rule::references).collect();
    let builtin: HashSet<&str> = defaults::default_rules().map(|d| d.name.as_str()).collect();
    for name in overrides.keys() {
        if !builtin.contains(name.as_str()) && !referenced.contains(name.as_str()) {
            tracing::warn!(
                rule = %name,
                %origin,
                "policy rule is neither a known rule nor used by one; is its name misspelt?"
            );
        }
    }
}

#[cfg(test)]
#[path = "policy_test.rs"]
mod tests;
