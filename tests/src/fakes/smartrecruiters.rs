//! A fake SmartRecruiters Customer API, written from research §7 (`ats-apis-international.md`):
//!
//! - auth: the `X-SmartToken` header on every call ([H] `SR-AUTH`); a missing or wrong key is
//!   401. The error body `{"errors": [{"code", "message"}]}` is a guess ([L], not in the notes);
//! - `GET /jobs` pages by cursor, `{limit, nextPageId, content}`, the next page asked with
//!   `pageId` ([H] `SR-PAG`); `limit` at most 100, a larger one is refused (400);
//!   `updatedAfter` ([M] `SR-PY`) is taken as strictly after (the notes do not say; strict is
//!   the case a connector must survive, F4);
//! - `GET /candidates` is a legacy list, `limit` (≤ 100) / `offset` with `totalFound`
//!   ([H] `SR-PAG`, [M] old list page), filters `q` (keyword over every field),
//!   `updatedAfter`, `status` (repeatable, in the context of a job: a talent-pool candidate
//!   without a job matches no status) ([M] `SR-PY`); it allows **one concurrent request**,
//!   a second one is 429 ([H] `SR-RL`);
//! - every answer carries `X-RateLimit-Limit`/`-Remaining` and the concurrency pair ([H]);
//! - writes: `POST /candidates` (talent pool), `PATCH /candidates/{id}`, `POST
//!   /candidates/{id}/tags` (adds), `POST /candidates/{id}/attachments` (multipart
//!   `attachmentType` + `file`), `PUT /candidates/{id}/jobs/{jobId}/status` (`status` from the
//!   fixed enum, `reason` for REJECTED/WITHDRAWN), the Message API `POST /messages/shares`
//!   (`content`, `correlationId` = candidate id, `shareWith` naming an audience) ([M] `SR-PY`);
//!   `GET /configuration/rejection-reasons` ([H] excerpt);
//! - a candidate's job assignments: `primaryAssignment` and `secondaryAssignments`, each
//!   `{job: {id, title}, status, subStatus}` ([M] `SR-PY`, 2017 shapes).
//!
//! `Faults::set_repeat_page_token` makes `/jobs` hand out the same `nextPageId` forever.

pub mod multipart;
mod writes;

use super::lock;
use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use ats_host::time::{format_ms, now_ms, parse_ms};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use writes::{add_attachment, add_tags, candidate, create_candidate, set_status, share_message};

/// Records per page at most (`limit`, [H] `SR-PAG`).
pub const MAX_LIMIT: usize = 100;
/// The fixed candidate status enum ([H] old candidate-list doc).
pub const STATUSES: &[&str] = &[
    "LEAD",
    "NEW",
    "IN_REVIEW",
    "INTERVIEW",
    "OFFERED",
    "HIRED",
    "REJECTED",
    "WITHDRAWN",
    "TRANSFERRED",
];

#[derive(Clone)]
struct Job {
    id: String,
    title: String,
    ref_number: String,
    created: String,
    updated: String,
}

#[derive(Clone, Default)]
pub struct Assignment {
    pub job_id: String,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Clone, Default)]
struct Candidate {
    id: String,
    first: String,
    last: String,
    email: String,
    phone: String,
    source: Option<String>,
    created: String,
    updated: String,
    tags: Vec<String>,
    attachments: Vec<(String, String, Vec<u8>)>,
    assignments: Vec<Assignment>,
}

#[derive(Default)]
struct Store {
    jobs: Vec<Job>,
    candidates: Vec<Candidate>,
    /// (message id, correlation id, content)
    messages: Vec<(String, String, String)>,
}

struct Shared {
    key: String,
    faults: Faults,
    store: Mutex<Store>,
    ids: AtomicUsize,
    candidates_busy: AtomicBool,
    /// Every (method, path?query) received on the API, in order.
    requests: Mutex<Vec<String>>,
}

