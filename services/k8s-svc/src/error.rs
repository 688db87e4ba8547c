//! The crate's one error type. `code()` places each failure in the shared vocabulary, and
//! `grpc.rs` turns it into a `tonic::Status` in exactly one place.

use magnum_common::ErrorCode;
use uuid::Uuid;

use crate::domain::manifest::ManifestError;

/// A boxed cause from a lower layer (database), kept for logs.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong in k8s-svc. Texts of caller mistakes are Magnum's where it had one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Invalid input for field/attribute {field}. Value: '{value}'. {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("Expected a uuid but received {0}.")]
    InvalidUuid(String),
    #[error("The sort_key value \"{0}\" is an invalid field for sorting")]
    InvalidSortKey(String),
    #[error("Invalid sort direction: {0}. Acceptable values are 'asc' or 'desc'")]
    InvalidSortDir(String),
    #[error("Unknown attribute for argument update_mask: {0}")]
    UnknownUpdateField(String),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{0}")]
    ManifestUrl(String),
    #[error("{kind} {ident} could not be found.")]
    ObjectNotFound { kind: &'static str, ident: String },
    #[error("Multiple {kind}s exist with same name. Please use the {kind} uuid instead.")]
    AmbiguousName { kind: &'static str, name: String },
    #[error("A {kind} with UUID {uuid} already exists.")]
    ObjectExists { kind: &'static str, uuid: Uuid },
    /// The bay a request refers to (a body reference, so 400).
    #[error("Bay {0} could not be found.")]
    BayNotFound(String),
    /// The bay named in an item's URL (so 404).
    #[error("Bay {0} could not be found.")]
    PathBayNotFound(String),
    #[error("Multiple bays exist with same name. Please use the bay uuid instead.")]
    AmbiguousBayName(String),
    #[error("Cannot fulfill request with a {0} bay, expecting a kubernetes bay.")]
    WrongCoe(String),
    #[error("Bay {bay} is not ready (status {status}).")]
    BayNotReady { bay: String, status: String },
    /// The API server answered with an error: its status code and message, passed through.
    #[error("{message}")]
    Kubernetes { status: u16, message: String },
    /// The API server cannot be reached or answered nonsense.
    #[error("The bay's Kubernetes API is unavailable: {0}")]
    ClusterUnavailable(String),
    /// The API server's configuration (from bay-svc) cannot be used.
    #[error("The bay's Kubernetes API cannot be used: {0}")]
    ClusterConfig(String),
    /// bay-svc answered a lookup with an error other than not-found.
    #[error("{message}")]
    BayLookup { code: ErrorCode, message: String },
    #[error(transparent)]
    PolicyForbids(#[from] magnum_policy::Forbidden),
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] Cause),
    #[error("database query failed")]
    Database(#[source] Cause),
    #[error("stored object {uuid} is corrupt: {reason}")]
    CorruptRecord { uuid: String, reason: String },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<magnum_common::listing::ListingError> for Error {
    fn from(error: magnum_common::listing::ListingError) -> Self {
        use magnum_common::listing::ListingError;
        match error {
            ListingError::InvalidUuid(value) => Self::InvalidUuid(value),
            ListingError::InvalidSortDir(value) => Self::InvalidSortDir(value),
        }
    }
}

impl From<magnum_bay_client::BayLookupError> for Error {
    fn from(error: magnum_bay_client::BayLookupError) -> Self {
        use magnum_bay_client::BayLookupError;
        match error {
            BayLookupError::NotFound(ident) => Self::BayNotFound(ident),
            BayLookupError::Ambiguous(ident) => Self::AmbiguousBayName(ident),
            BayLookupError::Failed { code, message } => Self::BayLookup { code, message },
        }
    }
}

impl magnum_common::ServiceError for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidField { .. }
            | Self::InvalidUuid(_)
            | Self::InvalidSortKey(_)
            | Self::InvalidSortDir(_)
            | Self::UnknownUpdateField(_)
            | Self::Manifest(_)
            | Self::ManifestUrl(_)
            | Self::BayNotFound(_)
            | Self::WrongCoe(_)
            | Self::BayNotReady { .. } => ErrorCode::InvalidArgument,
            Self::ObjectNotFound { .. } | Self::PathBayNotFound(_) => ErrorCode::NotFound,
            Self::AmbiguousName { .. } | Self::ObjectExists { .. } | Self::AmbiguousBayName(_) => {
                ErrorCode::Conflict
            }
            Self::Kubernetes { status, .. } => match status {
                404 => ErrorCode::NotFound,
                409 => ErrorCode::Conflict,
                401 | 403 => ErrorCode::Forbidden,
                413 => ErrorCode::PayloadTooLarge,
                429 | 500..=599 => ErrorCode::Unavailable,
                _ => ErrorCode::InvalidArgument,
            },
            Self::PolicyForbids(_) => ErrorCode::Forbidden,
            Self::ClusterUnavailable(_) | Self::DatabaseUnavailable(_) => ErrorCode::Unavailable,
            Self::BayLookup { code, .. } => *code,
            Self::ClusterConfig(_) | Self::Database(_) | Self::CorruptRecord { .. } => {
                ErrorCode::Internal
            }
        }
    }
}
