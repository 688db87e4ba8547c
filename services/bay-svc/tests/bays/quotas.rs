//! Quotas and stats: a project's bays are limited by its quota (the configured default
//! until an admin stores one), counted in the create's own transaction so concurrent
//! creates cannot overshoot; stats count a project's bays and nodes. No worker runs: the
//! bays stay CREATE_IN_PROGRESS and nothing is made on Docker.

use magnum_common::RequestContext;
use magnum_grpc::client::request;
use magnum_proto::bay::v1 as pb;
use magnum_proto::bay::v1::quota_service_client::QuotaServiceClient;
use magnum_proto::common::v1::ListOptions;
use tonic::{Code, Status};

use crate::harness::{Env, Instance, caller};

fn admin() -> RequestContext {
    RequestContext {
        roles: vec!["admin".to_owned()],
        is_admin: true,
        ..caller(&format!("admin-{}", uuid::Uuid::new_v4().simple()))
    }
}

fn quotas(svc: &Instance) -> QuotaServiceClient<magnum_grpc::client::GrpcChannel> {
    QuotaServiceClient::new(svc.channel.clone())
}

async fn get_quota(
    svc: &Instance,
    who: &RequestContext,
    project: &str,
) -> Result<pb::Quota, Status> {
    quotas(svc)
        .get_quota(request(
            who,
            pb::GetQuotaRequest {
                project_id: project.to_owned(),
                resource: "Cluster".to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn set_quota(
    svc: &Instance,
    who: &RequestContext,
    project: &str,
    hard_limit: i32,
) -> Result<pb::Quota, Status> {
    quotas(svc)
        .create_quota(request(
            who,
            pb::CreateQuotaRequest {
                project_id: project.to_owned(),
                resource: "Cluster".to_owned(),
                hard_limit: Some(hard_limit),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn delete_quota(svc: &Instance, who: &RequestContext, project: &str) -> Result<(), Status> {
    quotas(svc)
        .delete_quota(request(
            who,
            pb::DeleteQuotaRequest {
                project_id: project.to_owned(),
                resource: "Cluster".to_owned(),
            },
        ))
        .await
        .map(|_| ())
}

async fn stats(
    svc: &Instance,
    who: &RequestContext,
    project: Option<&str>,
) -> Result<pb::Stats, Status> {
    svc.bays()
        .get_stats(request(
            who,
            pb::GetStatsRequest {
                project_id: project.map(str::to_owned),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quotas_limit_bays_and_stats_count_them() {
    let env = Env::in_process().await;
    let mut config = env.swarm_config();
    config.worker.enabled = false;
    config.default_bay_quota = 2;
    let svc = env.start(config).await;
    let (alice, bob, admin) = (&env.alice, &env.bob, &admin());
    let project = alice.project_id.clone();
    svc.create_baymodel(alice, "model", "swarm").await;

    // The default applies until a quota is stored; it is not stored itself.
    let default = get_quota(&svc, alice, &project).await.unwrap();
    assert_eq!((default.id, default.hard_limit), (0, 2));
    assert_eq!(
        get_quota(&svc, bob, &project).await.unwrap_err().code(),
        Code::PermissionDenied,
        "bob reads no other project's quota"
    );

    svc.create_bay(alice, "model", "one", 3).await.unwrap();
    svc.create_bay(alice, "model", "two", 1).await.unwrap();
    let refused = svc
        .create_bay(alice, "model", "three", 1)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert_eq!(
        refused.message(),
        "Resource limit exceeded: You have reached the maximum clusters per project, 2. \
         You may delete a cluster to make room for a new one."
    );
    assert_eq!(
        svc.list_bays(alice).await.len(),
        2,
        "the refused bay is not stored"
    );

    // Only admins store quotas.
    assert_eq!(
        set_quota(&svc, alice, &project, 10)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let stored = set_quota(&svc, admin, &project, 5).await.unwrap();
    assert!(stored.id > 0);
    assert_eq!(stored.hard_limit, 5);
    assert_eq!(
        set_quota(&svc, admin, &project, 6)
            .await
            .unwrap_err()
            .code(),
        Code::AlreadyExists
    );
    assert_eq!(get_quota(&svc, alice, &project).await.unwrap(), stored);

    // Concurrent creates cannot take more than the room left (3 of 5).
    let attempts = (0..8).map(|n| {
        let svc = &svc;
        async move {
            svc.create_bay(alice, "model", &format!("race-{n}"), 1)
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let made = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(made, 3, "{results:?}");
    assert!(results.iter().all(|result| match result {
        Ok(_) => true,
        Err(status) => status.code() == Code::ResourceExhausted,
    }));
    assert_eq!(svc.list_bays(alice).await.len(), 5);

    // Stats: 5 bays with 3 + 1 + 1 + 1 + 1 workers and one master each.
    let own = stats(&svc, alice, None).await.unwrap();
    assert_eq!((own.bays, own.nodes), (5, 12));
    assert_eq!(stats(&svc, alice, Some(&project)).await.unwrap(), own);
    assert_eq!(
        stats(&svc, bob, Some(&project)).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let bobs = stats(&svc, bob, None).await.unwrap();
    assert_eq!((bobs.bays, bobs.nodes), (0, 0));
    assert_eq!(stats(&svc, admin, Some(&project)).await.unwrap(), own);
    let everyone = stats(&svc, admin, None).await.unwrap();
    assert!(everyone.bays >= 5, "{everyone:?}");

    // Update, list, delete.
    let updated = quotas(&svc)
        .update_quota(request(
            admin,
            pb::UpdateQuotaRequest {
                project_id: project.clone(),
                resource: "Cluster".to_owned(),
                hard_limit: 1,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((updated.id, updated.hard_limit), (stored.id, 1));
    assert!(updated.updated_at.is_some());
    let listed = quotas(&svc)
        .list_quotas(request(
            admin,
            pb::ListQuotasRequest {
                options: Some(ListOptions {
                    all_projects: true,
                    ..ListOptions::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.quotas.iter().any(|quota| quota.id == stored.id));
    assert_eq!(
        quotas(&svc)
            .list_quotas(request(alice, pb::ListQuotasRequest { options: None }))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied,
        "listing quotas is for admins"
    );
    assert_eq!(
        delete_quota(&svc, alice, &project)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    delete_quota(&svc, admin, &project).await.unwrap();
    assert_eq!(
        delete_quota(&svc, admin, &project)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(get_quota(&svc, alice, &project).await.unwrap().id, 0);

    // Bad values.
    assert_eq!(
        set_quota(&svc, admin, &project, -1)
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
    let other_resource = quotas(&svc)
        .create_quota(request(
            admin,
            pb::CreateQuotaRequest {
                project_id: project.clone(),
                resource: "Bay".to_owned(),
                hard_limit: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(other_resource.code(), Code::InvalidArgument);
    svc.stop().await;
}
