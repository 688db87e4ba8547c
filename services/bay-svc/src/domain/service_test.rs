//! Unit tests of `service`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn replica(binary: &str, host: &str, id: i64, seen: DateTime<Utc>) -> ServiceReplica {
    ServiceReplica {
        id,
        host: host.into(),
        binary: binary.into(),
        report_count: 1,
        created_at: seen,
        updated_at: seen,
    }
}

#[test]
fn a_replica_is_down_once_its_heartbeats_stop_for_longer_than_the_down_time() {
    let now = Utc::now();
    let down_time = Duration::seconds(180);
    let fresh = replica("b", "h", 1, now - Duration::seconds(10));
    let edge = replica("b", "h", 1, now - down_time);
    let stale = replica("b", "h", 1, now - Duration::seconds(181));
    assert_eq!(fresh.state(now, down_time), ServiceState::Up);
    assert_eq!(edge.state(now, down_time), ServiceState::Up);
    assert_eq!(stale.state(now, down_time), ServiceState::Down);
    assert_eq!(stale.state(now, down_time).as_str(), "down");
}

#[test]
fn replicas_are_listed_by_binary_host_and_id() {
    let now = Utc::now();
    let listed = sorted(vec![
        replica("magnum-gateway", "b", 2, now),
        replica("magnum-bay-svc", "z", 9, now),
        replica("magnum-gateway", "a", 7, now),
        replica("magnum-gateway", "a", 3, now),
    ]);
    let order: Vec<(&str, &str, i64)> = listed
        .iter()
        .map(|r| (r.binary.as_str(), r.host.as_str(), r.id))
        .collect();
    assert_eq!(
        order,
        [
            ("magnum-bay-svc", "z", 9),
            ("magnum-gateway", "a", 3),
            ("magnum-gateway", "a", 7),
            ("magnum-gateway", "b", 2),
        ]
    );
}
