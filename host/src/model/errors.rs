//! The one error type of every connector operation. The host decides retries from the
//! variant, never from the message text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub retry_after_seconds: Option<u32>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteFailure {
    pub status: u16,
    pub body_excerpt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AtsError {
    /// Credentials rejected: the connection needs new credentials.
    Unauthorized(String),
    /// Authenticated, but not allowed to do this.
    Forbidden(String),
    NotFound(String),
    /// A duplicate or a conflicting concurrent change.
    Conflict(String),
    RateLimited(RateLimit),
    /// The input cannot be accepted; the message names the field.
    InvalidInput(String),
    /// This connector or ATS cannot do this operation.
    Unsupported(String),
    /// Temporary failure: retrying may succeed.
    Transient(String),
    /// Any other answer from the ATS.
    Remote(RemoteFailure),
}
