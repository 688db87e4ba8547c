//! Error type of the crate.

use std::path::PathBuf;

/// Errors from CA generation, CSR signing and sealing.
///
/// [`PkiError::InvalidCsr`] and [`PkiError::InvalidArgument`] are caused by
/// the caller's input (map them to a 400); the other variants are
/// configuration or internal failures.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The certificate signing request was rejected (user error).
    #[error("invalid certificate signing request: {0}")]
    InvalidCsr(String),
    /// An argument was out of range (e.g. a zero validity).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The stored CA certificate or key could not be used.
    #[error("invalid CA material: {0}")]
    InvalidCa(String),
    /// A sealing key is malformed (wrong length, not base64, ...).
    #[error("invalid sealing key: {0}")]
    InvalidKey(String),
    /// No sealing key is configured and no development fallback is allowed.
    #[error(
        "no sealing key configured: set `key` or `key_file` (generate one with `openssl rand -base64 32`)"
    )]
    KeyNotConfigured,
    /// A sealed value could not be opened (tampered, wrong key, wrong
    /// associated data, truncated or unknown format).
    #[error("cannot open sealed data: {0}")]
    Unseal(String),
    /// Reading or writing a key file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("reading key file", ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An unexpected internal failure (crypto backend, encoding).
    #[error("internal PKI error: {0}")]
    Internal(String),
}

impl PkiError {
    /// Whether the error was caused by the caller's input rather than by
    /// configuration or an internal failure.
    pub fn is_user_error(&self) -> bool {
        matches!(self, Self::InvalidCsr(_) | Self::InvalidArgument(_))
    }
}
