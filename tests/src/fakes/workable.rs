//! A fake Workable (SPI v3), written from research §5 (`ats-apis-international.md`). Every
//! account has a host of its own (`https://{subdomain}.workable.com/spi/v3`); the fake serves
//! them all under `/{host}/spi/v3/...` on 127.0.0.1 and answers 404 for a host that is not
//! its account's. Then:
//!
//! - `Authorization: Bearer <token>`, 401 `{"error": "Not authorized"}` otherwise;
//! - every answer carries `X-Rate-Limit-Limit` (10), `X-Rate-Limit-Remaining` and
//!   `X-Rate-Limit-Reset` (unix time of the next 10-second window); with
//!   [`WorkableFake::enforce_rate_limit`] the 11th request of a window is a 429 without
//!   `Retry-After` (the reset header says when);
//! - `GET /jobs` and `GET /candidates`: `limit` (default 50, at most 100), `since_id`
//!   scrolling, `updated_after` / `created_after` (ISO 8601; strictly after), `email` on
//!   candidates; the body `{<collection>: [...], paging: {next: <absolute URL>}}`, `paging`
//!   absent on the last page;
//! - `GET /stages`, `GET /members`, `GET /disqualification_reasons` (not paged);
//! - `GET/PATCH /candidates/{id}`, `POST /talent_pool/candidates`, `POST
//!   /candidates/{id}/copy|move|comments|disqualify`; writes that act for a member need a
//!   known `member_id` (422 otherwise); a disqualify note is at most 256 characters.
//!
//! A Workable candidate is one person on one job (or in the talent pool); the fake's
//! [`FakeAts::candidates`] view groups records by e-mail into one person whose job records
//! are its applications. `Faults::set_repeat_page_token` makes `paging.next` point at the
//! page just served.

#![allow(
    clippy::result_large_err,
    reason = "a handler's early answer is an axum Response; boxing it buys nothing in a test fake"
)]

mod ats;
mod writes;

use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub const SUBDOMAIN: &str = "acme-robotics";
pub const MEMBER: &str = "13e9a1";
/// The account's pipeline: (slug, name, kind).
pub const STAGES: [(&str, &str, &str); 4] = [
    ("sourced", "Sourced", "sourced"),
    ("applied", "Applied", "applied"),
    ("phone-screen", "Phone Screen", "phone-screen"),
    ("interview", "Interview", "interview"),
];
pub const REASONS: [(&str, &str); 2] = [("2a1", "Position filled"), ("2a2", "Underqualified")];
const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 50;
const WINDOW_REQUESTS: u64 = 10;

#[derive(Debug, Clone)]
struct Job {
    seq: u64,
    id: String,
    shortcode: String,
    title: String,
    updated_ms: i64,
}

/// A comment: its body and its attachment (name, bytes), if any.
type Comment = (String, Option<(String, Vec<u8>)>);

#[derive(Debug, Clone, Default)]
struct Candidate {
    seq: u64,
    id: String,
    firstname: String,
    lastname: String,
    email: String,
    phone: String,
    headline: Option<String>,
    job: Option<String>,
    stage: Option<String>,
    disqualified: bool,
    disqualify_note: Option<String>,
    comments: Vec<Comment>,
    updated_ms: i64,
}

#[derive(Default)]
struct Store {
    jobs: Vec<Job>,
    candidates: Vec<Candidate>,
}

