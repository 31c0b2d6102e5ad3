//! A fake Teamtailor (JSON:API), written from research §6 (`ats-apis-international.md`). The
//! regions have hosts of their own (`https://api.teamtailor.com/v1` EU,
//! `https://api.na.teamtailor.com/v1` NA); the fake serves them under `/{host}/v1/...` on
//! 127.0.0.1 and knows its account on one host only (404 on the other). Then:
//!
//! - `Authorization: Token token=<key>` (401 otherwise) and a required `X-Api-Version`
//!   (406 without it; echoed on every answer); writes must send
//!   `Content-Type: application/vnd.api+json` (415 otherwise);
//! - `page[size]` (default 10, above 30 a 400), `page[number]`, `links.next` absolute (absent
//!   on the last page), `meta.record-count` / `meta.page-count`;
//! - `filter[updated-at][from]` (inclusive) on jobs and job applications, `filter[email]` on
//!   candidates, `sort=row-order` on a job's stages;
//! - `POST /candidates` with `merge: true` merges into the candidate with that e-mail;
//!   `PATCH /candidates/{id}`; `POST /job-applications` with candidate and job relationships
//!   (first stage of the job); `PATCH /job-applications/{id}` with a stage relationship [L];
//!   `POST /notes` with candidate and user relationships; `GET /reject-reasons`;
//! - timestamps with offsets (`2026-03-01T11:00:00.000+01:00`); errors as JSON:API
//!   `{"errors": [{status, title, detail}]}` ([L]: the error schema was not found);
//! - `X-Rate-Limit-Limit/-Remaining/-Reset` (seconds left) on every answer.
//!
//! `Faults::set_repeat_page_token` makes `links.next` point at the page just served.

#![allow(
    clippy::result_large_err,
    reason = "a handler's early answer is an axum Response; boxing it buys nothing in a test fake"
)]

mod ats;
mod writes;

use super::lock;
use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The account's region host.
pub const HOST: &str = "api.teamtailor.com";
pub const USER: &str = "7001";
/// Every job's stages: (name, stage type).
pub const STAGES: [(&str, &str); 3] =
    [("Inbox", "Inbox"), ("Interview", "In process"), ("Hired", "Hired")];
pub const REASONS: [(&str, &str); 2] = [("3001", "Not a fit"), ("3002", "Position filled")];
const MAX_PAGE: usize = 30;
/// Teamtailor shows times in the account's zone: +01:00 here.
const OFFSET_MS: i64 = 3_600_000;

#[derive(Debug, Clone)]
struct Job {
    id: u64,
    title: String,
    updated_ms: i64,
    /// Stage ids in row order.
    stages: Vec<u64>,
}

#[derive(Debug, Clone, Default)]
struct Candidate {
    id: u64,
    first: String,
    last: String,
    email: String,
    phone: String,
    tags: Vec<String>,
    notes: Vec<String>,
    updated_ms: i64,
}

#[derive(Debug, Clone)]
struct Application {
    id: u64,
    candidate: u64,
    job: u64,
    stage: u64,
    cover_letter: String,
    updated_ms: i64,
}

#[derive(Default)]
struct Store {
    jobs: Vec<Job>,
    candidates: Vec<Candidate>,
    applications: Vec<Application>,
}

struct Shared {
    key: String,
    faults: Faults,
    ids: AtomicU64,
    store: Mutex<Store>,
}

impl Shared {
    fn id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::SeqCst)
    }
}

/// The fake Teamtailor, listening on 127.0.0.1.
pub struct TeamtailorFake {
    shared: Arc<Shared>,
    base_url: String,
}

fn error(status: StatusCode, detail: &str) -> Response {
    let body = json!({ "errors": [{ "status": status.as_u16().to_string(),
        "title": status.canonical_reason().unwrap_or("Error"), "detail": detail }] });
    (status, Json(body)).into_response()
}

