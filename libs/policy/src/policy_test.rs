//! Unit tests of `policy`: the default rules on a table of callers, overrides from
//! files, load-time errors and the sample file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use super::*;

/// A caller of the table: `(name, credentials)`.
struct Caller {
    name: &'static str,
    user_id: &'static str,
    project_id: &'static str,
    roles: Vec<String>,
    is_admin: bool,
}

impl Caller {
    fn new(
        name: &'static str,
        user_id: &'static str,
        project_id: &'static str,
        roles: &[&str],
        is_admin: bool,
    ) -> Self {
        Self {
            name,
            user_id,
            project_id,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            is_admin,
        }
    }

    fn credentials(&self) -> Credentials<'_> {
        Credentials {
            user_id: self.user_id,
            project_id: self.project_id,
            roles: &self.roles,
            is_admin: self.is_admin,
        }
    }
}

/// admin (of another project), the owner (a member of the owning project), a member of
/// another project, and a reader-only user of the owning project.
fn callers() -> [Caller; 4] {
    [
        Caller::new("admin", "u-admin", "p-admin", &["admin"], true),
        Caller::new("owner", "u-owner", "p1", &["member", "reader"], false),
        Caller::new("other", "u-other", "p2", &["member", "reader"], false),
        Caller::new("reader", "u-reader", "p1", &["reader"], false),
    ]
}

/// The object every rule is checked on: owned by `u-owner` of `p1`.
const TARGET: Target<'static> = Target {
    project_id: "p1",
    user_id: "u-owner",
};

/// Allowed for: [admin, owner, other, reader].
const OWNER: [bool; 4] = [true, true, false, true];
const ADMIN: [bool; 4] = [true, false, false, false];

/// Rules that are not admin-or-owner, with who they allow.
fn exceptions() -> BTreeMap<&'static str, [bool; 4]> {
    let mut table = BTreeMap::from([
        ("context_is_admin", ADMIN),
        ("admin_api", ADMIN),
        ("admin_or_user", [true, true, false, false]),
        ("project_member", [false, true, false, false]),
        ("project_reader", [false, true, false, true]),
        ("admin_or_project_member", [true, true, false, false]),
        ("admin_or_project_reader", [true, true, false, true]),
        ("quota:create", ADMIN),
        ("quota:delete", ADMIN),
        ("quota:get_all", ADMIN),
        ("quota:update", ADMIN),
        ("magnum-service:get_all", ADMIN),
        ("clustertemplate:delete_all_projects", ADMIN),
        ("clustertemplate:detail_all_projects", ADMIN),
        ("clustertemplate:get_one_all_projects", ADMIN),
        ("clustertemplate:update_all_projects", ADMIN),
        ("cluster:delete_all_projects", ADMIN),
        ("cluster:detail_all_projects", ADMIN),
        ("cluster:get_one_all_projects", ADMIN),
        ("cluster:update_all_projects", ADMIN),
        ("cluster:upgrade_all_projects", ADMIN),
        ("nodegroup:get_one_all_projects", ADMIN),
    ]);
    for resource in [
        "baymodel",
        "bay",
        "node",
        "pod",
        "rc",
        "service",
        "container",
        "clustertemplate",
        "cluster",
        "nodegroup",
    ] {
        for rule in ["get_all_all_projects", "get_all_all_tenants"] {
            // Leaked so the table can hold `&'static str` names; a test, run once.
            let name: &'static str = format!("{resource}:{rule}").leak();
            table.insert(name, ADMIN);
        }
    }
    table
}

