//! The sandbox ATS's HTTP handlers and the middleware that counts requests, applies the
//! fault switches and checks the bearer key.

use super::SandboxHandle;
use super::data::{
    BY_CANDIDATE_AND_JOB, BY_EMAIL, BY_PHONE, Data, Table, candidate_and_job, decode_cursor,
    digits, encode_cursor, json_array,
};
use super::directory;
use super::idempotency;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

type S = State<SandboxHandle>;

pub fn router(handle: SandboxHandle) -> Router {
    Router::new()
        .route("/api/jobs", get(list_jobs))
        .route("/api/stages", get(list_stages))
        .route("/api/jobs/{id}/stages", get(list_job_stages))
        .route("/api/candidates", get(find_candidates).post(create_candidate))
        .route("/api/candidates/{id}", get(get_candidate).patch(update_candidate))
        .route("/api/candidates/{id}/notes", post(candidate_note))
        .route("/api/candidates/{id}/tags", post(candidate_tag))
        .route("/api/candidates/{id}/tags/{tag}", axum::routing::delete(directory::remove_tag))
        .route("/api/applications/{id}", get(directory::application))
        .route("/api/account", get(directory::account))
        .route("/api/users", get(directory::users))
        .route("/api/rejection-reasons", get(directory::rejection_reasons))
        .route("/api/tags", get(directory::tags))
        .route("/api/candidates/{id}/attachments", post(candidate_attachment))
        .route("/api/applications", get(list_applications).post(create_application))
        .route("/api/applications/{id}/move", post(move_application))
        .route("/api/applications/{id}/reject", post(reject_application))
        .route("/api/applications/{id}/result", post(application_result))
        .route("/api/applications/{id}/notes", post(application_note))
        .layer(axum::middleware::from_fn_with_state(handle.clone(), gate))
        .with_state(handle)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// An answer whose body is already JSON (records are serialized once per change).
pub(super) fn json_body(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body)
        .into_response()
}

/// Record `id` of `table` as the API returns it (the caller knows it exists).
fn record(table: &Table, id: &str) -> String {
    table.json(id).unwrap_or("null").to_string()
}

/// Counts, delays, injects faults, then checks the key; adds the time spent answering
/// (the injected delay excluded) to the handle's [`SandboxHandle::busy_time`].
async fn gate(State(h): S, request: Request, next: Next) -> Response {
    let faults = &h.shared.faults;
    faults.requests.fetch_add(1, Ordering::SeqCst);
    let delay = faults.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let started = Instant::now();
    let response = answer(&h, request, next).await;
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    h.shared.busy_nanos.fetch_add(nanos, Ordering::Relaxed);
    let answer_delay = faults.answer_delay_ms.load(Ordering::SeqCst);
    if answer_delay > 0 {
        tokio::time::sleep(Duration::from_millis(answer_delay)).await;
    }
    response
}