struct Shared {
    token: String,
    faults: Faults,
    seq: AtomicU64,
    store: Mutex<Store>,
    enforce: AtomicBool,
    /// (window start in unix seconds, requests in it).
    window: Mutex<(i64, u64)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The fake Workable, listening on 127.0.0.1.
pub struct WorkableFake {
    shared: Arc<Shared>,
    base_url: String,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn stamp(ms: i64) -> String {
    // Workable renders ISO 8601 UTC with a `Z`, no fraction.
    let text = ats_host::time::format_ms(ms);
    format!("{}Z", text.get(..19).unwrap_or(&text))
}

impl WorkableFake {
    pub async fn start() -> Self {
        let now = ats_host::time::now_ms();
        let shared = Arc::new(Shared {
            token: format!("wk-account-token-{now:x}"),
            faults: Faults::default(),
            seq: AtomicU64::new(1),
            store: Mutex::new(Store::default()),
            enforce: AtomicBool::new(false),
            window: Mutex::new((0, 0)),
        });
        let app = axum::Router::new()
            .route("/{host}/spi/v3/jobs", get(list_jobs))
            .route("/{host}/spi/v3/stages", get(stages))
            .route("/{host}/spi/v3/members", get(members))
            .route("/{host}/spi/v3/disqualification_reasons", get(reasons))
            .route("/{host}/spi/v3/candidates", get(list_candidates))
            .route("/{host}/spi/v3/candidates/{id}", get(show).patch(update))
            .route("/{host}/spi/v3/talent_pool/candidates", post(create))
            .route("/{host}/spi/v3/candidates/{id}/{action}", post(writes::act))
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, base_url: format!("http://{addr}/") }
    }

    /// Counts requests per 10-second window and answers the 11th with a 429.
    pub fn enforce_rate_limit(&self, on: bool) {
        self.shared.enforce.store(on, Ordering::SeqCst);
    }

    /// The comments of candidate record `id`: (body, attachment name).
    pub fn comments(&self, id: &str) -> Vec<(String, Option<String>)> {
        lock(&self.shared.store)
            .candidates
            .iter()
            .filter(|c| c.id == id)
            .flat_map(|c| {
                c.comments.iter().map(|(b, a)| (b.clone(), a.as_ref().map(|a| a.0.clone())))
            })
            .collect()
    }

    /// The stage slug of candidate record `id`.
    pub fn stage_of(&self, id: &str) -> Option<String> {
        lock(&self.shared.store)
            .candidates
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.stage.clone())
    }
}

