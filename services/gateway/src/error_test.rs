//! Unit tests of `error`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// Every gRPC code, with the HTTP status a client must see.
const TABLE: [(tonic::Code, u16); 17] = [
    (tonic::Code::Ok, 500),
    (tonic::Code::Cancelled, 504),
    (tonic::Code::Unknown, 500),
    (tonic::Code::InvalidArgument, 400),
    (tonic::Code::DeadlineExceeded, 504),
    (tonic::Code::NotFound, 404),
    (tonic::Code::AlreadyExists, 409),
    (tonic::Code::PermissionDenied, 403),
    (tonic::Code::ResourceExhausted, 403),
    (tonic::Code::FailedPrecondition, 400),
    (tonic::Code::Aborted, 409),
    (tonic::Code::OutOfRange, 413),
    (tonic::Code::Unimplemented, 501),
    (tonic::Code::Internal, 500),
    (tonic::Code::Unavailable, 503),
    (tonic::Code::DataLoss, 500),
    (tonic::Code::Unauthenticated, 401),
];

#[test]
fn every_grpc_code_has_its_http_status_and_keeps_the_service_message() {
    for (code, http) in TABLE {
        let report =
            Error::from(tonic::Status::new(code, "Baymodel x could not be found.")).report();
        assert_eq!(report.status.as_u16(), http, "{code:?}");
        assert_eq!(report.detail, "Baymodel x could not be found.", "{code:?}");
        let entry = &report.document("req-1").errors[0];
        assert_eq!(entry.status, http);
        assert_eq!(entry.code, if http >= 500 { "server" } else { "client" });
        assert_eq!(entry.title, "Baymodel x could not be found");
        assert_eq!(entry.request_id, "req-1");
    }
}

#[test]
fn transport_failures_do_not_leak_their_text() {
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "10.0.0.7:9521");
    let status = tonic::Status::from_error(Box::new(io));
    let report = Error::from(status).report();
    assert!(!report.detail.contains("10.0.0.7"), "{}", report.detail);
}

#[test]
fn microversion_errors_use_their_own_form() {
    let report = Error::VersionNotSupported("Version 1.99 was requested".into()).report();
    assert_eq!(report.status, StatusCode::NOT_ACCEPTABLE);
    let value = serde_json::to_value(report.document("req-2")).unwrap();
    let entry = &value["errors"][0];
    assert_eq!(entry["code"], "magnum.microversion-unsupported");
    assert_eq!(entry["min_version"], "1.1");
    assert_eq!(entry["max_version"], "1.12");
    assert_eq!(entry["links"][0]["rel"], "help");
}

#[test]
fn titles_stop_at_the_first_full_stop() {
    assert_eq!(
        title_of("Invalid input for field/attribute name. Value: 'x'."),
        "Invalid input for field/attribute name"
    );
    assert_eq!(title_of("no stop"), "no stop");
}

#[test]
fn a_missing_reference_from_a_body_is_a_400_with_the_same_text() {
    let report =
        Error::from_reference(tonic::Status::not_found("Baymodel x could not be found.")).report();
    assert_eq!(report.status, StatusCode::BAD_REQUEST);
    assert_eq!(report.detail, "Baymodel x could not be found.");
    let report = Error::from_reference(tonic::Status::already_exists("Multiple bays")).report();
    assert_eq!(report.status, StatusCode::CONFLICT);
    let report = Error::from_reference(tonic::Status::not_found("")).report();
    assert_eq!(
        report.status,
        StatusCode::NOT_FOUND,
        "no text to show as a 400"
    );
}
