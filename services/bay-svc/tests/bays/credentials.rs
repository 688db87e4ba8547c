//! GetBayCredentials: a kubernetes bay's owner (or an admin) gets the bay's namespace and
//! ServiceAccount token, which work in that namespace only; nobody else, and no bay
//! without a credential or not complete yet, gets anything.

use std::path::Path;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, PostParams};
use magnum_common::RequestContext;
use magnum_proto::bay::v1 as pb;
use tonic::{Code, Status};

use crate::harness::{Env, Instance, caller};

/// A self-signed CA certificate (P-256), as `openssl req -x509` writes it: the host
/// cluster's CA in the kubeconfig (the fake serves plain HTTP, so it is only recorded).
const HOST_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBkzCCATmgAwIBAgIUA4i9MSB+Xkdek3JKlWoxhRzPOQAwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTbWFnbnVtLXRlc3QtaG9zdC1jYTAgFw0yNjExMjUwNDIwMzRa
GA8yMTI2MTEwMTA0MjAzNFowHjEcMBoGA1UEAwwTbWFnbnVtLXRlc3QtaG9zdC1j
YTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHQXRL9eZ3k5TOFSrG/gOiXFx9v8
2xuIEPbUR5lRmZXpOI+iNkQNIdMUaokZPlTX40rVwx6l4VsbV2gnpGHUmRSjUzBR
MB0GA1UdDgQWBBSsaFjg53C7BxqaflVJ5LQynsrpuTAfBgNVHSMEGDAWgBSsaFjg
53C7BxqaflVJ5LQynsrpuTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA
MEUCIQDd8Dna1DOnG89+/wWxAbimghNCoIe+JqNzrc+msl6AqQIgcCvSQlZA9+rl
mZURyj4tbBbfnRVaaBj2nmb43iPx65g=
-----END CERTIFICATE-----
";

fn admin(project: &str) -> RequestContext {
    RequestContext {
        roles: vec!["admin".to_owned()],
        is_admin: true,
        ..caller(project)
    }
}

