//! How `kube` errors become [`DriverError`]s.

use kube::core::Status;
use magnum_bay_driver::DriverError;

/// Why a call to the API server did not give an answer to use: either the server answered
/// with a `Status` the caller may want to look at (404, 409), or the call failed outright
/// and has already been turned into a [`DriverError`].
#[derive(Debug)]
pub enum CallError {
    Status(Box<Status>),
    Driver(DriverError),
}

impl CallError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status(s) if s.code == 404)
    }

    pub fn is_already_exists(&self) -> bool {
        matches!(self, Self::Status(s) if s.code == 409 && s.reason == "AlreadyExists")
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Status(s) if s.code == 409 && s.reason != "AlreadyExists")
    }

    /// The driver error, with `action` ("creating ResourceQuota x in namespace y") as
    /// context for a `Status`.
    pub fn into_driver_error(self, server: &str, action: &str) -> DriverError {
        match self {
            Self::Status(status) => status_error(server, action, &status),
            Self::Driver(error) => error,
        }
    }
}

/// Sorts an API `Status` by whether retrying or changing the request could help.
pub fn status_error(server: &str, action: &str, status: &Status) -> DriverError {
    let message = if status.message.is_empty() {
        format!("{action}: HTTP {} {}", status.code, status.reason)
    } else {
        format!("{action}: {}", status.message)
    };
    match status.code {
        400 | 422 => DriverError::Invalid(message),
        429 | 500.. => {
            DriverError::Unavailable(format!("Kubernetes API server {server} failed {message}"))
        }
        _ => DriverError::Failed(message),
    }
}

/// A `kube` error as a [`CallError`]: API answers stay inspectable, transport failures
/// become `Unavailable`.
pub fn from_kube(server: &str, action: &str, error: kube::Error) -> CallError {
    match error {
        kube::Error::Api(status) => CallError::Status(status),
        // kube's own wrapper text ("ServiceError: ") says nothing to an operator.
        kube::Error::HyperError(inner) => unreachable(server, &inner),
        kube::Error::Service(inner) => unreachable(server, inner.as_ref()),
        kube::Error::SerdeError(_) => CallError::Driver(DriverError::Failed(format!(
            "{action}: unexpected answer from the Kubernetes API server {server}: {}",
            source_chain(&error)
        ))),
        other => CallError::Driver(DriverError::Failed(format!(
            "{action}: {}",
            source_chain(&other)
        ))),
    }
}

fn unreachable(server: &str, error: &(dyn std::error::Error + 'static)) -> CallError {
    CallError::Driver(DriverError::Unavailable(format!(
        "Kubernetes API server {server} is unreachable: {}",
        source_chain(error)
    )))
}

/// `error` and its sources, `: `-separated (hyper's top-level message alone says little:
/// "client error (Connect)").
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
#[path = "error_test.rs"]
mod tests;
