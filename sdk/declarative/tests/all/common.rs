//! A scripted [`Transport`]: answers from a queue (or a router), records every request, and
//! keeps state in a map whose entries a test can expire.

use ats_declarative::{Executor, HttpRequest, HttpResponse, Manifest, Transport, TransportError};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

type Router = Box<dyn FnMut(&HttpRequest) -> HttpResponse>;

#[derive(Default)]
pub struct Fake {
    pub script: VecDeque<Result<HttpResponse, TransportError>>,
    pub router: Option<Router>,
    pub requests: Vec<HttpRequest>,
    /// key → (value, ttl)
    pub state: BTreeMap<String, (String, Option<u32>)>,
}

impl Fake {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn routed(router: impl FnMut(&HttpRequest) -> HttpResponse + 'static) -> Self {
        Self { router: Some(Box::new(router)), ..Self::default() }
    }

    /// Queues a JSON answer.
    pub fn json(mut self, status: u16, body: Value) -> Self {
        self.script.push_back(Ok(response(status, &[], &body.to_string())));
        self
    }

    /// Queues an answer with headers and a raw body.
    pub fn raw(mut self, status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        self.script.push_back(Ok(response(status, headers, body)));
        self
    }

    pub fn fail(mut self, error: TransportError) -> Self {
        self.script.push_back(Err(error));
        self
    }

    /// Drops every state entry (as if their TTLs ran out).
    pub fn expire_all(&mut self) {
        self.state.clear();
    }

    pub fn last(&self) -> &HttpRequest {
        self.requests.last().expect("a request was sent")
    }

    pub fn body_text(&self, index: usize) -> String {
        String::from_utf8(self.requests[index].body.clone().unwrap_or_default())
            .expect("utf-8 body")
    }

    pub fn body_json(&self, index: usize) -> Value {
        serde_json::from_str(&self.body_text(index)).expect("JSON body")
    }
}

pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

impl Transport for Fake {
    fn send(&mut self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.push(request.clone());
        if let Some(router) = &mut self.router {
            return Ok(router(&request));
        }
        self.script.pop_front().unwrap_or_else(|| {
            Err(TransportError::Other(format!("no answer scripted for {}", request.url)))
        })
    }

    fn state_get(&mut self, key: &str) -> Option<String> {
        self.state.get(key).map(|(value, _)| value.clone())
    }

    fn state_set(&mut self, key: &str, value: &str, ttl_seconds: Option<u32>) {
        self.state.insert(key.to_string(), (value.to_string(), ttl_seconds));
    }
}

/// The `[connector]` and `[[config]]` tables most tests share; `{rest}` is appended.
pub fn manifest_text(rest: &str) -> String {
    format!(
        r#"[connector]
id = "acme-ats"
ats_name = "Acme ATS"
version = "1.0.0"
egress_hosts = ["{{base-url}}"]

[[config]]
name = "base-url"
required = true
help = "Root URL"

[[config]]
name = "api-key"
secret = true

[[config]]
name = "user"

[[config]]
name = "password"
secret = true

[defaults]
base_url = "{{{{config.base-url}}}}"
{rest}
"#
    )
}

pub fn manifest(rest: &str) -> Manifest {
    let text = manifest_text(rest);
    match Manifest::parse(&text) {
        Ok(manifest) => manifest,
        Err(errors) => panic!("{errors}\n---\n{text}"),
    }
}

pub fn config() -> Vec<(String, String)> {
    [
        ("base-url", "https://acme.example"),
        ("api-key", "sekrit-key-123"),
        ("user", "ann"),
        ("password", "pa55word"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect()
}

pub fn executor(manifest: &Manifest) -> Executor<'_> {
    Executor::new(manifest, &config()).expect("config is complete")
}

/// A list operation `list-jobs` at `/api/jobs` with `extra` lines in its table.
pub fn jobs_op(extra: &str) -> String {
    format!(
        "[operations.list-jobs]\npath = \"/api/jobs\"\nrecords = \"jobs\"\nfields = {{ id = \"id\" }}\n{extra}\n"
    )
}
