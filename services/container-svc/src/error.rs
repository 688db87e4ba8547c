//! The crate's one error type. `code()` places each failure in the shared vocabulary, and
//! `grpc.rs` turns it into a `tonic::Status` in exactly one place.

use magnum_common::ErrorCode;
use uuid::Uuid;

/// A boxed cause from a lower layer (database), kept for logs.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong in container-svc. Texts of caller mistakes are Magnum's where it had
/// one, since the gateway shows them as they are.
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
    #[error("'/{0}' is an internal attribute and can not be updated")]
    ImmutableField(String),
    #[error("Container {0} could not be found.")]
    ContainerNotFound(String),
    #[error("Multiple containers exist with same name. Please use the container uuid instead.")]
    AmbiguousContainerName(String),
    #[error("A container with UUID {0} already exists.")]
    ContainerExists(Uuid),
    /// The bay a request refers to (a body reference, so 400).
    #[error("Bay {0} could not be found.")]
    BayNotFound(String),
    #[error("Multiple bays exist with same name. Please use the bay uuid instead.")]
    AmbiguousBayName(String),
    #[error("Cannot fulfill request with a {0} bay, expecting a swarm bay.")]
    WrongCoe(String),
    #[error("Bay {bay} is not ready (status {status}).")]
    BayNotReady { bay: String, status: String },
    #[error("Bay {0} has no nodes to place containers on.")]
    BayHasNoNodes(String),
    /// A bay node that is not in this service's engine pool (a configuration mismatch).
    #[error(
        "Docker engine {0} of the bay is not configured in container-svc's [container.swarm] pool."
    )]
    UnknownEngine(String),
    #[error("Image {0} could not be found on the bay's Docker engine.")]
    ImageNotFound(String),
    #[error("Cannot delete a running container; stop it first or force.")]
    ContainerRunning,
    /// The engine refused the request as invalid (Docker's 400).
    #[error("{0}")]
    DockerInvalid(String),
    /// The engine refused the request in the container's current state (Docker's 409).
    #[error("{0}")]
    DockerConflict(String),
    /// The engine cannot be reached or failed (its 5xx, timeouts).
    #[error("{0}")]
    EngineUnavailable(String),
    /// The engine answered in a way it should not have.
    #[error("{0}")]
    EngineFailed(String),
    /// The create outlived its record's patience: the sweeper (or a delete) settled the
    /// record first, and the Docker container was removed again.
    #[error("Creating container {0} was abandoned; it took too long. Create it again.")]
    CreateAbandoned(Uuid),
    #[error("The command did not finish within {0} seconds.")]
    ExecTimeout(u64),
    /// bay-svc answered a lookup with an error other than not-found.
    #[error("{message}")]
    BayLookup { code: ErrorCode, message: String },
    #[error(transparent)]
    PolicyForbids(#[from] magnum_policy::Forbidden),
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] Cause),
    #[error("database query failed")]
    Database(#[source] Cause),
    #[error("stored container {uuid} is corrupt: {reason}")]
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

impl magnum_common::ServiceError for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidField { .. }
            | Self::InvalidUuid(_)
            | Self::InvalidSortKey(_)
            | Self::InvalidSortDir(_)
            | Self::UnknownUpdateField(_)
            | Self::ImmutableField(_)
            | Self::BayNotFound(_)
            | Self::WrongCoe(_)
            | Self::BayNotReady { .. }
            | Self::BayHasNoNodes(_)
            | Self::ImageNotFound(_)
            | Self::DockerInvalid(_) => ErrorCode::InvalidArgument,
            Self::ContainerRunning | Self::DockerConflict(_) => ErrorCode::FailedPrecondition,
            Self::ContainerNotFound(_) => ErrorCode::NotFound,
            Self::AmbiguousContainerName(_)
            | Self::ContainerExists(_)
            | Self::AmbiguousBayName(_) => ErrorCode::Conflict,
            Self::PolicyForbids(_) => ErrorCode::Forbidden,
            Self::EngineUnavailable(_)
            | Self::DatabaseUnavailable(_)
            | Self::CreateAbandoned(_) => ErrorCode::Unavailable,
            Self::ExecTimeout(_) => ErrorCode::Timeout,
            Self::BayLookup { code, .. } => *code,
            Self::UnknownEngine(_)
            | Self::EngineFailed(_)
            | Self::Database(_)
            | Self::CorruptRecord { .. } => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
#[path = "error_test.rs"]
mod tests;
