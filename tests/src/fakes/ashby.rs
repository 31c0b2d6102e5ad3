//! A fake Ashby, written from research §9 (`ats-apis-international.md`) and the OpenAPI copy
//! (AS-OAS):
//!
//! - every call is `POST /{object}.{verb}` with a JSON body (`{}` for none); other methods
//!   are 404; HTTP Basic with the API key as username and a blank password, else 401;
//! - answers `{success: true, results, moreDataAvailable, nextCursor}`; business errors are
//!   HTTP **200** with `{success: false, errors: [code], errorInfo: {code, message}}`;
//! - lists take `limit` (1–100 here [L]) and an opaque `cursor` in the body; an unknown
//!   cursor is `invalid_cursor`;
//! - candidates (`candidate.create` needs `name`; `candidate.search` by `email` or `name`,
//!   no phone), applications (`application.create` needs `candidateId` and `jobId`; the
//!   stage must belong to the job's interview plan), `application.changeStage`, notes and
//!   files on candidates (`candidate.uploadFile`, multipart `candidateId` + `file`), tags by
//!   tag id, webhooks (`webhook.create` needs `webhookType`, `requestUrl`, `secretToken`).
//!
//! `Faults::set_repeat_page_token` makes every list hand out the same `nextCursor` forever.

mod store;

use super::lock;
use super::{FakeAts, FakeCandidate, Faults};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
pub use store::Store;

/// Largest `limit` the fake accepts ([L]: Ashby's documented maximum was not found).
pub const MAX_LIMIT: u64 = 100;

struct Shared {
    key: String,
    faults: Faults,
    store: Mutex<Store>,
    /// (endpoint, JSON body) of every API request.
    log: Mutex<Vec<(String, Value)>>,
}

