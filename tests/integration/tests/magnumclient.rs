//! The real python-magnumclient 2.17.0 CLI (installed by `make test-deps` into a pinned
//! virtualenv) manages baymodels through the gateway in no-auth mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use magnum_integration_tests::TestMesh;

/// Path of the `magnum` executable of python-magnumclient 2.17.0.
fn magnum_cli() -> String {
    std::env::var("MAGNUM_TEST_MAGNUMCLIENT_217").unwrap_or_else(|_| {
        let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.deps/venv-magnumclient-2.17.0/bin/magnum");
        assert!(
            std::path::Path::new(default).exists(),
            "python-magnumclient 2.17.0 is not installed: run `make test-deps` (or set MAGNUM_TEST_MAGNUMCLIENT_217)"
        );
        default.to_owned()
    })
}

struct Cli {
    program: String,
    endpoint: String,
}

impl Cli {
    /// Runs one command; returns (success, stdout + stderr).
    async fn run(&self, args: &[&str]) -> (bool, String) {
        let output = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new(&self.program)
                .args(["--os-token", "x", "--os-endpoint-override", &self.endpoint])
                .args(args)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("magnum CLI finished within 60 s")
        .expect("magnum CLI runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (success, text) = self.run(args).await;
        assert!(success, "magnum {args:?} failed:\n{text}");
        text
    }
}

#[tokio::test]
async fn magnumclient_2_17_manages_baymodels() {
    let mesh = TestMesh::start().await;
    let cli = Cli {
        program: magnum_cli(),
        endpoint: mesh.endpoint(),
    };

    let created = cli
        .ok(&[
            "baymodel-create",
            "--name",
            "cli-model",
            "--image-id",
            "fedora-atomic",
            "--keypair-id",
            "default",
            "--external-network-id",
            "public",
            "--coe",
            "kubernetes",
            "--docker-volume-size",
            "3",
            "--labels",
            "os_distro=fedora-atomic",
        ])
        .await;
    assert!(created.contains("cli-model"), "{created}");
    assert!(created.contains("fedora-atomic"), "{created}");

    let listed = cli.ok(&["baymodel-list"]).await;
    assert!(listed.contains("cli-model"), "{listed}");

    let shown = cli.ok(&["baymodel-show", "cli-model"]).await;
    assert!(shown.contains("kubernetes"), "{shown}");
    assert!(shown.contains("flannel"), "{shown}");

    let updated = cli
        .ok(&[
            "baymodel-update",
            "cli-model",
            "replace",
            "name=cli-renamed",
        ])
        .await;
    assert!(updated.contains("cli-renamed"), "{updated}");
    let relabelled = cli
        .ok(&[
            "baymodel-update",
            "cli-renamed",
            "replace",
            "labels=tier=gold",
        ])
        .await;
    assert!(relabelled.contains("gold"), "{relabelled}");

    let shown = cli.ok(&["baymodel-show", "cli-renamed"]).await;
    assert!(shown.contains("tier"), "{shown}");

    let deleted = cli.ok(&["baymodel-delete", "cli-renamed"]).await;
    assert!(!deleted.contains("failed"), "{deleted}");
    let listed = cli.ok(&["baymodel-list"]).await;
    assert!(!listed.contains("cli-renamed"), "{listed}");

    // Errors: 2.17.0 in token mode cannot read JSON error bodies (a client bug), but the
    // command must fail.
    let (success, text) = cli.run(&["baymodel-show", "no-such-model"]).await;
    assert!(!success, "{text}");
    mesh.stop().await;
}
