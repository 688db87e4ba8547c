//! Today's clients on the modern API (`/v1/clustertemplates`, `/v1/clusters`, node
//! groups, quotas, stats, certificates) through the gateway in no-auth mode (the caller
//! is an admin of `noauth-project`), with swarm clusters on the test Docker engine:
//! python-magnumclient 2.17.0 and 4.11.0 (`magnum`) and 5.0.0 (`openstack coe`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_integration_tests::TestMesh;
use magnum_integration_tests::cli::MagnumCli;

/// The project every no-auth request acts in.
const PROJECT: &str = "noauth-project";

fn magnum(cli: MagnumCli, endpoint: &str) -> MagnumCli {
    cli.with_args(&["--os-token", "x", "--os-endpoint-override", endpoint])
}

/// `magnum cluster-*`, `ca-*`, `quotas-*` and `stats-list` as 2.17.0 and 4.11.0 share them.
async fn magnum_cli_manages_clusters(cli: &MagnumCli, suffix: &str) {
    let template = format!("tmpl-{suffix}");
    let cluster = format!("clu-{suffix}");
    let created = cli
        .ok(&[
            "cluster-template-create",
            "--name",
            &template,
            "--image",
            "fedora-atomic",
            "--external-network",
            "public",
            "--coe",
            "swarm",
            "--labels",
            "tier=gold",
        ])
        .await;
    assert!(created.contains(&template), "{created}");
    assert!(created.contains("noauth-project"), "owner shown: {created}");
    let listed = cli.ok(&["cluster-template-list"]).await;
    assert!(listed.contains(&template), "{listed}");
    let shown = cli.ok(&["cluster-template-show", &template]).await;
    assert!(shown.contains("swarm"), "{shown}");
    let updated = cli
        .ok(&[
            "cluster-template-update",
            &template,
            "replace",
            "labels=tier=silver",
        ])
        .await;
    assert!(updated.contains("silver"), "{updated}");

    let accepted = cli
        .ok(&[
            "cluster-create",
            "--name",
            &cluster,
            "--cluster-template",
            &template,
            "--node-count",
            "1",
            "--labels",
            "extra=1",
        ])
        .await;
    assert!(accepted.contains("accepted"), "{accepted}");
    let shown = cli
        .wait_for(&["cluster-show", &cluster], "CREATE_COMPLETE")
        .await;
    assert!(shown.contains("api_address"), "{shown}");
    let listed = cli.ok(&["cluster-list"]).await;
    assert!(listed.contains(&cluster), "{listed}");

    let resized = cli
        .ok(&["cluster-update", &cluster, "replace", "node_count=2"])
        .await;
    assert!(resized.contains("accepted"), "{resized}");
    cli.wait_for(&["cluster-show", &cluster], "UPDATE_COMPLETE")
        .await;

    // The template is in use now.
    let (deleted, text) = cli.run(&["cluster-template-delete", &template]).await;
    assert!(
        !deleted || text.contains("failed"),
        "an in-use template stays: {text}"
    );

    let ca = cli.ok(&["ca-show", "--cluster", &cluster]).await;
    assert!(ca.contains("BEGIN CERTIFICATE"), "{ca}");
    let dir = magnum_integration_tests::temp_dir();
    let csr = magnum_testkit::openssl::csr(&dir, "cli-user");
    let signed = cli
        .ok(&[
            "ca-sign",
            "--cluster",
            &cluster,
            "--csr",
            csr.to_str().unwrap(),
        ])
        .await;
    assert!(
        magnum_testkit::openssl::verifies(&dir, &ca, &signed),
        "signed by the cluster's CA: {signed}"
    );
    // Token mode reads the 202 badly (a client bug) but the rotation is made.
    cli.run(&["ca-rotate", "--cluster", &cluster]).await;
    let rotated = cli.ok(&["ca-show", "--cluster", &cluster]).await;
    assert!(rotated.contains("BEGIN CERTIFICATE"), "{rotated}");
    assert_ne!(rotated, ca, "a new CA after ca-rotate");

    let services = cli.ok(&["service-list"]).await;
    for binary in ["magnum-bay-svc", "magnum-gateway", "magnum-k8s-svc"] {
        assert!(services.contains(binary), "{binary}: {services}");
    }
    assert!(services.contains("up"), "{services}");

    let stats = cli.ok(&["stats-list"]).await;
    assert!(stats.contains("clusters"), "{stats}");

    let quota = cli
        .ok(&[
            "quotas-create",
            "--project-id",
            PROJECT,
            "--resource",
            "Cluster",
            "--hard-limit",
            "5",
        ])
        .await;
    assert!(quota.contains('5'), "{quota}");
    let shown = cli
        .ok(&[
            "quotas-show",
            "--project-id",
            PROJECT,
            "--resource",
            "Cluster",
        ])
        .await;
    assert!(shown.contains("hard_limit"), "{shown}");
    let updated = cli
        .ok(&[
            "quotas-update",
            "--project-id",
            PROJECT,
            "--resource",
            "Cluster",
            "--hard-limit",
            "7",
        ])
        .await;
    assert!(updated.contains('7'), "{updated}");
    let listed = cli.ok(&["quotas-list"]).await;
    assert!(listed.contains(PROJECT), "{listed}");
    cli.ok(&[
        "quotas-delete",
        "--project-id",
        PROJECT,
        "--resource",
        "Cluster",
    ])
    .await;

    let deleted = cli.ok(&["cluster-delete", &cluster]).await;
    assert!(!deleted.contains("failed"), "{deleted}");
    cli.wait_until_gone(&["cluster-list"], &cluster).await;
    let deleted = cli.ok(&["cluster-template-delete", &template]).await;
    assert!(!deleted.contains("failed"), "{deleted}");
}

