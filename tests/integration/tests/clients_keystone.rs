//! The real clients log in to Keystone and find the gateway in its catalog, as users
//! run them: python-magnumclient 1.1.0 (service type `container`, RegionTwo) and 2.17.0
//! (`container-infra`, RegionOne); 4.11.0 and 5.0.0 (`container-infra`) join 1.1.0 on the
//! same running system. The catalog points at fixed gateway ports, one per
//! region, so the two tests run side by side.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_integration_tests::cli::MagnumCli;
use magnum_integration_tests::{Keystone, TestMesh};

/// The gateway address the catalog lists for `region` (1 or 2).
fn catalog_gateway(keystone: &Keystone, region: u8) -> (String, String) {
    let name = keystone.var(&format!("REGION{region}"));
    let port = keystone.var(&format!("REGION{region}_GATEWAY_PORT"));
    (name, format!("127.0.0.1:{port}"))
}

/// A user's CLI environment, Keystone v3 style (2.x reads these).
fn as_user(cli: MagnumCli, keystone: &Keystone, key: &str, region: &str) -> MagnumCli {
    let user = keystone.user(key);
    cli.with_env("OS_AUTH_URL", &keystone.url())
        .with_env("OS_USERNAME", &user.name)
        .with_env("OS_PASSWORD", &user.password)
        .with_env("OS_PROJECT_NAME", &user.project)
        .with_env("OS_TENANT_NAME", &user.project)
        .with_env("OS_USER_DOMAIN_NAME", &user.domain)
        .with_env("OS_PROJECT_DOMAIN_NAME", &user.domain)
        .with_env("OS_REGION_NAME", region)
}

/// Create, list, show, update and delete a baymodel as alice, and check bob never sees it.
async fn baymodel_lifecycle(alice: &MagnumCli, bob: &MagnumCli, name: &str) {
    let created = alice
        .ok(&[
            "baymodel-create",
            "--name",
            name,
            "--image-id",
            "fedora-atomic",
            "--keypair-id",
            "default",
            "--external-network-id",
            "public",
            "--coe",
            "swarm",
        ])
        .await;
    assert!(created.contains(name), "{created}");
    assert!(created.contains("swarm"), "{created}");

    let listed = alice.ok(&["baymodel-list"]).await;
    assert!(listed.contains(name), "{listed}");
    let shown = alice.ok(&["baymodel-show", name]).await;
    assert!(
        shown.contains("docker"),
        "the swarm default network driver: {shown}"
    );

    let theirs = bob.ok(&["baymodel-list"]).await;
    assert!(
        !theirs.contains(name),
        "bob must not see alice's baymodel: {theirs}"
    );
    let (found, text) = bob.run(&["baymodel-show", name]).await;
    assert!(!found, "bob must not read alice's baymodel: {text}");

    let renamed = format!("{name}-renamed");
    let updated = alice
        .ok(&[
            "baymodel-update",
            name,
            "replace",
            &format!("name={renamed}"),
        ])
        .await;
    assert!(updated.contains(&renamed), "{updated}");
    let deleted = alice.ok(&["baymodel-delete", &renamed]).await;
    assert!(!deleted.contains("failed"), "{deleted}");
    let listed = alice.ok(&["baymodel-list"]).await;
    assert!(!listed.contains(&renamed), "{listed}");
}

#[tokio::test]
async fn magnumclient_2_17_finds_the_gateway_in_the_catalog() {
    let keystone = Keystone::get();
    let (region, gateway) = catalog_gateway(&keystone, 1);
    let mesh = TestMesh::start_keystone(&keystone, &gateway).await;
    let alice = as_user(MagnumCli::v2_17(), &keystone, "ALICE", &region);
    let bob = as_user(MagnumCli::v2_17(), &keystone, "BOB", &region);
    baymodel_lifecycle(&alice, &bob, "catalog-217").await;
    mesh.stop().await;
}

