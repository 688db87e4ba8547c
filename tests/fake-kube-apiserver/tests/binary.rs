#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The standalone dev binary: it serves, and the kubeconfig it writes loads with `kube`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Kills the server when the test ends, passing or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn dev_binary_writes_a_loadable_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    let _server = Running(
        Command::new(env!("CARGO_BIN_EXE_fake-kube-apiserver"))
            .args(["--listen", "127.0.0.1:0", "--kubeconfig-out"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no kubeconfig written"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &KubeConfigOptions {
            context: Some("fake".into()),
            ..KubeConfigOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(config.cluster_url.host(), Some("127.0.0.1"));
    let client = kube::Client::try_from(config).unwrap();
    let namespaces = Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        namespaces
            .iter()
            .any(|ns| ns.metadata.name.as_deref() == Some("default"))
    );
}
