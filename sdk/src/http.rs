//! Requests over the host-mediated `http` import, with JSON bodies and typed errors.
//!
//! ```ignore
//! let jobs: Vec<RemoteJob> = Request::get(format!("{base}/jobs"))
//!     .bearer(config.require("api-key")?)
//!     .send_ok()?          // non-2xx → typed ats-error (401 → unauthorized, 429 → rate-limited, ...)
//!     .json()?;
//! ```

use crate::bindings::ats::connector::http as host;
use crate::bindings::ats::connector::types::{AtsError, Field, RemoteFailure};
use crate::errors::{error_for_status, excerpt, from_http_error};
use serde::{Serialize, de::DeserializeOwned};

/// An outgoing request, built fluently and sent through the host.
#[derive(Debug, Clone)]
pub struct Request {
    inner: host::Request,
}

impl Request {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            inner: host::Request {
                method: method.to_string(),
                url: url.into(),
                headers: Vec::new(),
                body: None,
                timeout_ms: None,
            },
        }
    }

    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.inner.headers.push(Field { name: name.to_string(), value: value.into() });
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// A JSON body (and `content-type: application/json`).
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Self, AtsError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| AtsError::InvalidInput(format!("cannot encode request body: {e}")))?;
        Ok(self.body(bytes, "application/json"))
    }

    /// A raw body with its content type.
    pub fn body(mut self, bytes: Vec<u8>, content_type: &str) -> Self {
        self = self.header("content-type", content_type);
        self.inner.body = Some(bytes);
        self
    }

    pub fn timeout_ms(mut self, millis: u32) -> Self {
        self.inner.timeout_ms = Some(millis);
        self
    }

    /// Sends the request; any HTTP status is a success here.
    pub fn send(self) -> Result<Response, AtsError> {
        let response = host::send(&self.inner).map_err(from_http_error)?;
        Ok(Response(response))
    }

    /// Sends the request; a non-2xx status becomes the matching typed error.
    pub fn send_ok(self) -> Result<Response, AtsError> {
        self.send()?.error_for_status()
    }
}

/// A response as the host received it (body fully read, within the host's size cap).
#[derive(Debug, Clone)]
pub struct Response(pub host::Response);

impl Response {
    pub fn status(&self) -> u16 {
        self.0.status
    }

    pub fn body(&self) -> &[u8] {
        &self.0.body
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.0.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }

    /// `Ok(self)` for 2xx, otherwise the typed error for the status.
    pub fn error_for_status(self) -> Result<Self, AtsError> {
        if (200..300).contains(&self.status()) {
            Ok(self)
        } else {
            Err(error_for_status(self.status(), self.header("retry-after"), self.body()))
        }
    }

    /// Decodes the body as JSON; a malformed body becomes `remote` with an excerpt.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AtsError> {
        serde_json::from_slice(self.body()).map_err(|e| {
            AtsError::Remote(RemoteFailure {
                status: self.status(),
                body_excerpt: format!("unexpected JSON ({e}): {}", excerpt(self.body())),
            })
        })
    }
}

/// A `multipart/form-data` body (RFC 7578), for file uploads.
#[derive(Debug, Default)]
pub struct Multipart {
    parts: Vec<u8>,
    boundary: String,
}

impl Multipart {
    pub fn new() -> Self {
        Self { parts: Vec::new(), boundary: "ats-connector-boundary-7d1f0c9a2e4b".to_string() }
    }

    /// A plain text field.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.head(name, None, None);
        self.parts.extend_from_slice(value.as_bytes());
        self.parts.extend_from_slice(b"\r\n");
        self
    }

    /// A file field.
    pub fn file(mut self, name: &str, filename: &str, content_type: &str, content: &[u8]) -> Self {
        self.head(name, Some(filename), Some(content_type));
        self.parts.extend_from_slice(content);
        self.parts.extend_from_slice(b"\r\n");
        self
    }

    fn head(&mut self, name: &str, filename: Option<&str>, content_type: Option<&str>) {
        let quote = |s: &str| s.replace(['"', '\r', '\n'], "_");
        let mut head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"",
            self.boundary,
            quote(name)
        );
        if let Some(filename) = filename {
            head.push_str(&format!("; filename=\"{}\"", quote(filename)));
        }
        if let Some(content_type) = content_type {
            head.push_str(&format!("\r\nContent-Type: {content_type}"));
        }
        head.push_str("\r\n\r\n");
        self.parts.extend_from_slice(head.as_bytes());
    }

    /// The body and its `content-type` header value.
    pub fn finish(mut self) -> (Vec<u8>, String) {
        self.parts.extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (self.parts, format!("multipart/form-data; boundary={}", self.boundary))
    }
}

impl Request {
    /// A `multipart/form-data` body.
    pub fn multipart(self, form: Multipart) -> Self {
        let (body, content_type) = form.finish();
        self.body(body, &content_type)
    }

    /// An `application/x-www-form-urlencoded` body (OAuth2 token requests).
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.body(body.into_bytes(), "application/x-www-form-urlencoded")
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Base64 (standard alphabet, padded), for ATS APIs that take files inline.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
