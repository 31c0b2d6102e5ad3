//! A fake Lever data API v1, written from research §3 (`ats-apis-international.md`):
//!
//! - HTTP Basic with the API key as username and a blank password, else 401.
//! - Every write (`POST`/`PUT`) needs `perform_as=<user id>` naming a Lever user, else 400
//!   ([M] Nango treats it as required on creates and tags).
//! - Lists answer `{data, hasNext, next}`; `limit` 1–100 (else 400); the `next` token is
//!   passed back as `offset` (an unknown token is 400).
//! - `updated_at_start` / `updated_at_end` in epoch milliseconds (inclusive) on
//!   `/opportunities` and `/postings`; every timestamp is an epoch-ms integer.
//! - Opportunities are candidacies of a contact (the person): `POST /opportunities` makes a
//!   contact and an opportunity, or a new opportunity for `contact`; `postings` holds at most
//!   one posting; `expand=applications` expands the opportunity's applications.
//! - Notes, tags (`addTags`/`removeTags`), files (multipart `file`), stage changes and
//!   archiving (with an archive reason id) all act on an opportunity.
//! - Errors `{code, message}` ([L] shape); no email filter on phones.
//!
//! [L] beyond the research: `GET`/`PUT /contacts/{id}`, `GET /users/{id}`, the posting and
//! archive-reason shapes. `Faults::set_repeat_page_token` makes every list hand out the same
//! `next` token forever.

mod store;

use super::lock;
use super::{FakeAts, FakeCandidate, Faults};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
pub use store::Store;

/// The user writes are performed as.
pub const USER_ID: &str = "8d49b010-cc6a-4f40-ace5-e86061c677ed";
/// Largest `limit` Lever accepts.
pub const MAX_LIMIT: usize = 100;

struct Shared {
    key: String,
    faults: Faults,
    store: Mutex<Store>,
    /// (method, path with query) of every API request.
    log: Mutex<Vec<(String, String)>>,
}

pub struct LeverFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl LeverFake {
    pub async fn start() -> Self {
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let shared = Arc::new(Shared {
            key: format!("lever-key-{nanos:x}"),
            faults: Faults::default(),
            store: Mutex::new(Store::default()),
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(api).with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// (method, path with query) of every request that reached the API.
    pub fn requests(&self) -> Vec<(String, String)> {
        lock(&self.shared.log).clone()
    }

    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut lock(&self.shared.store))
    }
}

/// A Lever error answer.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "code": code, "message": message }))).into_response()
}

pub fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequestError", message)
}

pub fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "ResourceNotFound", "Resource not found")
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
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.to_string());
    lock(&shared.log).push((method.to_string(), target));
    if let Some(fault) = shared.faults.intercept().await {
        return fault;
    }
    if !authorized(&headers, &shared.key) {
        return error(StatusCode::UNAUTHORIZED, "UnauthorizedError", "Invalid API key");
    }
    let Some(path) = uri.path().strip_prefix("/v1/") else { return not_found() };
    let segments: Vec<&str> = path.split('/').collect();
    let mut store = lock(&shared.store);
    if method == Method::GET {
        let list = |items: Vec<Value>| page(items, &query, shared.faults.repeat_page_token());
        let one = |item: Option<Value>| item.map_or_else(not_found, |v| ok(json!({ "data": v })));
        return match segments.as_slice() {
            ["postings"] => store.postings(&query).map_or_else(|e| e, list),
            ["stages"] => list(store.stages_json()),
            ["opportunities"] => store.opportunities(&query).map_or_else(|e| e, list),
            ["opportunities", id] => one(store.opportunity_json(id, query.contains_key("expand"))),
            ["contacts", id] => one(store.contact_json(id)),
            ["tags"] => list(store.tags_json()),
            ["archive_reasons"] => list(store.reasons_json()),
            ["users"] => list(store.users_json()),
            ["users", id] => one(store.users_json().into_iter().find(|u| u["id"] == *id)),
            _ => not_found(),
        };
    }
    if query.get("perform_as").is_none_or(|user| user != USER_ID) {
        return bad_request("perform_as must name a Lever user");
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let ("POST", ["opportunities", id, "files"]) = (method.as_str(), segments.as_slice()) {
        let Some(file) = multipart_file(content_type, &body) else {
            return bad_request("a multipart body with a `file` part is required");
        };
        return match store.add_file(id, file) {
            Ok(value) => {
                (StatusCode::CREATED, axum::Json(json!({ "data": value }))).into_response()
            }
            Err(response) => response,
        };
    }
    let input: Value = match serde_json::from_slice(&body) {
        Ok(value @ Value::Object(_)) => value,
        _ => return bad_request("The request body must be a JSON object"),
    };
    let result = match (method.as_str(), segments.as_slice()) {
        ("POST", ["opportunities"]) => store.create_opportunity(&input),
        ("PUT", ["contacts", id]) => store.update_contact(id, &input),
        ("PUT", ["opportunities", id, "stage"]) => store.change_stage(id, &input),
        ("POST", ["opportunities", id, "notes"]) => store.add_note(id, &input),
        ("POST", ["opportunities", id, "addTags"]) => store.tags(id, &input, true),
        ("POST", ["opportunities", id, "removeTags"]) => store.tags(id, &input, false),
        ("PUT", ["opportunities", id, "archived"]) => store.archive(id, &input),
        _ => Err(not_found()),
    };
    match result {
        Ok(value) => {
            let status = if method == Method::POST { StatusCode::CREATED } else { StatusCode::OK };
            (status, axum::Json(json!({ "data": value }))).into_response()
        }
        Err(response) => response,
    }
}

fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

/// One `{data, hasNext, next}` page; the `next` token is opaque to clients.
fn page(items: Vec<Value>, query: &HashMap<String, String>, repeat: bool) -> Response {
    let limit = match query.get("limit").map(|v| v.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => return bad_request("limit must be between 1 and 100"),
    };
    let start = match query.get("offset") {
        None => 0,
        Some(token) => match decode_token(token) {
            Some(start) => start,
            None => return bad_request("Invalid offset token"),
        },
    };
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + data.len();
    let (has_next, next) = if repeat {
        (true, Some(encode_token(limit)))
    } else if end < total {
        (true, Some(encode_token(end)))
    } else {
        (false, None)
    };
    let mut body = json!({ "data": data, "hasNext": has_next });
    if let Some(next) = next {
        body["next"] = Value::String(next);
    }
    ok(body)
}

fn encode_token(position: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("[{position},\"lv\"]"))
}

fn decode_token(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    (value.get(1)? == "lv").then_some(())?;
    usize::try_from(value.get(0)?.as_u64()?).ok()
}

/// The `file` part of a `multipart/form-data` body: (filename, content).
fn multipart_file(content_type: &str, body: &[u8]) -> Option<(String, Vec<u8>)> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params.split(';').find_map(|p| {
        let (key, value) = p.trim().split_once('=')?;
        key.eq_ignore_ascii_case("boundary").then(|| value.trim_matches('"').to_string())
    })?;
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |from: usize, needle: &[u8]| {
        body.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
    };
    let mut at = find(0, &delimiter)? + delimiter.len();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return None;
        }
        let head_end = find(at, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&body[at..head_end]).to_string();
        let content_start = head_end + 4;
        let next = find(content_start, &[b"\r\n".as_slice(), &delimiter].concat())?;
        let param = |key: &str| {
            let marker = format!("{key}=\"");
            let start = head.find(&marker)? + marker.len();
            let end = head[start..].find('"')? + start;
            Some(head[start..end].to_string())
        };
        if param("name").as_deref() == Some("file") {
            let filename = param("filename").unwrap_or_else(|| "file".into());
            return Some((filename, body[content_start..next].to_vec()));
        }
        at = next + 2 + delimiter.len();
    }
}

impl FakeAts for LeverFake {
    fn connector_package(&self) -> &'static str {
        "lever"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![
            ("base-url".into(), self.base_url()),
            ("api-key".into(), self.shared.key.clone()),
            ("perform-as".into(), USER_ID.into()),
        ]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        let mut config = self.config();
        for (name, value) in &mut config {
            if name == "api-key" {
                *value = "lever-revoked-key-0000".into();
            }
        }
        config
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        (0..count).map(|_| store.add_posting(updated_at)).collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        lock(&self.shared.store).touch_posting(id, title, updated_at);
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
}
