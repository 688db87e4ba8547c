//! Shared helpers: a fake host cluster, a driver on it, and bays.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use fake_kube_apiserver::{FakeKubeApiServer, Options};
use kube::core::Status;
use magnum_bay_driver::BayRef;
use magnum_driver_kubernetes::{KubernetesConfig, KubernetesDriver};

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

pub async fn cluster() -> FakeKubeApiServer {
    FakeKubeApiServer::start(Options::default()).await.unwrap()
}

/// A driver on `server` as its admin, built from a kubeconfig file the way a service is.
pub async fn driver_with(
    server: &FakeKubeApiServer,
    config: KubernetesConfig,
) -> (KubernetesDriver, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, server.kubeconfig_yaml(server.admin_token())).unwrap();
    let driver = KubernetesDriver::new(KubernetesConfig {
        kubeconfig: Some(path),
        ..config
    })
    .await
    .unwrap();
    (driver, dir)
}

pub async fn driver(server: &FakeKubeApiServer) -> (KubernetesDriver, tempfile::TempDir) {
    driver_with(server, KubernetesConfig::default()).await
}

pub fn bay(node_count: u32) -> BayRef {
    BayRef {
        uuid: uuid::Uuid::new_v4(),
        name: Some("test-bay".into()),
        project_id: PROJECT.into(),
        node_count,
        master_count: 1,
        labels: BTreeMap::new(),
    }
}

pub fn namespace_of(bay: &BayRef) -> String {
    format!("magnum-{}", bay.uuid)
}

/// The API `Status` of a failed call.
pub fn status<T: Debug>(r: Result<T, kube::Error>) -> Box<Status> {
    match r {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
