#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The bay lifecycle against the strict fake API server: create, create again, resize,
//! health, delete.

mod common;

use std::collections::BTreeMap;

use common::{PROJECT, bay, cluster, driver, namespace_of, status};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ResourceQuota, Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::{Client, ResourceExt};
use magnum_bay_driver::{BayDriver, NodeRole};
use magnum_driver_kubernetes::{
    BAY_UUID_LABEL, KubernetesBayState, MANAGED_LABEL, NETWORK_POLICY_NAME, PROJECT_KEY,
    QUOTA_NAME, ROLE_BINDING_NAME, ROLE_NAME, SERVICE_ACCOUNT_NAME,
};

fn hard(quota: &ResourceQuota) -> BTreeMap<String, String> {
    quota
        .spec
        .as_ref()
        .and_then(|s| s.hard.as_ref())
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect()
}

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("k".to_owned(), "v".to_owned())])),
        ..ConfigMap::default()
    }
}

/// Every object of the bay, by (kind, name), with its resourceVersion.
async fn versions(admin: &Client, ns: &str) -> Vec<(String, String)> {
    let lp = ListParams::default();
    let mut out = Vec::new();
    macro_rules! collect {
        ($kind:ty) => {
            for o in Api::<$kind>::namespaced(admin.clone(), ns)
                .list(&lp)
                .await
                .unwrap()
            {
                out.push((
                    format!("{}/{}", stringify!($kind), o.name_any()),
                    o.resource_version().unwrap(),
                ));
            }
        };
    }
    collect!(ResourceQuota);
    collect!(NetworkPolicy);
    collect!(ServiceAccount);
    collect!(Role);
    collect!(RoleBinding);
    let ns = Api::<Namespace>::all(admin.clone()).get(ns).await.unwrap();
    out.push(("Namespace".into(), ns.resource_version().unwrap()));
    out
}