async fn answer(h: &SandboxHandle, request: Request, next: Next) -> Response {
    let faults = &h.shared.faults;
    let take = |counter: &std::sync::atomic::AtomicU32| {
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    };
    if take(&faults.rate_limited) {
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
        let secs = faults.retry_after_secs.load(Ordering::SeqCst).to_string();
        if let Ok(value) = HeaderValue::from_str(&secs) {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    if take(&faults.failing) {
        let status = StatusCode::from_u16(faults.fail_status.load(Ordering::SeqCst))
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return error(status, "the sandbox ATS is having a bad day");
    }
    let presented = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let authorized = {
        let key = h.shared.api_key.lock().unwrap_or_else(PoisonError::into_inner);
        presented == Some(key.as_str())
    };
    if !authorized {
        return error(StatusCode::UNAUTHORIZED, "missing or invalid API key");
    }
    let key = request.headers().get("idempotency-key").map(|v| v.to_str().map(str::to_string));
    match key {
        Some(Ok(key)) if idempotency::is_write(request.method()) => {
            if key.len() > idempotency::MAX_KEY_BYTES {
                let message =
                    format!("Idempotency-Key longer than {} bytes", idempotency::MAX_KEY_BYTES);
                return error(StatusCode::BAD_REQUEST, &message);
            }
            let _turn = h.shared.keyed_writes.lock().await;
            let replay =
                h.shared.replays.lock().unwrap_or_else(PoisonError::into_inner).replay(&key);
            if let Some(kept) = replay {
                return kept;
            }
            let response = next.run(request).await;
            idempotency::Replays::keep(&h.shared.replays, key, response).await
        }
        Some(Err(_)) => error(StatusCode::BAD_REQUEST, "Idempotency-Key is not visible ASCII"),
        _ => next.run(request).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    offset: Option<usize>,
    cursor: Option<String>,
    limit: Option<usize>,
    updated_since: Option<String>,
}

/// A list answer under `key`, or a 400 for bad paging parameters: one page of `table`,
/// found by binary search and written from the records' stored JSON.
fn list(h: &SandboxHandle, table: fn(&Data) -> &Table, key: &str, q: ListQuery) -> Response {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 500 {
        return error(StatusCode::BAD_REQUEST, "limit must be between 1 and 500");
    }
    let offset = match (&q.cursor, q.offset) {
        (Some(_), Some(_)) => {
            return error(StatusCode::BAD_REQUEST, "give offset or cursor, not both");
        }
        (Some(cursor), None) => match decode_cursor(cursor) {
            Some(offset) => offset,
            None => return error(StatusCode::BAD_REQUEST, "unknown cursor"),
        },
        (None, offset) => offset.unwrap_or(0),
    };
    let since = match q.updated_since.as_deref() {
        None => None,
        Some(text) => match crate::sync::time::parse_ms(text) {
            Some(ms) => Some(ms),
            None => return error(StatusCode::BAD_REQUEST, "updated_since must be RFC 3339"),
        },
    };
    let repeat =
        h.shared.faults.repeat_cursor.load(Ordering::SeqCst).then(|| {
            q.cursor.clone().unwrap_or_else(|| encode_cursor(offset.saturating_add(limit)))
        });
    let body = {
        let data = h.data();
        let found = table(&data).page(since, offset, limit, repeat.as_deref());
        // The keys in the order `json!` writes them (sorted): the list, then the rest.
        format!(
            "{{{}:{},\"next_cursor\":{},\"total\":{}}}",
            json!(key),
            json_array(found.items),
            json!(found.next_cursor),
            found.total
        )
    };
    json_body(StatusCode::OK, body)
}

async fn list_jobs(State(h): S, Query(q): Query<ListQuery>) -> Response {
    list(&h, |data| &data.jobs, "jobs", q)
}

async fn list_applications(State(h): S, Query(q): Query<ListQuery>) -> Response {
    list(&h, |data| &data.applications, "applications", q)
}

async fn list_stages() -> Json<Value> {
    Json(json!({ "stages": Data::stages() }))
}

async fn list_job_stages(State(h): S, Path(id): Path<String>) -> Response {
    if !h.data().jobs.contains(&id) {
        return error(StatusCode::NOT_FOUND, &format!("job {id} not found"));
    }
    Json(json!({ "stages": Data::stages() })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CandidateQuery {
    email: Option<String>,
    phone: Option<String>,
}

/// Candidates with the e-mail address (ASCII case-insensitive), else with a phone number of
/// the same digits, else all: index look-ups, in insertion order.
async fn find_candidates(State(h): S, Query(q): Query<CandidateQuery>) -> Response {
    let body = {
        let data = h.data();
        let found: Vec<&str> = match (&q.email, &q.phone) {
            (Some(email), _) => data.candidates.lookup_json(BY_EMAIL, &email.to_ascii_lowercase()),
            (None, Some(phone)) => match digits(phone) {
                wanted if wanted.is_empty() => Vec::new(),
                wanted => data.candidates.lookup_json(BY_PHONE, &wanted),
            },
            (None, None) => data.candidates.all_json().collect(),
        };
        format!("{{\"candidates\":{}}}", json_array(found))
    };
    json_body(StatusCode::OK, body)
}

async fn get_candidate(State(h): S, Path(id): Path<String>) -> Response {
    let found = h.data().candidates.json(&id).map(str::to_string);
    match found {
        Some(candidate) => json_body(StatusCode::OK, candidate),
        None => error(StatusCode::NOT_FOUND, &format!("candidate {id} not found")),
    }
}

async fn create_candidate(State(h): S, Json(body): Json<Value>) -> Response {
    if body["last_name"].as_str().is_none_or(str::is_empty) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "last_name is required");
    }
    let mut data = h.data();
    let mut candidate = body;
    let id = data.new_id("cand");
    candidate["id"] = json!(id);
    candidate["notes"] = json!([]);
    candidate["tags"] = json!([]);
    candidate["attachments"] = json!([]);
    candidate["updated_at"] = json!(data.now());
    data.candidates.insert(candidate);
    json_body(StatusCode::CREATED, record(&data.candidates, &id))
}

async fn update_candidate(
    State(h): S,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut data = h.data();
    let now = data.now();
    let updated = data.candidates.update(&id, |candidate| {
        if let (Some(target), Some(changes)) = (candidate.as_object_mut(), body.as_object()) {
            for (key, value) in changes {
                if !matches!(key.as_str(), "id" | "notes" | "tags" | "attachments")
                    && !value.is_null()
                {
                    target.insert(key.clone(), value.clone());
                }
            }
            target.insert("updated_at".into(), json!(now));
        }
    });
    if updated.is_none() {
        return error(StatusCode::NOT_FOUND, &format!("candidate {id} not found"));
    }
    json_body(StatusCode::OK, record(&data.candidates, &id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagBody {
    tag: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentBody {
    filename: String,
    content_type: String,
    kind: String,
    content_base64: String,
}

/// Appends `entry` (given a fresh id) to the `list` of record `id` in `records`.
fn append(
    h: &SandboxHandle,
    applications: bool,
    id: &str,
    list: &str,
    mut entry: Value,
) -> Response {
    let mut data = h.data();
    let new_id = data.new_id(list.trim_end_matches('s'));
    let now = data.now();
    let records = if applications { &mut data.applications } else { &mut data.candidates };
    entry["id"] = json!(new_id);
    entry["created_at"] = json!(now);
    let appended = records.update(id, |record| {
        if let Some(items) = record[list].as_array_mut() {
            items.push(entry);
        } else {
            record[list] = json!([entry]);
        }
    });
    if appended.is_none() {
        return error(StatusCode::NOT_FOUND, &format!("{id} not found"));
    }
    (StatusCode::CREATED, Json(json!({ "id": new_id }))).into_response()
}

async fn candidate_note(State(h): S, Path(id): Path<String>, Json(b): Json<NoteBody>) -> Response {
    append(&h, false, &id, "notes", json!({ "body": b.body }))
}

async fn application_note(
    State(h): S,
    Path(id): Path<String>,
    Json(b): Json<NoteBody>,
) -> Response {
    append(&h, true, &id, "notes", json!({ "body": b.body }))
}

async fn candidate_tag(State(h): S, Path(id): Path<String>, Json(b): Json<TagBody>) -> Response {
    let existing =
        h.data().candidates.get(&id).and_then(|c| {
            c["tags"].as_array()?.iter().find(|t| t["tag"] == b.tag.as_str()).cloned()
        });
    match existing {
        Some(tag) => Json(json!({ "id": tag["id"] })).into_response(),
        None => append(&h, false, &id, "tags", json!({ "tag": b.tag })),
    }
}

async fn candidate_attachment(
    State(h): S,
    Path(id): Path<String>,
    Json(b): Json<AttachmentBody>,
) -> Response {
    use base64::Engine as _;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&b.content_base64) else {
        return error(StatusCode::BAD_REQUEST, "content_base64 is not base64");
    };
    if !matches!(b.kind.as_str(), "cv" | "report" | "other") {
        return error(StatusCode::BAD_REQUEST, "kind must be cv, report or other");
    }
    let entry = json!({ "filename": b.filename, "content_type": b.content_type, "kind": b.kind, "size": bytes.len() });
    append(&h, false, &id, "attachments", entry)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    question: String,
    answer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationBody {
    candidate_id: String,
    job_id: String,
    stage_id: Option<String>,
    source: Option<String>,
    #[serde(default)]
    answers: Vec<Answer>,
}

async fn create_application(State(h): S, Json(b): Json<ApplicationBody>) -> Response {
    let mut data = h.data();
    if !data.candidates.contains(&b.candidate_id) {
        return error(StatusCode::NOT_FOUND, &format!("candidate {} not found", b.candidate_id));
    }
    if !data.jobs.contains(&b.job_id) {
        return error(StatusCode::NOT_FOUND, &format!("job {} not found", b.job_id));
    }
    if data
        .applications
        .has_key(BY_CANDIDATE_AND_JOB, &candidate_and_job(&b.candidate_id, &b.job_id))
    {
        return error(StatusCode::CONFLICT, "this candidate already applied to this job");
    }
    let stage = b.stage_id.unwrap_or_else(|| "stage-1".into());
    if !Data::stages().iter().any(|s| s["id"] == stage.as_str()) {
        return error(StatusCode::NOT_FOUND, &format!("stage {stage} not found"));
    }
    let now = data.now();
    let id = data.new_id("app");
    let application = json!({
        "id": id, "candidate_id": b.candidate_id, "job_id": b.job_id,
        "stage_id": stage, "status": "active", "source": b.source,
        "answers": b.answers.iter().map(|a| json!({"question": a.question, "answer": a.answer})).collect::<Vec<_>>(),
        "notes": [], "result": null, "created_at": now, "updated_at": now,
    });
    data.applications.insert(application);
    json_body(StatusCode::CREATED, record(&data.applications, &id))
}

/// Applies `change` to application `id` and bumps `updated_at`.
fn change_application(h: &SandboxHandle, id: &str, change: impl FnOnce(&mut Value)) -> Response {
    let mut data = h.data();
    let now = data.now();
    let changed = data.applications.update(id, |application| {
        change(application);
        application["updated_at"] = json!(now);
    });
    if changed.is_none() {
        return error(StatusCode::NOT_FOUND, &format!("application {id} not found"));
    }
    json_body(StatusCode::OK, record(&data.applications, id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    stage_id: String,
}

async fn move_application(
    State(h): S,
    Path(id): Path<String>,
    Json(b): Json<MoveBody>,
) -> Response {
    if !Data::stages().iter().any(|s| s["id"] == b.stage_id.as_str()) {
        return error(StatusCode::NOT_FOUND, &format!("stage {} not found", b.stage_id));
    }
    change_application(&h, &id, |a| a["stage_id"] = json!(b.stage_id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: String,
    #[serde(default)]
    reason_id: Option<String>,
}

async fn reject_application(
    State(h): S,
    Path(id): Path<String>,
    Json(b): Json<RejectBody>,
) -> Response {
    change_application(&h, &id, |a| {
        a["status"] = json!("rejected");
        a["rejection_reason"] = json!(b.reason);
        a["rejection_reason_id"] = json!(b.reason_id);
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultBody {
    score: Option<f64>,
    #[serde(default)]
    max_score: Option<f64>,
    #[serde(default)]
    status: Option<String>,
    link: Option<String>,
    summary: Option<String>,
    #[serde(default)]
    sub_results: Vec<Value>,
}

async fn application_result(
    State(h): S,
    Path(id): Path<String>,
    Json(b): Json<ResultBody>,
) -> Response {
    let result_id = h.data().new_id("result");
    let response = change_application(&h, &id, |a| {
        a["result"] = json!({
            "id": result_id, "score": b.score, "max_score": b.max_score, "status": b.status,
            "link": b.link, "summary": b.summary, "sub_results": b.sub_results,
        });
    });
    if response.status() != StatusCode::OK {
        return response;
    }
    (StatusCode::CREATED, Json(json!({ "id": result_id }))).into_response()
}
