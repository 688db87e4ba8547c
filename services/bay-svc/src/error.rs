//! The crate's one error type. Every failure of bay-svc is a variant named for what
//! failed; `code()` places it in the shared vocabulary, and `grpc.rs` turns it into a
//! `tonic::Status` in exactly one place.

use magnum_common::ErrorCode;
use uuid::Uuid;

/// A boxed cause from a lower layer (database, bus), kept for logs.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong in bay-svc. Display texts of caller mistakes are Magnum's, because
/// the gateway shows them to clients as they are.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field value breaks its type's rules (WSME's `InvalidInput`).
    #[error("Invalid input for field/attribute {field}. Value: '{value}'. {reason}")]
    InvalidField {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("Requested COE type {0} is not supported.")]
    UnsupportedCoe(String),
    #[error(
        "Network driver type {driver} is not supported, expecting a {supported} network driver."
    )]
    UnsupportedNetworkDriver { driver: String, supported: String },
    /// A marker (page token) or other uuid-only value that is not a uuid.
    #[error("Expected a uuid but received {0}.")]
    InvalidUuid(String),
    #[error("The sort_key value \"{0}\" is an invalid field for sorting")]
    InvalidSortKey(String),
    #[error("Invalid sort direction: {0}. Acceptable values are 'asc' or 'desc'")]
    InvalidSortDir(String),
    /// An `update_mask` path that names no updatable field.
    #[error("Unknown attribute for argument update_mask: {0}")]
    UnknownUpdateField(String),
    #[error("'/{0}' is an internal attribute and can not be updated")]
    ImmutableField(String),
    #[error("Baymodel {0} could not be found.")]
    BayModelNotFound(String),
    #[error("Multiple baymodels exist with same name. Please use the baymodel uuid instead.")]
    AmbiguousBayModelName(String),
    #[error("A baymodel with UUID {0} already exists.")]
    BayModelExists(Uuid),
    #[error("Node {0} could not be found.")]
    NodeNotFound(String),
    #[error("A node with UUID {0} already exists.")]
    NodeExists(Uuid),
    /// `ironic_node_id` is unique across every project's nodes.
    #[error("A node with ironic_node_id {0} already exists.")]
    IronicNodeIdTaken(String),
    #[error("Bay {0} could not be found.")]
    BayNotFound(String),
    #[error("Multiple bays exist with same name. Please use the bay uuid instead.")]
    AmbiguousBayName(String),
    #[error("A bay with UUID {0} already exists.")]
    BayExists(Uuid),
    /// Only a complete bay may change (Magnum's text; 400).
    #[error("Updating a bay when stack status is \"{0}\" is not supported.")]
    BayUpdateNotAllowed(crate::domain::bay::BayStatus),
    /// Another operation changed the bay first (Magnum's bay-lock text; 400).
    #[error("Bay {0} already has an operation in progress.")]
    BayOperationInProgress(String),
    #[error("Nodegroup {0} could not be found.")]
    NodeGroupNotFound(String),
    /// Bounds that do not hold (Magnum's `NodeGroupInvalidInput`, 409).
    #[error("{attribute} for {group} is invalid ({explanation}).")]
    NodeGroupInvalid {
        attribute: &'static str,
        group: String,
        explanation: String,
    },
    #[error("A node group with name {group} already exists in the cluster {bay}.")]
    NodeGroupExists { bay: String, group: String },
    #[error("Creating master nodegroups is currently not supported.")]
    MasterNodeGroupNotSupported,
    #[error("Resizing a master nodegroup is not supported.")]
    MasterNodeGroupResize,
    #[error("Deleting a default nodegroup is not supported.")]
    DefaultNodeGroupDelete,
    /// The default groups follow the bay: their limits do not change.
    #[error(
        "Nodegroup {0} is a default group: its size follows the cluster's node_count and its limits cannot change."
    )]
    DefaultNodeGroupFixed(String),
    #[error("Resizing {group} outside the allowed range: min_node_count = {min}, max_node_count = {}", max.map_or_else(|| "None".to_owned(), |max| max.to_string()))]
    NodeGroupResizeOutOfRange {
        group: String,
        min: u32,
        max: Option<u32>,
    },
    /// A bay's count includes its other groups' workers; the default group keeps one.
    #[error(
        "node_count {node_count} must be more than the {others} workers of the cluster's other node groups."
    )]
    NodeCountBelowGroups { node_count: i64, others: u32 },
    /// Our drivers need a worker: the groups of a bay must keep at least one.
    #[error(
        "Cluster {0} needs at least one worker node: this deployment's drivers cannot run a cluster without workers."
    )]
    NoWorkersLeft(String),
    /// Creating a bay beyond the project's quota (Magnum's `ResourceLimitExceeded`, 403).
    #[error(
        "Resource limit exceeded: You have reached the maximum clusters per project, {hard_limit}. You may delete a cluster to make room for a new one."
    )]
    QuotaExceeded { project_id: String, hard_limit: u32 },
    #[error("Quota could not be found: project {project_id}, resource {resource}.")]
    QuotaNotFound {
        project_id: String,
        resource: String,
    },
    #[error("Quota for project {project_id} already exists for resource {resource}.")]
    QuotaExists {
        project_id: String,
        resource: String,
    },
    /// A list marker of quotas (their ids are integers).
    #[error("Invalid marker {0}: quota markers are ids.")]
    InvalidQuotaMarker(String),
    #[error("Baymodel {0} is referenced by one or multiple bays.")]
    BayModelInUse(String),
    /// No driver serves this kind of bay here (Magnum's `ClusterTypeNotSupported`).
    #[error("Bay type ({server_type}, {distro}, {coe}) not supported. {reason}")]
    BayTypeNotSupported {
        server_type: String,
        distro: String,
        coe: String,
        reason: String,
    },
    /// A certificate signing request that cannot be signed (the caller's mistake).
    #[error("Invalid CSR: {0}")]
    InvalidCsr(String),
    /// The bay has no CA (it is being deleted, or its row was hand-edited).
    #[error("Bay {0} has no certificate authority.")]
    CaMissing(Uuid),
    /// Making, signing with or unsealing a CA failed (not the caller's doing).
    #[error("certificate authority failure")]
    Pki(#[source] Cause),
    /// The bay cannot be used in its status (its credentials are for a complete bay).
    #[error(
        "Bay {bay} is {status}; its credentials are only available when it is CREATE_COMPLETE or UPDATE_COMPLETE."
    )]
    BayNotUsable {
        bay: String,
        status: crate::domain::bay::BayStatus,
    },
    /// The bay's driver gave no credential (swarm), or none was stored.
    #[error("Bay {bay} has no credentials (coe {coe}).")]
    BayHasNoCredentials { bay: String, coe: &'static str },
    /// Sealing or unsealing a bay's credential failed (a wrong key, a corrupt row).
    #[error("cannot seal or unseal the bay's credential")]
    CredentialSealing(#[source] Cause),
    /// Policy refuses the action ("Policy doesn't allow <rule> to be performed.").
    #[error(transparent)]
    PolicyForbids(#[from] magnum_policy::Forbidden),
    /// `baymodel:publish` refuses setting the public flag (Magnum's own text).
    #[error("Not authorized to set public flag for baymodel.")]
    PublishForbidden,
    /// The bus's service registry cannot be read.
    #[error("the service registry is unavailable")]
    RegistryUnavailable(#[source] Cause),
    /// The database cannot be reached (connection refused, pool exhausted).
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] Cause),
    /// Any other database failure.
    #[error("database query failed")]
    Database(#[source] Cause),
    /// The outbox refused an event (the change it reports is rolled back).
    #[error("cannot record the event in the outbox")]
    EventNotRecorded(#[source] Cause),
    /// A stored row that the domain cannot read back (a bug or a hand-edited row).
    #[error("stored {kind} {uuid} is corrupt: {reason}")]
    CorruptRecord {
        kind: &'static str,
        uuid: String,
        reason: String,
    },
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
            | Self::UnsupportedCoe(_)
            | Self::UnsupportedNetworkDriver { .. }
            | Self::InvalidUuid(_)
            | Self::InvalidSortKey(_)
            | Self::InvalidSortDir(_)
            | Self::UnknownUpdateField(_)
            | Self::ImmutableField(_)
            | Self::BayUpdateNotAllowed(_)
            | Self::BayOperationInProgress(_)
            | Self::BayModelInUse(_)
            | Self::BayTypeNotSupported { .. }
            | Self::InvalidCsr(_)
            | Self::InvalidQuotaMarker(_)
            | Self::MasterNodeGroupNotSupported
            | Self::MasterNodeGroupResize
            | Self::DefaultNodeGroupDelete
            | Self::DefaultNodeGroupFixed(_)
            | Self::NodeGroupResizeOutOfRange { .. }
            | Self::NoWorkersLeft(_)
            | Self::NodeCountBelowGroups { .. } => ErrorCode::InvalidArgument,
            Self::NodeGroupNotFound(_) => ErrorCode::NotFound,
            Self::NodeGroupInvalid { .. } | Self::NodeGroupExists { .. } => ErrorCode::Conflict,
            Self::QuotaExceeded { .. } => ErrorCode::QuotaExceeded,
            Self::QuotaNotFound { .. } => ErrorCode::NotFound,
            Self::QuotaExists { .. } => ErrorCode::Conflict,
            Self::BayModelNotFound(_) | Self::NodeNotFound(_) | Self::BayNotFound(_) => {
                ErrorCode::NotFound
            }
            Self::BayNotUsable { .. } | Self::BayHasNoCredentials { .. } => {
                ErrorCode::FailedPrecondition
            }
            Self::AmbiguousBayName(_) | Self::BayExists(_) => ErrorCode::Conflict,
            Self::AmbiguousBayModelName(_)
            | Self::BayModelExists(_)
            | Self::NodeExists(_)
            | Self::IronicNodeIdTaken(_) => ErrorCode::Conflict,
            Self::PolicyForbids(_) | Self::PublishForbidden => ErrorCode::Forbidden,
            Self::DatabaseUnavailable(_) | Self::RegistryUnavailable(_) => ErrorCode::Unavailable,
            Self::Database(_)
            | Self::EventNotRecorded(_)
            | Self::CorruptRecord { .. }
            | Self::CaMissing(_)
            | Self::Pki(_)
            | Self::CredentialSealing(_) => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use magnum_common::ServiceError;

    #[test]
    fn caller_mistakes_keep_magnums_texts() {
        let error = Error::InvalidField {
            field: "name",
            value: String::new(),
            reason: "Value should have a minimum character requirement of 1".into(),
        };
        assert_eq!(
            error.to_string(),
            "Invalid input for field/attribute name. Value: ''. \
             Value should have a minimum character requirement of 1"
        );
        assert_eq!(
            Error::BayModelNotFound("x".into()).to_string(),
            "Baymodel x could not be found."
        );
        assert_eq!(
            Error::InvalidSortKey("foo".into()).to_string(),
            "The sort_key value \"foo\" is an invalid field for sorting"
        );
        assert_eq!(
            Error::NodeNotFound("x".into()).to_string(),
            "Node x could not be found."
        );
        assert_eq!(
            Error::InvalidUuid("my-node".into()).to_string(),
            "Expected a uuid but received my-node."
        );
        assert_eq!(
            Error::IronicNodeIdTaken("ironic-1".into()).to_string(),
            "A node with ironic_node_id ironic-1 already exists."
        );
    }

    #[test]
    fn codes() {
        let table = [
            (
                Error::UnsupportedCoe("mesos".into()),
                ErrorCode::InvalidArgument,
            ),
            (Error::BayModelNotFound("x".into()), ErrorCode::NotFound),
            (
                Error::AmbiguousBayModelName("x".into()),
                ErrorCode::Conflict,
            ),
            (Error::BayModelExists(Uuid::nil()), ErrorCode::Conflict),
            (Error::NodeNotFound("x".into()), ErrorCode::NotFound),
            (Error::NodeExists(Uuid::nil()), ErrorCode::Conflict),
            (Error::IronicNodeIdTaken("i".into()), ErrorCode::Conflict),
            (Error::InvalidUuid("x".into()), ErrorCode::InvalidArgument),
            (
                Error::PolicyForbids(magnum_policy::Forbidden {
                    rule: "baymodel:update".into(),
                }),
                ErrorCode::Forbidden,
            ),
            (
                Error::DatabaseUnavailable("down".into()),
                ErrorCode::Unavailable,
            ),
            (Error::Database("boom".into()), ErrorCode::Internal),
            (
                Error::BayNotUsable {
                    bay: "b".into(),
                    status: crate::domain::bay::BayStatus::CreateInProgress,
                },
                ErrorCode::FailedPrecondition,
            ),
            (
                Error::BayHasNoCredentials {
                    bay: "b".into(),
                    coe: "swarm",
                },
                ErrorCode::FailedPrecondition,
            ),
            (
                Error::CredentialSealing("wrong key".into()),
                ErrorCode::Internal,
            ),
        ];
        for (error, code) in table {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }
}