#[tokio::test]
async fn create_makes_an_isolated_namespace_with_a_working_token() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(2);
    let ns = namespace_of(&bay);

    let provisioned = driver.create(&bay).await.unwrap();

    assert_eq!(
        provisioned.api_address.as_deref(),
        Some(server.url().as_str())
    );
    assert_eq!(provisioned.nodes.len(), 1);
    assert_eq!(provisioned.nodes[0].name, "apiserver");
    assert_eq!(provisioned.nodes[0].address, "127.0.0.1");
    assert_eq!(provisioned.nodes[0].role, NodeRole::Master);
    let state: KubernetesBayState = serde_json::from_value(provisioned.state.clone()).unwrap();
    assert_eq!(state.namespace, ns);
    assert_eq!(state.server, server.url());
    assert_eq!(state.service_account, SERVICE_ACCOUNT_NAME);
    assert!(state.token_expires_at.is_some());
    // A plain-http kubeconfig: no CA to record, verification not turned off.
    assert!(state.certificate_authority_pem.is_empty());
    assert!(!state.insecure_skip_tls_verify);
    let token = String::from_utf8(provisioned.credential.clone().unwrap()).unwrap();
    assert!(!provisioned.state.to_string().contains(&token));

    let namespace = Api::<Namespace>::all(admin.clone()).get(&ns).await.unwrap();
    let labels = namespace.labels();
    assert_eq!(labels[MANAGED_LABEL], "true");
    assert_eq!(labels[BAY_UUID_LABEL], bay.uuid.to_string());
    assert_eq!(labels[PROJECT_KEY], PROJECT);
    assert_eq!(namespace.annotations()[PROJECT_KEY], PROJECT);

    let quota = Api::<ResourceQuota>::namespaced(admin.clone(), &ns)
        .get(QUOTA_NAME)
        .await
        .unwrap();
    let expected: BTreeMap<String, String> = [
        ("pods", "40"),
        ("services", "20"),
        ("replicationcontrollers", "20"),
        ("requests.cpu", "4"),
        ("requests.memory", "8Gi"),
        ("limits.cpu", "8"),
        ("limits.memory", "16Gi"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(hard(&quota), expected);
    assert_eq!(quota.labels()[BAY_UUID_LABEL], bay.uuid.to_string());

    let policy = Api::<NetworkPolicy>::namespaced(admin.clone(), &ns)
        .get(NETWORK_POLICY_NAME)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(policy.spec.unwrap()).unwrap(),
        serde_json::json!({
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{ "from": [{ "podSelector": {} }] }],
        })
    );
    Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
        .get(SERVICE_ACCOUNT_NAME)
        .await
        .unwrap();
    let role = Api::<Role>::namespaced(admin.clone(), &ns)
        .get(ROLE_NAME)
        .await
        .unwrap();
    assert!(role.rules.unwrap().iter().any(|r| {
        r.resources.as_ref().unwrap().contains(&"pods".to_owned())
            && r.verbs.contains(&"create".to_owned())
    }));
    let binding = Api::<RoleBinding>::namespaced(admin.clone(), &ns)
        .get(ROLE_BINDING_NAME)
        .await
        .unwrap();
    assert_eq!(binding.role_ref.name, ROLE_NAME);

    // The token works inside the bay's namespace ...
    let tenant = server.client(&token).await.unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(tenant.clone(), &ns);
    config_maps
        .create(&PostParams::default(), &config_map("app-config"))
        .await
        .unwrap();
    assert_eq!(
        config_maps
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let secrets: Api<Secret> = Api::namespaced(tenant.clone(), &ns);
    secrets
        .create(
            &PostParams::default(),
            &Secret {
                metadata: ObjectMeta {
                    name: Some("db-password".into()),
                    ..ObjectMeta::default()
                },
                string_data: Some(BTreeMap::from([("password".into(), "s3cret".into())])),
                ..Secret::default()
            },
        )
        .await
        .unwrap();
    Api::<ResourceQuota>::namespaced(tenant.clone(), &ns)
        .get(QUOTA_NAME)
        .await
        .unwrap();

    // ... but cannot loosen its own limits or grant itself more.
    let mut quota = quota.clone();
    quota.spec.as_mut().unwrap().hard = None;
    let e = status(
        Api::<ResourceQuota>::namespaced(tenant.clone(), &ns)
            .replace(QUOTA_NAME, &PostParams::default(), &quota)
            .await,
    );
    assert_eq!(e.code, 403);
    let e = status(
        Api::<NetworkPolicy>::namespaced(tenant.clone(), &ns)
            .delete(NETWORK_POLICY_NAME, &DeleteParams::default())
            .await,
    );
    assert_eq!(e.code, 403);
    let e = status(
        Api::<Role>::namespaced(tenant.clone(), &ns)
            .get(ROLE_NAME)
            .await,
    );
    assert_eq!(e.code, 403);

    // Cluster-scoped requests are refused.
    let e = status(
        Api::<Namespace>::all(tenant.clone())
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(e.code, 403);
    assert!(e.message.contains("at the cluster scope"), "{}", e.message);

    // Another bay's namespace is out of reach.
    let other = common::bay(1);
    driver.create(&other).await.unwrap();
    let e = status(
        Api::<ConfigMap>::namespaced(tenant.clone(), &namespace_of(&other))
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(e.code, 403);
    let e = status(
        Api::<ConfigMap>::namespaced(tenant, &namespace_of(&other))
            .create(&PostParams::default(), &config_map("intruder"))
            .await,
    );
    assert_eq!(e.code, 403);
}

#[tokio::test]
async fn create_twice_is_the_same_bay() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    let ns = namespace_of(&bay);

    let first = driver.create(&bay).await.unwrap();
    let before = versions(&admin, &ns).await;
    let second = driver.create(&bay).await.unwrap();
    let after = versions(&admin, &ns).await;

    // Nothing was written the second time, and nothing is doubled.
    assert_eq!(before, after);
    assert_eq!(before.len(), 6);
    assert_eq!(first.api_address, second.api_address);
    assert_eq!(first.nodes, second.nodes);
    let state = |p: &magnum_bay_driver::Provisioned| {
        let mut s: KubernetesBayState = serde_json::from_value(p.state.clone()).unwrap();
        s.token_expires_at = None;
        s
    };
    assert_eq!(state(&first), state(&second));
    // Each create hands out a working token.
    for p in [&first, &second] {
        let token = String::from_utf8(p.credential.clone().unwrap()).unwrap();
        let tenant = server.client(&token).await.unwrap();
        Api::<ConfigMap>::namespaced(tenant, &ns)
            .list(&ListParams::default())
            .await
            .unwrap();
    }
    let bays = Api::<Namespace>::all(admin)
        .list(&ListParams::default().labels(&format!("{BAY_UUID_LABEL}={}", bay.uuid)))
        .await
        .unwrap();
    assert_eq!(bays.items.len(), 1);
}

#[tokio::test]
async fn create_again_repairs_what_was_changed_or_lost() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    let ns = namespace_of(&bay);
    driver.create(&bay).await.unwrap();

    Api::<NetworkPolicy>::namespaced(admin.clone(), &ns)
        .delete(NETWORK_POLICY_NAME, &DeleteParams::default())
        .await
        .unwrap();
    let quotas = Api::<ResourceQuota>::namespaced(admin.clone(), &ns);
    let mut quota = quotas.get(QUOTA_NAME).await.unwrap();
    quota.spec.as_mut().unwrap().hard.as_mut().unwrap().insert(
        "pods".into(),
        k8s_openapi::apimachinery::pkg::api::resource::Quantity("1000".into()),
    );
    quotas
        .replace(QUOTA_NAME, &PostParams::default(), &quota)
        .await
        .unwrap();

    driver.create(&bay).await.unwrap();
    Api::<NetworkPolicy>::namespaced(admin.clone(), &ns)
        .get(NETWORK_POLICY_NAME)
        .await
        .unwrap();
    assert_eq!(hard(&quotas.get(QUOTA_NAME).await.unwrap())["pods"], "20");
}

