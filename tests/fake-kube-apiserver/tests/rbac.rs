#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Authentication and RBAC: the bay shape from design §4 (a namespace, a ServiceAccount, a
//! Role and a RoleBinding), its token from TokenRequest, and what that token may do.

use std::fmt::Debug;

use fake_kube_apiserver::{FakeKubeApiServer, Options};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ResourceQuota, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Status;

fn status<T: Debug>(r: Result<T, kube::Error>) -> Box<Status> {
    match r {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn named(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        ..ObjectMeta::default()
    }
}

fn secret(name: &str) -> Secret {
    Secret {
        metadata: named(name),
        ..Secret::default()
    }
}

/// A bay as the kubernetes driver builds it: namespace, service account, and a RoleBinding
/// of `role_ref` (a Role `bay-role` with `rules`, or a ClusterRole) to the account.
async fn bay(admin: &Client, ns: &str, role_ref: (&str, &str), rules: Vec<PolicyRule>) {
    Api::<Namespace>::all(admin.clone())
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: named(ns),
                ..Namespace::default()
            },
        )
        .await
        .unwrap();
    Api::<ServiceAccount>::namespaced(admin.clone(), ns)
        .create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: named("bay"),
                ..ServiceAccount::default()
            },
        )
        .await
        .unwrap();
    if role_ref.0 == "Role" {
        Api::<Role>::namespaced(admin.clone(), ns)
            .create(
                &PostParams::default(),
                &Role {
                    metadata: named(role_ref.1),
                    rules: Some(rules),
                },
            )
            .await
            .unwrap();
    }
    Api::<RoleBinding>::namespaced(admin.clone(), ns)
        .create(
            &PostParams::default(),
            &RoleBinding {
                metadata: named("bay"),
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: role_ref.0.into(),
                    name: role_ref.1.into(),
                },
                subjects: Some(vec![Subject {
                    kind: "ServiceAccount".into(),
                    name: "bay".into(),
                    namespace: Some(ns.into()),
                    ..Subject::default()
                }]),
            },
        )
        .await
        .unwrap();
}

fn rule(resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(resources.iter().map(|s| (*s).to_owned()).collect()),
        verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

#[tokio::test]
async fn missing_or_bad_token_is_401() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let yaml = server
        .kubeconfig_yaml("unused")
        .replace("    token: \"unused\"\n", "    {}\n");
    let kc = Kubeconfig::from_yaml(&yaml).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    let anonymous = Client::try_from(config).unwrap();
    let e = status(
        Api::<Namespace>::all(anonymous)
            .list(&ListParams::default())
            .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (401, "Unauthorized"));

    let wrong = server.client("not-a-token").await.unwrap();
    let e = status(Api::<Namespace>::all(wrong).get("default").await);
    assert_eq!(e.code, 401);
}