/// Fault switches, rate limit, host and token checks; `Err` is the answer to give.
async fn guard(shared: &Shared, host: &str, headers: &HeaderMap) -> Result<(), Response> {
    if let Some(fault) = shared.faults.intercept().await {
        return Err(fault);
    }
    if host != format!("{SUBDOMAIN}.workable.com") {
        return Err(error(StatusCode::NOT_FOUND, "Not found"));
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(shared.token.as_str()) {
        return Err(error(StatusCode::UNAUTHORIZED, "Not authorized"));
    }
    let (reset, count) = tick(shared);
    if shared.enforce.load(Ordering::SeqCst) && count > WINDOW_REQUESTS {
        let mut refused = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
        limit_headers(&mut refused, reset, count);
        return Err(refused);
    }
    Ok(())
}

/// Counts this request in the current window: (next window's unix time, count so far).
fn tick(shared: &Shared) -> (i64, u64) {
    let now = ats_host::time::now_ms() / 1000;
    let mut window = lock(&shared.window);
    let start = now - now % 10;
    if window.0 != start {
        *window = (start, 0);
    }
    window.1 += 1;
    (start + 10, window.1)
}

fn limit_headers(response: &mut Response, reset: i64, count: u64) {
    let headers = response.headers_mut();
    let remaining = WINDOW_REQUESTS.saturating_sub(count);
    for (name, value) in [
        ("x-rate-limit-limit", WINDOW_REQUESTS.to_string()),
        ("x-rate-limit-remaining", remaining.to_string()),
        ("x-rate-limit-reset", reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// A successful answer with the rate-limit headers of the current window.
fn answer(shared: &Shared, status: StatusCode, body: Value) -> Response {
    let (reset, count) = {
        let window = lock(&shared.window);
        (window.0 + 10, window.1)
    };
    let mut response = (status, Json(body)).into_response();
    limit_headers(&mut response, reset, count);
    response
}

fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id, "title": job.title, "full_title": format!("{} - ENG", job.title),
        "shortcode": job.shortcode, "code": format!("REQ-{}", job.seq), "state": "published",
        "department": "Engineering", "url": format!("https://apply.workable.com/j/{}", job.shortcode),
        "application_url": format!("https://apply.workable.com/j/{}/apply", job.shortcode),
        "shortlink": format!("https://apply.workable.com/j/{}", job.shortcode),
        "location": { "location_str": "Athens, Greece", "country": "Greece", "country_code": "GR",
                      "region": "Attica", "city": "Athens", "zip_code": "10431", "telecommuting": false },
        "created_at": "2024-11-01T09:00:00Z",
    })
}

fn candidate_json(store: &Store, c: &Candidate) -> Value {
    let job = c.job.as_ref().and_then(|code| store.jobs.iter().find(|j| j.shortcode == *code));
    let stage = c.stage.as_ref().and_then(|s| STAGES.iter().find(|(slug, _, _)| slug == s));
    json!({
        "id": c.id, "name": format!("{} {}", c.firstname, c.lastname),
        "firstname": c.firstname, "lastname": c.lastname, "headline": c.headline,
        "account": { "subdomain": SUBDOMAIN, "name": "Acme Robotics" },
        "job": job.map(|j| json!({ "shortcode": j.shortcode, "title": j.title })),
        "stage": stage.map(|s| s.1), "stage_kind": stage.map(|s| s.2),
        "disqualified": c.disqualified, "disqualification_reason": c.disqualify_note,
        "withdrew": false, "sourced": true, "email": c.email,
        "phone": if c.phone.is_empty() { None } else { Some(&c.phone) },
        "profile_url": format!("https://{SUBDOMAIN}.workable.com/backend/candidates/{}", c.id),
        "domain": null, "tags": [], "hired_at": null,
        "created_at": stamp(c.updated_ms), "updated_at": stamp(c.updated_ms),
    })
}

/// `limit`, `since_id`, `updated_after`, `created_after` as the list endpoints read them.
struct Paging {
    limit: usize,
    since_seq: u64,
    after_ms: Option<i64>,
}

fn paging(
    query: &HashMap<String, String>,
    seq_of: impl Fn(&str) -> Option<u64>,
) -> Result<Paging, Response> {
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| error(StatusCode::BAD_REQUEST, "limit must be a number"))?
            .clamp(1, MAX_LIMIT),
    };
    let since_seq = match query.get("since_id") {
        None => 0,
        Some(id) => seq_of(id).ok_or_else(|| error(StatusCode::BAD_REQUEST, "Invalid since_id"))?,
    };
    let after_ms = match query.get("updated_after").or_else(|| query.get("created_after")) {
        None => None,
        Some(text) => Some(
            ats_host::time::parse_ms(text)
                .ok_or_else(|| error(StatusCode::BAD_REQUEST, "Invalid date format"))?,
        ),
    };
    Ok(Paging { limit, since_seq, after_ms })
}

/// `paging.next`: this URL with `since_id` set to the last record served (or, with the fault,
/// exactly this URL).
fn next_url(
    shared: &Shared,
    headers: &HeaderMap,
    host: &str,
    collection: &str,
    query: &HashMap<String, String>,
    last_id: &str,
) -> String {
    let authority = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| *k != "since_id")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !shared.faults.repeat_page_token() {
        pairs.push(("since_id".into(), last_id.to_string()));
    } else if let Some(since) = query.get("since_id") {
        pairs.push(("since_id".into(), since.clone()));
    }
    pairs.sort();
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace('%', "%25").replace('+', "%2B").replace(':', "%3A").replace('@', "%40")
            )
        })
        .collect();
    format!("http://{authority}/{host}/spi/v3/{collection}?{}", encoded.join("&"))
}

async fn list_jobs(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let store = lock(&shared.store);
    let paging = match paging(&query, |id| store.jobs.iter().find(|j| j.id == id).map(|j| j.seq)) {
        Ok(paging) => paging,
        Err(refused) => return refused,
    };
    let matching: Vec<&Job> = store
        .jobs
        .iter()
        .filter(|j| j.seq > paging.since_seq)
        .filter(|j| paging.after_ms.is_none_or(|after| j.updated_ms > after))
        .collect();
    let page: Vec<Value> = matching.iter().take(paging.limit).map(|j| job_json(j)).collect();
    let mut body = json!({ "jobs": page });
    if matching.len() > paging.limit {
        let last = &matching[paging.limit - 1].id;
        body["paging"] =
            json!({ "next": next_url(&shared, &headers, &host, "jobs", &query, last) });
    }
    answer(&shared, StatusCode::OK, body)
}