#[tokio::test]
async fn magnumclient_2_17_manages_clusters() {
    let mesh = TestMesh::start().await;
    let cli = magnum(MagnumCli::v2_17(), &mesh.endpoint());
    magnum_cli_manages_clusters(&cli, "217").await;
    mesh.stop().await;
}

#[tokio::test]
async fn magnumclient_4_11_manages_clusters() {
    let mesh = TestMesh::start().await;
    let cli = magnum(MagnumCli::v4_11(), &mesh.endpoint());
    magnum_cli_manages_clusters(&cli, "411").await;
    mesh.stop().await;
}

#[tokio::test]
async fn openstack_coe_5_0_manages_clusters_and_node_groups() {
    let mesh = TestMesh::start().await;
    let endpoint = mesh.endpoint();
    let cli = MagnumCli::openstack_v5().with_args(&[
        "--os-auth-type",
        "none",
        "--os-endpoint",
        &endpoint,
    ]);

    let template = cli
        .json(&[
            "coe",
            "cluster",
            "template",
            "create",
            "tmpl-5",
            "--coe",
            "swarm",
            "--image",
            "fedora-atomic",
            "--external-network",
            "public",
            "-f",
            "json",
        ])
        .await;
    assert_eq!(template["name"], "tmpl-5", "{template}");
    let templates = cli
        .json(&["coe", "cluster", "template", "list", "-f", "json"])
        .await;
    assert!(templates.to_string().contains("tmpl-5"), "{templates}");

    // 5.0.0 posts the template's name as typed in cluster_template_id.
    let accepted = cli
        .ok(&[
            "coe",
            "cluster",
            "create",
            "clu-5",
            "--cluster-template",
            "tmpl-5",
            "--node-count",
            "1",
        ])
        .await;
    assert!(accepted.contains("accepted"), "{accepted}");
    cli.wait_for(
        &["coe", "cluster", "show", "clu-5", "-f", "json"],
        "CREATE_COMPLETE",
    )
    .await;
    let clusters = cli.json(&["coe", "cluster", "list", "-f", "json"]).await;
    assert!(clusters.to_string().contains("clu-5"), "{clusters}");

    let resized = cli.ok(&["coe", "cluster", "resize", "clu-5", "2"]).await;
    assert!(resized.contains("accepted"), "{resized}");
    let shown = cli
        .wait_for(
            &["coe", "cluster", "show", "clu-5", "-f", "json"],
            "UPDATE_COMPLETE",
        )
        .await;
    assert!(shown.contains("\"node_count\": 2"), "{shown}");

    let groups = cli
        .json(&["coe", "nodegroup", "list", "clu-5", "-f", "json"])
        .await;
    let names: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default-master", "default-worker"], "{groups}");
    let worker = cli
        .json(&[
            "coe",
            "nodegroup",
            "show",
            "clu-5",
            "default-worker",
            "-f",
            "json",
        ])
        .await;
    assert_eq!(worker["node_count"], 2, "{worker}");
    assert_eq!(worker["role"], "worker", "{worker}");

    // A group without nodes leaves the cluster's size alone (the test pool has two engines).
    let created = cli
        .ok(&[
            "coe",
            "nodegroup",
            "create",
            "clu-5",
            "spare",
            "--node-count",
            "0",
        ])
        .await;
    assert!(created.contains("accepted"), "{created}");
    cli.ok(&[
        "coe",
        "nodegroup",
        "update",
        "clu-5",
        "spare",
        "--max-nodes",
        "3",
    ])
    .await;
    let spare = cli
        .json(&["coe", "nodegroup", "show", "clu-5", "spare", "-f", "json"])
        .await;
    assert_eq!(spare["max_node_count"], 3, "{spare}");
    assert_eq!(spare["is_default"], false, "{spare}");
    cli.ok(&["coe", "nodegroup", "delete", "clu-5", "spare"])
        .await;
    let groups = cli
        .json(&["coe", "nodegroup", "list", "clu-5", "-f", "json"])
        .await;
    assert_eq!(groups.as_array().unwrap().len(), 2, "{groups}");

    let ca = cli.ok(&["coe", "ca", "show", "clu-5"]).await;
    assert!(ca.contains("BEGIN CERTIFICATE"), "{ca}");
    let dir = magnum_integration_tests::temp_dir();
    let csr = magnum_testkit::openssl::csr(&dir, "coe-user");
    let signed = cli
        .ok(&["coe", "ca", "sign", "clu-5", csr.to_str().unwrap()])
        .await;
    assert!(
        magnum_testkit::openssl::verifies(&dir, &ca, &signed),
        "signed by the cluster's CA: {signed}"
    );
    cli.ok(&["coe", "ca", "rotate", "clu-5"]).await;
    let rotated = cli.ok(&["coe", "ca", "show", "clu-5"]).await;
    assert_ne!(rotated, ca, "a new CA after rotate");

    // The quota commands print the quota as a table (no `-f`).
    let quota = cli
        .ok(&[
            "coe",
            "quotas",
            "create",
            "--project-id",
            PROJECT,
            "--resource",
            "Cluster",
            "--hard-limit",
            "3",
        ])
        .await;
    assert!(
        quota.contains("hard_limit") && quota.contains('3'),
        "{quota}"
    );
    let shown = cli
        .ok(&[
            "coe",
            "quotas",
            "show",
            "--project-id",
            PROJECT,
            "--resource",
            "Cluster",
        ])
        .await;
    assert!(shown.contains('3'), "{shown}");
    cli.ok(&[
        "coe",
        "quotas",
        "update",
        "--project-id",
        PROJECT,
        "--resource",
        "Cluster",
        "--hard-limit",
        "4",
    ])
    .await;
    let listed = cli.ok(&["coe", "quotas", "list"]).await;
    assert!(listed.contains(PROJECT), "{listed}");
    cli.ok(&[
        "coe",
        "quotas",
        "delete",
        "--project-id",
        PROJECT,
        "--resource",
        "Cluster",
    ])
    .await;

    let stats = cli.ok(&["coe", "stats", "list", PROJECT]).await;
    assert!(
        stats.contains("clusters") && stats.contains('1') && stats.contains('3'),
        "one cluster of one master and two workers: {stats}"
    );

    let services = cli.json(&["coe", "service", "list", "-f", "json"]).await;
    assert!(
        services
            .as_array()
            .unwrap()
            .iter()
            .any(|service| service["binary"] == "magnum-container-svc" && service["state"] == "up"),
        "{services}"
    );

    cli.ok(&["coe", "cluster", "delete", "clu-5"]).await;
    cli.wait_until_gone(&["coe", "cluster", "list", "-f", "json"], "clu-5")
        .await;
    cli.ok(&["coe", "cluster", "template", "delete", "tmpl-5"])
        .await;
    mesh.stop().await;
}
