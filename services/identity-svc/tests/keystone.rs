//! The Keystone validator against the real loopback Keystone (`scripts/keystone.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use identity_svc::{
    IdentityError, KeystoneConfig, KeystoneFault, KeystoneValidator, Secret,
    UNAUTHENTICATED_MESSAGE,
};
use support::{Keystone, Proxy};

fn validator(config: KeystoneConfig) -> KeystoneValidator {
    KeystoneValidator::new(config).unwrap()
}

fn is_unauthenticated(result: &Result<impl std::fmt::Debug, IdentityError>) -> bool {
    matches!(result, Err(IdentityError::Unauthenticated))
}

#[tokio::test]
async fn alices_token_validates_with_her_project_and_roles() {
    let keystone = Keystone::get();
    let alice = keystone.user("ALICE");
    let token = keystone.token("ALICE").await;
    let validator = validator(support::validator_config(&keystone, &keystone.url()));
    let identity = validator.validate(&token).await.unwrap();
    assert_eq!(identity.user_id, alice.id);
    assert_eq!(identity.user_name, alice.name);
    assert_eq!(identity.project_id, alice.project_id);
    assert_eq!(identity.project_name, alice.project);
    assert_eq!(identity.domain_name, "Default");
    // `reader` is implied by `member`.
    assert!(
        identity.roles.contains(&"member".to_owned()),
        "{:?}",
        identity.roles
    );
    assert!(
        identity.roles.contains(&"reader".to_owned()),
        "{:?}",
        identity.roles
    );
    assert!(!identity.is_admin);
    let expires_at = identity.expires_at.unwrap().seconds;
    let now = chrono::Utc::now().timestamp();
    assert!(
        expires_at > now && expires_at <= now + 24 * 3600,
        "{expires_at}"
    );

    let admin = validator
        .validate(&keystone.token("ADMIN").await)
        .await
        .unwrap();
    assert!(admin.is_admin);
    assert!(admin.roles.contains(&"admin".to_owned()));
}

#[tokio::test]
async fn tampered_random_and_empty_tokens_are_unauthenticated() {
    let keystone = Keystone::get();
    let token = keystone.token("ALICE").await;
    let validator = validator(support::validator_config(&keystone, &keystone.url()));
    // One character changed, in the middle (fernet tokens are base64url).
    let mut tampered = token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [
        tampered.as_str(),
        "a-random-string",
        "",
        "gAAAAA",
        "white space",
        "line\nbreak",
    ] {
        let result = validator.validate(bad).await;
        assert!(is_unauthenticated(&result), "{bad:?}: {result:?}");
    }
    let message = validator.validate("junk").await.unwrap_err().to_string();
    assert_eq!(message, UNAUTHENTICATED_MESSAGE);
    // The real token still works: refusals are cached per token only.
    validator.validate(&token).await.unwrap();
}