#[tokio::test]
async fn service_account_token_follows_its_role() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = server.admin_client().await.unwrap();
    bay(
        &admin,
        "bay-a",
        ("Role", "bay-role"),
        vec![rule(&["secrets"], &["get", "list", "create"])],
    )
    .await;
    bay(
        &admin,
        "bay-b",
        ("Role", "bay-role"),
        vec![rule(&["secrets"], &["*"])],
    )
    .await;

    let token = server.service_account_token("bay-a", "bay").await.unwrap();
    let tenant = server.client(&token).await.unwrap();

    // Allowed: what the Role grants, in its namespace.
    let mine: Api<Secret> = Api::namespaced(tenant.clone(), "bay-a");
    mine.create(&PostParams::default(), &secret("s"))
        .await
        .unwrap();
    mine.get("s").await.unwrap();
    assert_eq!(
        mine.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );

    // A verb the Role lacks.
    let e = status(mine.delete("s", &DeleteParams::default()).await);
    assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        e.message,
        r#"secrets "s" is forbidden: User "system:serviceaccount:bay-a:bay" cannot delete resource "secrets" in API group "" in the namespace "bay-a""#
    );

    // A resource the Role lacks.
    let sas: Api<ServiceAccount> = Api::namespaced(tenant.clone(), "bay-a");
    let e = status(sas.list(&ListParams::default()).await);
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        r#"serviceaccounts is forbidden: User "system:serviceaccount:bay-a:bay" cannot list resource "serviceaccounts" in API group "" in the namespace "bay-a""#
    );

    // Another namespace, even one whose own account may do everything there.
    let theirs: Api<Secret> = Api::namespaced(tenant.clone(), "bay-b");
    let e = status(theirs.create(&PostParams::default(), &secret("s")).await);
    assert_eq!(
        e.message,
        r#"secrets is forbidden: User "system:serviceaccount:bay-a:bay" cannot create resource "secrets" in API group "" in the namespace "bay-b""#
    );

    // Cluster scope: no RoleBinding can grant it.
    let e = status(
        Api::<Namespace>::all(tenant.clone())
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(
        e.message,
        r#"namespaces is forbidden: User "system:serviceaccount:bay-a:bay" cannot list resource "namespaces" in API group "" at the cluster scope"#
    );

    // A TokenRequest needs create on serviceaccounts/token.
    let e = status(
        sas.create_token_request("bay", &PostParams::default(), &TokenRequest::default())
            .await,
    );
    assert_eq!(e.code, 403);
    assert!(
        e.message
            .contains(r#"cannot create resource "serviceaccounts/token""#),
        "{}",
        e.message
    );

    // The RBAC objects themselves are out of reach too (no escalation by editing the Role).
    let roles: Api<Role> = Api::namespaced(tenant, "bay-a");
    let e = status(roles.get("bay-role").await);
    assert_eq!(
        e.message,
        r#"roles.rbac.authorization.k8s.io "bay-role" is forbidden: User "system:serviceaccount:bay-a:bay" cannot get resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "bay-a""#
    );
}

#[tokio::test]
async fn role_changes_apply_immediately() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = server.admin_client().await.unwrap();
    bay(
        &admin,
        "bay-a",
        ("Role", "bay-role"),
        vec![rule(&["configmaps"], &["get"])],
    )
    .await;
    let tenant = server
        .client(&server.service_account_token("bay-a", "bay").await.unwrap())
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(tenant, "bay-a");
    assert_eq!(status(secrets.list(&ListParams::default()).await).code, 403);
    let roles: Api<Role> = Api::namespaced(admin.clone(), "bay-a");
    let mut role = roles.get("bay-role").await.unwrap();
    role.rules = Some(vec![rule(&["secrets"], &["list"])]);
    roles
        .replace("bay-role", &PostParams::default(), &role)
        .await
        .unwrap();
    secrets.list(&ListParams::default()).await.unwrap();
    // Deleting the binding takes the grant away.
    Api::<RoleBinding>::namespaced(admin, "bay-a")
        .delete("bay", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status(secrets.list(&ListParams::default()).await).code, 403);
}

#[tokio::test]
async fn builtin_cluster_roles() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = server.admin_client().await.unwrap();
    bay(&admin, "bay-a", ("ClusterRole", "admin"), Vec::new()).await;
    bay(
        &admin,
        "bay-b",
        ("ClusterRole", "cluster-admin"),
        Vec::new(),
    )
    .await;
    let a = server
        .client(&server.service_account_token("bay-a", "bay").await.unwrap())
        .await
        .unwrap();
    // `admin` manages the namespace's content and RBAC, reads (but cannot change) its quota
    // and may read its own Namespace object.
    Api::<Secret>::namespaced(a.clone(), "bay-a")
        .create(&PostParams::default(), &secret("s"))
        .await
        .unwrap();
    Api::<Role>::namespaced(a.clone(), "bay-a")
        .list(&ListParams::default())
        .await
        .unwrap();
    let quotas: Api<ResourceQuota> = Api::namespaced(a.clone(), "bay-a");
    quotas.list(&ListParams::default()).await.unwrap();
    let e = status(
        quotas
            .create(
                &PostParams::default(),
                &ResourceQuota {
                    metadata: named("q"),
                    ..ResourceQuota::default()
                },
            )
            .await,
    );
    assert_eq!(e.code, 403);
    Api::<Namespace>::all(a.clone()).get("bay-a").await.unwrap();
    assert_eq!(
        status(Api::<Namespace>::all(a).get("bay-b").await).code,
        403
    );

    // A ClusterRole the fake does not have grants nothing (as an unknown one on a cluster).
    let b = server
        .client(&server.service_account_token("bay-b", "bay").await.unwrap())
        .await
        .unwrap();
    let e = status(
        Api::<Secret>::namespaced(b, "bay-b")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(e.code, 403);
}

