//! Unit tests of `error`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use magnum_common::ServiceError as _;

use super::*;

#[test]
fn texts_of_the_spec() {
    assert_eq!(
        Error::ContainerNotFound("x".into()).to_string(),
        "Container x could not be found."
    );
    assert_eq!(
        Error::WrongCoe("kubernetes".into()).to_string(),
        "Cannot fulfill request with a kubernetes bay, expecting a swarm bay."
    );
    assert_eq!(
        Error::BayNotFound("b".into()).to_string(),
        "Bay b could not be found."
    );
    assert_eq!(
        Error::ImageNotFound("nope:1".into()).to_string(),
        "Image nope:1 could not be found on the bay's Docker engine."
    );
}

#[test]
fn codes() {
    let table = [
        (Error::ContainerNotFound("x".into()), ErrorCode::NotFound),
        (Error::BayNotFound("x".into()), ErrorCode::InvalidArgument),
        (Error::WrongCoe("k".into()), ErrorCode::InvalidArgument),
        (Error::ImageNotFound("i".into()), ErrorCode::InvalidArgument),
        (Error::ContainerRunning, ErrorCode::FailedPrecondition),
        (
            Error::DockerConflict("c".into()),
            ErrorCode::FailedPrecondition,
        ),
        (Error::EngineUnavailable("e".into()), ErrorCode::Unavailable),
        (Error::ExecTimeout(3), ErrorCode::Timeout),
        (Error::Database("boom".into()), ErrorCode::Internal),
    ];
    for (error, code) in table {
        assert_eq!(error.code(), code, "{error:?}");
    }
}