impl Shared {
    fn new_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::SeqCst) + 1;
        format!("{n:08x}-5a1e-4c0d-9e00-{:012x}", n * 7919)
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "errors": [{ "code": code, "message": message }] }))).into_response()
}

fn now() -> String {
    format_ms(now_ms())
}

/// The SmartRecruiters rate-limit headers on every answer ([H] `SR-RL`).
async fn limit_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", "10"),
        ("x-ratelimit-remaining", "9"),
        ("x-ratelimit-concurrent-limit", "8"),
        ("x-ratelimit-concurrent-remaining", "7"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The faults, then the `X-SmartToken` check.
async fn gate(shared: &Shared, headers: &HeaderMap, what: String) -> Option<Response> {
    lock(&shared.requests).push(what);
    if let Some(fault) = shared.faults.intercept().await {
        return Some(fault);
    }
    match headers.get("x-smarttoken").and_then(|v| v.to_str().ok()) {
        Some(key) if key == shared.key => None,
        Some(_) => Some(error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Invalid API key")),
        None => Some(error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Missing X-SmartToken")),
    }
}

type Params = Query<Vec<(String, String)>>;

/// An error answer, boxed (a `Response` is large).
type Refused = Box<Response>;

fn refuse(status: StatusCode, code: &str, message: &str) -> Refused {
    Box::new(error(status, code, message))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `limit` (default 10, at most [`MAX_LIMIT`]) and `offset`, or the 400 answer.
fn limit_of(params: &[(String, String)]) -> Result<usize, Refused> {
    match param(params, "limit").map(str::parse::<usize>) {
        None => Ok(10),
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(refuse(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "limit must be 1..100")),
    }
}

/// `updatedAfter` as unix ms, or the 400 answer.
fn updated_after(params: &[(String, String)]) -> Result<Option<i64>, Refused> {
    match param(params, "updatedAfter") {
        None => Ok(None),
        Some(text) => parse_ms(text).filter(|_| text.contains('T')).map(Some).ok_or_else(|| {
            refuse(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "updatedAfter is not ISO 8601")
        }),
    }
}

fn newer(updated: &str, after: Option<i64>) -> bool {
    after.is_none_or(|after| parse_ms(updated).is_some_and(|ms| ms > after))
}

fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id, "title": job.title, "refNumber": job.ref_number,
        "createdOn": job.created, "updatedOn": job.updated, "lastActivityOn": job.updated,
        "department": { "id": "d-1", "label": "Engineering" },
        "location": { "city": "Utrecht", "country": "Netherlands", "countryCode": "nl", "remote": false },
        "status": "SOURCING", "postingStatus": "PUBLIC",
    })
}

fn assignment_json(store: &Store, a: &Assignment) -> Value {
    let title = store.jobs.iter().find(|j| j.id == a.job_id).map(|j| j.title.clone());
    json!({ "job": { "id": a.job_id, "title": title }, "status": a.status, "subStatus": null })
}

fn candidate_json(store: &Store, c: &Candidate) -> Value {
    let mut assignments = c.assignments.iter().map(|a| assignment_json(store, a));
    let primary = assignments.next();
    json!({
        "id": c.id, "internal": false, "firstName": c.first, "lastName": c.last,
        "email": c.email, "phoneNumber": c.phone,
        "location": { "city": "Utrecht", "country": "Netherlands" },
        "createdOn": c.created, "updatedOn": c.updated, "tags": c.tags,
        "primaryAssignment": primary, "secondaryAssignments": assignments.collect::<Vec<_>>(),
    })
}

async fn list_jobs(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    if let Some(answer) = gate(&shared, &headers, format!("GET /jobs {params:?}")).await {
        return answer;
    }
    let (limit, after) = match (limit_of(&params), updated_after(&params)) {
        (Ok(limit), Ok(after)) => (limit, after),
        (Err(answer), _) | (_, Err(answer)) => return *answer,
    };
    if param(&params, "offset").is_some() {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "use pageId, not offset");
    }
    let start = match param(&params, "pageId") {
        None => 0,
        Some(token) => match base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| text.strip_prefix("jobs:").and_then(|n| n.parse::<usize>().ok()))
        {
            Some(start) => start,
            None => return error(StatusCode::BAD_REQUEST, "INVALID_PAGE_ID", "unknown pageId"),
        },
    };
    let store = lock(&shared.store);
    let matching: Vec<&Job> = store.jobs.iter().filter(|j| newer(&j.updated, after)).collect();
    let content: Vec<Value> =
        matching.iter().skip(start).take(limit).map(|j| job_json(j)).collect();
    let next_start = if shared.faults.repeat_page_token() { limit } else { start + limit };
    let next = (start + limit < matching.len()).then(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("jobs:{next_start}"))
    });
    Json(json!({ "limit": limit, "nextPageId": next, "content": content })).into_response()
}

