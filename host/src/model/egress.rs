//! The guest's outbound HTTP request and response (the `http` import) and its log levels
//! (the `log` import), as the host handles them whatever the contract version.

use super::Field;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<Field>,
    pub body: Option<Vec<u8>>,
    pub timeout_ms: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<Field>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Not on the allow-list, or a blocked (private) address.
    Denied(String),
    Timeout(String),
    /// DNS, connect or TLS failure.
    Connect(String),
    /// The response body exceeded the host's cap (bytes).
    TooLarge(u64),
    /// Malformed method, URL or header.
    InvalidRequest(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}