async fn credentials(
    svc: &Instance,
    caller: &RequestContext,
    ident: &str,
) -> Result<pb::BayCredentials, Status> {
    svc.bays()
        .get_bay_credentials(magnum_grpc::client::request(
            caller,
            pb::GetBayCredentialsRequest {
                ident: ident.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// The fake's admin kubeconfig, naming `ca_file` as the cluster's CA.
fn write_kubeconfig(
    server: &fake_kube_apiserver::FakeKubeApiServer,
    dir: &Path,
) -> std::path::PathBuf {
    let ca_file = dir.join("host-ca.crt");
    std::fs::write(&ca_file, HOST_CA_PEM).unwrap();
    let yaml = server.kubeconfig_yaml(server.admin_token()).replace(
        "\nusers:",
        &format!("\n    certificate-authority: {}\nusers:", ca_file.display()),
    );
    assert!(yaml.contains("certificate-authority"), "{yaml}");
    let path = dir.join("kubeconfig");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kubernetes_bays_owner_gets_a_token_for_its_namespace_only() {
    let server =
        fake_kube_apiserver::FakeKubeApiServer::start(fake_kube_apiserver::Options::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = Env::in_process().await;
    let mut config = env.config();
    config.kubernetes.kubeconfig = Some(write_kubeconfig(&server, dir.path()));
    let svc = env.start(config).await;
    let (alice, bob) = (&env.alice, &env.bob);
    svc.create_baymodel(alice, "k8s-model", "kubernetes").await;
    let bay = svc.create_bay(alice, "k8s-model", "kube", 1).await.unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;
    let ns = format!("magnum-{}", bay.uuid);

    let got = credentials(&svc, alice, &bay.uuid).await.unwrap();
    assert_eq!(got.bay_uuid, bay.uuid);
    assert_eq!(got.coe, "kubernetes");
    assert_eq!(got.status(), pb::BayStatus::CreateComplete);
    assert_eq!(got.api_server, server.url());
    assert_eq!(got.namespace, ns);
    assert_eq!(got.ca_certificates_pem, vec![HOST_CA_PEM.to_owned()]);
    assert!(!got.insecure_skip_tls_verify);
    assert!(!got.token.is_empty());
    assert_ne!(got.token, server.admin_token());
    let expires = got.token_expires_at.unwrap();
    assert!(
        expires.seconds > chrono::Utc::now().timestamp(),
        "{expires:?}"
    );
    // By name too.
    assert_eq!(credentials(&svc, alice, "kube").await.unwrap(), got);

    // The token works in the bay's namespace, as far as the bay's Role goes ...
    let tenant = server.client(&got.token).await.unwrap();
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
    // ... and nowhere else.
    let elsewhere = Api::<ConfigMap>::namespaced(tenant, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&elsewhere, kube::Error::Api(status) if status.code == 403),
        "{elsewhere:?}"
    );

    // Another project sees no such bay.
    for ident in [bay.uuid.as_str(), "kube"] {
        let refused = credentials(&svc, bob, ident).await.unwrap_err();
        assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
        assert_eq!(
            refused.message(),
            format!("Bay {ident} could not be found.")
        );
    }
    // An admin of another project gets them.
    let admin = admin(&bob.project_id);
    assert_eq!(credentials(&svc, &admin, &bay.uuid).await.unwrap(), got);

    // A resize keeps the token (the driver gives none) and the bay stays reachable.
    svc.update_bay(alice, &bay.uuid, 2).await.unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::UpdateComplete)
        .await;
    let resized = credentials(&svc, alice, &bay.uuid).await.unwrap();
    assert_eq!(resized.status(), pb::BayStatus::UpdateComplete);
    assert_eq!(resized.token, got.token);
    assert_eq!(resized.ca_certificates_pem, got.ca_certificates_pem);

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    let gone = credentials(&svc, alice, &bay.uuid).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_swarm_bay_has_no_credentials() {
    let env = Env::in_process().await;
    let svc = env.start(env.swarm_config()).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "swarm-model", "swarm").await;
    let bay = svc
        .create_bay(alice, "swarm-model", "hive", 1)
        .await
        .unwrap();
    svc.wait_status(alice, &bay.uuid, pb::BayStatus::CreateComplete)
        .await;

    let refused = credentials(&svc, alice, &bay.uuid).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(
        refused.message(),
        "Bay hive has no credentials (coe swarm)."
    );

    svc.delete_bay(alice, &bay.uuid).await.unwrap();
    svc.wait_gone(alice, &bay.uuid).await;
    svc.stop().await;
}

/// With no worker the bay stays CREATE_IN_PROGRESS; a policy file can take the rule away
/// from owners.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bay_in_progress_has_none_yet_and_policy_decides_who_asks() {
    let server =
        fake_kube_apiserver::FakeKubeApiServer::start(fake_kube_apiserver::Options::default())
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = Env::in_process().await;
    let mut config = env.config();
    config.kubernetes.kubeconfig = Some(write_kubeconfig(&server, dir.path()));
    config.worker.enabled = false;
    let svc = env.start(config.clone()).await;
    let alice = &env.alice;
    svc.create_baymodel(alice, "k8s-model", "kubernetes").await;
    let bay = svc
        .create_bay(alice, "k8s-model", "pending", 1)
        .await
        .unwrap();
    assert_eq!(bay.status(), pb::BayStatus::CreateInProgress);

    let refused = credentials(&svc, alice, "pending").await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(
        refused.message(),
        "Bay pending is CREATE_IN_PROGRESS; its credentials are only available when it is \
         CREATE_COMPLETE or UPDATE_COMPLETE."
    );

    let policy_file = dir.path().join("policy.yaml");
    std::fs::write(
        &policy_file,
        "\"bay:get_credentials\": \"rule:admin_api\"\n",
    )
    .unwrap();
    config.policy.policy_file = Some(policy_file);
    let strict = env.start(config).await;
    let forbidden = credentials(&strict, alice, "pending").await.unwrap_err();
    assert_eq!(forbidden.code(), Code::PermissionDenied, "{forbidden:?}");
    assert_eq!(
        forbidden.message(),
        "Policy doesn't allow bay:get_credentials to be performed."
    );
    let admin = admin(&env.bob.project_id);
    let not_yet = credentials(&strict, &admin, &bay.uuid).await.unwrap_err();
    assert_eq!(not_yet.code(), Code::FailedPrecondition, "{not_yet:?}");

    strict.stop().await;
    svc.stop().await;
}
