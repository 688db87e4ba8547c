//! The built-in rules: Magnum's Liberty `policy.json`, extended to every resource this
//! project serves, and the sample file generated from them.
//!
//! Rules of the modern API alias the Liberty rule of the same resource where one exists
//! (`cluster:create` is `rule:bay:create`), so one override changes both API
//! generations.

use std::sync::LazyLock;

/// One built-in rule, with the description the sample file shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DefaultRule {
    pub name: String,
    pub rule: String,
    pub description: String,
}

/// A group of rules, one heading in the sample file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub title: &'static str,
    pub rules: Vec<DefaultRule>,
}

/// Every built-in rule, grouped as the sample file shows them.
pub(crate) static SECTIONS: LazyLock<Vec<Section>> = LazyLock::new(sections);

/// The actions every Liberty resource has, with their descriptions.
const CRUD: [(&str, &str); 6] = [
    ("create", "Create a {one}."),
    ("delete", "Delete a {one}."),
    ("detail", "List {many} with details."),
    ("get", "Show a {one}."),
    ("get_all", "List {many}."),
    ("update", "Update a {one}."),
];

/// Actions on a running container (Liberty checked none of them; here they need the same
/// ownership as the container's other operations).
const CONTAINER_ACTIONS: [(&str, &str); 7] = [
    ("start", "Start a container."),
    ("stop", "Stop a container."),
    ("reboot", "Reboot a container."),
    ("pause", "Pause a container."),
    ("unpause", "Unpause a container."),
    ("logs", "Show the logs of a container."),
    ("execute", "Run a command in a container."),
];

fn rule(
    name: impl Into<String>,
    rule: impl Into<String>,
    description: impl Into<String>,
) -> DefaultRule {
    DefaultRule {
        name: name.into(),
        rule: rule.into(),
        description: description.into(),
    }
}

/// `<resource>:{create,delete,detail,get,get_all,update}`, each `rule:default`.
fn crud(resource: &str, one: &str, many: &str) -> Vec<DefaultRule> {
    CRUD.iter()
        .map(|(action, text)| {
            rule(
                format!("{resource}:{action}"),
                "rule:default",
                text.replace("{one}", one).replace("{many}", many),
            )
        })
        .collect()
}

/// Listing every project's objects (`?all_projects` / `?all_tenants`): admins only.
/// `get_all_all_projects` is Magnum's name; `get_all_all_tenants` follows it.
fn all_projects(resource: &str, many: &str) -> Vec<DefaultRule> {
    vec![
        rule(
            format!("{resource}:get_all_all_projects"),
            "rule:admin_api",
            format!("List the {many} of every project."),
        ),
        all_tenants_alias(resource, many),
    ]
}

fn all_tenants_alias(resource: &str, many: &str) -> DefaultRule {
    rule(
        format!("{resource}:get_all_all_tenants"),
        format!("rule:{resource}:get_all_all_projects"),
        format!("List the {many} of every project. Follows {resource}:get_all_all_projects."),
    )
}

/// `<modern>:<action>` = `rule:<liberty>:<action>` for the six Liberty actions.
fn crud_aliases(modern: &str, liberty: &str, one: &str, many: &str) -> Vec<DefaultRule> {
    CRUD.iter()
        .map(|(action, text)| {
            rule(
                format!("{modern}:{action}"),
                format!("rule:{liberty}:{action}"),
                format!(
                    "{} Follows {liberty}:{action}.",
                    text.replace("{one}", one).replace("{many}", many)
                ),
            )
        })
        .collect()
}

