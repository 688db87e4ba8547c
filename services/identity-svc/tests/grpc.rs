//! identity-svc as its callers see it: `serve()` on loopback, `ValidateToken` over gRPC,
//! Keystone mode against the real loopback Keystone; and the start-up refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use identity_svc::{Config, Mode, Profile, UNAUTHENTICATED_MESSAGE, UNAVAILABLE_MESSAGE};
use magnum_common::Shutdown;
use magnum_grpc::client::GrpcChannel as Channel;
use magnum_proto::identity::v1::identity_service_client::IdentityServiceClient;
use magnum_proto::identity::v1::{NoAuthHints, ValidateTokenRequest};
use support::Keystone;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::Code;

struct Served {
    client: IdentityServiceClient<Channel>,
    shutdown: Shutdown,
    task: JoinHandle<anyhow::Result<()>>,
}

async fn serve(config: Config) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = Shutdown::new();
    let task = tokio::spawn(identity_svc::serve(config, listener, shutdown.clone()));
    let client = IdentityServiceClient::new(magnum_grpc::client::channel(&url).unwrap());
    Served {
        client,
        shutdown,
        task,
    }
}

impl Served {
    async fn validate(
        &self,
        token: &str,
    ) -> Result<magnum_proto::identity::v1::Identity, tonic::Status> {
        let request = ValidateTokenRequest {
            token: token.to_owned(),
            // Ignored in Keystone mode: a caller cannot choose its project.
            noauth_hints: Some(NoAuthHints {
                project_id: "chosen-project".to_owned(),
                user_id: "chosen-user".to_owned(),
                roles: vec!["admin".to_owned()],
            }),
        };
        self.client
            .clone()
            .validate_token(request)
            .await
            .map(|r| r.into_inner().identity.unwrap())
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

fn keystone_config(keystone: &Keystone, auth_url: &str) -> Config {
    Config {
        mode: Mode::Keystone,
        profile: Profile::Production,
        keystone: support::validator_config(keystone, auth_url),
        ..Config::default()
    }
}

#[tokio::test]
async fn validate_token_over_grpc_with_keystone() {
    let keystone = Keystone::get();
    let alice = keystone.user("ALICE");
    let served = serve(keystone_config(&keystone, &keystone.url())).await;

    let identity = served
        .validate(&keystone.token("ALICE").await)
        .await
        .unwrap();
    assert_eq!(identity.user_id, alice.id);
    assert_eq!(identity.project_id, alice.project_id);
    assert!(identity.roles.contains(&"member".to_owned()));
    assert!(!identity.is_admin);
    assert!(identity.expires_at.is_some());

    for bad in ["", "junk", "gAAAAA"] {
        let status = served.validate(bad).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{bad:?}");
        assert_eq!(status.message(), UNAUTHENTICATED_MESSAGE);
    }
    served.stop().await;
}

#[tokio::test]
async fn an_unreachable_keystone_is_unavailable_over_grpc() {
    let keystone = Keystone::get();
    let port = support::closed_port().await;
    let served = serve(keystone_config(
        &keystone,
        &format!("http://127.0.0.1:{port}/v3"),
    ))
    .await;
    let status = served
        .validate(&keystone.token("ALICE").await)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), UNAVAILABLE_MESSAGE);
    served.stop().await;
}

#[tokio::test]
async fn noauth_still_serves_the_development_identity() {
    let served = serve(Config::default()).await;
    let identity = served.validate("").await.unwrap();
    assert_eq!(identity.project_id, "chosen-project");
    assert_eq!(identity.user_id, "chosen-user");
    assert!(identity.is_admin);
    served.stop().await;
}

#[tokio::test]
async fn serve_refuses_noauth_in_production() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = Config {
        profile: Profile::Production,
        ..Config::default()
    };
    let error = identity_svc::serve(config, listener, Shutdown::new())
        .await
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("noauth") && message.contains("production"),
        "{message}"
    );
}

#[test]
fn the_binary_exits_64_on_noauth_in_production() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_identity-svc"))
        .env_clear()
        .env("MAGNUM_IDENTITY__PROFILE", "production")
        .env("MAGNUM_IDENTITY__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("production"), "{stderr}");
}

#[test]
fn the_binary_exits_64_without_a_keystone_password() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_identity-svc"))
        .env_clear()
        .env("MAGNUM_IDENTITY__MODE", "keystone")
        .env("MAGNUM_IDENTITY__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("MAGNUM_IDENTITY__KEYSTONE__PASSWORD"),
        "{stderr}"
    );
}

/// Prints what `ValidateToken` costs over loopback gRPC: a token identity-svc has not seen
/// (one Keystone validation; the service token is already there) and a cached one. Run
/// with `--nocapture` to see the numbers.
#[tokio::test]
async fn validate_token_latency_over_grpc() {
    let keystone = Keystone::get();
    let served = serve(keystone_config(&keystone, &keystone.url())).await;
    // Connects the channel and logs the service user in.
    served.validate(&keystone.token("BOB").await).await.unwrap();
    let tokens = [keystone.token("ALICE").await, keystone.token("ADMIN").await];
    let started = std::time::Instant::now();
    for token in &tokens {
        served.validate(token).await.unwrap();
    }
    let cold = started.elapsed() / 2;
    let rounds = 2_000u32;
    let started = std::time::Instant::now();
    for i in 0..rounds {
        served.validate(&tokens[i as usize % 2]).await.unwrap();
    }
    let warm = started.elapsed() / rounds;
    eprintln!("ValidateToken over gRPC: cold {cold:?}, warm (cached) {warm:?}");
    assert!(warm < cold);
    served.stop().await;
}
