#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The fake driven through the real `kube` client: the verbs on every served kind, and the
//! refusals a real API server makes. Nothing here depends on the fake beyond starting it
//! and getting a client, so the same calls are meant to run against a real cluster.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

use fake_kube_apiserver::{FakeKubeApiServer, Options, UnknownFields};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Namespace, Pod, PodSpec, PodTemplateSpec, ReplicationController,
    ReplicationControllerSpec, ResourceQuota, ResourceQuotaSpec, Secret, Service, ServiceAccount,
    ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    Preconditions,
};
use kube::core::Status;
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

async fn start() -> (FakeKubeApiServer, Client) {
    start_with(Options::default()).await
}

async fn start_with(options: Options) -> (FakeKubeApiServer, Client) {
    let server = FakeKubeApiServer::start(options).await.unwrap();
    let client = server.admin_client().await.unwrap();
    (server, client)
}

/// The `Status` of a failed call; panics if the call succeeded or failed otherwise.
fn status<T: Debug>(r: Result<T, kube::Error>) -> Box<Status> {
    match r {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn meta(name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..ObjectMeta::default()
    }
}

async fn create_ns(client: &Client, name: &str) -> Namespace {
    let api: Api<Namespace> = Api::all(client.clone());
    api.create(
        &PostParams::default(),
        &Namespace {
            metadata: meta(name, &[]),
            ..Namespace::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn namespace_lifecycle() {
    let (_s, client) = start().await;
    let api: Api<Namespace> = Api::all(client.clone());
    let created = api
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: meta("bay-1", &[("magnum.openstack.org/bay", "1")]),
                ..Namespace::default()
            },
        )
        .await
        .unwrap();
    assert!(created.uid().is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(
        created.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Active")
    );
    assert_eq!(
        created
            .labels()
            .get("kubernetes.io/metadata.name")
            .map(String::as_str),
        Some("bay-1")
    );

    let got = api.get("bay-1").await.unwrap();
    assert_eq!(got.resource_version(), created.resource_version());

    // The system namespaces exist; the selector picks only ours.
    let all = api.list(&ListParams::default()).await.unwrap();
    assert!(all.items.iter().any(|n| n.name_any() == "kube-system"));
    let ours = api
        .list(&ListParams::default().labels("magnum.openstack.org/bay=1"))
        .await
        .unwrap();
    assert_eq!(ours.items.len(), 1);
    assert_eq!(ours.items[0].name_any(), "bay-1");

    // replace with the current resourceVersion, then with the stale one
    let mut edited = got.clone();
    edited.labels_mut().insert("tier".into(), "gold".into());
    let replaced = api
        .replace("bay-1", &PostParams::default(), &edited)
        .await
        .unwrap();
    assert_ne!(replaced.resource_version(), got.resource_version());
    let stale = status(api.replace("bay-1", &PostParams::default(), &edited).await);
    assert_eq!(stale.code, 409);
    assert_eq!(stale.reason, "Conflict");
    assert!(stale.message.contains("the object has been modified"));

    let patched = api
        .patch(
            "bay-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "silver"}}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.labels()["tier"], "silver");

    // DELETE answers with the namespace in Terminating; by default it is gone at once.
    let deleted = api.delete("bay-1", &DeleteParams::default()).await.unwrap();
    let ns = deleted.left().expect("namespace delete returns the object");
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(ns.metadata.deletion_timestamp.is_some());
    assert_eq!(status(api.get("bay-1").await).code, 404);
}

/// How a kind's DELETE answers, as on a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteAnswer {
    /// A `Status` of `Success` (secrets, configmaps, ...).
    Status,
    /// The deleted object (service accounts, services; pods, marked for graceful deletion;
    /// replication controllers, with the `orphan` finalizer).
    Object,
}

/// create / get / list by label / replace / merge and strategic patch / delete, for one kind.
async fn crud<K>(api: Api<K>, mut obj: K, answer: DeleteAnswer)
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
{
    let name = obj.name_any();
    obj.labels_mut().insert("suite".into(), "crud".into());
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    assert!(created.uid().is_some(), "{name}: uid");
    assert!(created.resource_version().is_some(), "{name}: rv");

    let got = api.get(&name).await.unwrap();
    assert_eq!(got.uid(), created.uid());

    let listed = api
        .list(&ListParams::default().labels("suite=crud"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1, "{name}: list by label");
    let none = api
        .list(&ListParams::default().labels("suite=other"))
        .await
        .unwrap();
    assert!(none.items.is_empty());

    let mut edited = got.clone();
    edited.labels_mut().insert("step".into(), "replace".into());
    let replaced = api
        .replace(&name, &PostParams::default(), &edited)
        .await
        .unwrap();
    assert_eq!(replaced.labels()["step"], "replace");
    let conflict = status(api.replace(&name, &PostParams::default(), &edited).await);
    assert_eq!(conflict.code, 409, "{name}: stale replace");

    let merged = api
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"step": "merge"}}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.labels()["step"], "merge");
    let strategic = api
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"step": "strategic"}}})),
        )
        .await
        .unwrap();
    assert_eq!(strategic.labels()["step"], "strategic");

    let deleted = api.delete(&name, &DeleteParams::default()).await.unwrap();
    match answer {
        DeleteAnswer::Status => {
            let st = deleted
                .right()
                .unwrap_or_else(|| panic!("{name}: delete returns a Status"));
            assert_eq!(st.details.map(|d| d.name), Some(name.clone()));
        }
        DeleteAnswer::Object => {
            let gone = deleted
                .left()
                .unwrap_or_else(|| panic!("{name}: delete returns the object"));
            assert_eq!(gone.uid(), created.uid());
        }
    }
    assert_eq!(status(api.get(&name).await).code, 404, "{name}: gone");
}