/// Frees the one `GET /candidates` slot when the request is answered.
struct Busy<'a>(&'a AtomicBool);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

async fn list_candidates(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    if let Some(answer) = gate(&shared, &headers, format!("GET /candidates {params:?}")).await {
        return answer;
    }
    if shared.candidates_busy.swap(true, Ordering::SeqCst) {
        let mut answer =
            error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "concurrent limit is 1");
        answer.headers_mut().insert("x-ratelimit-concurrent-limit", HeaderValue::from_static("1"));
        return answer;
    }
    let _busy = Busy(&shared.candidates_busy);
    let (limit, after) = match (limit_of(&params), updated_after(&params)) {
        (Ok(limit), Ok(after)) => (limit, after),
        (Err(answer), _) | (_, Err(answer)) => return *answer,
    };
    let offset = match param(&params, "offset").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "offset"),
    };
    let statuses: Vec<&str> =
        params.iter().filter(|(k, _)| k == "status").map(|(_, v)| v.as_str()).collect();
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(s)) {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", &format!("status {bad}"));
    }
    let q = param(&params, "q").map(str::to_lowercase).filter(|q| !q.trim().is_empty());
    let store = lock(&shared.store);
    let matching: Vec<&Candidate> = store
        .candidates
        .iter()
        .filter(|c| newer(&c.updated, after))
        .filter(|c| {
            statuses.is_empty()
                || c.assignments.iter().any(|a| statuses.contains(&a.status.as_str()))
        })
        .filter(|c| {
            q.as_ref().is_none_or(|q| {
                [&c.first, &c.last, &c.email, &c.phone].iter().any(|f| f.to_lowercase().contains(q))
            })
        })
        .collect();
    let content: Vec<Value> =
        matching.iter().skip(offset).take(limit).map(|c| candidate_json(&store, c)).collect();
    Json(json!({
        "limit": limit, "offset": offset, "totalFound": matching.len(), "content": content,
    }))
    .into_response()
}

async fn rejection_reasons(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let what = "GET /configuration/rejection-reasons".to_string();
    if let Some(answer) = gate(&shared, &headers, what).await {
        return answer;
    }
    let reasons = [("rr-1", "Position filled"), ("rr-2", "Not qualified"), ("rr-3", "No show")];
    let content: Vec<Value> =
        reasons.iter().map(|(id, label)| json!({ "id": id, "label": label })).collect();
    Json(json!({ "totalFound": content.len(), "content": content })).into_response()
}

