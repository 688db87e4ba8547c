#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the driver does when the cluster is away, refuses, or is half-way through something.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{bay, cluster, driver, driver_with, namespace_of, status};
use fake_kube_apiserver::{FakeKubeApiServer, Options};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use magnum_bay_driver::{BayDriver, DriverError, Provisioned};
use magnum_driver_kubernetes::{KubernetesConfig, KubernetesConfigError, KubernetesDriver};

/// A kubeconfig for a port nothing listens on.
async fn closed_port_kubeconfig(dir: &tempfile::TempDir) -> (std::path::PathBuf, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: {url}\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\ncurrent-context: gone\n"
        ),
    )
    .unwrap();
    (path, url)
}

#[tokio::test]
async fn unreachable_api_server_is_unavailable_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (path, url) = closed_port_kubeconfig(&dir).await;
    let driver = KubernetesDriver::new(KubernetesConfig {
        kubeconfig: Some(path),
        request_timeout_secs: 5,
        ..KubernetesConfig::default()
    })
    .await
    .unwrap();
    let bay = bay(1);

    let e = driver.create(&bay).await.unwrap_err();
    assert!(matches!(e, DriverError::Unavailable(_)), "{e:?}");
    let prefix = format!("Kubernetes API server {url} is unreachable: ");
    assert!(e.message().starts_with(&prefix), "{e}");
    assert!(e.message().to_lowercase().contains("connect"), "{e}");

    let e = driver.delete(&bay, None).await.unwrap_err();
    assert!(matches!(e, DriverError::Unavailable(_)), "{e:?}");

    // Health answers: the bay is unhealthy because the cluster cannot be reached.
    let health = driver.health(&bay, &Provisioned::default()).await.unwrap();
    assert!(!health.is_healthy());
    let reason = health.nodes[0].reason.clone().unwrap();
    assert!(reason.starts_with(&prefix), "{reason}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections but never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
    let driver = KubernetesDriver::from_client(
        client,
        &url,
        KubernetesConfig {
            request_timeout_secs: 1,
            ..KubernetesConfig::default()
        },
    )
    .unwrap();
    let e = driver.create(&bay(1)).await.unwrap_err();
    assert!(matches!(e, DriverError::Unavailable(_)), "{e:?}");
    assert!(e.message().contains("did not answer within 1s"), "{e}");
}

#[tokio::test]
async fn kubeconfig_problems_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = KubernetesDriver::new(KubernetesConfig {
        kubeconfig: Some(dir.path().join("nope")),
        ..KubernetesConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(missing, KubernetesConfigError::Kubeconfig { .. }),
        "{missing}"
    );

    let server = cluster().await;
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, server.kubeconfig_yaml(server.admin_token())).unwrap();
    let wrong_context = KubernetesDriver::new(KubernetesConfig {
        kubeconfig: Some(path.clone()),
        context: Some("production".into()),
        ..KubernetesConfig::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(
        wrong_context,
        KubernetesConfigError::Context { .. }
    ));
    assert!(
        wrong_context.to_string().contains("\"production\""),
        "{wrong_context}"
    );

    // The fake's own context, named explicitly, works.
    let driver = KubernetesDriver::new(KubernetesConfig {
        kubeconfig: Some(path),
        context: Some("fake".into()),
        ..KubernetesConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(driver.server(), server.url());
    driver.create(&bay(1)).await.unwrap();

    let bad_prefix = KubernetesDriver::new(KubernetesConfig {
        namespace_prefix: "Bays_".into(),
        ..KubernetesConfig::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(
        bad_prefix,
        KubernetesConfigError::NamespacePrefix(_)
    ));
}

#[tokio::test]
async fn a_quota_the_server_refuses_is_invalid() {
    let server = cluster().await;
    let (driver, _dir) = driver_with(
        &server,
        KubernetesConfig {
            quota_per_node: BTreeMap::from([("gpus".to_owned(), "1".to_owned())]),
            ..KubernetesConfig::default()
        },
    )
    .await;
    let e = driver.create(&bay(1)).await.unwrap_err();
    assert!(matches!(e, DriverError::Invalid(_)), "{e:?}");
    assert!(
        e.message()
            .contains("must be a standard resource for quota"),
        "{e}"
    );
    assert!(
        e.message()
            .starts_with("creating ResourceQuota magnum-bay-quota"),
        "{e}"
    );
}

#[tokio::test]
async fn a_namespace_that_is_not_the_bays_is_left_alone() {
    let server = cluster().await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver(&server).await;
    let bay = bay(1);
    let ns = namespace_of(&bay);
    Api::<Namespace>::all(admin.clone())
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.clone()),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            },
        )
        .await
        .unwrap();

    let e = driver.create(&bay).await.unwrap_err();
    assert!(matches!(e, DriverError::Invalid(_)), "{e:?}");
    assert!(e.message().contains("does not belong to bay"), "{e}");
    let e = driver.delete(&bay, None).await.unwrap_err();
    assert!(matches!(e, DriverError::Invalid(_)), "{e:?}");
    Api::<Namespace>::all(admin).get(&ns).await.unwrap();
}

async fn terminating_cluster(seconds: u64) -> FakeKubeApiServer {
    FakeKubeApiServer::start(Options {
        namespace_termination: Duration::from_secs(seconds),
        ..Options::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn delete_waits_for_a_terminating_namespace() {
    let server = terminating_cluster(1).await;
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
async fn delete_gives_up_waiting_but_succeeds_and_create_meanwhile_fails() {
    let server = terminating_cluster(300).await;
    let admin = server.admin_client().await.unwrap();
    let (driver, _dir) = driver_with(
        &server,
        KubernetesConfig {
            delete_wait_secs: 1,
            ..KubernetesConfig::default()
        },
    )
    .await;
    let bay = bay(1);
    let provisioned = driver.create(&bay).await.unwrap();
    driver.delete(&bay, Some(&provisioned)).await.unwrap();
    let ns = Api::<Namespace>::all(admin.clone())
        .get(&namespace_of(&bay))
        .await
        .unwrap();
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    // Deleting again while it terminates is fine; so is health (unhealthy).
    driver.delete(&bay, None).await.unwrap();
    let health = driver.health(&bay, &provisioned).await.unwrap();
    assert!(
        health.nodes[0]
            .reason
            .as_deref()
            .unwrap()
            .ends_with("is Terminating, not Active"),
        "{health:?}"
    );
    let e = driver.create(&bay).await.unwrap_err();
    assert!(e.message().contains("is being deleted"), "{e}");
    // A namespace deleted by hand (not through the driver) is waited for the same way.
    let other = common::bay(1);
    driver.create(&other).await.unwrap();
    Api::<Namespace>::all(admin)
        .delete(&namespace_of(&other), &DeleteParams::default())
        .await
        .unwrap();
    driver.delete(&other, None).await.unwrap();
}