#[tokio::test]
async fn every_namespaced_kind_supports_the_verbs() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let ns = "bay-1";
    crud(
        Api::<ServiceAccount>::namespaced(client.clone(), ns),
        ServiceAccount {
            metadata: meta("bay-admin", &[]),
            ..ServiceAccount::default()
        },
        DeleteAnswer::Object,
    )
    .await;
    crud(
        Api::<Secret>::namespaced(client.clone(), ns),
        Secret {
            metadata: meta("bay-ca", &[]),
            string_data: Some(BTreeMap::from([("ca.crt".to_owned(), "PEM".to_owned())])),
            ..Secret::default()
        },
        DeleteAnswer::Status,
    )
    .await;
    crud(
        Api::<ConfigMap>::namespaced(client.clone(), ns),
        ConfigMap {
            metadata: meta("bay-config", &[]),
            data: Some(BTreeMap::from([("app.conf".to_owned(), "x=1".to_owned())])),
            ..ConfigMap::default()
        },
        DeleteAnswer::Status,
    )
    .await;
    crud(
        Api::<ResourceQuota>::namespaced(client.clone(), ns),
        ResourceQuota {
            metadata: meta("bay-quota", &[]),
            spec: Some(ResourceQuotaSpec {
                hard: Some(BTreeMap::from([
                    ("pods".to_owned(), Quantity("10".into())),
                    ("requests.memory".to_owned(), Quantity("4Gi".into())),
                ])),
                ..ResourceQuotaSpec::default()
            }),
            ..ResourceQuota::default()
        },
        DeleteAnswer::Status,
    )
    .await;
    crud(
        Api::<Pod>::namespaced(client.clone(), ns),
        Pod {
            metadata: meta("web", &[]),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "web".into(),
                    image: Some("nginx:1.25".into()),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            ..Pod::default()
        },
        DeleteAnswer::Object,
    )
    .await;
    crud(
        Api::<Service>::namespaced(client.clone(), ns),
        Service {
            metadata: meta("web", &[]),
            spec: Some(ServiceSpec {
                selector: Some(BTreeMap::from([("app".to_owned(), "web".to_owned())])),
                ports: Some(vec![ServicePort {
                    port: 80,
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        },
        DeleteAnswer::Object,
    )
    .await;
    crud(
        Api::<ReplicationController>::namespaced(client.clone(), ns),
        ReplicationController {
            metadata: meta("web", &[]),
            spec: Some(ReplicationControllerSpec {
                template: Some(PodTemplateSpec {
                    metadata: Some(meta("", &[("app", "web")])),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "web".into(),
                            image: Some("nginx:1.25".into()),
                            ..Container::default()
                        }],
                        ..PodSpec::default()
                    }),
                }),
                ..ReplicationControllerSpec::default()
            }),
            ..ReplicationController::default()
        },
        DeleteAnswer::Object,
    )
    .await;
    crud(
        Api::<NetworkPolicy>::namespaced(client.clone(), ns),
        deny_other_namespaces("bay-isolation"),
        DeleteAnswer::Status,
    )
    .await;
    crud(
        Api::<Role>::namespaced(client.clone(), ns),
        Role {
            metadata: meta("bay-role", &[]),
            rules: Some(vec![rule(&[""], &["pods"], &["get", "list"])]),
        },
        DeleteAnswer::Status,
    )
    .await;
    crud(
        Api::<RoleBinding>::namespaced(client.clone(), ns),
        binding("bay-binding", "Role", "bay-role", ns, "bay-admin"),
        DeleteAnswer::Status,
    )
    .await;
}

