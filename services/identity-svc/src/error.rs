//! identity-svc's one error type, mapped to a gRPC status in one place (`grpc.rs`, through
//! `magnum_common::error::to_status`).

use magnum_common::{ErrorCode, ServiceError};

/// What Keystone (and keystonemiddleware) say when a token is missing or not valid.
pub const UNAUTHENTICATED_MESSAGE: &str = "The request you have made requires authentication.";

/// What a caller sees when the token could not be checked. The details go to the log only.
pub const UNAVAILABLE_MESSAGE: &str = "The identity service is not available; please retry later.";

#[derive(Debug, Clone, thiserror::Error)]
pub enum IdentityError {
    /// The token is missing, malformed, invalid, expired, revoked or not project-scoped.
    #[error("{}", UNAUTHENTICATED_MESSAGE)]
    Unauthenticated,
    /// The token could not be checked. Never treated as a valid token (fail closed).
    #[error("{}", UNAVAILABLE_MESSAGE)]
    Unavailable(#[source] KeystoneFault),
    /// The configuration is unsafe or cannot work (found at start-up).
    #[error("{0}")]
    Config(String),
}

impl ServiceError for IdentityError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Config(_) => ErrorCode::Internal,
        }
    }
}

/// Why Keystone could not answer whether a token is valid: for logs and operators, never
/// for callers. Never holds a token or a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoneFault {
    /// Connection refused, DNS, TLS, timeout... `reason` is the HTTP client's error chain.
    #[error("cannot reach Keystone ({request}): {reason}")]
    Unreachable {
        request: &'static str,
        reason: String,
    },
    /// An answer the protocol does not allow here (5xx, unexpected 4xx).
    #[error("Keystone answered HTTP {status} to {request}")]
    Status { request: &'static str, status: u16 },
    /// The service user's password login was refused (wrong password, user, project or
    /// domain in `[identity.keystone]`).
    #[error(
        "Keystone refused the service user's login (HTTP {status}); check username, \
         password, project_name and the domains in [identity.keystone]"
    )]
    LoginRefused { status: u16 },
    /// The service user may not validate tokens (Keystone's policy needs role `admin` or
    /// `service`).
    #[error(
        "Keystone refused to let the service user validate tokens (HTTP 403); give it the \
         admin or service role in its project"
    )]
    Forbidden,
    /// Keystone rejected a service token it had just issued.
    #[error("Keystone rejected a freshly issued service token (HTTP 401)")]
    ServiceTokenRejected,
    /// A 2xx answer we cannot read.
    #[error("unexpected answer from Keystone to {request}: {detail}")]
    BadAnswer {
        request: &'static str,
        detail: String,
    },
    /// The password file could not be read.
    #[error("cannot read the service user's password file {path}: {reason}")]
    PasswordFile { path: String, reason: String },
}
