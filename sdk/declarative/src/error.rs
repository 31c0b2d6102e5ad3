//! The crate's error types: [`ManifestError`]/[`ManifestErrors`] for a manifest that does
//! not parse or validate (each with line, column and key path), [`DeclError`] for a call
//! (the contract's `ats-error` cases) and [`TransportError`] for what a [`crate::Transport`]
//! reports.

use std::fmt;

/// One problem in a manifest, located in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line of the offending key or value (of its table when the key is missing).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The key path, e.g. `operations.list-jobs.paginate.param` or `config[1].name`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(top level)" } else { &self.path };
        write!(f, "line {}, column {}: {path}: {}", self.line, self.column, self.message)
    }
}

/// Every problem found in a manifest (at least one), in the order of the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestErrors {
    pub errors: Vec<ManifestError>,
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        write!(
            f,
            "the connector manifest has {count} error{}:",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

/// The failure of one call, mirroring the contract's `ats-error` variants. Problems with the
/// manifest, the config, the input or a page token are `InvalidInput` with a message that
/// names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclError {
    /// Credentials rejected: the connection needs new credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed to do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A duplicate or a conflicting concurrent change.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rate limited: {message}")]
    RateLimited { retry_after_seconds: Option<u32>, message: String },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Temporary failure (network, 5xx, timeout): retrying may succeed.
    #[error("transient: {0}")]
    Transient(String),
    /// Any other answer from the ATS.
    #[error("remote answered {status}: {body_excerpt}")]
    Remote { status: u16, body_excerpt: String },
}

/// Why a [`crate::Transport`] could not deliver a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Connect or read timeout.
    #[error("timeout: {0}")]
    Timeout(String),
    /// Refused by the host (egress allow-list, blocked address, request budget).
    #[error("denied: {0}")]
    Denied(String),
    /// The response body exceeded the host's cap (bytes).
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
    /// Anything else (DNS, connect, TLS, a malformed request).
    #[error("{0}")]
    Other(String),
}

impl From<TransportError> for DeclError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::Timeout(reason) => DeclError::Transient(format!("timeout: {reason}")),
            TransportError::Denied(reason) => {
                DeclError::Forbidden(format!("request denied by the host: {reason}"))
            }
            TransportError::TooLarge(limit) => DeclError::Remote {
                status: 0,
                body_excerpt: format!("response larger than the host's cap of {limit} bytes"),
            },
            TransportError::Other(reason) => {
                DeclError::Transient(format!("request failed: {reason}"))
            }
        }
    }
}