fn deny_other_namespaces(name: &str) -> NetworkPolicy {
    use k8s_openapi::api::networking::v1::{NetworkPolicyIngressRule, NetworkPolicyPeer};
    NetworkPolicy {
        metadata: meta(name, &[]),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector::default()),
                    ..NetworkPolicyPeer::default()
                }]),
                ..NetworkPolicyIngressRule::default()
            }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(v(groups)),
        resources: Some(v(resources)),
        verbs: v(verbs),
        ..PolicyRule::default()
    }
}

fn binding(name: &str, role_kind: &str, role: &str, sa_ns: &str, sa: &str) -> RoleBinding {
    RoleBinding {
        metadata: meta(name, &[]),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: role_kind.into(),
            name: role.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: sa.into(),
            namespace: Some(sa_ns.into()),
            ..Subject::default()
        }]),
    }
}

#[tokio::test]
async fn already_exists_not_found_and_missing_namespace() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let api: Api<Namespace> = Api::all(client.clone());
    let dup = status(
        api.create(
            &PostParams::default(),
            &Namespace {
                metadata: meta("bay-1", &[]),
                ..Namespace::default()
            },
        )
        .await,
    );
    assert_eq!((dup.code, dup.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(dup.message, r#"namespaces "bay-1" already exists"#);

    let missing = status(api.get("nope").await);
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, r#"namespaces "nope" not found"#);

    let roles: Api<Role> = Api::namespaced(client.clone(), "bay-1");
    let e = status(roles.get("nope").await);
    assert_eq!(
        e.message,
        r#"roles.rbac.authorization.k8s.io "nope" not found"#
    );

    // Creating in a namespace that does not exist is a 404 about the namespace.
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "ghost");
    let e = status(
        sas.create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: meta("sa", &[]),
                ..ServiceAccount::default()
            },
        )
        .await,
    );
    assert_eq!(e.code, 404);
    assert_eq!(e.message, r#"namespaces "ghost" not found"#);

    let e = status(sas.delete("sa", &DeleteParams::default()).await);
    assert_eq!(e.code, 404);
}

