//! Unit tests of `quota`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn new_quotas_default_to_one_and_refuse_bad_values() {
    let now = Utc::now();
    let quota = Quota::new("p1", "Cluster", None, now).unwrap();
    assert_eq!(quota.hard_limit, 1);
    assert!(Quota::new("p1", "Cluster", Some(-1), now).is_err());
    assert!(Quota::new("p1", "Bay", Some(3), now).is_err());
    assert!(Quota::new("", "Cluster", Some(3), now).is_err());
    assert_eq!(
        Quota::new("p1", "Cluster", Some(0), now)
            .unwrap()
            .hard_limit,
        0
    );
}

#[test]
fn room_runs_out_at_the_limit() {
    assert!(check_room("p", 1, 2).is_ok());
    let refused = check_room("p", 2, 2).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Resource limit exceeded: You have reached the maximum clusters per project, 2. \
         You may delete a cluster to make room for a new one."
    );
    assert!(check_room("p", 0, 0).is_err());
}
