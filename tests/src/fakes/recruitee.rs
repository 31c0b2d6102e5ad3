//! A fake Recruitee, written from research §4 (`ats-apis-international.md`): the API under
//! `/c/{company_id}`, a personal token as `Authorization: Bearer` (401 without a valid one,
//! 404 for a company the token cannot see, 422 "Company id is invalid" for a non-numeric id),
//! and:
//!
//! - `GET /offers` (jobs and talent pools; `limit`/`offset` as one client sends them [M], no
//!   change filter) and `GET /offers/{id}`
//!   with `offer.pipeline_template.stages[{id, name, position}]`;
//! - `GET /candidates` with `query` (free text over names, e-mails and phones), `limit` and
//!   `offset` (omitting both returns everything); `GET /candidates/{id}`;
//! - `POST /candidates` `{candidate: {name, emails, phones}}`, `PATCH /candidates/{id}`
//!   `{candidate: {...}}` (lists given replace the stored ones);
//! - `POST /placements` `{candidate_id, offer_id, stage_id}` (the stage must be on the
//!   offer's pipeline; the first stage when none is given) and `PATCH
//!   /placements/{id}/change_stage` with `stage_id` top-level or as `{placement: {stage_id}}`;
//! - `POST /candidates/{id}/notes` `{note: {body, visibility}}`;
//! - `POST /attachments` multipart with `attachment[file]` and `attachment[candidate_id]`: a
//!   bare `file` field is a 500, a candidate id missing from the form makes an orphan.
//!
//! Error bodies are `{"error": "..."}` (shape [L]: not documented). Recruitee pages offers
//! and candidates by offset, so `Faults::set_repeat_page_token` makes every offset
//! answer the first page.

#![allow(
    clippy::result_large_err,
    reason = "a handler's early answer is an axum Response; boxing it buys nothing in a test fake"
)]

mod ats;
mod multipart;

use super::lock;
use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The fake's company id.
pub const COMPANY: &str = "48213";
/// The default pipeline template's stages (id, name).
pub const STAGES: [(u64, &str); 4] =
    [(9001, "Applied"), (9002, "Phone screen"), (9003, "Interview"), (9004, "Offer")];

#[derive(Debug, Clone)]
struct Offer {
    id: u64,
    title: String,
    status: String,
    updated_at: String,
}

#[derive(Debug, Clone, Default)]
struct Candidate {
    id: u64,
    name: String,
    emails: Vec<String>,
    phones: Vec<String>,
    notes: Vec<String>,
    attachments: Vec<(String, Vec<u8>)>,
    updated_at: String,
}

#[derive(Debug, Clone)]
struct Placement {
    id: u64,
    candidate_id: u64,
    offer_id: u64,
    stage_id: u64,
}

#[derive(Default)]
struct Store {
    offers: Vec<Offer>,
    candidates: Vec<Candidate>,
    placements: Vec<Placement>,
    /// Attachments uploaded without a candidate: (filename, bytes).
    orphans: Vec<(String, Vec<u8>)>,
}

struct Shared {
    token: String,
    faults: Faults,
    next_id: AtomicU64,
    store: Mutex<Store>,
}

impl Shared {
    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }
}

/// The fake Recruitee, listening on 127.0.0.1.
pub struct RecruiteeFake {
    shared: Arc<Shared>,
    base_url: String,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn now() -> String {
    ats_host::time::format_ms(ats_host::time::now_ms())
}

impl RecruiteeFake {
    pub async fn start() -> Self {
        let nanos = ats_host::time::now_ms();
        let shared = Arc::new(Shared {
            token: format!("rc-personal-token-{nanos:x}"),
            faults: Faults::default(),
            next_id: AtomicU64::new(100_000),
            store: Mutex::new(Store::default()),
        });
        let app = axum::Router::new()
            .route("/c/{company}/offers", get(offers))
            .route("/c/{company}/offers/{id}", get(offer))
            .route("/c/{company}/candidates", get(search).post(create_candidate))
            .route("/c/{company}/candidates/{id}", get(show_candidate).patch(update_candidate))
            .route("/c/{company}/candidates/{id}/notes", post(add_note))
            .route("/c/{company}/placements", post(create_placement))
            .route("/c/{company}/placements/{id}/change_stage", patch(change_stage))
            .route("/c/{company}/attachments", post(upload))
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, base_url: format!("http://{addr}") }
    }

    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Attachments uploaded without a candidate id in the form.
    pub fn orphan_attachments(&self) -> usize {
        lock(&self.shared.store).orphans.len()
    }