#[tokio::test]
async fn namespace_delete_cascades() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    create_ns(&client, "bay-2").await;
    for ns in ["bay-1", "bay-2"] {
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
        sas.create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: meta("bay-admin", &[]),
                ..ServiceAccount::default()
            },
        )
        .await
        .unwrap();
        let np: Api<NetworkPolicy> = Api::namespaced(client.clone(), ns);
        np.create(&PostParams::default(), &deny_other_namespaces("iso"))
            .await
            .unwrap();
    }
    Api::<Namespace>::all(client.clone())
        .delete("bay-1", &DeleteParams::default())
        .await
        .unwrap();
    let all_sas: Api<ServiceAccount> = Api::all(client.clone());
    let left: Vec<String> = all_sas
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|s| s.namespace().unwrap_or_default())
        .collect();
    assert_eq!(left, vec!["bay-2".to_owned()]);
    // Recreating the namespace starts empty.
    create_ns(&client, "bay-1").await;
    let np: Api<NetworkPolicy> = Api::namespaced(client.clone(), "bay-1");
    assert!(
        np.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn terminating_namespace_refuses_new_content() {
    let (_s, client) = start_with(Options {
        namespace_termination: Duration::from_secs(300),
        ..Options::default()
    })
    .await;
    create_ns(&client, "bay-1").await;
    let api: Api<Namespace> = Api::all(client.clone());
    api.delete("bay-1", &DeleteParams::default()).await.unwrap();
    let ns = api.get("bay-1").await.unwrap();
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "bay-1");
    let e = status(
        secrets
            .create(
                &PostParams::default(),
                &Secret {
                    metadata: meta("s", &[]),
                    ..Secret::default()
                },
            )
            .await,
    );
    assert_eq!(e.code, 403);
    assert!(
        e.message.contains(
            "unable to create new content in namespace bay-1 because it is being terminated"
        ),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn invalid_names_are_422() {
    let (_s, client) = start().await;
    let api: Api<Namespace> = Api::all(client.clone());
    let e = status(
        api.create(
            &PostParams::default(),
            &Namespace {
                metadata: meta("Bay_1", &[]),
                ..Namespace::default()
            },
        )
        .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(
        e.message.starts_with(r#"Namespace "Bay_1" is invalid: metadata.name: Invalid value: "Bay_1": a lowercase RFC 1123 label"#),
        "{}",
        e.message
    );
    // A dot is fine in a subdomain but not in a label.
    let e = status(
        api.create(
            &PostParams::default(),
            &Namespace {
                metadata: meta("a.b", &[]),
                ..Namespace::default()
            },
        )
        .await,
    );
    assert_eq!(e.code, 422);
    create_ns(&client, "bay-1").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "bay-1");
    let ok = Secret {
        metadata: meta("a.b", &[]),
        ..Secret::default()
    };
    secrets.create(&PostParams::default(), &ok).await.unwrap();
    let bad = Secret {
        metadata: meta("system:admin", &[]),
        ..Secret::default()
    };
    assert_eq!(
        status(secrets.create(&PostParams::default(), &bad).await).code,
        422
    );
    // RBAC names are path segments: a colon and capitals are fine there.
    let roles: Api<Role> = Api::namespaced(client.clone(), "bay-1");
    roles
        .create(
            &PostParams::default(),
            &Role {
                metadata: meta("system:Bay-Role", &[]),
                rules: None,
            },
        )
        .await
        .unwrap();
    // Bad label values are refused too.
    let e = status(
        secrets
            .create(
                &PostParams::default(),
                &Secret {
                    metadata: meta("s", &[("bay", "not valid!")]),
                    ..Secret::default()
                },
            )
            .await,
    );
    assert_eq!(e.code, 422);
}

#[tokio::test]
async fn name_or_generate_name_is_required() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "bay-1");
    let e = status(
        sas.create(&PostParams::default(), &ServiceAccount::default())
            .await,
    );
    assert_eq!(e.code, 422);
    assert!(
        e.message.contains("name or generateName is required"),
        "{}",
        e.message
    );
    let generated = sas
        .create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: ObjectMeta {
                    generate_name: Some("bay-".into()),
                    ..ObjectMeta::default()
                },
                ..ServiceAccount::default()
            },
        )
        .await
        .unwrap();
    let name = generated.name_any();
    assert!(name.starts_with("bay-") && name.len() == 9, "{name}");
}