async fn list_candidates(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let store = lock(&shared.store);
    let paging =
        match paging(&query, |id| store.candidates.iter().find(|c| c.id == id).map(|c| c.seq)) {
            Ok(paging) => paging,
            Err(refused) => return refused,
        };
    let email = query.get("email").map(|e| e.trim().to_lowercase());
    let matching: Vec<&Candidate> = store
        .candidates
        .iter()
        .filter(|c| c.seq > paging.since_seq)
        .filter(|c| paging.after_ms.is_none_or(|after| c.updated_ms > after))
        .filter(|c| email.as_ref().is_none_or(|e| c.email.to_lowercase() == *e))
        .collect();
    let page: Vec<Value> =
        matching.iter().take(paging.limit).map(|c| candidate_json(&store, c)).collect();
    let mut body = json!({ "candidates": page });
    if matching.len() > paging.limit {
        let last = &matching[paging.limit - 1].id;
        body["paging"] =
            json!({ "next": next_url(&shared, &headers, &host, "candidates", &query, last) });
    }
    answer(&shared, StatusCode::OK, body)
}

async fn stages(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let stages: Vec<Value> = STAGES
        .iter()
        .enumerate()
        .map(|(i, (slug, name, kind))| json!({"slug": slug, "name": name, "kind": kind, "position": i}))
        .collect();
    answer(&shared, StatusCode::OK, json!({ "stages": stages }))
}

async fn members(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let members = json!([{ "id": MEMBER, "name": "Rita Recruiter", "headline": "Talent lead",
                           "email": "rita@acme-robotics.example", "role": "admin" }]);
    answer(&shared, StatusCode::OK, json!({ "members": members }))
}

async fn reasons(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let reasons: Vec<Value> =
        REASONS.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
    answer(&shared, StatusCode::OK, json!({ "disqualification_reasons": reasons }))
}

async fn show(
    State(shared): State<Arc<Shared>>,
    Path((host, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let store = lock(&shared.store);
    match store.candidates.iter().find(|c| c.id == id) {
        Some(c) => {
            answer(&shared, StatusCode::OK, json!({ "candidate": candidate_json(&store, c) }))
        }
        None => error(StatusCode::NOT_FOUND, "Not found"),
    }
}

fn parse(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| error(StatusCode::BAD_REQUEST, "Malformed JSON"))
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let fields = &body["candidate"];
    let (Some(firstname), Some(lastname)) = (text(&fields["firstname"]), text(&fields["lastname"]))
    else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "firstname and lastname are required");
    };
    let seq = shared.seq.fetch_add(1, Ordering::SeqCst);
    let candidate = Candidate {
        seq,
        id: format!("{:x}", 0xc000_0000u64 + seq),
        firstname,
        lastname,
        email: text(&fields["email"]).unwrap_or_default(),
        phone: text(&fields["phone"]).unwrap_or_default(),
        headline: text(&fields["headline"]),
        updated_ms: ats_host::time::now_ms(),
        ..Default::default()
    };
    let mut store = lock(&shared.store);
    let json = candidate_json(&store, &candidate);
    store.candidates.push(candidate);
    answer(&shared, StatusCode::CREATED, json!({ "candidate": json }))
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path((host, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let fields = &body["candidate"];
    let mut store = lock(&shared.store);
    let Some(candidate) = store.candidates.iter_mut().find(|c| c.id == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    for (key, slot) in [
        ("firstname", &mut candidate.firstname),
        ("lastname", &mut candidate.lastname),
        ("email", &mut candidate.email),
        ("phone", &mut candidate.phone),
    ] {
        if let Some(value) = text(&fields[key]) {
            *slot = value;
        }
    }
    candidate.updated_ms = ats_host::time::now_ms();
    let candidate = candidate.clone();
    answer(&shared, StatusCode::OK, json!({ "candidate": candidate_json(&store, &candidate) }))
}
