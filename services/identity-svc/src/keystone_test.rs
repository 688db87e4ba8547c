//! Unit tests of `keystone`: reading Keystone's answers (no network).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const ALICE: &str = r#"{"token": {"methods": ["password"],
  "user": {"domain": {"id": "default", "name": "Default"}, "id": "u-alice", "name": "alice", "password_expires_at": null},
  "audit_ids": ["v68XdJ1rRbyJmwBOodb_Vw"], "expires_at": "2026-11-25T00:34:41.000000Z", "issued_at": "2026-11-24T23:34:41.000000Z",
  "project": {"domain": {"id": "default", "name": "Default"}, "id": "p-a", "name": "tenant-a"}, "is_domain": false,
  "roles": [{"id": "r1", "name": "Member"}, {"id": "r2", "name": "reader"}, {"id": "r3", "name": "member"}]}}"#;

fn at(text: &str) -> DateTime<Utc> {
    parse_time(text).unwrap()
}

#[test]
fn a_project_token_becomes_an_identity() {
    let (identity, left) = parse_validation(ALICE.as_bytes(), at("2026-11-24T23:34:41Z"))
        .unwrap()
        .unwrap();
    assert_eq!(identity.user_id, "u-alice");
    assert_eq!(identity.user_name, "alice");
    assert_eq!(identity.project_id, "p-a");
    assert_eq!(identity.project_name, "tenant-a");
    assert_eq!(identity.domain_id, "default");
    assert_eq!(identity.domain_name, "Default");
    // Lower-cased and without duplicates.
    assert_eq!(identity.roles, vec!["member", "reader"]);
    assert!(!identity.is_admin);
    assert_eq!(
        identity.expires_at.unwrap().seconds,
        at("2026-11-25T00:34:41Z").timestamp()
    );
    assert_eq!(left, Duration::from_secs(3600));
}

#[test]
fn admin_role_makes_an_admin_in_any_case() {
    let body = ALICE.replace("\"Member\"", "\"Admin\"");
    let (identity, _) = parse_validation(body.as_bytes(), at("2026-11-24T23:34:41Z"))
        .unwrap()
        .unwrap();
    assert!(identity.is_admin);
    assert_eq!(identity.roles, vec!["admin", "reader", "member"]);
}

#[test]
fn tokens_without_a_project_are_refused() {
    let domain = r#"{"token": {"expires_at": "2026-11-25T00:34:41Z", "user": {"id": "u", "name": "n"},
        "domain": {"id": "default", "name": "Default"}, "roles": [{"id": "r", "name": "admin"}]}}"#;
    assert!(
        parse_validation(domain.as_bytes(), Utc::now())
            .unwrap()
            .is_none()
    );
    let unscoped = r#"{"token": {"expires_at": "2026-11-25T00:34:41Z", "user": {"id": "u"}}}"#;
    assert!(
        parse_validation(unscoped.as_bytes(), Utc::now())
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_expired_token_has_no_time_left() {
    let (_, left) = parse_validation(ALICE.as_bytes(), at("2026-11-26T00:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(left, Duration::ZERO);
}

#[test]
fn bodies_that_are_not_tokens_are_errors_not_refusals() {
    for body in [
        "",
        "<html>",
        r#"{"token": {}}"#,
        r#"{"token": {"expires_at": "soon", "user": {"id": "u"}, "project": {"id": "p"}}}"#,
        r#"{"token": {"expires_at": "2026-11-25T00:34:41Z", "project": {"id": "p"}}}"#,
        r#"{"token": {"expires_at": "2026-11-25T00:34:41Z", "user": {"id": ""}, "project": {"id": "p"}}}"#,
    ] {
        assert!(
            parse_validation(body.as_bytes(), Utc::now()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn implausible_tokens_never_reach_keystone() {
    assert!(!is_plausible(""));
    assert!(!is_plausible("line\nbreak"));
    assert!(!is_plausible(&"a".repeat(MAX_TOKEN_LEN + 1)));
    assert!(is_plausible("gAAAAABrBh8RuIDTmxsiBj9HCgX"));
}

#[test]
fn password_files_lose_only_their_line_break() {
    assert_eq!(
        password_from_file_text("pa ss\r\n".to_owned())
            .unwrap()
            .expose(),
        "pa ss"
    );
    assert_eq!(
        password_from_file_text(" x ".to_owned()).unwrap().expose(),
        " x "
    );
    assert!(password_from_file_text("\n".to_owned()).is_err());
}

#[test]
fn later_saturates() {
    let now = Instant::now();
    assert!(later(now, Duration::MAX) > now);
    assert_eq!(later(now, Duration::ZERO), now);
}