/// `2026-03-01T11:00:00.000+01:00` for the instant `ms`.
fn stamp(ms: i64) -> String {
    let local = ats_host::time::format_ms(ms + OFFSET_MS);
    format!("{}+01:00", local.trim_end_matches('Z'))
}

impl TeamtailorFake {
    pub async fn start() -> Self {
        let now = ats_host::time::now_ms();
        let shared = Arc::new(Shared {
            key: format!("tt-admin-key-{now:x}"),
            faults: Faults::default(),
            ids: AtomicU64::new(10_000),
            store: Mutex::new(Store::default()),
        });
        let app = axum::Router::new()
            .route("/{host}/v1/jobs", get(jobs))
            .route("/{host}/v1/jobs/{id}/stages", get(stages))
            .route("/{host}/v1/candidates", get(find).post(create_candidate))
            .route("/{host}/v1/candidates/{id}", get(show_candidate).patch(update_candidate))
            .route("/{host}/v1/job-applications", get(applications).post(writes::apply))
            .route(
                "/{host}/v1/job-applications/{id}",
                get(show_application).patch(writes::move_application),
            )
            .route("/{host}/v1/notes", post(writes::note))
            .route("/{host}/v1/reject-reasons", get(writes::reasons))
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, base_url: format!("http://{addr}/") }
    }

    /// The cover letter of application `id`.
    pub fn cover_letter(&self, id: &str) -> Option<String> {
        let store = lock(&self.shared.store);
        store.applications.iter().find(|a| a.id.to_string() == id).map(|a| a.cover_letter.clone())
    }
}

/// Faults, host, key, version and (for writes) the content type; `Err` is the answer.
async fn guard(
    shared: &Shared,
    host: &str,
    headers: &HeaderMap,
    write: bool,
) -> Result<(), Response> {
    if let Some(fault) = shared.faults.intercept().await {
        return Err(fault);
    }
    if host != HOST {
        return Err(error(StatusCode::NOT_FOUND, "Not found"));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if header("authorization") != format!("Token token={}", shared.key) {
        return Err(error(StatusCode::UNAUTHORIZED, "Invalid API key"));
    }
    if header("x-api-version").trim().is_empty() {
        return Err(error(StatusCode::NOT_ACCEPTABLE, "X-Api-Version header is required"));
    }
    if write && !header("content-type").starts_with("application/vnd.api+json") {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/vnd.api+json",
        ));
    }
    Ok(())
}

fn answer(headers: &HeaderMap, status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    let out = response.headers_mut();
    out.insert("content-type", HeaderValue::from_static("application/vnd.api+json"));
    if let Some(version) = headers.get("x-api-version") {
        out.insert("x-api-version", version.clone());
    }
    for (name, value) in [
        ("x-rate-limit-limit", "50"),
        ("x-rate-limit-remaining", "49"),
        ("x-rate-limit-reset", "10"),
    ] {
        out.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// One JSON:API page of `items` for `query`, with `links.next` built from the request.
fn page(
    shared: &Shared,
    headers: &HeaderMap,
    path: &str,
    query: &HashMap<String, String>,
    items: Vec<Value>,
) -> Response {
    let number = |name: &str, default: usize| match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| error(StatusCode::BAD_REQUEST, &format!("{name} must be a number"))),
    };
    let (size, number) = match (number("page[size]", 10), number("page[number]", 1)) {
        (Ok(size), Ok(number)) => (size, number.max(1)),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    if size == 0 || size > MAX_PAGE {
        return error(StatusCode::BAD_REQUEST, "page[size] must be between 1 and 30");
    }
    let pages = items.len().div_ceil(size).max(1);
    let data: Vec<Value> = items.iter().skip((number - 1) * size).take(size).cloned().collect();
    let authority = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let link = |n: usize| {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| *k != "page[number]")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.push(("page[number]".into(), n.to_string()));
        pairs.sort();
        let encoded: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        format!("http://{authority}/{HOST}/v1/{path}?{}", encoded.join("&"))
    };
    let mut links = json!({ "first": link(1), "last": link(pages) });
    if number < pages {
        let next = if shared.faults.repeat_page_token() { number } else { number + 1 };
        links["next"] = json!(link(next));
    }
    answer(
        headers,
        StatusCode::OK,
        json!({
            "data": data, "links": links,
            "meta": { "record-count": items.len(), "page-count": pages },
        }),
    )
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `filter[updated-at][from]` in unix ms, if given; `Err` for a value that is no timestamp.
fn from_filter(query: &HashMap<String, String>) -> Result<Option<i64>, Response> {
    match query.get("filter[updated-at][from]") {
        None => Ok(None),
        Some(text) => ats_host::time::parse_ms(text).map(Some).ok_or_else(|| {
            error(StatusCode::BAD_REQUEST, "filter[updated-at][from] is not a date")
        }),
    }
}

fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id.to_string(), "type": "jobs",
        "links": { "careersite-job-url": format!("https://acme.teamtailor.com/jobs/{}", job.id) },
        "attributes": { "title": job.title, "status": "open", "body": "<p>Build things.</p>",
                        "created-at": stamp(0), "updated-at": stamp(job.updated_ms) },
    })
}