fn dynamic(client: &Client, ar: &ApiResource, ns: Option<&str>) -> Api<DynamicObject> {
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

#[tokio::test]
async fn wrong_kind_api_version_and_namespace_are_400() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let ns_ar = ApiResource::erase::<Namespace>(&());
    let api = dynamic(&client, &ns_ar, None);
    let mut obj = DynamicObject::new("x", &ns_ar);
    obj.types.as_mut().unwrap().kind = "Secret".into();
    let e = status(api.create(&PostParams::default(), &obj).await);
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));

    let mut obj = DynamicObject::new("x", &ns_ar);
    obj.types.as_mut().unwrap().api_version = "v2".into();
    let e = status(api.create(&PostParams::default(), &obj).await);
    assert_eq!(e.code, 400);
    assert!(
        e.message
            .contains("does not match the expected API version"),
        "{}",
        e.message
    );

    // A namespace in the body that differs from the URL's.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "bay-1");
    let mut s = Secret {
        metadata: meta("s", &[]),
        ..Secret::default()
    };
    s.metadata.namespace = Some("default".into());
    let e = status(secrets.create(&PostParams::default(), &s).await);
    assert_eq!(e.code, 400);
    assert_eq!(
        e.message,
        "the namespace of the provided object does not match the namespace sent on the request"
    );

    // Wrong field types are decode errors.
    let sec_ar = ApiResource::erase::<Secret>(&());
    let mut bad = DynamicObject::new("s2", &sec_ar);
    bad.data = json!({"type": 5});
    let e = status(
        dynamic(&client, &sec_ar, Some("bay-1"))
            .create(&PostParams::default(), &bad)
            .await,
    );
    assert_eq!(e.code, 400);
}

#[tokio::test]
async fn unknown_fields() {
    // Default: always strict.
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let ar = ApiResource::erase::<NetworkPolicy>(&());
    let api = dynamic(&client, &ar, Some("bay-1"));
    let mut obj = DynamicObject::new("np", &ar);
    obj.data = json!({"spec": {"podSelector": {}, "podSelektor": {}}});
    let e = status(api.create(&PostParams::default(), &obj).await);
    assert_eq!(e.code, 400);
    assert_eq!(
        e.message,
        r#"strict decoding error: unknown field "spec.podSelektor""#
    );

    // Like a real server: dropped by default (Warn), refused when the request asks Strict.
    let (_s2, client) = start_with(Options {
        unknown_fields: UnknownFields::Warn,
        ..Options::default()
    })
    .await;
    create_ns(&client, "bay-1").await;
    let api = dynamic(&client, &ar, Some("bay-1"));
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    assert!(created.data["spec"].get("podSelektor").is_none());
    let strict = PatchParams::default().validation_strict();
    let e = status(
        api.patch("np", &strict, &Patch::Merge(json!({"spec": {"bogus": 1}})))
            .await,
    );
    assert_eq!(e.code, 400);
    assert!(
        e.message.contains(r#"unknown field "spec.bogus""#),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn replace_rules() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "bay-1");
    let sa = sas
        .create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: meta("sa", &[]),
                ..ServiceAccount::default()
            },
        )
        .await
        .unwrap();
    // No resourceVersion: refused (stricter than most real kinds, see README).
    let mut blind = sa.clone();
    blind.metadata.resource_version = None;
    assert_eq!(
        status(sas.replace("sa", &PostParams::default(), &blind).await).code,
        422
    );
    // A no-op replace keeps the resourceVersion.
    let same = sas
        .replace("sa", &PostParams::default(), &sa)
        .await
        .unwrap();
    assert_eq!(same.resource_version(), sa.resource_version());
    // PUT does not create.
    let mut other = sa.clone();
    other.metadata.name = Some("other".into());
    assert_eq!(
        status(sas.replace("other", &PostParams::default(), &other).await).code,
        404
    );
    // Name in the body must match the URL.
    assert_eq!(
        status(sas.replace("sa", &PostParams::default(), &other).await).code,
        400
    );
    // Creating with a resourceVersion fails as on a real server.
    assert_eq!(
        status(sas.create(&PostParams::default(), &other).await).code,
        500
    );
    // Patch with a stale resourceVersion is a conflict too.
    let e = status(
        sas.patch(
            "sa",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1", "labels": {"a": "b"}}})),
        )
        .await,
    );
    assert_eq!(e.code, 409);
    // Delete preconditions.
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("not-the-uid".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    assert_eq!(status(sas.delete("sa", &dp).await).code, 409);
    // Server-side apply is not implemented and says so.
    let e = status(
        sas.patch(
            "sa",
            &PatchParams::apply("test"),
            &Patch::Apply(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}),
            ),
        )
        .await,
    );
    assert_eq!(e.code, 415);
}