    /// The placements (id, candidate id, offer id, stage id).
    pub fn placements(&self) -> Vec<(String, String, String, String)> {
        lock(&self.shared.store)
            .placements
            .iter()
            .map(|p| {
                (
                    p.id.to_string(),
                    p.candidate_id.to_string(),
                    p.offer_id.to_string(),
                    p.stage_id.to_string(),
                )
            })
            .collect()
    }
}

/// Checks the bearer token and the company; `None` when the request may go on.
async fn guard(shared: &Shared, headers: &HeaderMap, company: &str) -> Option<Response> {
    if let Some(fault) = shared.faults.intercept().await {
        return Some(fault);
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(shared.token.as_str()) {
        return Some(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    if company.is_empty() || !company.bytes().all(|b| b.is_ascii_digit()) {
        return Some(error(StatusCode::UNPROCESSABLE_ENTITY, "Company id is invalid"));
    }
    (company != COMPANY).then(|| error(StatusCode::NOT_FOUND, "Not found"))
}

fn offer_json(offer: &Offer, with_pipeline: bool) -> Value {
    let mut value = json!({
        "id": offer.id, "title": offer.title, "slug": format!("offer-{}", offer.id),
        "status": offer.status, "kind": "job", "department": "Engineering",
        "location": "Utrecht, Netherlands", "city": "Utrecht", "country": "Netherlands",
        "careers_url": format!("https://acme.recruitee.com/o/offer-{}", offer.id),
        "created_at": "2024-12-01T09:00:00.000Z", "updated_at": offer.updated_at,
    });
    if with_pipeline {
        let stages: Vec<Value> = STAGES
            .iter()
            .enumerate()
            .map(|(i, (id, name))| json!({"id": id, "name": name, "position": i, "category": "custom"}))
            .collect();
        value["pipeline_template"] = json!({ "id": 77, "title": "Default", "stages": stages });
    }
    value
}

fn candidate_json(store: &Store, c: &Candidate) -> Value {
    let placements: Vec<Value> =
        store.placements.iter().filter(|p| p.candidate_id == c.id).map(placement_json).collect();
    json!({
        "id": c.id, "name": c.name, "emails": c.emails, "phones": c.phones, "tags": [],
        "placements": placements, "created_at": c.updated_at, "updated_at": c.updated_at,
    })
}

fn placement_json(p: &Placement) -> Value {
    json!({
        "id": p.id, "candidate_id": p.candidate_id, "offer_id": p.offer_id,
        "stage_id": p.stage_id, "disqualified_at": null, "created_at": now(), "updated_at": now(),
    })
}

/// `limit` and `offset` (omitting both returns everything); with the repeat fault every
/// offset answers the first page.
fn window(
    query: &HashMap<String, String>,
    faults: &Faults,
) -> Result<(Option<usize>, usize), Response> {
    let number = |name: &str| query.get(name).map(|v| v.parse::<usize>());
    match (number("limit"), number("offset")) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            Err(error(StatusCode::BAD_REQUEST, "limit and offset must be numbers"))
        }
        (limit, offset) => {
            let offset = offset.and_then(Result::ok).unwrap_or(0);
            let offset = if faults.repeat_page_token() { 0 } else { offset };
            Ok((limit.and_then(Result::ok), offset))
        }
    }
}

async fn offers(
    State(shared): State<Arc<Shared>>,
    Path(company): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let (limit, offset) = match window(&query, &shared.faults) {
        Ok(window) => window,
        Err(refused) => return refused,
    };
    let store = lock(&shared.store);
    let offers = store.offers.iter().skip(offset).take(limit.unwrap_or(usize::MAX));
    let offers: Vec<Value> = offers.map(|o| offer_json(o, false)).collect();
    Json(json!({ "offers": offers })).into_response()
}

async fn offer(
    State(shared): State<Arc<Shared>>,
    Path((company, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let store = lock(&shared.store);
    match store.offers.iter().find(|o| o.id.to_string() == id) {
        Some(offer) => Json(json!({ "offer": offer_json(offer, true) })).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not found"),
    }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn matches(c: &Candidate, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return true;
    }
    let phone_query = digits(&query);
    c.name.to_lowercase().contains(&query)
        || c.emails.iter().any(|e| e.to_lowercase().contains(&query))
        || (phone_query.len() >= 6 && c.phones.iter().any(|p| digits(p).contains(&phone_query)))
}

async fn search(
    State(shared): State<Arc<Shared>>,
    Path(company): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let (limit, offset) = match window(&query, &shared.faults) {
        Ok(window) => window,
        Err(refused) => return refused,
    };
    let store = lock(&shared.store);
    let text = query.get("query").map(String::as_str).unwrap_or_default();
    let found = store.candidates.iter().filter(|c| matches(c, text)).skip(offset);
    let found: Vec<Value> = match limit {
        Some(limit) => found.take(limit).map(|c| candidate_json(&store, c)).collect(),
        None => found.map(|c| candidate_json(&store, c)).collect(),
    };
    Json(json!({ "candidates": found })).into_response()
}

async fn show_candidate(
    State(shared): State<Arc<Shared>>,
    Path((company, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let store = lock(&shared.store);
    match store.candidates.iter().find(|c| c.id.to_string() == id) {
        Some(c) => Json(json!({ "candidate": candidate_json(&store, c) })).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not found"),
    }
}

fn strings(value: &Value) -> Result<Vec<String>, Response> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    error(StatusCode::UNPROCESSABLE_ENTITY, "emails and phones are lists of text")
                })
            })
            .collect(),
        _ => Err(error(StatusCode::UNPROCESSABLE_ENTITY, "emails and phones are lists of text")),
    }
}