fn sections() -> Vec<Section> {
    let mut baymodels = crud("baymodel", "baymodel", "baymodels");
    baymodels.push(rule(
        "baymodel:publish",
        "rule:admin_or_owner",
        "Make a baymodel public (or private again).",
    ));
    baymodels.extend(all_projects("baymodel", "baymodels"));

    let mut containers = crud("container", "container", "containers");
    containers.extend(
        CONTAINER_ACTIONS
            .iter()
            .map(|(action, text)| rule(format!("container:{action}"), "rule:default", *text)),
    );
    containers.extend(all_projects("container", "containers"));

    let mut templates = crud_aliases(
        "clustertemplate",
        "baymodel",
        "cluster template",
        "cluster templates",
    );
    templates.push(rule(
        "clustertemplate:publish",
        "rule:baymodel:publish",
        "Make a cluster template public or hidden. Follows baymodel:publish \
         (modern Magnum makes it admin-only).",
    ));
    templates.push(rule(
        "clustertemplate:get_all_all_projects",
        "rule:baymodel:get_all_all_projects",
        "List the cluster templates of every project. Follows \
         baymodel:get_all_all_projects.",
    ));
    templates.push(all_tenants_alias("clustertemplate", "cluster templates"));
    for (action, text) in [
        (
            "detail",
            "List the cluster templates of every project with details.",
        ),
        ("get_one", "Show a cluster template of any project."),
        ("update", "Update a cluster template of any project."),
        ("delete", "Delete a cluster template of any project."),
    ] {
        templates.push(rule(
            format!("clustertemplate:{action}_all_projects"),
            "rule:admin_api",
            text,
        ));
    }

    let mut clusters = crud_aliases("cluster", "bay", "cluster", "clusters");
    clusters.push(rule(
        "cluster:resize",
        "rule:bay:update",
        "Resize a cluster. Follows bay:update.",
    ));
    clusters.push(rule(
        "cluster:upgrade",
        "rule:bay:update",
        "Upgrade a cluster. Follows bay:update.",
    ));
    clusters.push(rule(
        "cluster:update_health_status",
        "rule:admin_or_owner",
        "Update the health status of a cluster.",
    ));
    clusters.push(rule(
        "cluster:get_all_all_projects",
        "rule:bay:get_all_all_projects",
        "List the clusters of every project. Follows bay:get_all_all_projects.",
    ));
    clusters.push(all_tenants_alias("cluster", "clusters"));
    for (action, text) in [
        ("detail", "List the clusters of every project with details."),
        ("get_one", "Show a cluster of any project."),
        ("update", "Update a cluster of any project."),
        ("upgrade", "Upgrade a cluster of any project."),
        ("delete", "Delete a cluster of any project."),
    ] {
        clusters.push(rule(
            format!("cluster:{action}_all_projects"),
            "rule:admin_api",
            text,
        ));
    }

    let mut nodegroups: Vec<DefaultRule> = [
        ("create", "Create a node group."),
        ("delete", "Delete a node group."),
        ("get", "Show a node group."),
        ("get_all", "List the node groups of a cluster."),
        ("update", "Update a node group."),
    ]
    .into_iter()
    .map(|(action, text)| rule(format!("nodegroup:{action}"), "rule:default", text))
    .collect();
    nodegroups.extend(all_projects("nodegroup", "node groups"));
    nodegroups.push(rule(
        "nodegroup:get_one_all_projects",
        "rule:admin_api",
        "Show a node group of any project.",
    ));

    vec![
        Section {
            title: "Base rules",
            rules: vec![
                rule("context_is_admin", "role:admin", "Who is an administrator."),
                rule(
                    "admin_or_owner",
                    "is_admin:True or project_id:%(project_id)s",
                    "An administrator, or a caller of the object's project.",
                ),
                rule(
                    "default",
                    "rule:admin_or_owner",
                    "The rule of every action not named here; most built-in rules point to it too.",
                ),
                rule(
                    "admin_api",
                    "rule:context_is_admin",
                    "Operations for administrators only.",
                ),
                rule(
                    "admin_or_user",
                    "is_admin:True or user_id:%(user_id)s",
                    "An administrator, or the user who owns the object. Not used by default.",
                ),
                rule(
                    "project_member",
                    "role:member and project_id:%(project_id)s",
                    "A member of the object's project. Not used by default.",
                ),
                rule(
                    "project_reader",
                    "role:reader and project_id:%(project_id)s",
                    "A reader of the object's project. Not used by default.",
                ),
                rule(
                    "admin_or_project_member",
                    "rule:context_is_admin or rule:project_member",
                    "An administrator or a member of the object's project (modern Magnum's \
                     writers). Not used by default.",
                ),
                rule(
                    "admin_or_project_reader",
                    "rule:context_is_admin or rule:project_reader",
                    "An administrator or a reader of the object's project (modern Magnum's \
                     readers). Not used by default.",
                ),
            ],
        },
        Section {
            title: "Baymodels (/v1/baymodels)",
            rules: baymodels,
        },
        Section {
            title: "Bays (/v1/bays)",
            rules: [
                crud("bay", "bay", "bays"),
                vec![rule(
                    "bay:get_credentials",
                    "rule:admin_or_owner",
                    "Get the credentials of a bay: for a kubernetes bay, its namespace on the \
                     host cluster and its ServiceAccount token (k8s-svc asks for them as the \
                     caller). Like Magnum's certificate signing, for the bay's owner.",
                )],
                all_projects("bay", "bays"),
            ]
            .concat(),
        },
        Section {
            title: "Nodes (/v1/nodes)",
            rules: [crud("node", "node", "nodes"), all_projects("node", "nodes")].concat(),
        },
        Section {
            title: "Pods (/v1/pods)",
            rules: [crud("pod", "pod", "pods"), all_projects("pod", "pods")].concat(),
        },
        Section {
            title: "Replication controllers (/v1/rcs)",
            rules: [
                crud("rc", "replication controller", "replication controllers"),
                all_projects("rc", "replication controllers"),
            ]
            .concat(),
        },
        Section {
            title: "Kubernetes services (/v1/services)",
            rules: [
                crud("service", "service", "services"),
                all_projects("service", "services"),
            ]
            .concat(),
        },
        Section {
            title: "Containers (/v1/containers)",
            rules: containers,
        },
        Section {
            title: "X.509 key pairs (/v1/x509keypairs)",
            rules: crud("x509keypair", "key pair", "key pairs"),
        },
        Section {
            title: "Certificates (/v1/certificates)",
            rules: vec![
                rule(
                    "certificate:create",
                    "rule:default",
                    "Sign a certificate for a bay.",
                ),
                rule(
                    "certificate:get",
                    "rule:default",
                    "Show a bay's CA certificate.",
                ),
                rule(
                    "certificate:rotate_ca",
                    "rule:admin_or_owner",
                    "Rotate a cluster's CA certificate.",
                ),
            ],
        },
        Section {
            title: "Cluster templates (/v1/clustertemplates)",
            rules: templates,
        },
        Section {
            title: "Clusters (/v1/clusters)",
            rules: clusters,
        },
        Section {
            title: "Node groups (/v1/clusters/<cluster>/nodegroups)",
            rules: nodegroups,
        },
        Section {
            title: "Credentials (/v1/credentials)",
            rules: vec![rule(
                "credential:rotate",
                "rule:admin_or_owner",
                "Rotate the credentials of a cluster.",
            )],
        },
        Section {
            title: "Quotas (/v1/quotas)",
            rules: vec![
                rule("quota:create", "rule:admin_api", "Create a quota."),
                rule("quota:delete", "rule:admin_api", "Delete a quota."),
                rule("quota:get", "rule:default", "Show a project's quota."),
                rule("quota:get_all", "rule:admin_api", "List every quota."),
                rule("quota:update", "rule:admin_api", "Update a quota."),
            ],
        },
        Section {
            title: "Statistics (/v1/stats)",
            rules: vec![rule(
                "stats:get_all",
                "rule:admin_or_owner",
                "Show the cluster statistics of a project.",
            )],
        },
        Section {
            title: "Magnum services (/v1/mservices)",
            rules: vec![rule(
                "magnum-service:get_all",
                "rule:admin_api",
                "List the Magnum services and their state.",
            )],
        },
    ]
}