#[tokio::test]
async fn a_revoked_token_is_refused_once_the_cache_ttl_has_passed() {
    let keystone = Keystone::get();
    let token = keystone.token("ALICE").await;
    let config = KeystoneConfig {
        cache_ttl_secs: 1,
        ..support::validator_config(&keystone, &keystone.url())
    };
    let validator = validator(config);
    validator.validate(&token).await.unwrap();
    keystone.revoke(&token).await;
    // Trusted until the cache TTL ends: the documented window.
    validator.validate(&token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let result = validator.validate(&token).await;
    assert!(is_unauthenticated(&result), "{result:?}");
}

#[tokio::test]
async fn an_unreachable_keystone_is_unavailable_never_a_pass() {
    let keystone = Keystone::get();
    let token = keystone.token("ALICE").await;
    let port = support::closed_port().await;
    let validator = validator(support::validator_config(
        &keystone,
        &format!("http://127.0.0.1:{port}/v3"),
    ));
    for _ in 0..2 {
        match validator.validate(&token).await {
            Err(IdentityError::Unavailable(KeystoneFault::Unreachable { .. })) => {}
            other => panic!("{other:?}"),
        }
    }
    // Outages are not cached: each request asked again (the second one within the login
    // back-off got its answer without a second connection attempt).
    assert_eq!(validator.stats().cache_misses, 2);
    assert_eq!(validator.stats().keystone_logins, 1);
}

#[tokio::test]
async fn a_wrong_service_password_fails_closed() {
    let keystone = Keystone::get();
    let token = keystone.token("ALICE").await;
    let config = KeystoneConfig {
        password: Some(Secret::new("not-the-password")),
        ..support::validator_config(&keystone, &keystone.url())
    };
    let validator = validator(config);
    let result = validator.validate(&token).await;
    match &result {
        Err(IdentityError::Unavailable(KeystoneFault::LoginRefused { status: 401 })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        result.unwrap_err().to_string(),
        identity_svc::UNAVAILABLE_MESSAGE
    );
}

#[tokio::test]
async fn a_service_user_without_the_service_role_is_unavailable() {
    // alice (member only) may validate her own token but not bob's: Keystone says 403.
    let keystone = Keystone::get();
    let alice = keystone.user("ALICE");
    let config = KeystoneConfig {
        username: alice.name,
        password: Some(Secret::new(alice.password)),
        project_name: alice.project,
        ..support::validator_config(&keystone, &keystone.url())
    };
    let validator = validator(config);
    let result = validator.validate(&keystone.token("BOB").await).await;
    assert!(
        matches!(
            result,
            Err(IdentityError::Unavailable(KeystoneFault::Forbidden))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_hundred_concurrent_validations_of_one_token_make_one_keystone_call() {
    let keystone = Keystone::get();
    let proxy = Proxy::start(&keystone.url()).await;
    let token = keystone.token("ALICE").await;
    let validator = validator(support::validator_config(&keystone, &proxy.url));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (validator, token) = (validator.clone(), token.clone());
            tokio::spawn(async move { validator.validate(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // And later ones within the TTL are served from the cache too.
    for _ in 0..10 {
        validator.validate(&token).await.unwrap();
    }
    assert_eq!(proxy.validations().len(), 1, "{:?}", proxy.seen());
    assert_eq!(proxy.logins().len(), 1, "{:?}", proxy.seen());
    let stats = validator.stats();
    assert_eq!(stats.keystone_validations, 1);
    assert_eq!(stats.keystone_logins, 1);
    assert_eq!(stats.cache_misses, 1);
    assert_eq!(stats.cache_hits, 109);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_login() {
    let keystone = Keystone::get();
    let proxy = Proxy::start(&keystone.url()).await;
    let tokens = [
        keystone.token("ALICE").await,
        keystone.token("BOB").await,
        keystone.token("ADMIN").await,
        "junk-1".to_owned(),
        "junk-2".to_owned(),
    ];
    let validator = validator(support::validator_config(&keystone, &proxy.url));
    let tasks: Vec<_> = tokens
        .iter()
        .cloned()
        .map(|token| {
            let validator = validator.clone();
            tokio::spawn(async move { validator.validate(&token).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert!(answers[..3].iter().all(Result::is_ok), "{answers:?}");
    assert!(answers[3..].iter().all(is_unauthenticated), "{answers:?}");
    assert_eq!(proxy.logins().len(), 1, "{:?}", proxy.seen());
    assert_eq!(proxy.validations().len(), 5);
}

#[tokio::test]
async fn a_revoked_service_token_is_replaced_and_the_request_succeeds() {
    let keystone = Keystone::get();
    let proxy = Proxy::start(&keystone.url()).await;
    let validator = validator(support::validator_config(&keystone, &proxy.url));
    validator
        .validate(&keystone.token("ALICE").await)
        .await
        .unwrap();
    let service_token = proxy.validations()[0].auth_token.clone().unwrap();
    keystone.revoke(&service_token).await;

    let bob = keystone.user("BOB");
    let identity = validator
        .validate(&keystone.token("BOB").await)
        .await
        .unwrap();
    assert_eq!(identity.user_id, bob.id);
    let validations = proxy.validations();
    let statuses: Vec<u16> = validations.iter().map(|s| s.status).collect();
    assert_eq!(statuses, vec![200, 401, 200], "{:?}", proxy.seen());
    assert_ne!(validations[2].auth_token.as_ref(), Some(&service_token));
    assert_eq!(proxy.logins().len(), 2);
    assert_eq!(validator.stats().keystone_logins, 2);
}

#[tokio::test]
async fn the_password_can_come_from_a_file() {
    let keystone = Keystone::get();
    let dir = std::env::temp_dir().join(format!("identity-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("password");
    std::fs::write(&path, format!("{}\n", keystone.user("SERVICE").password)).unwrap();
    let config = KeystoneConfig {
        password: None,
        password_file: Some(path.clone()),
        ..support::validator_config(&keystone, &keystone.url())
    };
    let validator = validator(config.clone());
    validator
        .validate(&keystone.token("ALICE").await)
        .await
        .unwrap();
    // A missing file is refused at start-up.
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        KeystoneValidator::new(config),
        Err(IdentityError::Config(_))
    ));
}

/// Prints what a validation costs: first ever (login + validation), first for a token
/// (validation only) and cached. Run with `--nocapture` to see the numbers.
#[tokio::test]
async fn validation_latency_cold_and_warm() {
    let keystone = Keystone::get();
    let validator = validator(support::validator_config(&keystone, &keystone.url()));
    let tokens = [
        keystone.token("ALICE").await,
        keystone.token("BOB").await,
        keystone.token("ADMIN").await,
    ];
    let started = Instant::now();
    validator.validate(&tokens[0]).await.unwrap();
    let first = started.elapsed();
    let started = Instant::now();
    validator.validate(&tokens[1]).await.unwrap();
    validator.validate(&tokens[2]).await.unwrap();
    let cold = started.elapsed() / 2;
    let rounds = 10_000u32;
    let started = Instant::now();
    for i in 0..rounds {
        validator
            .validate(&tokens[i as usize % tokens.len()])
            .await
            .unwrap();
    }
    let warm = started.elapsed() / rounds;
    eprintln!(
        "validation latency: first (login + validate) {first:?}, cold (validate) {cold:?}, \
         warm (cached) {warm:?}"
    );
    assert!(warm < cold);
}