#[tokio::test]
async fn kind_specific_rules() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;

    // Secrets: stringData lands in data; type is immutable.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "bay-1");
    let s = secrets
        .create(
            &PostParams::default(),
            &Secret {
                metadata: meta("s", &[]),
                string_data: Some(BTreeMap::from([("k".to_owned(), "v".to_owned())])),
                ..Secret::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(s.data.as_ref().unwrap()["k"].0, b"v".to_vec());
    assert!(s.string_data.is_none());
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    let mut retyped = s.clone();
    retyped.type_ = Some("kubernetes.io/tls".into());
    assert_eq!(
        status(secrets.replace("s", &PostParams::default(), &retyped).await).code,
        422
    );

    // RoleBindings: roleRef is checked and immutable.
    let rbs: Api<RoleBinding> = Api::namespaced(client.clone(), "bay-1");
    let mut bad = binding("rb", "Role", "r", "bay-1", "sa");
    bad.role_ref.kind = "Pod".into();
    assert_eq!(
        status(rbs.create(&PostParams::default(), &bad).await).code,
        422
    );
    let rb = rbs
        .create(
            &PostParams::default(),
            &binding("rb", "Role", "r", "bay-1", "sa"),
        )
        .await
        .unwrap();
    let mut moved = rb.clone();
    moved.role_ref.name = "other".into();
    let e = status(rbs.replace("rb", &PostParams::default(), &moved).await);
    assert_eq!(e.code, 422);
    assert!(e.message.contains("cannot change roleRef"), "{}", e.message);

    // Roles: every rule needs verbs.
    let roles: Api<Role> = Api::namespaced(client.clone(), "bay-1");
    let e = status(
        roles
            .create(
                &PostParams::default(),
                &Role {
                    metadata: meta("r", &[]),
                    rules: Some(vec![rule(&[""], &["pods"], &[])]),
                },
            )
            .await,
    );
    assert_eq!(e.code, 422);

    // NetworkPolicies: generation follows spec changes; policyTypes are checked.
    let nps: Api<NetworkPolicy> = Api::namespaced(client.clone(), "bay-1");
    let np = nps
        .create(&PostParams::default(), &deny_other_namespaces("iso"))
        .await
        .unwrap();
    assert_eq!(np.metadata.generation, Some(1));
    let relabelled = nps
        .patch(
            "iso",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(relabelled.metadata.generation, Some(1));
    let respec = nps
        .patch(
            "iso",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"policyTypes": ["Ingress", "Egress"]}})),
        )
        .await
        .unwrap();
    assert_eq!(respec.metadata.generation, Some(2));
    let e = status(
        nps.patch(
            "iso",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"policyTypes": ["Sideways"]}})),
        )
        .await,
    );
    assert_eq!(e.code, 422);

    // ResourceQuotas: quantities parse, names are standard, status.hard mirrors spec.hard.
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), "bay-1");
    let q = |k: &str, v: &str| ResourceQuota {
        metadata: meta("q", &[]),
        spec: Some(ResourceQuotaSpec {
            hard: Some(BTreeMap::from([(k.to_owned(), Quantity(v.into()))])),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    };
    assert_eq!(
        status(
            quotas
                .create(&PostParams::default(), &q("pods", "ten"))
                .await
        )
        .code,
        400
    );
    assert_eq!(
        status(quotas.create(&PostParams::default(), &q("gpus", "1")).await).code,
        422
    );
    let created = quotas
        .create(&PostParams::default(), &q("pods", "10"))
        .await
        .unwrap();
    assert_eq!(
        created
            .status
            .and_then(|s| s.hard)
            .map(|h| h["pods"].0.clone()),
        Some("10".to_owned())
    );
}

#[tokio::test]
async fn list_selectors_and_pages() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "bay-1");
    for (name, tier) in [("a", "x"), ("b", "y"), ("c", "x")] {
        sas.create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: meta(name, &[("tier", tier)]),
                ..ServiceAccount::default()
            },
        )
        .await
        .unwrap();
    }
    let names = |l: kube::core::ObjectList<ServiceAccount>| -> Vec<String> {
        l.items.iter().map(ResourceExt::name_any).collect()
    };
    let lp = ListParams::default();
    assert_eq!(
        names(sas.list(&lp.clone().labels("tier=x")).await.unwrap()),
        ["a", "c"]
    );
    assert_eq!(
        names(sas.list(&lp.clone().labels("tier!=x")).await.unwrap()),
        ["b"]
    );
    assert_eq!(
        names(sas.list(&lp.clone().labels("tier in (y,z)")).await.unwrap()),
        ["b"]
    );
    assert_eq!(
        names(
            sas.list(&lp.clone().fields("metadata.name=c"))
                .await
                .unwrap()
        ),
        ["c"]
    );
    assert_eq!(
        status(sas.list(&lp.clone().labels("tier=(")).await).code,
        400
    );
    assert_eq!(
        status(sas.list(&lp.clone().fields("spec.x=1")).await).code,
        400
    );

    let page1 = sas.list(&lp.clone().limit(2)).await.unwrap();
    let cont = page1.metadata.continue_.clone().unwrap();
    assert_eq!(names(page1), ["a", "b"]);
    let page2 = sas
        .list(&lp.clone().limit(2).continue_token(&cont))
        .await
        .unwrap();
    assert!(page2.metadata.continue_.is_none());
    assert_eq!(names(page2), ["c"]);

    let gone = sas
        .delete_collection(&DeleteParams::default(), &lp.clone().labels("tier=x"))
        .await
        .unwrap();
    assert_eq!(gone.left().map(|l| l.items.len()), Some(2));
    assert_eq!(names(sas.list(&lp).await.unwrap()), ["b"]);
}