/// Every built-in rule, name and text, in sample-file order.
pub(crate) fn default_rules() -> impl Iterator<Item = &'static DefaultRule> {
    SECTIONS.iter().flat_map(|section| section.rules.iter())
}

/// The sample policy file: every default, commented out, with its description.
pub(crate) fn sample() -> String {
    let mut out = String::from(SAMPLE_HEADER);
    for section in SECTIONS.iter() {
        out.push_str("\n# ");
        out.push_str(section.title);
        out.push_str("\n# ");
        out.push_str(&"=".repeat(section.title.chars().count()));
        out.push('\n');
        for rule in &section.rules {
            out.push('\n');
            for line in wrap(&rule.description, SAMPLE_WIDTH - 2) {
                out.push_str("# ");
                out.push_str(&line);
                out.push('\n');
            }
            out.push('#');
            out.push_str(&yaml_string(&rule.name));
            out.push_str(": ");
            out.push_str(&yaml_string(&rule.rule));
            out.push('\n');
        }
    }
    out
}

/// Description lines of the sample stay within this many columns.
const SAMPLE_WIDTH: usize = 88;

/// `text` in lines of at most `width` characters (longer words stand alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A double-quoted YAML scalar; JSON's escaping is a subset of YAML's, so serde_json
/// quotes it correctly.
fn yaml_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

const SAMPLE_HEADER: &str = "\
# magnum-rs policy: the built-in defaults.
#
# GENERATED from libs/policy/src/defaults.rs; do not edit. A test checks this file
# against the built-in rules: `MAGNUM_POLICY_BLESS=1 cargo test -p magnum-policy`
# rewrites it after a change.
#
# Every rule below is commented out and shows its built-in value. To change one, copy
# this file, uncomment the rule and edit it, and point a service's `policy_file`
# setting (its `[<service>.policy]` section) at the copy. Rules left out keep their
# built-in value; an invalid rule, an unknown `rule:` reference or a cycle of `rule:`
# references stops the service at start-up, and so does a rule defined twice. Quote
# the rule texts as below: YAML refuses a bare `@` or `!`. The file may also be JSON
# (a `.json` file: one object of rule name -> rule text), as oslo.policy's policy.json.
#
# Rule language (the oslo.policy text syntax):
#   role:<name>                   the caller has the role (case-insensitive)
#   rule:<name>                   another rule of this file
#   is_admin:True, is_admin:False the caller's admin flag
#   project_id:<value>            the caller's project is <value>
#   user_id:<value>               the caller is user <value>
#   %(project_id)s, %(user_id)s   in a value: the owner of the object acted on (for a
#                                 create or a list: the caller)
#   @ or \"\"                       always allowed;  !  never allowed
#   not, and, or, ( )             in that order of precedence
#
# An action whose rule is not defined is checked against `default`. A refusal is a
# 403 \"Policy doesn't allow <rule> to be performed.\"
";