#[tokio::test]
async fn tokens_are_bound_to_their_service_account() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = server.admin_client().await.unwrap();
    bay(
        &admin,
        "bay-a",
        ("Role", "bay-role"),
        vec![rule(&["secrets"], &["list"])],
    )
    .await;
    let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), "bay-a");

    let issued = sas
        .create_token_request(
            "bay",
            &PostParams::default(),
            &TokenRequest {
                spec: TokenRequestSpec {
                    expiration_seconds: Some(3600),
                    ..TokenRequestSpec::default()
                },
                ..TokenRequest::default()
            },
        )
        .await
        .unwrap();
    let token = issued.status.unwrap().token;
    assert!(!token.is_empty());

    // Too short a lifetime, and an account that does not exist.
    let short = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(60),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    assert_eq!(
        status(
            sas.create_token_request("bay", &PostParams::default(), &short)
                .await
        )
        .code,
        422
    );
    assert_eq!(
        status(
            sas.create_token_request("ghost", &PostParams::default(), &TokenRequest::default())
                .await
        )
        .code,
        404
    );

    let tenant = server.client(&token).await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(tenant, "bay-a");
    secrets.list(&ListParams::default()).await.unwrap();
    // Deleting and recreating the account kills the old token.
    sas.delete("bay", &DeleteParams::default()).await.unwrap();
    assert_eq!(status(secrets.list(&ListParams::default()).await).code, 401);
    sas.create(
        &PostParams::default(),
        &ServiceAccount {
            metadata: named("bay"),
            ..ServiceAccount::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(status(secrets.list(&ListParams::default()).await).code, 401);
}

#[tokio::test]
async fn no_privilege_escalation_through_rbac_objects() {
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = server.admin_client().await.unwrap();
    bay(&admin, "bay-a", ("ClusterRole", "admin"), Vec::new()).await;
    let tenant = server
        .client(&server.service_account_token("bay-a", "bay").await.unwrap())
        .await
        .unwrap();
    let roles: Api<Role> = Api::namespaced(tenant.clone(), "bay-a");
    let role = |name: &str, rules: Vec<PolicyRule>| Role {
        metadata: named(name),
        rules: Some(rules),
    };
    // Within what `admin` holds: fine.
    roles
        .create(
            &PostParams::default(),
            &role("reader", vec![rule(&["secrets"], &["get", "list"])]),
        )
        .await
        .unwrap();
    // Writing quotas, or "*" verbs, is more than it holds.
    for rules in [
        vec![rule(&["resourcequotas"], &["update"])],
        vec![rule(&["secrets"], &["*"])],
    ] {
        let e = status(
            roles
                .create(&PostParams::default(), &role("more", rules))
                .await,
        );
        assert_eq!(e.code, 403);
        assert!(
            e.message
                .contains("is attempting to grant RBAC permissions not currently held"),
            "{}",
            e.message
        );
    }
    // Editing an existing role to grant more is refused the same way.
    let mut reader = roles.get("reader").await.unwrap();
    reader.rules = Some(vec![rule(&["resourcequotas"], &["delete"])]);
    assert_eq!(
        status(
            roles
                .replace("reader", &PostParams::default(), &reader)
                .await
        )
        .code,
        403
    );

    let bindings: Api<RoleBinding> = Api::namespaced(tenant, "bay-a");
    let bind = |name: &str, kind: &str, role: &str| RoleBinding {
        metadata: named(name),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: kind.into(),
            name: role.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: "other".into(),
            ..Subject::default()
        }]),
    };
    bindings
        .create(&PostParams::default(), &bind("r", "Role", "reader"))
        .await
        .unwrap();
    bindings
        .create(&PostParams::default(), &bind("a", "ClusterRole", "admin"))
        .await
        .unwrap();
    let e = status(
        bindings
            .create(&PostParams::default(), &bind("g", "Role", "ghost"))
            .await,
    );
    assert_eq!(e.code, 403);
    assert!(
        e.message
            .contains(r#"role.rbac.authorization.k8s.io "ghost" not found"#),
        "{}",
        e.message
    );
    // The admin may bind anything.
    Api::<Role>::namespaced(admin.clone(), "bay-a")
        .create(
            &PostParams::default(),
            &role("all", vec![rule(&["*"], &["*"])]),
        )
        .await
        .unwrap();
    let e = status(
        bindings
            .create(&PostParams::default(), &bind("x", "Role", "all"))
            .await,
    );
    assert_eq!(e.code, 403);
}

