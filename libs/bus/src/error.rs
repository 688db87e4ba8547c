//! The crate's one error type.

use magnum_common::ErrorCode;

/// A boxed cause, kept as the error's source so logs show the whole chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong on the bus or in the outbox.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The `BusConfig` cannot be used (unknown url scheme, bad prefix).
    #[error("invalid bus configuration: {0}")]
    Config(String),
    /// A subject or filter outside `magnum.ops.>` / `magnum.events.>`, or malformed.
    #[error("invalid subject {subject:?}: {reason}")]
    InvalidSubject {
        /// The subject or filter as the caller gave it.
        subject: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A message that cannot be sent as it is (empty id, bad header, too large).
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// A consumer spec that the bus refuses (bad durable name, overlapping work-queue filter).
    #[error("invalid consumer {durable:?}: {reason}")]
    InvalidConsumer {
        /// The durable name from the spec.
        durable: String,
        /// Why it was refused.
        reason: String,
    },
    /// An outbox row with this id already exists.
    #[error("an outbox message with id {0:?} already exists")]
    DuplicateId(String),
    /// The bus cannot be reached or did not answer in time; retrying later may work.
    #[error("the message bus is unavailable: {context}")]
    Unavailable {
        /// What was being done.
        context: String,
        /// The client's error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// The bus answered but refused the request (e.g. a stream config it rejects).
    #[error("the message bus refused to {context}")]
    Rejected {
        /// What was being done.
        context: String,
        /// The server's answer.
        #[source]
        source: BoxError,
    },
    /// A watch skipped messages: it fell behind, or the server lost its store. The watch
    /// goes on with later messages.
    #[error("the watch missed {} messages", match .missed { Some(n) => n.to_string(), None => "some".to_owned() })]
    Lagged {
        /// How many, when known.
        missed: Option<u64>,
    },
    /// The outbox table could not be read or written.
    #[error("outbox database error while trying to {context}")]
    Database {
        /// What was being done.
        context: String,
        /// The driver's error.
        #[source]
        source: sea_orm::DbErr,
    },
}

impl BusError {
    pub(crate) fn unavailable(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Unavailable {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn rejected(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Rejected {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn database(context: impl Into<String>, source: sea_orm::DbErr) -> Self {
        Self::Database {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn subject(subject: &str, reason: impl Into<String>) -> Self {
        Self::InvalidSubject {
            subject: subject.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn consumer(durable: &str, reason: impl Into<String>) -> Self {
        Self::InvalidConsumer {
            durable: durable.to_owned(),
            reason: reason.into(),
        }
    }

    /// True for the caller's own mistakes, which retrying cannot fix.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Config(_)
                | Self::InvalidSubject { .. }
                | Self::InvalidMessage(_)
                | Self::InvalidConsumer { .. }
                | Self::DuplicateId(_)
        )
    }
}

impl magnum_common::ServiceError for BusError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidSubject { .. }
            | Self::InvalidMessage(_)
            | Self::InvalidConsumer { .. } => ErrorCode::InvalidArgument,
            Self::DuplicateId(_) => ErrorCode::Conflict,
            Self::Unavailable { .. } | Self::Lagged { .. } => ErrorCode::Unavailable,
            Self::Database { source, .. } => match source {
                sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                    ErrorCode::Unavailable
                }
                _ => ErrorCode::Internal,
            },
            Self::Config(_) | Self::Rejected { .. } => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use magnum_common::ServiceError;

    #[test]
    fn codes() {
        assert_eq!(
            BusError::Unavailable {
                context: "x".into(),
                source: None
            }
            .code(),
            ErrorCode::Unavailable
        );
        assert_eq!(
            BusError::subject("foo", "bad").code(),
            ErrorCode::InvalidArgument
        );
        assert_eq!(BusError::Config("x".into()).code(), ErrorCode::Internal);
        assert!(BusError::InvalidMessage("x".into()).is_permanent());
        assert!(
            !BusError::Unavailable {
                context: "x".into(),
                source: None
            }
            .is_permanent()
        );
    }
}
