//! Unit tests of `backend`.

use super::*;

#[test]
fn defaults_apply_without_hints() {
    let identity = NoAuthValidator::new(NoAuthConfig::default()).validate(None);
    assert_eq!(identity.project_id, "noauth-project");
    assert!(identity.is_admin);
}

#[test]
fn hints_override_the_default_identity() {
    let hints = NoAuthHints {
        project_id: "p2".into(),
        user_id: "".into(),
        roles: vec!["Member".into()],
    };
    let identity = NoAuthValidator::new(NoAuthConfig::default()).validate(Some(&hints));
    assert_eq!(identity.project_id, "p2");
    assert_eq!(identity.user_id, "noauth-user");
    assert_eq!(identity.roles, vec!["member"]);
    assert!(!identity.is_admin);
}