/// The workload kinds a bay's Role grants (as `driver-kubernetes`'s `role_rules()` does):
/// usable in the bay's namespace, refused everywhere else with the real authorizer's words.
#[tokio::test]
async fn workloads_are_confined_to_the_bay_namespace() {
    use k8s_openapi::api::core::v1::{
        Container, Pod, PodSpec, PodTemplateSpec, ReplicationController, ReplicationControllerSpec,
        Service, ServicePort, ServiceSpec,
    };
    use kube::api::{Patch, PatchParams};
    use serde_json::json;

    const READ_WRITE: &[&str] = &[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    let server = FakeKubeApiServer::start(Options::default()).await.unwrap();
    let admin = server.admin_client().await.unwrap();
    let workloads = || {
        vec![rule(
            &["pods", "services", "replicationcontrollers"],
            READ_WRITE,
        )]
    };
    bay(&admin, "bay-a", ("Role", "bay-role"), workloads()).await;
    bay(&admin, "bay-b", ("Role", "bay-role"), workloads()).await;
    let tenant = server
        .client(&server.service_account_token("bay-a", "bay").await.unwrap())
        .await
        .unwrap();
    let container = || Container {
        name: "web".into(),
        image: Some("nginx:1.25".into()),
        ..Container::default()
    };
    let pod = Pod {
        metadata: named("web"),
        spec: Some(PodSpec {
            containers: vec![container()],
            ..PodSpec::default()
        }),
        ..Pod::default()
    };
    let svc = Service {
        metadata: named("web"),
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                port: 80,
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    let rc = ReplicationController {
        metadata: named("web"),
        spec: Some(ReplicationControllerSpec {
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some([("app".to_owned(), "web".to_owned())].into()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container()],
                    ..PodSpec::default()
                }),
            }),
            ..ReplicationControllerSpec::default()
        }),
        ..ReplicationController::default()
    };
    let pp = PostParams::default();
    let dp = DeleteParams::default();
    let lp = ListParams::default();
    let merge = |labels: serde_json::Value| Patch::Merge(json!({"metadata": {"labels": labels}}));

    // In its own namespace: the whole life cycle.
    let pods: Api<Pod> = Api::namespaced(tenant.clone(), "bay-a");
    let svcs: Api<Service> = Api::namespaced(tenant.clone(), "bay-a");
    let rcs: Api<ReplicationController> = Api::namespaced(tenant.clone(), "bay-a");
    pods.create(&pp, &pod).await.unwrap();
    svcs.create(&pp, &svc).await.unwrap();
    rcs.create(&pp, &rc).await.unwrap();
    assert_eq!(pods.list(&lp).await.unwrap().items.len(), 1);
    let got = svcs.get("web").await.unwrap();
    svcs.replace("web", &pp, &got).await.unwrap();
    pods.patch("web", &PatchParams::default(), &merge(json!({"a": "b"})))
        .await
        .unwrap();
    rcs.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
    // The Role has no `replicationcontrollers/scale`.
    let e = status(rcs.get_scale("web").await);
    assert_eq!(
        e.message,
        r#"replicationcontrollers "web" is forbidden: User "system:serviceaccount:bay-a:bay" cannot get resource "replicationcontrollers/scale" in API group "" in the namespace "bay-a""#
    );

    // In another bay's namespace: refused for every verb, with nothing learnt.
    for resource in ["pods", "services", "replicationcontrollers"] {
        let want = format!(
            r#"{resource} is forbidden: User "system:serviceaccount:bay-a:bay" cannot create resource "{resource}" in API group "" in the namespace "bay-b""#
        );
        let e = match resource {
            "pods" => status(
                Api::<Pod>::namespaced(tenant.clone(), "bay-b")
                    .create(&pp, &pod)
                    .await,
            ),
            "services" => status(
                Api::<Service>::namespaced(tenant.clone(), "bay-b")
                    .create(&pp, &svc)
                    .await,
            ),
            _ => status(
                Api::<ReplicationController>::namespaced(tenant.clone(), "bay-b")
                    .create(&pp, &rc)
                    .await,
            ),
        };
        assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));
        assert_eq!(e.message, want);
    }
    Api::<Pod>::namespaced(admin.clone(), "bay-b")
        .create(&pp, &pod)
        .await
        .unwrap();
    let theirs: Api<Pod> = Api::namespaced(tenant.clone(), "bay-b");
    let e = status(theirs.get("web").await);
    assert_eq!(
        e.message,
        r#"pods "web" is forbidden: User "system:serviceaccount:bay-a:bay" cannot get resource "pods" in API group "" in the namespace "bay-b""#
    );
    assert_eq!(status(theirs.delete("web", &dp).await).code, 403);
    assert_eq!(
        status(
            theirs
                .patch("web", &PatchParams::default(), &merge(json!({"a": "b"})))
                .await
        )
        .code,
        403
    );
    let e = status(Api::<Pod>::all(tenant.clone()).list(&lp).await);
    assert_eq!(
        e.message,
        r#"pods is forbidden: User "system:serviceaccount:bay-a:bay" cannot list resource "pods" in API group "" at the cluster scope"#
    );

    // Deleting in its own namespace works.
    pods.delete("web", &dp).await.unwrap();
    svcs.delete("web", &dp).await.unwrap();
    rcs.delete("web", &dp).await.unwrap();
    assert!(rcs.list(&lp).await.unwrap().items.is_empty());
}