fn parse(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| error(StatusCode::BAD_REQUEST, "Malformed JSON"))
}

async fn create_candidate(
    State(shared): State<Arc<Shared>>,
    Path(company): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let fields = &body["candidate"];
    let name = fields["name"].as_str().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"errors": {"name": ["can't be blank"]}})),
        )
            .into_response();
    }
    let (emails, phones) = match (strings(&fields["emails"]), strings(&fields["phones"])) {
        (Ok(emails), Ok(phones)) => (emails, phones),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    let candidate = Candidate {
        id: shared.id(),
        name,
        emails,
        phones,
        updated_at: now(),
        ..Default::default()
    };
    let mut store = lock(&shared.store);
    let answer = candidate_json(&store, &candidate);
    store.candidates.push(candidate);
    (StatusCode::CREATED, Json(json!({ "candidate": answer }))).into_response()
}

async fn update_candidate(
    State(shared): State<Arc<Shared>>,
    Path((company, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let fields = &body["candidate"];
    let mut store = lock(&shared.store);
    let Some(index) = store.candidates.iter().position(|c| c.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    let candidate = &mut store.candidates[index];
    if let Some(name) = fields["name"].as_str() {
        candidate.name = name.trim().to_string();
    }
    for (key, list) in [("emails", &mut candidate.emails), ("phones", &mut candidate.phones)] {
        if !fields[key].is_null() {
            match strings(&fields[key]) {
                Ok(values) => *list = values,
                Err(refused) => return refused,
            }
        }
    }
    candidate.updated_at = now();
    let candidate = candidate.clone();
    Json(json!({ "candidate": candidate_json(&store, &candidate) })).into_response()
}

async fn add_note(
    State(shared): State<Arc<Shared>>,
    Path((company, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(text) = body["note"]["body"].as_str().filter(|b| !b.trim().is_empty()) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"errors": {"body": ["can't be blank"]}})),
        )
            .into_response();
    };
    let note_id = shared.id();
    let mut store = lock(&shared.store);
    let Some(candidate) = store.candidates.iter_mut().find(|c| c.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    candidate.notes.push(text.to_string());
    (StatusCode::CREATED, Json(json!({ "note": { "id": note_id, "body": text } }))).into_response()
}

/// A number given as JSON number or numeric text.
fn id_of(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

async fn create_placement(
    State(shared): State<Arc<Shared>>,
    Path(company): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let (Some(candidate_id), Some(offer_id)) =
        (id_of(&body["candidate_id"]), id_of(&body["offer_id"]))
    else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "candidate_id and offer_id are required");
    };
    let stage_id = match &body["stage_id"] {
        Value::Null => STAGES[0].0,
        other => match id_of(other) {
            Some(stage) if STAGES.iter().any(|(id, _)| *id == stage) => stage,
            _ => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Stage is not on the offer's pipeline",
                );
            }
        },
    };
    let id = shared.id();
    let mut store = lock(&shared.store);
    if !store.candidates.iter().any(|c| c.id == candidate_id)
        || !store.offers.iter().any(|o| o.id == offer_id)
    {
        return error(StatusCode::NOT_FOUND, "Not found");
    }
    if store.placements.iter().any(|p| p.candidate_id == candidate_id && p.offer_id == offer_id) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Candidate is already assigned to this offer",
        );
    }
    let placement = Placement { id, candidate_id, offer_id, stage_id };
    let answer = placement_json(&placement);
    store.placements.push(placement);
    (StatusCode::CREATED, Json(json!({ "placement": answer }))).into_response()
}

