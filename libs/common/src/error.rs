//! One small vocabulary of error codes. Every crate's error type maps onto it once
//! (`ServiceError::code`); the code decides the gRPC status here and the HTTP status in
//! the gateway.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed or a value is invalid (HTTP 400).
    InvalidArgument,
    /// The object does not exist or is not visible to the caller (HTTP 404).
    NotFound,
    /// Ambiguous name or duplicate (HTTP 409).
    Conflict,
    /// The object is not in a state that allows the request (HTTP 400, as Magnum).
    FailedPrecondition,
    /// No valid credentials (HTTP 401).
    Unauthenticated,
    /// Policy refuses the request (HTTP 403).
    Forbidden,
    /// A quota would be exceeded (HTTP 403, as Magnum).
    QuotaExceeded,
    /// The request body is larger than allowed (HTTP 413).
    PayloadTooLarge,
    /// The operation does not exist (yet) (HTTP 501).
    Unimplemented,
    /// A dependency (database, bus, engine, Keystone) cannot be reached (HTTP 503).
    Unavailable,
    /// A dependency did not answer in time (HTTP 504).
    Timeout,
    /// A bug or an unexpected failure (HTTP 500, details hidden).
    Internal,
}

impl ErrorCode {
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            Self::InvalidArgument => tonic::Code::InvalidArgument,
            Self::NotFound => tonic::Code::NotFound,
            Self::Conflict => tonic::Code::AlreadyExists,
            Self::FailedPrecondition => tonic::Code::FailedPrecondition,
            Self::Unauthenticated => tonic::Code::Unauthenticated,
            Self::Forbidden => tonic::Code::PermissionDenied,
            Self::QuotaExceeded => tonic::Code::ResourceExhausted,
            Self::PayloadTooLarge => tonic::Code::OutOfRange,
            Self::Unimplemented => tonic::Code::Unimplemented,
            Self::Unavailable => tonic::Code::Unavailable,
            Self::Timeout => tonic::Code::DeadlineExceeded,
            Self::Internal => tonic::Code::Internal,
        }
    }

    /// The code a gRPC status stands for; codes we never send count as internal.
    pub fn from_grpc(code: tonic::Code) -> Self {
        match code {
            tonic::Code::InvalidArgument => Self::InvalidArgument,
            tonic::Code::NotFound => Self::NotFound,
            tonic::Code::AlreadyExists | tonic::Code::Aborted => Self::Conflict,
            tonic::Code::FailedPrecondition => Self::FailedPrecondition,
            tonic::Code::Unauthenticated => Self::Unauthenticated,
            tonic::Code::PermissionDenied => Self::Forbidden,
            tonic::Code::ResourceExhausted => Self::QuotaExceeded,
            tonic::Code::OutOfRange => Self::PayloadTooLarge,
            tonic::Code::Unimplemented => Self::Unimplemented,
            tonic::Code::Unavailable => Self::Unavailable,
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => Self::Timeout,
            _ => Self::Internal,
        }
    }

    /// Messages of these codes may hold internals and are never shown to callers.
    pub fn hides_message(self) -> bool {
        matches!(self, Self::Internal)
    }
}

/// Implemented once by each crate's error type.
pub trait ServiceError: std::error::Error {
    fn code(&self) -> ErrorCode;
}

/// The message a caller sees for an internal error: Magnum's wording, with an id that
/// finds the logged details.
pub fn internal_message(correlation_id: &str) -> String {
    format!(
        "Your request could not be handled because of a problem in the server. \
         Error Correlation id is: {correlation_id}"
    )
}

/// Turns a crate error into a gRPC status: the code from the vocabulary, the error's
/// own message for caller mistakes, and a logged, hidden message for internal failures.
pub fn to_status<E: ServiceError>(error: &E) -> tonic::Status {
    let code = error.code();
    if code.hides_message() {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        tracing::error!(error = %ErrorChain(error), %correlation_id, "internal error");
        return tonic::Status::new(code.grpc_code(), internal_message(&correlation_id));
    }
    if matches!(code, ErrorCode::Unavailable | ErrorCode::Timeout) {
        tracing::warn!(error = %ErrorChain(error), "dependency failure");
    }
    tonic::Status::new(code.grpc_code(), error.to_string())
}

/// Displays an error with its whole source chain, for logs.
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ErrorCode; 12] = [
        ErrorCode::InvalidArgument,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::FailedPrecondition,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::QuotaExceeded,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unimplemented,
        ErrorCode::Unavailable,
        ErrorCode::Timeout,
        ErrorCode::Internal,
    ];

    #[test]
    fn every_code_survives_a_grpc_round_trip() {
        for code in ALL {
            assert_eq!(ErrorCode::from_grpc(code.grpc_code()), code, "{code:?}");
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("database exploded: password=secret")]
    struct Boom;
    impl ServiceError for Boom {
        fn code(&self) -> ErrorCode {
            ErrorCode::Internal
        }
    }

    #[test]
    fn internal_errors_hide_their_message() {
        let status = to_status(&Boom);
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("secret"));
        assert!(status.message().contains("Error Correlation id is"));
    }
}