#[test]
fn every_default_rule_allows_the_expected_callers() {
    let policy = Policy::defaults();
    let exceptions = exceptions();
    for name in exceptions.keys() {
        assert!(policy.has_rule(name), "the table names unknown rule {name}");
    }
    let callers = callers();
    let mut checked = 0;
    for name in policy.rule_names() {
        let expected = exceptions.get(name).copied().unwrap_or(OWNER);
        for (caller, allowed) in callers.iter().zip(expected) {
            assert_eq!(
                policy.check(name, &caller.credentials(), &TARGET),
                allowed,
                "{name} for {}",
                caller.name
            );
            assert_eq!(
                policy.enforce(name, &caller.credentials(), &TARGET).is_ok(),
                allowed
            );
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} rules");
}

#[test]
fn the_defaults_define_every_rule_the_services_need() {
    let policy = Policy::defaults();
    let mut needed: Vec<String> = [
        "context_is_admin",
        "admin_or_owner",
        "default",
        "admin_api",
        "baymodel:publish",
        "bay:get_credentials",
        "certificate:create",
        "certificate:get",
        "certificate:rotate_ca",
        "clustertemplate:publish",
        "cluster:resize",
        "cluster:upgrade",
        "quota:get",
        "stats:get_all",
        "magnum-service:get_all",
    ]
    .map(String::from)
    .to_vec();
    for resource in [
        "baymodel",
        "bay",
        "node",
        "pod",
        "rc",
        "service",
        "container",
        "clustertemplate",
        "cluster",
    ] {
        for action in ["create", "delete", "detail", "get", "get_all", "update"] {
            needed.push(format!("{resource}:{action}"));
        }
        needed.push(format!("{resource}:get_all_all_tenants"));
        needed.push(format!("{resource}:get_all_all_projects"));
    }
    for action in [
        "start", "stop", "reboot", "pause", "unpause", "logs", "execute",
    ] {
        needed.push(format!("container:{action}"));
    }
    for action in ["create", "delete", "get", "get_all", "update"] {
        needed.push(format!("nodegroup:{action}"));
        needed.push(format!("quota:{action}"));
    }
    for name in &needed {
        assert!(policy.has_rule(name), "{name} is not defined");
    }
}

#[test]
fn the_liberty_rules_have_their_liberty_text() {
    let policy = Policy::defaults();
    for (name, text) in [
        ("context_is_admin", "role:admin"),
        (
            "admin_or_owner",
            "is_admin:True or project_id:%(project_id)s",
        ),
        ("default", "rule:admin_or_owner"),
        ("admin_api", "rule:context_is_admin"),
        ("bay:create", "rule:default"),
        ("baymodel:publish", "rule:admin_or_owner"),
        ("pod:get_all", "rule:default"),
        ("certificate:get", "rule:default"),
        ("magnum-service:get_all", "rule:admin_api"),
        ("cluster:create", "rule:bay:create"),
        ("clustertemplate:get", "rule:baymodel:get"),
    ] {
        assert_eq!(policy.rule_text(name), Some(text), "{name}");
    }
}

#[test]
fn bay_credentials_are_for_the_bays_owner_and_admins() {
    // Not rule:default, so a deployment loosening `default` does not hand out tokens.
    let policy = Policy::defaults();
    assert_eq!(
        policy.rule_text("bay:get_credentials"),
        Some("rule:admin_or_owner")
    );
    let [admin, owner, other, _] = callers();
    assert!(policy.check("bay:get_credentials", &admin.credentials(), &TARGET));
    assert!(policy.check("bay:get_credentials", &owner.credentials(), &TARGET));
    assert!(!policy.check("bay:get_credentials", &other.credentials(), &TARGET));
}

#[test]
fn a_creates_target_is_the_callers_own_project() {
    let policy = Policy::defaults();
    let [admin, owner, other, _] = callers();
    for caller in [&admin, &owner, &other] {
        let credentials = caller.credentials();
        assert!(policy.check("bay:create", &credentials, &Target::from(&credentials)));
    }
    // The is_admin flag alone passes admin_or_owner; context_is_admin looks at roles.
    let flag_only = Caller::new("flag", "u", "p", &[], true);
    let credentials = flag_only.credentials();
    assert!(policy.check("bay:get", &credentials, &TARGET));
    assert!(!policy.is_admin(&credentials));
    assert!(policy.is_admin(&admin.credentials()));
    assert!(!policy.is_admin(&owner.credentials()));
}

#[test]
fn credentials_and_targets_come_from_a_request_context() {
    let ctx = RequestContext {
        user_id: "u1".into(),
        user_name: "user".into(),
        project_id: "p1".into(),
        project_name: "proj".into(),
        roles: vec!["Member".into()],
        is_admin: false,
        request_id: "req".into(),
        auth_token: "token".into(),
    };
    let credentials = Credentials::from(&ctx);
    assert_eq!(credentials.user_id, "u1");
    assert_eq!(credentials.project_id, "p1");
    assert_eq!(credentials.roles, ["Member".to_owned()]);
    assert!(!credentials.is_admin);
    assert_eq!(Target::from(&ctx), Target::new("p1", "u1"));
    let policy = Policy::defaults();
    assert!(policy.check("bay:get", &credentials, &Target::from(&ctx)));
    assert!(!policy.check("bay:get", &credentials, &Target::new("p2", "u1")));
}

#[test]
fn an_unknown_rule_falls_back_to_default() {
    let policy = Policy::defaults();
    let [admin, owner, other, _] = callers();
    assert!(!policy.has_rule("widget:frobnicate"));
    assert!(policy.check("widget:frobnicate", &admin.credentials(), &TARGET));
    assert!(policy.check("widget:frobnicate", &owner.credentials(), &TARGET));
    assert!(!policy.check("widget:frobnicate", &other.credentials(), &TARGET));

    let strict = Policy::with_overrides([("default", "rule:admin_api")]).unwrap();
    assert!(!strict.check("widget:frobnicate", &owner.credentials(), &TARGET));
    assert!(strict.check("widget:frobnicate", &admin.credentials(), &TARGET));
    // ... and so do the rules that are `rule:default`.
    assert!(!strict.check("bay:get", &owner.credentials(), &TARGET));
}

#[test]
fn a_refusal_is_magnums_403_naming_the_rule_asked_for() {
    let policy = Policy::defaults();
    let [_, _, other, _] = callers();
    let refused = policy
        .enforce("widget:frobnicate", &other.credentials(), &TARGET)
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Policy doesn't allow widget:frobnicate to be performed."
    );
    assert_eq!(refused.rule, "widget:frobnicate");
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let refused = policy
        .enforce("magnum-service:get_all", &other.credentials(), &TARGET)
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Policy doesn't allow magnum-service:get_all to be performed."
    );
}

