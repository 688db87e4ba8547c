//! Bays from create to delete, on each driver; baymodels in use; tenancy.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::Api;
use magnum_driver_kubernetes::{NETWORK_POLICY_NAME, QUOTA_NAME, SERVICE_ACCOUNT_NAME};
use magnum_proto::bay::v1 as pb;
use tonic::Code;

use crate::harness::{Env, bay_networks};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swarm_bay_lifecycle() {
    let env = Env::jetstream().await;
    let mut events = env.events("lifecycle").await;
    let svc = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    let model = svc.create_baymodel(alice, "swarm-model", "swarm").await;

    let created = svc.create_bay(alice, &model.uuid, "life", 2).await.unwrap();
    assert_eq!(created.status(), pb::BayStatus::CreateInProgress);
    assert_eq!(created.project_id, alice.project_id);
    assert_eq!(created.baymodel_id, model.uuid);
    let uuid = created.uuid.clone();

    let bay = svc
        .wait_status(alice, "life", pb::BayStatus::CreateComplete)
        .await;
    assert_eq!(bay.uuid, uuid);
    assert_eq!(
        bay.status_reason.as_deref(),
        Some("Stack CREATE completed successfully")
    );
    assert!(
        bay.api_address.as_deref().is_some_and(|a| !a.is_empty()),
        "{bay:?}"
    );
    assert_eq!(bay.node_count, 2);
    assert_eq!(bay.node_addresses.len(), 2, "{bay:?}");
    assert_eq!(bay.master_addresses.len(), 1, "{bay:?}");
    let workers: Vec<&str> = bay
        .nodes
        .iter()
        .filter(|node| node.role() == pb::bay_node::Role::Worker)
        .map(|node| node.name.as_str())
        .collect();
    assert_eq!(workers.len(), 2, "the pool entries it runs on: {bay:?}");
    assert!(bay.nodes.iter().all(|node| node.error.is_none()));
    assert_eq!(bay.health_status.as_deref(), Some("HEALTHY"));
    assert_eq!(
        bay_networks(&uuid).into_iter().collect::<Vec<_>>(),
        vec![format!("magnum-bay-{uuid}")]
    );

    // Resize 2 → 3; the worker is held a moment so the second request meets the update.
    fail::cfg("bay-worker-before-driver", "sleep(2000)").unwrap();
    let updating = svc.update_bay(alice, &uuid, 3).await.unwrap();
    assert!(updating.operation.is_some());
    let updating = updating.bay.unwrap();
    assert_eq!(updating.status(), pb::BayStatus::UpdateInProgress);
    assert_eq!(updating.node_count, 3);
    let refused = svc.update_bay(alice, &uuid, 4).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.message(),
        "Updating a bay when stack status is \"UPDATE_IN_PROGRESS\" is not supported."
    );
    fail::remove("bay-worker-before-driver");
    let bay = svc
        .wait_status(alice, &uuid, pb::BayStatus::UpdateComplete)
        .await;
    assert_eq!(bay.node_count, 3);
    assert_eq!(bay.node_addresses.len(), 3, "{bay:?}");
    assert_eq!(
        bay.status_reason.as_deref(),
        Some("Stack UPDATE completed successfully")
    );
    // The same count again: nothing to do, no operation.
    let unchanged = svc.update_bay(alice, &uuid, 3).await.unwrap();
    assert!(unchanged.operation.is_none());
    assert_eq!(
        unchanged.bay.unwrap().status(),
        pb::BayStatus::UpdateComplete
    );

    // Deleting twice: the second finds the delete under way and starts nothing.
    fail::cfg("bay-worker-before-driver", "sleep(1500)").unwrap();
    let deleting = svc.delete_bay(alice, "life").await.unwrap();
    assert!(deleting.operation.is_some());
    let again = svc.delete_bay(alice, &uuid).await.unwrap();
    assert!(again.operation.is_none());
    let refused = svc.update_bay(alice, &uuid, 1).await.unwrap_err();
    assert_eq!(
        refused.message(),
        "Updating a bay when stack status is \"DELETE_IN_PROGRESS\" is not supported."
    );
    fail::remove("bay-worker-before-driver");
    svc.wait_gone(alice, &uuid).await;
    let gone = svc.get_bay(alice, &uuid).await.unwrap_err();
    assert_eq!(gone.message(), format!("Bay {uuid} could not be found."));
    assert!(bay_networks(&uuid).is_empty());

    events
        .drain_until("the deletion", |log| log.deletions_of(&uuid) >= 1)
        .await;
    assert_eq!(
        events.statuses_of(&uuid),
        [
            "CREATE_IN_PROGRESS",
            "CREATE_COMPLETE",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE",
        ]
    );
    assert_eq!(events.deletions_of(&uuid), 1);
    let deleted = events
        .deletions
        .iter()
        .find(|e| e.bay_uuid == uuid)
        .unwrap();
    assert_eq!(deleted.project_id, alice.project_id);
    assert_eq!(deleted.coe, "swarm");
    svc.stop().await;
}

