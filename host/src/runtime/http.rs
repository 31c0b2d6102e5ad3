//! The host side of the guest's `http` import: performs requests with reqwest after the
//! egress checks, with timeouts and size caps, and maps every failure onto `http-error`.
//!
//! DNS answers pass through [`CheckedResolver`], which drops private addresses unless the
//! connection allows them, so the address that was checked is the one connected to (no
//! DNS-rebinding gap). Redirects are never followed: a 3xx goes back to the guest, which
//! must send a new request that passes the allow-list again.

use super::egress::{EgressDenied, EgressPolicy, is_private};
use super::limits::Limits;
use crate::model::Field;
use crate::model::egress::{HttpError, Request, Response};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Shared HTTP clients (connection pools) for all connector calls.
pub struct EgressClient {
    strict: reqwest::Client,
    private_allowed: reqwest::Client,
    request_timeout: Duration,
    max_request_body_bytes: u64,
    max_response_body_bytes: u64,
    max_request_headers: usize,
    max_request_header_bytes: usize,
}

impl EgressClient {
    pub fn new(limits: &Limits) -> Result<Self, reqwest::Error> {
        let build = |block_private: bool| {
            guarded_client(block_private)
                .connect_timeout(limits.http_connect_timeout)
                .user_agent(concat!("ats-host/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Self {
            strict: build(true)?,
            private_allowed: build(false)?,
            request_timeout: limits.http_request_timeout,
            max_request_body_bytes: limits.max_request_body_bytes,
            max_response_body_bytes: limits.max_response_body_bytes,
            max_request_headers: limits.max_request_headers,
            max_request_header_bytes: limits.max_request_header_bytes,
        })
    }

    /// Performs one guest request under `policy`.
    pub async fn send(
        &self,
        policy: &EgressPolicy,
        request: Request,
    ) -> Result<Response, HttpError> {
        self.check_headers(&request.headers)?;
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| HttpError::InvalidRequest(format!("bad URL `{}`: {e}", request.url)))?;
        policy.check_url(&url).map_err(|e| HttpError::Denied(e.to_string()))?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpError::InvalidRequest(format!("bad method `{}`", request.method)))?;
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)).min(self.request_timeout))
            .unwrap_or(self.request_timeout);
        let client =
            if policy.allow_private_networks { &self.private_allowed } else { &self.strict };
        let mut builder = client.request(method, url).timeout(timeout);
        for header in &request.headers {
            let name =
                reqwest::header::HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| {
                    HttpError::InvalidRequest(format!("bad header name `{}`", header.name))
                })?;
            let value = reqwest::header::HeaderValue::from_str(&header.value).map_err(|_| {
                HttpError::InvalidRequest(format!("bad value for header `{}`", header.name))
            })?;
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            if body.len() as u64 > self.max_request_body_bytes {
                return Err(HttpError::InvalidRequest(format!(
                    "request body of {} bytes exceeds the host's cap of {} bytes",
                    body.len(),
                    self.max_request_body_bytes
                )));
            }
            builder = builder.body(body);
        }
        let mut response = builder.send().await.map_err(classify)?;
        let cap = self.max_response_body_bytes;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(HttpError::TooLarge(cap));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| Field {
                name: name.as_str().to_string(),
                value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(HttpError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response { status, headers, body })
    }
}

impl EgressClient {
    /// Header count and bytes are capped before anything is built: the `http` crate panics
    /// past its own internal maximum (about 24,600 distinct names), and no ATS needs more
    /// than a few dozen.
    fn check_headers(&self, headers: &[Field]) -> Result<(), HttpError> {
        if headers.len() > self.max_request_headers {
            return Err(HttpError::InvalidRequest(format!(
                "{} request headers, over the host's cap of {} (limits.max_request_headers)",
                headers.len(),
                self.max_request_headers
            )));
        }
        let bytes: usize = headers.iter().map(|h| h.name.len() + h.value.len()).sum();
        if bytes > self.max_request_header_bytes {
            return Err(HttpError::InvalidRequest(format!(
                "request headers of {bytes} bytes, over the host's cap of {} bytes (limits.max_request_header_bytes)",
                self.max_request_header_bytes
            )));
        }
        Ok(())
    }
}

/// The one way the host builds an outbound HTTP client, for connector egress and webhook
/// delivery alike: DNS answers pass [`CheckedResolver`] (private addresses dropped unless
/// allowed), redirects are never followed, and no proxy is used (a proxy would resolve names
/// itself, past the resolver, so the private-network rule would not see the real address).
pub fn guarded_client(block_private: bool) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver { block_private }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
}

/// Maps a reqwest failure onto the guest-visible error, keeping an egress denial from the
/// resolver recognisable.
fn classify(error: reqwest::Error) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(denied) = e.downcast_ref::<EgressDenied>() {
            return HttpError::Denied(denied.to_string());
        }
        source = e.source();
    }
    let detail = crate::error_chain(&error);
    if error.is_timeout() {
        HttpError::Timeout(detail)
    } else if error.is_builder() || error.is_request() && !error.is_connect() {
        HttpError::InvalidRequest(detail)
    } else {
        HttpError::Connect(detail)
    }
}

/// DNS resolution that removes blocked addresses from the answer.
pub struct CheckedResolver {
    pub block_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let block_private = self.block_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| !(block_private && is_private(addr.ip())))
                .collect();
            match (allowed.is_empty(), resolved.first()) {
                (true, Some(first)) => {
                    Err(Box::new(EgressDenied::PrivateAddress { host, addr: first.ip() })
                        as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}