/// The fake SmartRecruiters, listening on 127.0.0.1.
pub struct SmartRecruitersFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl SmartRecruitersFake {
    pub async fn start() -> Self {
        let nanos = now_ms();
        let shared = Arc::new(Shared {
            key: format!("sr{nanos:030x}"),
            faults: Faults::default(),
            store: Mutex::new(Store::default()),
            ids: AtomicUsize::new(0),
            candidates_busy: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/jobs", get(list_jobs))
            .route("/candidates", get(list_candidates).post(create_candidate))
            .route("/candidates/{id}", get(candidate).patch(candidate))
            .route("/candidates/{id}/tags", post(add_tags))
            .route("/candidates/{id}/attachments", post(add_attachment))
            .route("/candidates/{id}/jobs/{job}/status", put(set_status))
            .route("/messages/shares", post(share_message))
            .route("/configuration/rejection-reasons", get(rejection_reasons))
            .layer(axum::middleware::map_response(limit_headers))
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received on the API: method, path and the query pairs.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared.requests).clone()
    }

    /// Puts candidate `candidate` on job `job` in status `NEW` (as an application through a
    /// job ad would); returns the application id as the connector reports it.
    pub fn apply(&self, candidate: &str, job: &str) -> String {
        let mut store = lock(&self.shared.store);
        if let Some(c) = store.candidates.iter_mut().find(|c| c.id == candidate) {
            c.assignments.push(Assignment {
                job_id: job.to_string(),
                status: "NEW".into(),
                reason: None,
            });
            c.updated = now();
        }
        format!("{candidate}/jobs/{job}")
    }

    /// The assignments of candidate `id`.
    pub fn assignments(&self, id: &str) -> Vec<Assignment> {
        let store = lock(&self.shared.store);
        store
            .candidates
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.assignments.clone())
            .unwrap_or_default()
    }

    /// (attachment type, filename) of every file on candidate `id`.
    pub fn attachment_types(&self, id: &str) -> Vec<(String, String)> {
        let store = lock(&self.shared.store);
        store
            .candidates
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.attachments.iter().map(|(n, t, _)| (t.clone(), n.clone())).collect())
            .unwrap_or_default()
    }
}

impl FakeAts for SmartRecruitersFake {
    fn connector_package(&self) -> &'static str {
        "smartrecruiters"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![("base-url".into(), self.base_url()), ("api-key".into(), self.shared.key.clone())]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        vec![
            ("base-url".into(), self.base_url()),
            ("api-key".into(), "sr-revoked-key-000000000000000".into()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        let first = store.jobs.len();
        (0..count)
            .map(|n| {
                let id = self.shared.new_id();
                store.jobs.push(Job {
                    id: id.clone(),
                    title: format!("Data Engineer {}", first + n + 1),
                    ref_number: format!("REF{}", first + n + 1),
                    created: updated_at.to_string(),
                    updated: updated_at.to_string(),
                });
                id
            })
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        let mut store = lock(&self.shared.store);
        if let Some(job) = store.jobs.iter_mut().find(|j| j.id == id) {
            job.title = title.to_string();
            job.updated = updated_at.to_string();
        }
    }

    fn issues_sessions(&self) -> bool {
        false
    }

    fn auth_count(&self) -> usize {
        0
    }

    fn expire_sessions(&self) {}

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.shared.store);
        store
            .candidates
            .iter()
            .map(|c| FakeCandidate {
                id: c.id.clone(),
                first_name: c.first.clone(),
                last_name: c.last.clone(),
                emails: vec![c.email.clone()].into_iter().filter(|e| !e.is_empty()).collect(),
                phones: vec![c.phone.clone()].into_iter().filter(|p| !p.is_empty()).collect(),
                notes: store
                    .messages
                    .iter()
                    .filter(|(_, on, _)| *on == c.id)
                    .map(|(_, _, content)| content.clone())
                    .collect(),
                tags: c.tags.iter().cloned().chain(c.source.clone()).collect(),
                attachments: c.attachments.iter().map(|(n, _, b)| (n.clone(), b.clone())).collect(),
                applications: c
                    .assignments
                    .iter()
                    .map(|a| FakeApplication {
                        id: format!("{}/jobs/{}", c.id, a.job_id),
                        job_id: a.job_id.clone(),
                        stage_id: Some(a.status.clone()),
                        rejected_reason: a.reason.clone(),
                        ..FakeApplication::default()
                    })
                    .collect(),
            })
            .collect()
    }
}
