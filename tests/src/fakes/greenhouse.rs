//! A fake Greenhouse Harvest v1, written from research §2 (`ats-apis-international.md`):
//!
//! - HTTP Basic with the API key as username and a blank password; anything else is 401
//!   `{"message": …}`. Every write (`POST`/`PATCH`/`PUT`/`DELETE`) needs an `On-Behalf-Of`
//!   header naming an existing user, else 422 in the validation shape (the status for a
//!   missing header is not documented: [L]). A `GET` carrying a body is 403 (GH-INTRO).
//! - Lists are bare JSON arrays paged by `page`/`per_page` (1–500, default 100; outside →
//!   422) with an RFC 5988 `Link` header (`next`, `prev`, `last`; `last` left out with
//!   `skip_count=true`); no `Link` = one page.
//! - `updated_after` on jobs and candidates, `last_activity_after` on applications (no
//!   `updated_after` there), all inclusive; an unknown application `status` filter gives
//!   an empty list, not an error. Timestamps ISO-8601 UTC with milliseconds.
//! - Candidates are created as prospects (`POST /v1/prospects`, jobless prospect
//!   application) and edited with `PATCH` (array fields replace); applications are added with
//!   `POST /v1/candidates/{id}/applications` (`initial_stage_id` must be a stage of the job,
//!   base64 `attachments` need `content_type`); notes need `user_id`, `body` and a valid
//!   `visibility`; only active applications can be rejected; moves need `from_stage_id`
//!   equal to the current stage.
//! - 422 bodies `{"message": "Validation error", "errors": [{"message", "field"}]}`; every
//!   answer carries `X-RateLimit-Limit`/`X-RateLimit-Remaining`.
//!
//! `Faults::set_repeat_page_token` makes every list announce page 2 as the next page forever.

mod store;

use super::lock;
use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
pub use store::Store;

/// The user id the fake knows (the docs' example note author).
pub const USER_ID: u64 = 158_108;
/// Largest `per_page` Harvest accepts.
pub const MAX_PER_PAGE: usize = 500;

struct Shared {
    key: String,
    faults: Faults,
    store: Mutex<Store>,
    /// (method, path and query, On-Behalf-Of) of every API request.
    log: Mutex<Vec<(String, String, Option<String>)>>,
}