#[tokio::test]
async fn discovery() {
    let (_s, client) = start().await;
    let core = client.list_core_api_versions().await.unwrap();
    assert_eq!(core.versions, ["v1"]);
    let v1 = client.list_core_api_resources("v1").await.unwrap();
    for name in [
        "serviceaccounts/token",
        "pods",
        "services",
        "replicationcontrollers",
        "replicationcontrollers/scale",
    ] {
        assert!(v1.resources.iter().any(|r| r.name == name), "{name}");
    }
    let pods = v1.resources.iter().find(|r| r.name == "pods").unwrap();
    assert!(pods.namespaced && pods.kind == "Pod");
    assert!(pods.verbs.iter().any(|v| v == "deletecollection"));
    let groups = client.list_api_groups().await.unwrap();
    let names: Vec<&str> = groups.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["networking.k8s.io", "rbac.authorization.k8s.io"]);
    let rbac = client
        .list_api_group_resources("rbac.authorization.k8s.io/v1")
        .await
        .unwrap();
    assert_eq!(rbac.resources.len(), 2);
    assert_eq!(client.apiserver_version().await.unwrap().minor, "33");
}

#[tokio::test]
async fn concurrent_writes_get_distinct_increasing_versions() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "bay-1");
    let writes = (0..20).map(|i| {
        let api = secrets.clone();
        tokio::spawn(async move {
            api.create(
                &PostParams::default(),
                &Secret {
                    metadata: meta(&format!("s{i}"), &[]),
                    ..Secret::default()
                },
            )
            .await
            .unwrap()
        })
    });
    let mut rvs: Vec<u64> = Vec::new();
    for w in writes.collect::<Vec<_>>() {
        rvs.push(
            w.await
                .unwrap()
                .resource_version()
                .unwrap()
                .parse()
                .unwrap(),
        );
    }
    rvs.sort_unstable();
    rvs.dedup();
    assert_eq!(rvs.len(), 20);
    let listed = secrets.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 20);
    let list_rv: u64 = listed.metadata.resource_version.unwrap().parse().unwrap();
    assert!(list_rv >= *rvs.last().unwrap());
    // An update moves past every earlier version.
    let updated = secrets
        .patch(
            "s0",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert!(updated.resource_version().unwrap().parse::<u64>().unwrap() > list_rv);
}