#[tokio::test]
async fn magnumclient_1_1_finds_the_gateway_in_the_catalog() {
    let keystone = Keystone::get();
    let (region, gateway) = catalog_gateway(&keystone, 2);
    let (cluster, kubeconfig) = magnum_integration_tests::host_cluster().await;
    let mesh = TestMesh::start_keystone_with(&keystone, &gateway, |config| {
        config.bay.kubernetes.kubeconfig = Some(kubeconfig);
    })
    .await;
    let alice = as_user(MagnumCli::v1_1(), &keystone, "ALICE", &region);
    let bob = as_user(MagnumCli::v1_1(), &keystone, "BOB", &region);
    baymodel_lifecycle(&alice, &bob, "catalog-110").await;

    // Liberty's node records (1.1.0 is the last client with node commands).
    let created = alice
        .ok(&[
            "node-create",
            "--type",
            "virt",
            "--image-id",
            "fedora-atomic",
        ])
        .await;
    assert!(created.contains("virt"), "{created}");
    let listed = alice.ok(&["node-list"]).await;
    assert!(listed.contains("fedora-atomic"), "{listed}");
    let theirs = bob.ok(&["node-list"]).await;
    assert!(
        !theirs.contains("fedora-atomic"),
        "bob must not see alice's node: {theirs}"
    );

    // Bays: 1.1.0 reads the synchronous-looking 201/200 answers of API 1.1.
    alice
        .ok(&[
            "baymodel-create",
            "--name",
            "swarm-110",
            "--image-id",
            "fedora-atomic",
            "--keypair-id",
            "default",
            "--external-network-id",
            "public",
            "--coe",
            "swarm",
        ])
        .await;
    let created = alice
        .ok(&["bay-create", "--name", "bay-110", "--baymodel", "swarm-110"])
        .await;
    assert!(created.contains("CREATE_IN_PROGRESS"), "{created}");
    alice.wait_for_bay("bay-110", "CREATE_COMPLETE").await;
    let listed = alice.ok(&["bay-list"]).await;
    assert!(listed.contains("bay-110"), "{listed}");
    assert!(!bob.ok(&["bay-list"]).await.contains("bay-110"));
    let updated = alice
        .ok(&["bay-update", "bay-110", "replace", "node_count=2"])
        .await;
    assert!(updated.contains("node_count"), "{updated}");
    alice.wait_for_bay("bay-110", "UPDATE_COMPLETE").await;

    // Today's clients, logged in to the same Keystone, see 1.1.0's bay as a cluster of the
    // same running system: 4.11.0's `magnum` and 5.0.0's `openstack coe`.
    let alice_411 = as_user(MagnumCli::v4_11(), &keystone, "ALICE", &region);
    let shown = alice_411.ok(&["cluster-show", "bay-110"]).await;
    assert!(shown.contains("UPDATE_COMPLETE"), "{shown}");
    let bob_411 = as_user(MagnumCli::v4_11(), &keystone, "BOB", &region);
    assert!(!bob_411.ok(&["cluster-list"]).await.contains("bay-110"));
    let alice_5 = as_user(MagnumCli::openstack_v5(), &keystone, "ALICE", &region);
    let shown = alice_5
        .json(&["coe", "cluster", "show", "bay-110", "-f", "json"])
        .await;
    assert_eq!(shown["node_count"], 2, "{shown}");
    let groups = alice_5
        .json(&["coe", "nodegroup", "list", "bay-110", "-f", "json"])
        .await;
    assert!(groups.to_string().contains("default-worker"), "{groups}");
    let ca = alice.ok(&["ca-show", "--bay", "bay-110"]).await;
    assert!(ca.contains("BEGIN CERTIFICATE"), "{ca}");
    let dir = magnum_integration_tests::temp_dir();
    let csr = magnum_testkit::openssl::csr(&dir, "alice-110");
    let signed = alice
        .ok(&[
            "ca-sign",
            "--bay",
            "bay-110",
            "--csr",
            csr.to_str().unwrap(),
        ])
        .await;
    assert!(
        magnum_testkit::openssl::verifies(&dir, &ca, &signed),
        "{signed}"
    );

    // Containers on the bay, through the real Docker engine (the image is imported
    // locally by scripts/docker.sh, never pulled).
    let image = magnum_testkit::docker::image();
    let created = alice
        .ok(&[
            "container-create",
            "--name",
            "box-110",
            "--image",
            &image,
            "--bay",
            "bay-110",
            "--command",
            "sh -c 'echo hello-110; sleep 300'",
            "--memory",
            "64m",
        ])
        .await;
    assert!(created.contains("box-110"), "{created}");
    assert!(alice.ok(&["container-list"]).await.contains("box-110"));
    assert!(!bob.ok(&["container-list"]).await.contains("box-110"));
    alice.ok(&["container-start", "box-110"]).await;
    let shown = alice.ok(&["container-show", "box-110"]).await;
    assert!(shown.contains("Running"), "{shown}");
    let logs = alice.ok(&["container-logs", "box-110"]).await;
    assert!(logs.contains("hello-110"), "{logs}");
    let executed = alice
        .ok(&["container-exec", "box-110", "--command", "echo from-exec"])
        .await;
    assert!(executed.contains("from-exec"), "{executed}");
    alice.ok(&["container-pause", "box-110"]).await;
    assert!(
        alice
            .ok(&["container-show", "box-110"])
            .await
            .contains("Paused")
    );
    alice.ok(&["container-unpause", "box-110"]).await;
    alice.ok(&["container-reboot", "box-110"]).await;
    alice.ok(&["container-stop", "box-110"]).await;
    assert!(
        alice
            .ok(&["container-show", "box-110"])
            .await
            .contains("Stopped")
    );
    alice.ok(&["container-delete", "box-110"]).await;
    assert!(!alice.ok(&["container-list"]).await.contains("box-110"));

    alice.ok(&["bay-delete", "bay-110"]).await;
    alice.wait_until_bay_gone("bay-110").await;

    kubernetes_objects_110(&alice, &bob, &cluster).await;
    mesh.stop().await;
}