pub struct GreenhouseFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl GreenhouseFake {
    pub async fn start() -> Self {
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let shared = Arc::new(Shared {
            key: format!("gh-harvest-{nanos:x}"),
            faults: Faults::default(),
            store: Mutex::new(Store::new()),
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(api).with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// (method, path with query, On-Behalf-Of) of every request that reached the API.
    pub fn requests(&self) -> Vec<(String, String, Option<String>)> {
        lock(&self.shared.log).clone()
    }

    /// Runs `f` on the store (tests inspect or arrange records with it).
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut lock(&self.shared.store))
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

/// A 422 in Harvest's validation shape.
pub fn invalid(field: &str, message: &str) -> Response {
    let body = json!({
        "message": "Validation error",
        "errors": [{ "message": message, "field": field }],
    });
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Resource not found")
}

/// Whether `headers` carry `Basic base64("<key>:")`.
fn authorized(headers: &HeaderMap, key: &str) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
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
    let on_behalf_of =
        headers.get("on-behalf-of").and_then(|v| v.to_str().ok()).map(str::to_string);
    let target = uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.to_string());
    lock(&shared.log).push((method.to_string(), target, on_behalf_of.clone()));
    let mut response = match shared.faults.intercept().await {
        Some(fault) => fault,
        None => answer(&shared, &method, &uri, &query, &headers, on_behalf_of, &body),
    };
    let limits = response.headers_mut();
    limits.insert("x-ratelimit-limit", HeaderValue::from_static("50"));
    limits.insert("x-ratelimit-remaining", HeaderValue::from_static("49"));
    response
}

fn answer(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    on_behalf_of: Option<String>,
    body: &Bytes,
) -> Response {
    if !authorized(headers, &shared.key) {
        return error(StatusCode::UNAUTHORIZED, "Invalid Basic Auth credentials");
    }
    let Some(path) = uri.path().strip_prefix("/v1/") else { return not_found() };
    let segments: Vec<&str> = path.split('/').collect();
    let mut store = lock(&shared.store);
    if *method == Method::GET {
        if !body.is_empty() {
            return error(
                StatusCode::FORBIDDEN,
                "Forbidden: do not supply body information in GET calls",
            );
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        let list = |items: Vec<Value>| {
            paged(
                items,
                query,
                &format!("http://{host}{}", uri.path()),
                shared.faults.repeat_page_token(),
            )
        };
        return match segments.as_slice() {
            ["jobs"] => match store.jobs(query) {
                Ok(items) => list(items),
                Err(response) => response,
            },
            ["jobs", id, "stages"] => match store.job_stages(id) {
                Some(items) => list(items),
                None => not_found(),
            },
            ["candidates"] => match store.list_candidates(query) {
                Ok(items) => list(items),
                Err(response) => response,
            },
            ["candidates", id] => store.candidate_json(id).map_or_else(not_found, ok),
            ["applications"] => match store.list_applications(query) {
                Ok(items) => list(items),
                Err(response) => response,
            },
            ["applications", id] => store.application_json(id).map_or_else(not_found, ok),
            ["tags", "candidate"] => list(store.tags_json()),
            ["rejection_reasons"] => list(store.reasons_json()),
            ["users"] => list(store.users_json()),
            ["users", id] => store.user_json(id).map_or_else(not_found, ok),
            _ => not_found(),
        };
    }
    // Writes: On-Behalf-Of names a user, the body is a JSON object (or empty).
    let user_known = on_behalf_of.as_deref().is_some_and(|id| store.user_json(id).is_some());
    if !user_known {
        return invalid("On-Behalf-Of", "On-Behalf-Of header must name a Greenhouse user");
    }
    let input: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(value @ Value::Object(_)) => value,
            _ => return error(StatusCode::BAD_REQUEST, "Request body is not a JSON object"),
        }
    };
    let result = match (method.as_str(), segments.as_slice()) {
        ("POST", ["prospects"]) => store.create_prospect(&input).map(|v| (StatusCode::CREATED, v)),
        ("PATCH", ["candidates", id]) => {
            store.edit_candidate(id, &input).map(|v| (StatusCode::OK, v))
        }
        ("POST", ["candidates", id, "applications"]) => {
            store.create_application(id, &input).map(|v| (StatusCode::CREATED, v))
        }
        ("POST", ["candidates", id, "activity_feed", "notes"]) => {
            store.add_note(id, &input).map(|v| (StatusCode::CREATED, v))
        }
        ("POST", ["candidates", id, "attachments"]) => {
            store.attach(id, None, &input).map(|v| (StatusCode::CREATED, v))
        }
        ("POST", ["applications", id, "attachments"]) => {
            store.attach_to_application(id, &input).map(|v| (StatusCode::CREATED, v))
        }
        ("POST", ["applications", id, "reject"]) => {
            store.reject(id, &input).map(|v| (StatusCode::OK, v))
        }
        ("POST", ["applications", id, "move"]) => {
            store.move_application(id, &input).map(|v| (StatusCode::OK, v))
        }
        ("POST", ["tags", "candidate"]) => Ok(store.create_tag(&input)),
        ("PUT", ["candidates", id, "tags", tag]) => {
            store.tag(id, tag, true).map(|v| (StatusCode::OK, v))
        }
        ("DELETE", ["candidates", id, "tags", tag]) => {
            store.tag(id, tag, false).map(|v| (StatusCode::OK, v))
        }
        _ => Err(not_found()),
    };
    match result {
        Ok((status, value)) => (status, axum::Json(value)).into_response(),
        Err(response) => response,
    }
}

fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

/// One page of `items` with Harvest's `Link` header.
fn paged(items: Vec<Value>, query: &HashMap<String, String>, url: &str, repeat: bool) -> Response {
    let per_page = match query.get("per_page").map(|v| v.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=MAX_PER_PAGE).contains(&n) => n,
        Some(_) => return invalid("per_page", "Must be an integer between 1 and 500"),
    };
    let page = match query.get("page").map(|v| v.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return invalid("page", "Must be a positive integer"),
    };
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let link_to = |n: usize| {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.sort();
        pairs.push(("page".into(), n.to_string()));
        let encoded: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        format!("<{url}?{}>", encoded.join("&"))
    };
    let mut links = Vec::new();
    if repeat {
        links.push(format!("{}; rel=\"next\"", link_to(2)));
    } else if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if last > 1 && query.get("skip_count").is_none_or(|v| v != "true") {
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    let mut response = axum::Json(Value::Array(slice)).into_response();
    if !links.is_empty()
        && let Ok(value) = HeaderValue::from_str(&links.join(", "))
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// Percent-encodes a query value (all but RFC 3986 unreserved characters).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FakeAts for GreenhouseFake {
    fn connector_package(&self) -> &'static str {
        "greenhouse"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![
            ("base-url".into(), self.base_url()),
            ("api-key".into(), self.shared.key.clone()),
            ("on-behalf-of".into(), USER_ID.to_string()),
        ]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        let mut config = self.config();
        for (name, value) in &mut config {
            if name == "api-key" {
                *value = "gh-revoked-key-0000".into();
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
        (0..count).map(|_| store.add_job(updated_at).to_string()).collect()
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
}

/// The applications of a store candidate as the kit sees them (prospect applications left out).
pub(crate) fn fake_application(
    id: u64,
    job_id: u64,
    stage_id: Option<u64>,
    answers_text: String,
    rejected_reason: Option<String>,
) -> FakeApplication {
    FakeApplication {
        id: id.to_string(),
        job_id: job_id.to_string(),
        stage_id: stage_id.map(|s| s.to_string()),
        source: None,
        answers_text,
        rejected_reason,
        result_text: String::new(),
    }
}
