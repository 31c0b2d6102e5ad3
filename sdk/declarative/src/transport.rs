//! The host-independent boundary of execution: [`Transport`] sends HTTP requests and keeps
//! per-connection state (the wasm wrapper implements it over the host's `http` and `state`
//! imports; tests script it), and the request/response values it carries.

use crate::error::TransportError;

/// An outgoing request, fully rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// A response as the host received it (body complete, within the host's size cap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl HttpResponse {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// What execution needs from its host.
pub trait Transport {
    /// Sends one request; any HTTP status is a response.
    fn send(&mut self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
    /// A value kept for this connection, if present and not expired.
    fn state_get(&mut self, key: &str) -> Option<String>;
    /// Keeps a value for this connection (`ttl_seconds`: it disappears after that long).
    /// The crate forgets a value by setting it empty with a TTL of 1 second.
    fn state_set(&mut self, key: &str, value: &str, ttl_seconds: Option<u32>);
}
