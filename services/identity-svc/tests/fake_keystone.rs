//! Keystone answers the real one does not give on demand (5xx, hangs, garbage, a 401 for
//! a fresh token), from a scripted fake: every one must fail closed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use identity_svc::{IdentityError, KeystoneConfig, KeystoneFault, KeystoneValidator, Secret};
use tokio::net::TcpListener;

/// How the fake answers a validation.
#[derive(Clone, Copy)]
enum Answer {
    Valid,
    NotFound,
    Status(u16),
    Garbage,
    Hang,
    Redirect,
}

struct Fake {
    answer: Answer,
    login_delay: Duration,
    logins: AtomicU64,
    validations: AtomicU64,
}

const BODY: &str = r#"{"token": {"expires_at": "2999-01-01T00:00:00.000000Z",
  "user": {"id": "u1", "name": "user"},
  "project": {"id": "p1", "name": "project", "domain": {"id": "default", "name": "Default"}},
  "roles": [{"id": "r", "name": "member"}]}}"#;

async fn login(State(fake): State<Arc<Fake>>) -> Response {
    fake.logins.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(fake.login_delay).await;
    (
        StatusCode::CREATED,
        [("x-subject-token", "service-token")],
        BODY,
    )
        .into_response()
}

async fn validate(State(fake): State<Arc<Fake>>, headers: HeaderMap) -> Response {
    fake.validations.fetch_add(1, Ordering::SeqCst);
    assert_eq!(headers["x-auth-token"], "service-token");
    match fake.answer {
        Answer::Valid => (StatusCode::OK, BODY).into_response(),
        Answer::NotFound => StatusCode::NOT_FOUND.into_response(),
        Answer::Status(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Answer::Garbage => (StatusCode::OK, "<html>proxy error</html>").into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK.into_response()
        }
        Answer::Redirect => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", "http://127.0.0.1:1/v3/auth/tokens")],
        )
            .into_response(),
    }
}

async fn start(answer: Answer, login_delay: Duration) -> (Arc<Fake>, KeystoneValidator) {
    let fake = Arc::new(Fake {
        answer,
        login_delay,
        logins: AtomicU64::new(0),
        validations: AtomicU64::new(0),
    });
    let app = axum::Router::new()
        .route("/v3/auth/tokens", get(validate).post(login))
        .with_state(Arc::clone(&fake));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let validator = KeystoneValidator::new(KeystoneConfig {
        auth_url: format!("http://{addr}/v3/"),
        password: Some(Secret::new("pw")),
        request_timeout_secs: 1,
        negative_cache_ttl_secs: 1,
        ..KeystoneConfig::default()
    })
    .unwrap();
    (fake, validator)
}

fn fault(result: Result<impl std::fmt::Debug, IdentityError>) -> KeystoneFault {
    match result {
        Err(IdentityError::Unavailable(fault)) => fault,
        other => panic!("expected UNAVAILABLE, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_unavailable_and_never_cached() {
    for status in [500, 502, 503, 400, 429] {
        let (fake, validator) = start(Answer::Status(status), Duration::ZERO).await;
        for _ in 0..2 {
            assert_eq!(
                fault(validator.validate("t").await),
                KeystoneFault::Status {
                    request: "token validation",
                    status
                }
            );
        }
        assert_eq!(fake.validations.load(Ordering::SeqCst), 2, "{status}");
    }
}

#[tokio::test]
async fn a_hung_keystone_times_out_as_unavailable() {
    let (_, validator) = start(Answer::Hang, Duration::ZERO).await;
    let started = std::time::Instant::now();
    assert!(matches!(
        fault(validator.validate("t").await),
        KeystoneFault::Unreachable { .. }
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_that_is_not_a_token_is_unavailable() {
    let (_, validator) = start(Answer::Garbage, Duration::ZERO).await;
    assert!(matches!(
        fault(validator.validate("t").await),
        KeystoneFault::BadAnswer { .. }
    ));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (_, validator) = start(Answer::Redirect, Duration::ZERO).await;
    assert!(matches!(
        fault(validator.validate("t").await),
        KeystoneFault::Status { status: 307, .. }
    ));
}

#[tokio::test]
async fn a_fresh_service_token_refused_twice_is_unavailable() {
    let (fake, validator) = start(Answer::Status(401), Duration::ZERO).await;
    assert_eq!(
        fault(validator.validate("t").await),
        KeystoneFault::ServiceTokenRejected
    );
    // Logged in, refused, logged in again, refused again: no more.
    assert_eq!(fake.logins.load(Ordering::SeqCst), 2);
    assert_eq!(fake.validations.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refusals_are_cached_for_the_negative_ttl() {
    let (fake, validator) = start(Answer::NotFound, Duration::ZERO).await;
    for _ in 0..3 {
        assert!(matches!(
            validator.validate("t").await,
            Err(IdentityError::Unauthenticated)
        ));
    }
    assert_eq!(fake.validations.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(validator.validate("t").await.is_err());
    assert_eq!(fake.validations.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_slow_login_is_shared_by_every_waiting_request() {
    let (fake, validator) = start(Answer::Valid, Duration::from_millis(300)).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let validator = validator.clone();
            tokio::spawn(async move { validator.validate(&format!("token-{i}")).await })
        })
        .collect();
    for task in tasks {
        let identity = task.await.unwrap().unwrap();
        assert_eq!(identity.project_id, "p1");
    }
    assert_eq!(fake.logins.load(Ordering::SeqCst), 1);
    assert_eq!(fake.validations.load(Ordering::SeqCst), 50);
}