fn hard(quota: &ResourceQuota) -> BTreeMap<String, String> {
    quota
        .spec
        .as_ref()
        .and_then(|spec| spec.hard.as_ref())
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kubernetes_bay_lifecycle() {
    let server =
        fake_kube_apiserver::FakeKubeApiServer::start(fake_kube_apiserver::Options::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml(server.admin_token())).unwrap();
    let admin = server.admin_client().await.unwrap();

    let env = Env::jetstream().await;
    let mut config = env.config();
    config.kubernetes.kubeconfig = Some(kubeconfig);
    let svc = env.start(config).await;
    let alice = &env.alice;
    let model = svc.create_baymodel(alice, "k8s-model", "kubernetes").await;

    let created = svc.create_bay(alice, "k8s-model", "kube", 1).await.unwrap();
    let uuid = created.uuid.clone();
    let bay = svc
        .wait_status(alice, &uuid, pb::BayStatus::CreateComplete)
        .await;
    assert_eq!(bay.baymodel_id, model.uuid);
    assert!(
        bay.api_address.as_deref().is_some_and(|a| !a.is_empty()),
        "{bay:?}"
    );
    assert_eq!(bay.master_addresses.len(), 1, "{bay:?}");

    let ns = format!("magnum-{uuid}");
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    namespaces.get(&ns).await.unwrap();
    let quotas: Api<ResourceQuota> = Api::namespaced(admin.clone(), &ns);
    let before = hard(&quotas.get(QUOTA_NAME).await.unwrap());
    assert_eq!(before.get("pods").map(String::as_str), Some("20"));
    Api::<NetworkPolicy>::namespaced(admin.clone(), &ns)
        .get(NETWORK_POLICY_NAME)
        .await
        .unwrap();
    Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
        .get(SERVICE_ACCOUNT_NAME)
        .await
        .unwrap();

    // Resize 1 → 3: the quota follows the node count.
    let updating = svc.update_bay(alice, &uuid, 3).await.unwrap();
    assert_eq!(
        updating.bay.unwrap().status(),
        pb::BayStatus::UpdateInProgress
    );
    let bay = svc
        .wait_status(alice, &uuid, pb::BayStatus::UpdateComplete)
        .await;
    assert_eq!(bay.node_count, 3);
    let after = hard(&quotas.get(QUOTA_NAME).await.unwrap());
    assert_eq!(
        after.get("pods").map(String::as_str),
        Some("60"),
        "{after:?}"
    );

    svc.delete_bay(alice, &uuid).await.unwrap();
    svc.wait_gone(alice, &uuid).await;
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    while namespaces.get_opt(&ns).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "namespace {ns} stays"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    svc.stop().await;
}

/// A baymodel cannot go while a bay uses it; once the bay is gone it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn baymodel_in_use_cannot_be_deleted() {
    let env = Env::jetstream().await;
    let svc = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "used-model", "swarm").await;
    let bay = svc
        .create_bay(alice, "used-model", "user", 1)
        .await
        .unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;

    let delete_model = |svc: &crate::harness::Instance| {
        let mut client = svc.baymodels();
        let request = magnum_grpc::client::request(
            alice,
            pb::DeleteBayModelRequest {
                ident: "used-model".to_owned(),
            },
        );
        async move { client.delete_bay_model(request).await }
    };
    let refused = delete_model(&svc).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.message(),
        "Baymodel used-model is referenced by one or multiple bays."
    );

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    delete_model(&svc).await.unwrap();
    assert!(bay_networks(&bay.uuid).is_empty());
    svc.stop().await;
}

/// Another project's caller sees nothing of the bay and can change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_projects_cannot_reach_the_bay() {
    let env = Env::in_process().await;
    let svc = env.start(env.swarm_config()).await;
    let (alice, bob) = (&env.alice, &env.bob);
    let model = svc.create_baymodel(alice, "private-model", "swarm").await;
    let bay = svc.create_bay(alice, &model.uuid, "mine", 1).await.unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;

    for ident in [bay.uuid.as_str(), "mine"] {
        let get = svc.get_bay(bob, ident).await.unwrap_err();
        assert_eq!(get.code(), Code::NotFound, "{get:?}");
        assert_eq!(get.message(), format!("Bay {ident} could not be found."));
        let update = svc.update_bay(bob, ident, 2).await.unwrap_err();
        assert_eq!(update.code(), Code::NotFound, "{update:?}");
        let delete = svc.delete_bay(bob, ident).await.unwrap_err();
        assert_eq!(delete.code(), Code::NotFound, "{delete:?}");
    }
    assert!(svc.list_bays(bob).await.is_empty());
    // Bob cannot build on Alice's private baymodel either.
    let create = svc
        .create_bay(bob, &model.uuid, "theirs", 1)
        .await
        .unwrap_err();
    assert_eq!(create.code(), Code::NotFound, "{create:?}");

    // Alice's bay is untouched.
    let listed = svc.list_bays(alice).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].uuid, bay.uuid);
    assert_eq!(listed[0].node_count, 1);
    assert_eq!(listed[0].status(), pb::BayStatus::CreateComplete);

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    svc.stop().await;
}