fn policy_file(suffix: &str, content: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    file.write_all(content.as_bytes()).unwrap();
    file.flush().unwrap();
    file
}

#[test]
fn a_yaml_file_overrides_one_rule_and_keeps_the_rest() {
    let file = policy_file(
        ".yaml",
        "# only members may create bays\n\
         \"bay:create\": \"rule:admin_or_project_member\"\n",
    );
    let policy = Policy::load(Some(file.path())).unwrap();
    let [admin, owner, _, reader] = callers();
    assert_eq!(
        policy.rule_text("bay:create"),
        Some("rule:admin_or_project_member")
    );
    assert!(!policy.check("bay:create", &reader.credentials(), &TARGET));
    assert!(policy.check("bay:create", &owner.credentials(), &TARGET));
    assert!(policy.check("bay:create", &admin.credentials(), &TARGET));
    // The alias follows the rule it names; the rest keep their defaults.
    assert!(!policy.check("cluster:create", &reader.credentials(), &TARGET));
    assert!(policy.check("bay:delete", &reader.credentials(), &TARGET));
    assert_eq!(
        policy.rule_names().count(),
        Policy::defaults().rule_names().count()
    );
}

#[test]
fn unquoted_yaml_works_too() {
    let file = policy_file(
        ".yml",
        "magnum-service:get_all: role:admin or role:ops\n\
         pod:get: ''\n\
         my_helper: project_id:%(project_id)s and not role:guest\n",
    );
    let policy = Policy::load(Some(file.path())).unwrap();
    let ops = Caller::new("ops", "u", "p9", &["OPS"], false);
    assert!(policy.check("magnum-service:get_all", &ops.credentials(), &TARGET));
    assert!(policy.check("pod:get", &ops.credentials(), &TARGET));
    assert_eq!(
        policy.rule_text("my_helper"),
        Some("project_id:%(project_id)s and not role:guest")
    );
}