fn candidate_json(c: &Candidate) -> Value {
    json!({
        "id": c.id.to_string(), "type": "candidates",
        "attributes": { "first-name": c.first, "last-name": c.last, "email": c.email,
                        "phone": if c.phone.is_empty() { None } else { Some(&c.phone) },
                        "tags": c.tags, "sourced": true, "connected": false,
                        "created-at": stamp(c.updated_ms), "updated-at": stamp(c.updated_ms) },
    })
}

fn application_json(a: &Application) -> Value {
    json!({
        "id": a.id.to_string(), "type": "job-applications",
        "attributes": { "cover-letter": a.cover_letter, "sourced": true, "rejected-at": null,
                        "created-at": stamp(a.updated_ms), "updated-at": stamp(a.updated_ms),
                        "changed-stage-at": stamp(a.updated_ms) },
        "relationships": {
            "candidate": { "data": { "type": "candidates", "id": a.candidate.to_string() } },
            "job": { "data": { "type": "jobs", "id": a.job.to_string() } },
            "stage": { "data": { "type": "stages", "id": a.stage.to_string() } },
            "reject-reason": { "data": null },
        },
    })
}

type Q = Query<HashMap<String, String>>;

async fn jobs(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, false).await {
        return refused;
    }
    let from = match from_filter(&query) {
        Ok(from) => from,
        Err(refused) => return refused,
    };
    let items: Vec<Value> = lock(&shared.store)
        .jobs
        .iter()
        .filter(|j| from.is_none_or(|from| j.updated_ms >= from))
        .map(job_json)
        .collect();
    page(&shared, &headers, "jobs", &query, items)
}

async fn stages(
    State(shared): State<Arc<Shared>>,
    Path((host, id)): Path<(String, String)>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, false).await {
        return refused;
    }
    let store = lock(&shared.store);
    let Some(job) = store.jobs.iter().find(|j| j.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    let items: Vec<Value> = job
        .stages
        .iter()
        .zip(STAGES)
        .enumerate()
        .map(|(row, (id, (name, kind)))| {
            json!({ "id": id.to_string(), "type": "stages",
                    "attributes": { "name": name, "stage-type": kind, "row-order": row } })
        })
        .collect();
    drop(store);
    page(&shared, &headers, &format!("jobs/{id}/stages"), &query, items)
}

async fn find(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, false).await {
        return refused;
    }
    let email = query.get("filter[email]").map(|e| e.trim().to_lowercase());
    let items: Vec<Value> = lock(&shared.store)
        .candidates
        .iter()
        .filter(|c| email.as_ref().is_none_or(|e| c.email.to_lowercase() == *e))
        .map(candidate_json)
        .collect();
    page(&shared, &headers, "candidates", &query, items)
}