/// 1.1.0's pod-, coe-service- and rc- commands with manifest files, on a kubernetes bay
/// of the host cluster (the fake API server unless `MAGNUM_TEST_KUBECONFIG` is set).
async fn kubernetes_objects_110(
    alice: &MagnumCli,
    bob: &MagnumCli,
    cluster: &magnum_integration_tests::HostCluster,
) {
    use magnum_integration_tests::manifests::{POD, RC, SERVICE};

    alice
        .ok(&[
            "baymodel-create",
            "--name",
            "k8s-110",
            "--image-id",
            "fedora-atomic",
            "--keypair-id",
            "default",
            "--external-network-id",
            "public",
            "--coe",
            "kubernetes",
        ])
        .await;
    alice
        .ok(&["bay-create", "--name", "kube-110", "--baymodel", "k8s-110"])
        .await;
    let shown = alice.wait_for_bay("kube-110", "CREATE_COMPLETE").await;
    let bay_uuid = shown
        .lines()
        .find(|line| line.starts_with("| uuid"))
        .and_then(|line| line.split('|').nth(2))
        .map(|uuid| uuid.trim().to_owned())
        .unwrap_or_else(|| panic!("no uuid in {shown}"));

    let dir = magnum_integration_tests::temp_dir();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (pod, service, rc) = (
        write("pod.yaml", POD),
        write("service.json", SERVICE),
        write("rc.yaml", RC),
    );

    let created = alice
        .ok(&["pod-create", "--manifest", &pod, "--bay", "kube-110"])
        .await;
    assert!(created.contains("redis-master"), "{created}");
    let listed = alice.ok(&["pod-list", "kube-110"]).await;
    assert!(listed.contains("redis-master"), "{listed}");
    assert!(
        !bob.ok(&["pod-list", "kube-110"])
            .await
            .contains("redis-master")
    );
    let shown = alice.ok(&["pod-show", "redis-master", "kube-110"]).await;
    assert!(
        shown.contains("Running") || shown.contains("Pending"),
        "the phase the cluster reports: {shown}"
    );
    alice.ok(&["pod-delete", "redis-master", "kube-110"]).await;
    assert!(
        !alice
            .ok(&["pod-list", "kube-110"])
            .await
            .contains("redis-master")
    );

    let created = alice
        .ok(&[
            "coe-service-create",
            "--manifest",
            &service,
            "--bay",
            "kube-110",
        ])
        .await;
    assert!(created.contains("redis"), "{created}");
    let listed = alice.ok(&["coe-service-list", "kube-110"]).await;
    assert!(listed.contains("redis"), "{listed}");
    let shown = alice.ok(&["coe-service-show", "redis", "kube-110"]).await;
    assert!(shown.contains("6379"), "{shown}");
    alice.ok(&["coe-service-delete", "redis", "kube-110"]).await;

    let created = alice
        .ok(&["rc-create", "--manifest", &rc, "--bay", "kube-110"])
        .await;
    assert!(created.contains("web"), "{created}");
    assert!(alice.ok(&["rc-list", "kube-110"]).await.contains("web"));
    let updated = alice
        .ok(&["rc-update", "web", "kube-110", "replace", "replicas=3"])
        .await;
    assert!(updated.contains('3'), "{updated}");
    let shown = alice.ok(&["rc-show", "web", "kube-110"]).await;
    assert!(shown.contains("nginx"), "{shown}");
    alice.ok(&["rc-delete", "web", "kube-110"]).await;
    assert!(!alice.ok(&["rc-list", "kube-110"]).await.contains("web"));

    // Nothing of them is left in the bay's namespace.
    let admin = cluster.admin_client().await;
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(admin, &format!("magnum-{bay_uuid}"));
    assert!(
        pods.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    alice.ok(&["bay-delete", "kube-110"]).await;
    alice.wait_until_bay_gone("kube-110").await;
}