#[test]
fn a_json_file_overrides_one_rule() {
    let file = policy_file(
        ".json",
        r#"{
            "magnum-service:get_all": "@",
            "baymodel:publish": "rule:admin_api"
        }"#,
    );
    let policy = Policy::load(Some(file.path())).unwrap();
    let [_, owner, other, _] = callers();
    assert!(policy.check("magnum-service:get_all", &other.credentials(), &TARGET));
    assert!(!policy.check("baymodel:publish", &owner.credentials(), &TARGET));
    assert!(policy.check("baymodel:get", &owner.credentials(), &TARGET));
}

#[test]
fn a_json_policy_in_a_yaml_named_file_is_read_as_yaml() {
    // oslo reads every policy file with a YAML parser, which takes JSON too.
    let file = policy_file(".yaml", r#"{"pod:get": "!"}"#);
    let policy = Policy::load(Some(file.path())).unwrap();
    let [admin, ..] = callers();
    assert!(!policy.check("pod:get", &admin.credentials(), &TARGET));
}

#[test]
fn an_empty_file_changes_nothing() {
    for (suffix, content) in [
        (".yaml", ""),
        (".yaml", "# nothing here\n"),
        (".json", "{}"),
    ] {
        let file = policy_file(suffix, content);
        let policy =
            Policy::load(Some(file.path())).unwrap_or_else(|e| panic!("{suffix} {content:?}: {e}"));
        assert_eq!(
            policy.rule_names().count(),
            Policy::defaults().rule_names().count()
        );
    }
}

#[test]
fn no_file_means_the_defaults() {
    let policy = Policy::load(None).unwrap();
    assert_eq!(policy.rule_text("default"), Some("rule:admin_or_owner"));
    let config: PolicyConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(config, PolicyConfig::default());
    assert!(config.load().unwrap().has_rule("bay:create"));
}

#[test]
fn the_config_section_names_the_file_and_nothing_else() {
    let config: PolicyConfig =
        serde_json::from_str(r#"{"policy_file": "/etc/magnum/policy.yaml"}"#).unwrap();
    assert_eq!(
        config.policy_file.as_deref(),
        Some(Path::new("/etc/magnum/policy.yaml"))
    );
    assert!(serde_json::from_str::<PolicyConfig>(r#"{"file": "x"}"#).is_err());
}

fn load_error(suffix: &str, content: &str) -> String {
    let file = policy_file(suffix, content);
    let error = Policy::load(Some(file.path())).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message:?} should name the file"
    );
    message
}

#[test]
fn an_invalid_rule_fails_the_load_naming_the_rule_and_the_reason() {
    let message = load_error(
        ".yaml",
        "bay:get: rule:default\nbay:create: role:admin and\n",
    );
    assert!(
        message.contains("rule \"bay:create\" is invalid"),
        "{message}"
    );
    assert!(message.contains("but the rule ends"), "{message}");

    let message = load_error(".json", r#"{"pod:get": "is_admin:yes"}"#);
    assert!(message.contains("rule \"pod:get\" is invalid"), "{message}");
    assert!(
        message.contains("is_admin takes True or False"),
        "{message}"
    );
}

#[test]
fn an_unknown_reference_fails_the_load() {
    let message = load_error(".yaml", "bay:get: rule:admin_or_owenr\n");
    assert!(
        message.contains("rule \"bay:get\" refers to rule:admin_or_owenr, which is not defined"),
        "{message}"
    );
}

#[test]
fn a_cycle_of_references_fails_the_load() {
    let message = load_error(
        ".yaml",
        "admin_api: rule:quota:get\nquota:get: rule:admin_api\n",
    );
    assert!(
        message.contains("cycle: admin_api -> quota:get -> admin_api"),
        "{message}"
    );

    // Through the defaults: default -> admin_or_owner -> default.
    let error = Policy::with_overrides([("admin_or_owner", "role:x or rule:default")]).unwrap_err();
    assert!(
        matches!(&error, PolicyError::Cycle { cycle, .. }
            if cycle == &["admin_or_owner", "default", "admin_or_owner"]),
        "{error}"
    );

    let error = Policy::with_overrides([("self", "rule:self")]).unwrap_err();
    assert!(error.to_string().contains("cycle: self -> self"), "{error}");
}

#[test]
fn a_file_that_is_not_a_map_of_strings_fails_the_load() {
    for (suffix, content) in [
        (".yaml", "- rule:default\n"),
        (".yaml", "bay:get: [rule:default]\n"),
        (".yaml", "bay:get: @\n"),
        (".json", r#"{"bay:get": "rule:default""#),
        (".json", r#"{"bay:get": ["rule:default"]}"#),
        (".json", "[]"),
        (".yaml", "bay:get: rule:default\nbay:get: '!'\n"),
        (".json", r#"{"bay:get": "@", "bay:get": "!"}"#),
    ] {
        let message = load_error(suffix, content);
        assert!(
            message.contains("is not a map of rule names to rule strings"),
            "{content:?}: {message}"
        );
    }
    let message = load_error(".json", r#"{"bay:get": "@", "bay:get": "!"}"#);
    assert!(
        message.contains("rule \"bay:get\" is defined twice"),
        "{message}"
    );
}

#[test]
fn a_missing_file_fails_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    let error = Policy::load(Some(&path)).unwrap_err();
    assert!(matches!(error, PolicyError::Read { .. }), "{error}");
    assert!(error.to_string().contains("policy.yaml"));
}

#[test]
fn the_built_in_rules_are_valid() {
    // `defaults()` would refuse everything if they were not; make that a test failure.
    let built = build(&BTreeMap::new(), "test").unwrap();
    assert_eq!(
        built.rule_names().collect::<Vec<_>>(),
        Policy::defaults().rule_names().collect::<Vec<_>>()
    );
    let names: Vec<&str> = defaults::default_rules().map(|d| d.name.as_str()).collect();
    let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), unique.len(), "a default rule is defined twice");
}

#[test]
fn clones_share_the_rules() {
    let policy = Policy::defaults();
    let clone = policy.clone();
    assert!(Arc::ptr_eq(&policy.inner, &clone.inner));
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Policy>();
}

/// The checked-in sample, relative to this crate.
fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policy.yaml.sample")
}

#[test]
fn the_sample_file_is_generated_from_the_defaults() {
    let generated = Policy::sample();
    let path = sample_path();
    if std::env::var_os("MAGNUM_POLICY_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{} is out of date: run `MAGNUM_POLICY_BLESS=1 cargo test -p magnum-policy` \
         and commit the result",
        path.display()
    );
}

#[test]
fn the_sample_uncommented_is_exactly_the_defaults() {
    // Uncommenting every rule line gives a file that overrides each rule with itself.
    let uncommented: String = Policy::sample()
        .lines()
        .filter_map(|line| line.strip_prefix("#\""))
        .map(|line| format!("\"{line}\n"))
        .collect();
    let file = policy_file(".yaml", &uncommented);
    let parsed = parse_file(file.path(), &uncommented).unwrap();
    let defaults: BTreeMap<String, String> = defaults::default_rules()
        .map(|d| (d.name.clone(), d.rule.clone()))
        .collect();
    assert_eq!(parsed, defaults);
    // And the sample as shipped (all commented out) loads as the defaults.
    let shipped = Policy::load(Some(&sample_path())).unwrap();
    assert_eq!(
        shipped.rule_names().count(),
        Policy::defaults().rule_names().count()
    );
}
