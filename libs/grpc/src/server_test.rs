//! Unit tests of `server`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn health_and_reflection_need_no_token() {
    assert!(is_open("/grpc.health.v1.Health/Check"));
    assert!(is_open(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
    ));
    assert!(!is_open("/magnum.bay.v1.BayModelService/GetBayModel"));
}

#[test]
fn credentials_come_from_metadata() {
    let mut headers = HeaderMap::new();
    headers.insert("x-auth-token", "tok".parse().unwrap());
    headers.insert("x-roles", "Admin, member".parse().unwrap());
    let creds = credentials(&headers, "req-1".into());
    assert_eq!(creds.token, "tok");
    assert_eq!(creds.roles, vec!["admin", "member"]);
    assert_eq!(creds.request_id, "req-1");
}
