#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const SERVER: &str = "https://k8s.example:6443";

fn status(code: u16, reason: &str, message: &str) -> Status {
    Status::failure(message, reason).with_code(code)
}

#[test]
fn statuses_are_sorted_by_what_retrying_can_do() {
    let invalid = status_error(
        SERVER,
        "creating ResourceQuota q",
        &status(422, "Invalid", "ResourceQuota \"q\" is invalid: bad"),
    );
    assert_eq!(
        invalid,
        DriverError::Invalid(
            "creating ResourceQuota q: ResourceQuota \"q\" is invalid: bad".into()
        )
    );
    assert!(matches!(
        status_error(SERVER, "x", &status(403, "Forbidden", "no")),
        DriverError::Failed(_)
    ));
    let unavailable = status_error(SERVER, "getting x", &status(503, "ServiceUnavailable", ""));
    assert_eq!(
        unavailable.message(),
        "Kubernetes API server https://k8s.example:6443 failed getting x: HTTP 503 ServiceUnavailable"
    );
    assert!(matches!(unavailable, DriverError::Unavailable(_)));
}

#[test]
fn api_errors_stay_inspectable() {
    let e = from_kube(
        SERVER,
        "x",
        kube::Error::Api(status(404, "NotFound", "gone").boxed()),
    );
    assert!(e.is_not_found());
    let e = from_kube(
        SERVER,
        "x",
        kube::Error::Api(status(409, "AlreadyExists", "dup").boxed()),
    );
    assert!(e.is_already_exists() && !e.is_conflict());
    let e = from_kube(
        SERVER,
        "x",
        kube::Error::Api(status(409, "Conflict", "stale").boxed()),
    );
    assert!(e.is_conflict() && !e.is_already_exists());
}

#[test]
fn transport_failures_are_unavailable() {
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    let e =
        from_kube(SERVER, "x", kube::Error::Service(Box::new(io))).into_driver_error(SERVER, "x");
    assert!(matches!(e, DriverError::Unavailable(_)));
    assert!(
        e.message()
            .starts_with("Kubernetes API server https://k8s.example:6443 is unreachable: "),
        "{e}"
    );
    assert_eq!(
        e.message(),
        "Kubernetes API server https://k8s.example:6443 is unreachable: connection refused"
    );
}