#[tokio::test]
async fn config_map_rules() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "bay-1");
    let cm = |name: &str, data: &[(&str, &str)], binary: &[(&str, &str)]| ConfigMap {
        metadata: meta(name, &[]),
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        binary_data: (!binary.is_empty()).then(|| {
            binary
                .iter()
                .map(|(k, v)| {
                    (
                        (*k).to_owned(),
                        k8s_openapi::ByteString(v.as_bytes().to_vec()),
                    )
                })
                .collect()
        }),
        ..ConfigMap::default()
    };
    let e = status(
        cms.create(&PostParams::default(), &cm("bad", &[("a/b", "x")], &[]))
            .await,
    );
    assert_eq!(e.code, 422);
    assert!(e.message.contains("data[a/b]"), "{}", e.message);
    let e = status(
        cms.create(
            &PostParams::default(),
            &cm("dup", &[("k", "x")], &[("k", "y")]),
        )
        .await,
    );
    assert_eq!(e.code, 422);
    assert!(
        e.message.contains("duplicate of key present in binaryData"),
        "{}",
        e.message
    );
    // An immutable ConfigMap keeps its data.
    let mut frozen = cm("frozen", &[("k", "x")], &[]);
    frozen.immutable = Some(true);
    let mut frozen = cms.create(&PostParams::default(), &frozen).await.unwrap();
    frozen.data = Some(BTreeMap::from([("k".to_owned(), "y".to_owned())]));
    let e = status(cms.replace("frozen", &PostParams::default(), &frozen).await);
    assert_eq!(e.code, 422);
}

#[tokio::test]
async fn network_policy_bodies_are_validated() {
    let (_s, client) = start().await;
    create_ns(&client, "bay-1").await;
    let nps: Api<NetworkPolicy> = Api::namespaced(client.clone(), "bay-1");
    let mut np = deny_other_namespaces("iso");
    let spec = np.spec.as_mut().unwrap();
    spec.ingress = Some(vec![
        k8s_openapi::api::networking::v1::NetworkPolicyIngressRule {
            from: Some(vec![
                k8s_openapi::api::networking::v1::NetworkPolicyPeer::default(),
            ]),
            ports: None,
        },
    ]);
    let e = status(nps.create(&PostParams::default(), &np).await);
    assert_eq!(e.code, 422);
    assert_eq!(
        e.message,
        r#"NetworkPolicy.networking.k8s.io "iso" is invalid: spec.ingress[0].from[0]: Required value: must specify a peer"#
    );
}