pub struct AshbyFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl AshbyFake {
    pub async fn start() -> Self {
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let shared = Arc::new(Shared {
            key: format!("ashby-key-{nanos:x}"),
            faults: Faults::default(),
            store: Mutex::new(Store::default()),
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(api).with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// (endpoint, body) of every request that reached the API (multipart bodies as null).
    pub fn requests(&self) -> Vec<(String, Value)> {
        lock(&self.shared.log).clone()
    }

    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut lock(&self.shared.store))
    }
}

/// Ashby's error envelope, with HTTP 200 as the API sends business errors.
pub fn failure(code: &str, message: &str) -> Response {
    let body = json!({
        "success": false,
        "errors": [code],
        "errorInfo": { "code": code, "message": message, "requestId": "01HZX3K5V1" },
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn success(results: Value) -> Response {
    axum::Json(json!({ "success": true, "results": results })).into_response()
}

fn authorized(headers: &HeaderMap, key: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .is_some_and(|pair| pair == format!("{key}:"))
}

async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = uri.path().trim_start_matches('/').to_string();
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let multipart = content_type.starts_with("multipart/form-data");
    let input: Option<Value> =
        if multipart { Some(Value::Null) } else { serde_json::from_slice(&body).ok() };
    lock(&shared.log).push((endpoint.clone(), input.clone().unwrap_or(Value::Null)));
    if let Some(fault) = shared.faults.intercept().await {
        return fault;
    }
    if !authorized(&headers, &shared.key) {
        let body = json!({"success": false, "errors": ["invalid_api_key"],
            "errorInfo": {"code": "invalid_api_key", "message": "Invalid API key"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    if method != Method::POST {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let mut store = lock(&shared.store);
    if endpoint == "candidate.uploadFile" {
        return match multipart_parts(content_type, &body) {
            Some(parts) => store.upload_file(&parts).map_or_else(|e| e, success),
            None => failure("invalid_input", "candidate.uploadFile takes multipart/form-data"),
        };
    }
    let Some(input @ Value::Object(_)) = input else {
        return failure("invalid_input", "The body must be a JSON object");
    };
    let repeat = shared.faults.repeat_page_token();
    let list = |items: Vec<Value>| page(items, &input, repeat);
    match endpoint.as_str() {
        "apiKey.info" => success(
            json!({"title": "Sourcing integration", "createdAt": "2025-01-01T00:00:00.000Z"}),
        ),
        "job.list" => list(store.jobs_json()),
        "jobInterviewPlan.info" => store.interview_plan(&input).map_or_else(|e| e, success),
        "application.list" => list(store.applications_json()),
        "application.info" => store.application_info(&input).map_or_else(|e| e, success),
        "application.create" => store.create_application(&input).map_or_else(|e| e, success),
        "application.changeStage" => store.change_stage(&input).map_or_else(|e| e, success),
        "candidate.search" => store.search(&input).map_or_else(|e| e, |r| success(Value::Array(r))),
        "candidate.info" => store.candidate_info(&input).map_or_else(|e| e, success),
        "candidate.create" => store.create_candidate(&input).map_or_else(|e| e, success),
        "candidate.update" => store.update_candidate(&input).map_or_else(|e| e, success),
        "candidate.createNote" => store.create_note(&input).map_or_else(|e| e, success),
        "candidate.addTag" => store.add_tag(&input).map_or_else(|e| e, success),
        "candidateTag.list" => list(store.tags_json()),
        "archiveReason.list" => success(store.reasons_json()),
        "user.list" => list(store.users_json()),
        "webhook.create" => store.create_webhook(&input).map_or_else(|e| e, success),
        "webhook.delete" => store.delete_webhook(&input).map_or_else(|e| e, success),
        _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// One page: `limit` and `cursor` from the body; `moreDataAvailable` and `nextCursor`.
fn page(items: Vec<Value>, input: &Value, repeat: bool) -> Response {
    let limit = match input.get("limit").filter(|v| !v.is_null()) {
        None => MAX_LIMIT,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return failure("invalid_input", "limit must be an integer from 1 to 100"),
        },
    };
    let start = match input.get("cursor").filter(|v| !v.is_null()) {
        None => 0,
        Some(cursor) => match cursor.as_str().and_then(decode_cursor) {
            Some(start) => start,
            None => return failure("invalid_cursor", "The cursor is not valid"),
        },
    };
    let total = items.len();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let results: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + results.len();
    let more = repeat || end < total;
    let mut body = json!({ "success": true, "results": results, "moreDataAvailable": more });
    if repeat {
        body["nextCursor"] = Value::String(encode_cursor(limit));
    } else if more {
        body["nextCursor"] = Value::String(encode_cursor(end));
    } else {
        body["syncToken"] = Value::String("sync-token-opaque".into());
    }
    axum::Json(body).into_response()
}

fn encode_cursor(position: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("ashby:{position}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("ashby:")?.parse().ok()
}

/// One multipart part: (name, filename, content).
pub type Part = (String, Option<String>, Vec<u8>);

/// Parts of a `multipart/form-data` body: (name, filename, content).
fn multipart_parts(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    let boundary = content_type.split(';').find_map(|p| {
        let (key, value) = p.trim().split_once('=')?;
        key.eq_ignore_ascii_case("boundary").then(|| value.trim_matches('"').to_string())
    })?;
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |from: usize, needle: &[u8]| {
        body.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
    };
    let mut parts = Vec::new();
    let mut at = find(0, &delimiter)? + delimiter.len();
    while body.get(at..at + 2) != Some(b"--") {
        let head_end = find(at, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&body[at..head_end]).to_string();
        let start = head_end + 4;
        let next = find(start, &[b"\r\n".as_slice(), &delimiter].concat())?;
        let param = |key: &str| {
            let marker = format!("{key}=\"");
            let from = head.find(&marker)? + marker.len();
            let to = head[from..].find('"')? + from;
            Some(head[from..to].to_string())
        };
        parts.push((param("name")?, param("filename"), body[start..next].to_vec()));
        at = next + 2 + delimiter.len();
    }
    Some(parts)
}

impl FakeAts for AshbyFake {
    fn connector_package(&self) -> &'static str {
        "ashby"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![("base-url".into(), self.base_url()), ("api-key".into(), self.shared.key.clone())]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        vec![("base-url".into(), self.base_url()), ("api-key".into(), "ashby-revoked-0000".into())]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        (0..count).map(|_| store.add_job(updated_at)).collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        lock(&self.shared.store).touch_job(id, title, updated_at);
    }

    fn issues_sessions(&self) -> bool {
        false
    }

    fn auth_count(&self) -> usize {
        0
    }

    fn expire_sessions(&self) {}

    fn candidates(&self) -> Vec<FakeCandidate> {
        lock(&self.shared.store).fake_candidates()
    }

    fn webhooks(&self) -> Vec<(String, String)> {
        lock(&self.shared.store).webhooks.clone()
    }
}