async fn change_stage(
    State(shared): State<Arc<Shared>>,
    Path((company, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let body = match parse(&body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let stage = id_of(&body["stage_id"]).or_else(|| id_of(&body["placement"]["stage_id"]));
    let Some(stage) = stage.filter(|s| STAGES.iter().any(|(id, _)| id == s)) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Stage is not on the offer's pipeline");
    };
    let mut store = lock(&shared.store);
    let Some(placement) = store.placements.iter_mut().find(|p| p.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    placement.stage_id = stage;
    Json(json!({ "placement": placement_json(placement) })).into_response()
}

async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(company): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = guard(&shared, &headers, &company).await {
        return refused;
    }
    let Some(parts) = multipart::multipart(&headers, &body) else {
        return error(StatusCode::BAD_REQUEST, "Expected multipart/form-data");
    };
    let part = |name: &str| parts.iter().find(|(n, _, _)| n == name);
    if part("attachment[file]").is_none() && part("file").is_some() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    }
    let Some((_, filename, bytes)) = part("attachment[file]") else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "attachment[file] is required");
    };
    let filename = filename.clone().unwrap_or_else(|| "file".into());
    let candidate_id = part("attachment[candidate_id]")
        .and_then(|(_, _, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let id = shared.id();
    let mut store = lock(&shared.store);
    match candidate_id {
        Some(candidate_id) => {
            let Some(candidate) = store.candidates.iter_mut().find(|c| c.id == candidate_id) else {
                return error(StatusCode::NOT_FOUND, "Not found");
            };
            candidate.attachments.push((filename.clone(), bytes.clone()));
        }
        None => store.orphans.push((filename.clone(), bytes.clone())),
    }
    let answer =
        json!({ "attachment": { "id": id, "filename": filename, "candidate_id": candidate_id } });
    (StatusCode::CREATED, Json(answer)).into_response()
}