#[tokio::test]
async fn resize_changes_the_quota() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let mut bay = bay(1);
    let ns = namespace_of(&bay);
    let created = driver.create(&bay).await.unwrap();

    bay.node_count = 5;
    let resized = driver.resize(&bay, &created).await.unwrap();
    let quota = Api::<ResourceQuota>::namespaced(admin.clone(), &ns)
        .get(QUOTA_NAME)
        .await
        .unwrap();
    let hard = hard(&quota);
    assert_eq!(hard["pods"], "100");
    assert_eq!(hard["requests.memory"], "20Gi");
    assert_eq!(hard["limits.cpu"], "20");
    // None = the credential is unchanged; the state is carried over.
    assert_eq!(resized.credential, None);
    assert_eq!(resized.state, created.state);
    assert_eq!(resized.nodes, created.nodes);

    // Repeating the resize writes nothing.
    let rv = quota.resource_version();
    driver.resize(&bay, &resized).await.unwrap();
    let again = Api::<ResourceQuota>::namespaced(admin, &ns)
        .get(QUOTA_NAME)
        .await
        .unwrap();
    assert_eq!(again.resource_version(), rv);

    bay.node_count = 2;
    driver.resize(&bay, &resized).await.unwrap();
}

#[tokio::test]
async fn resize_of_a_missing_bay_fails() {
    let server = cluster().await;
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    let created = driver.create(&bay).await.unwrap();
    driver.delete(&bay, Some(&created)).await.unwrap();
    let e = driver.resize(&bay, &created).await.unwrap_err();
    assert!(e.message().contains("does not exist"), "{e}");
}

#[tokio::test]
async fn delete_removes_the_namespace_and_everything_in_it() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    let ns = namespace_of(&bay);
    let keep = common::bay(1);
    driver.create(&keep).await.unwrap();
    let provisioned = driver.create(&bay).await.unwrap();
    let token = String::from_utf8(provisioned.credential.clone().unwrap()).unwrap();
    let tenant = server.client(&token).await.unwrap();
    Api::<ConfigMap>::namespaced(tenant.clone(), &ns)
        .create(&PostParams::default(), &config_map("app"))
        .await
        .unwrap();

    driver.delete(&bay, Some(&provisioned)).await.unwrap();

    assert_eq!(
        status(Api::<Namespace>::all(admin.clone()).get(&ns).await).code,
        404
    );
    let selector = ListParams::default().labels(&format!("{BAY_UUID_LABEL}={}", bay.uuid));
    assert!(
        Api::<ServiceAccount>::all(admin.clone())
            .list(&selector)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        Api::<Role>::all(admin.clone())
            .list(&selector)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        Api::<ResourceQuota>::all(admin.clone())
            .list(&selector)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        Api::<ConfigMap>::all(admin.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // The bay's token died with its ServiceAccount.
    assert_eq!(
        status(
            Api::<ConfigMap>::namespaced(tenant, &ns)
                .list(&ListParams::default())
                .await
        )
        .code,
        401
    );
    // The other bay is untouched.
    Api::<Namespace>::all(admin.clone())
        .get(&namespace_of(&keep))
        .await
        .unwrap();

    // Deleting again, with or without the stored provisioning, is fine.
    driver.delete(&bay, Some(&provisioned)).await.unwrap();
    driver.delete(&bay, None).await.unwrap();
}

#[tokio::test]
async fn delete_without_provisioning_finds_the_namespace_by_uuid() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    driver.create(&bay).await.unwrap();
    driver.delete(&bay, None).await.unwrap();
    assert_eq!(
        status(Api::<Namespace>::all(admin).get(&namespace_of(&bay)).await).code,
        404
    );
}

#[tokio::test]
async fn health_follows_the_namespace() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    let ns = namespace_of(&bay);
    let provisioned = driver.create(&bay).await.unwrap();

    let health = driver.health(&bay, &provisioned).await.unwrap();
    assert!(health.is_healthy());
    assert_eq!(health.nodes.len(), 1);
    assert_eq!(health.nodes[0].name, "apiserver");
    assert_eq!(health.nodes[0].reason, None);

    Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
        .delete(SERVICE_ACCOUNT_NAME, &DeleteParams::default())
        .await
        .unwrap();
    let health = driver.health(&bay, &provisioned).await.unwrap();
    assert!(!health.is_healthy());
    assert_eq!(
        health.nodes[0].reason.as_deref(),
        Some(format!("ServiceAccount magnum-bay is missing from namespace {ns}").as_str())
    );

    Api::<Namespace>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
    let health = driver.health(&bay, &provisioned).await.unwrap();
    assert!(!health.is_healthy());
    assert_eq!(
        health.nodes[0].reason.as_deref(),
        Some(format!("namespace {ns} does not exist").as_str())
    );
}