fn parse(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| error(StatusCode::BAD_REQUEST, "Malformed JSON"))
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn related(body: &Value, name: &str) -> Option<u64> {
    body["data"]["relationships"][name]["data"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .or_else(|| body["data"]["relationships"][name]["data"]["id"].as_u64())
}

async fn create_candidate(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, true).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let attributes = &body["data"]["attributes"];
    if body["data"]["type"] != "candidates" {
        return error(StatusCode::CONFLICT, "data.type must be candidates");
    }
    let Some(email) = text(&attributes["email"]) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "email - can't be blank");
    };
    let now = ats_host::time::now_ms();
    let mut store = lock(&shared.store);
    let merge = attributes["merge"].as_bool().unwrap_or(false);
    if let Some(existing) =
        store.candidates.iter_mut().find(|c| c.email.eq_ignore_ascii_case(&email))
    {
        if !merge {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "email - has already been taken");
        }
        existing.updated_ms = now;
        return answer(&headers, StatusCode::CREATED, json!({ "data": candidate_json(existing) }));
    }
    let candidate = Candidate {
        id: shared.id(),
        first: text(&attributes["first-name"]).unwrap_or_default(),
        last: text(&attributes["last-name"]).unwrap_or_default(),
        email,
        phone: text(&attributes["phone"]).unwrap_or_default(),
        tags: attributes["tags"].as_array().into_iter().flatten().filter_map(text).collect(),
        updated_ms: now,
        ..Default::default()
    };
    let json = candidate_json(&candidate);
    store.candidates.push(candidate);
    answer(&headers, StatusCode::CREATED, json!({ "data": json }))
}

async fn show_candidate(
    State(shared): State<Arc<Shared>>,
    Path((host, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, false).await {
        return refused;
    }
    let store = lock(&shared.store);
    match store.candidates.iter().find(|c| c.id.to_string() == id) {
        Some(c) => answer(&headers, StatusCode::OK, json!({ "data": candidate_json(c) })),
        None => error(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn update_candidate(
    State(shared): State<Arc<Shared>>,
    Path((host, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, true).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    if text(&body["data"]["id"]).as_deref() != Some(id.as_str()) {
        return error(StatusCode::CONFLICT, "data.id does not match the URL");
    }
    let attributes = &body["data"]["attributes"];
    let mut store = lock(&shared.store);
    let Some(candidate) = store.candidates.iter_mut().find(|c| c.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    for (key, slot) in [
        ("first-name", &mut candidate.first),
        ("last-name", &mut candidate.last),
        ("phone", &mut candidate.phone),
    ] {
        if let Some(value) = text(&attributes[key]) {
            *slot = value;
        }
    }
    if let Some(tags) = attributes["tags"].as_array() {
        candidate.tags = tags.iter().filter_map(text).collect();
    }
    candidate.updated_ms = ats_host::time::now_ms();
    answer(&headers, StatusCode::OK, json!({ "data": candidate_json(candidate) }))
}

async fn applications(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, false).await {
        return refused;
    }
    let from = match from_filter(&query) {
        Ok(from) => from,
        Err(refused) => return refused,
    };
    let items: Vec<Value> = lock(&shared.store)
        .applications
        .iter()
        .filter(|a| from.is_none_or(|from| a.updated_ms >= from))
        .map(application_json)
        .collect();
    page(&shared, &headers, "job-applications", &query, items)
}

async fn show_application(
    State(shared): State<Arc<Shared>>,
    Path((host, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, false).await {
        return refused;
    }
    let store = lock(&shared.store);
    match store.applications.iter().find(|a| a.id.to_string() == id) {
        Some(a) => answer(&headers, StatusCode::OK, json!({ "data": application_json(a) })),
        None => error(StatusCode::NOT_FOUND, "Not found"),
    }
}
