//! Writes through a connection's connector: push candidate, move stage, note, tag,
//! attachment, reject, result. Each accepts an `Idempotency-Key` header; a replayed answer
//! carries `Idempotent-Replayed: true`. Writes share the connection's rate budget with syncs
//! and go before them; a write that gets no turn within `[sync] write_budget_wait` answers
//! 429 with `Retry-After`.
//!
//! A push gets what it leaves out (initial stage, source, tags) from the connection's push
//! defaults (`api::pipeline`), and a push that wrote (not a replay) appends a
//! `candidate.pushed` event, which fires `candidate-pushed` automations.

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use crate::automations::document::candidate_pushed;
use crate::automations::plan::apply_push_defaults;
use crate::model::AtsError;
use crate::runtime::CallError;
use crate::writes::journal::{JournalError, JournalKey};
use crate::writes::outcome::{CandidateOutcome, PushReport, Receipt, ResultReport};
use crate::writes::requests::{
    FileBody, KindBody, PushCandidate, ResultRequest, TargetBody, WriteRequest,
};
use crate::writes::{WriteAnswer, WriteError, WriteOutcome, WriteTarget, execute};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

/// Requests carrying files (base64) may be this large.
pub(super) const MAX_FILE_BODY_BYTES: usize = 24 << 20;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    let big = || DefaultBodyLimit::max(MAX_FILE_BODY_BYTES);
    routes
        .add("POST", "/v1/connections/{id}/candidates", "writes", Access::AnyKey, "Push a candidate: upsert + application + CV + note + tags + source + answers, each part reported", Some(json!({"candidate": {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"], "phones": ["+31612345678"]}, "job_id": "job-1", "source": "AI sourcer", "answers": [{"question": "Notice period?", "answer": "1 month"}], "cv": {"filename": "cv.pdf", "content_type": "application/pdf", "content_base64": "JVBERi0x..."}, "note": "Hi Ada, ...", "tags": ["sourced"]})), post(push).layer(big()))
        .accepts::<PushCandidate>().replies::<PushReport>(201).replies::<PushReport>(200)
        .add("POST", "/v1/connections/{id}/applications/{application}/move", "writes", Access::AnyKey, "Move an application to a stage", Some(json!({"stage_id": "stage-3"})), post(move_stage))
        .accepts::<MoveBody>().replies::<Receipt>(200)
        .add("POST", "/v1/connections/{id}/applications/{application}/reject", "writes", Access::AnyKey, "Reject an application with a reason", Some(json!({"reason": "Position filled", "reason_id": "r-3"})), post(reject))
        .accepts::<RejectBody>().replies::<Receipt>(200)
        .add("POST", "/v1/connections/{id}/applications/{application}/result", "writes", Access::AnyKey, "Write a result (status, score of max, link, summary, sub-results, PDF report); a note where the ATS has no result field, the report as an attachment where the result cannot hold it", Some(json!({"status": "completed", "score": 42, "max_score": 50, "link": "https://assess.example/r/1", "summary": "Strong", "sub_results": [{"label": "Logic", "score": 18, "max_score": 20}], "report": {"filename": "report.pdf", "content_type": "application/pdf", "content_base64": "JVBERi0x..."}})), post(result).layer(big()))
        .accepts::<ResultRequest>().replies::<ResultReport>(200)
        .add("POST", "/v1/connections/{id}/notes", "writes", Access::AnyKey, "Add a note to a candidate or an application", Some(json!({"target": {"candidate_id": "c-1"}, "body": "Called, interested"})), post(note))
        .accepts::<NoteBody>().replies::<Receipt>(200)
        .add("POST", "/v1/connections/{id}/tags", "writes", Access::AnyKey, "Add a tag to a candidate or an application", Some(json!({"target": {"candidate_id": "c-1"}, "tag": "sourced"})), post(tag))
        .accepts::<TagBody>().replies::<Receipt>(200)
        .add("POST", "/v1/connections/{id}/tags/remove", "writes", Access::AnyKey, "Remove a tag from a candidate or an application", Some(json!({"target": {"candidate_id": "c-1"}, "tag": "sourced"})), post(remove_tag))
        .accepts::<TagBody>().replies::<Receipt>(200)
        .add("POST", "/v1/connections/{id}/attachments", "writes", Access::AnyKey, "Attach a file (CV, report) to a candidate or an application", Some(json!({"target": {"candidate_id": "c-1"}, "kind": "report", "file": {"filename": "report.pdf", "content_type": "application/pdf", "content_base64": "JVBERi0x..."}})), post(attachment).layer(big()))
        .accepts::<AttachmentBody>().replies::<Receipt>(200)
        .headers_on("writes", &["Idempotency-Key"])
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    stage_id: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: String,
    /// A reason from the ATS's list (`list-rejection-reasons`).
    #[serde(default)]
    reason_id: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    target: TargetBody,
    body: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TagBody {
    target: TargetBody,
    tag: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AttachmentBody {
    target: TargetBody,
    file: FileBody,
    #[serde(default = "default_kind")]
    kind: KindBody,
}

fn default_kind() -> KindBody {
    KindBody::Other
}

type Headers = HeaderMap;

async fn push(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    h: Headers,
    Body(mut b): Body<PushCandidate>,
) -> Response {
    let connection = match visible(&s, &c, &id).await {
        Ok(connection) => connection,
        Err(p) => return p.into_response(),
    };
    if let Err(problem) = with_push_defaults(&s, &connection.id, &mut b).await {
        return problem.into_response();
    }
    let pushed =
        PushedAs { job_id: b.job_id.clone(), source: b.source.clone(), tags: b.tags.clone() };
    match write(&s, &c, &id, &h, WriteRequest::PushCandidate(Box::new(b))).await {
        Ok((connection, key, answer)) => {
            if let (false, WriteOutcome::Pushed(report)) = (answer.replayed, &answer.outcome) {
                announce_push(&s, &connection, key, pushed, report).await;
            }
            answered(answer)
        }
        Err(response) => response,
    }
}

/// What a push asked for, as its `candidate.pushed` event tells it.
struct PushedAs {
    job_id: Option<String>,
    source: Option<String>,
    tags: Vec<String>,
}

/// Fills in what the push left out from the connection's push defaults.
async fn with_push_defaults(
    state: &AppState,
    connection_id: &str,
    push: &mut PushCandidate,
) -> Result<(), Problem> {
    let store = &*state.automations.automations;
    let Some(defaults) = store.push_defaults(connection_id).await.map_err(Problem::internal)?
    else {
        return Ok(());
    };
    let mapping = store.stage_mapping(connection_id).await.map_err(Problem::internal)?;
    apply_push_defaults(push, &defaults, mapping.as_ref()).map_err(|error| {
        Problem::conflict(format!(
            "{error} (GET /v1/connections/{connection_id}/push-defaults and /stage-mappings), or give stage_id"
        ))
    })
}

/// Appends the `candidate.pushed` event of a push that wrote; `key` (the push's
/// Idempotency-Key) identifies the push, so automations fire once for it. The push itself
/// has succeeded: a failure here is logged, not answered.
async fn announce_push(
    state: &AppState,
    connection: &crate::store::Connection,
    key: Option<JournalKey>,
    pushed: PushedAs,
    report: &PushReport,
) {
    let push_key = match key {
        Some(key) => format!("key:{}", key.idempotency_key),
        None => crate::ids::new_id("push"),
    };
    let event = candidate_pushed(
        &report.candidate_id,
        report.application_id.as_deref(),
        pushed.job_id.as_deref(),
        &push_key,
        json!({"source": pushed.source, "candidate_outcome": report.candidate_outcome, "tags": pushed.tags}),
    );
    match state.store.append_events(&connection.tenant_id, &connection.id, vec![event]).await {
        Ok(_) => state.sync.events_appended.notify_one(),
        Err(error) => {
            tracing::error!(%error, connection = %connection.id, candidate = %report.candidate_id, "the candidate.pushed event of a push could not be recorded")
        }
    }
}

async fn move_stage(
    State(s): State<AppState>,
    c: Caller,
    Path((id, application)): Path<(String, String)>,
    h: Headers,
    Body(b): Body<MoveBody>,
) -> Response {
    run(
        &s,
        &c,
        &id,
        &h,
        WriteRequest::MoveStage { application_id: application, stage_id: b.stage_id },
    )
    .await
}

async fn reject(
    State(s): State<AppState>,
    c: Caller,
    Path((id, application)): Path<(String, String)>,
    h: Headers,
    Body(b): Body<RejectBody>,
) -> Response {
    let request = WriteRequest::Reject {
        application_id: application,
        reason: b.reason,
        reason_id: b.reason_id,
    };
    run(&s, &c, &id, &h, request).await
}

async fn result(
    State(s): State<AppState>,
    c: Caller,
    Path((id, application)): Path<(String, String)>,
    h: Headers,
    Body(mut b): Body<ResultRequest>,
) -> Response {
    b.application_id = application;
    run(&s, &c, &id, &h, WriteRequest::WriteResult(Box::new(b))).await
}

async fn note(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    h: Headers,
    Body(b): Body<NoteBody>,
) -> Response {
    run(&s, &c, &id, &h, WriteRequest::AddNote { target: b.target, body: b.body }).await
}

async fn tag(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    h: Headers,
    Body(b): Body<TagBody>,
) -> Response {
    run(&s, &c, &id, &h, WriteRequest::AddTag { target: b.target, tag: b.tag }).await
}

async fn remove_tag(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    h: Headers,
    Body(b): Body<TagBody>,
) -> Response {
    run(&s, &c, &id, &h, WriteRequest::RemoveTag { target: b.target, tag: b.tag }).await
}

async fn attachment(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    h: Headers,
    Body(b): Body<AttachmentBody>,
) -> Response {
    run(
        &s,
        &c,
        &id,
        &h,
        WriteRequest::AddAttachment {
            target: b.target,
            file: b.file,
            kind: b.kind,
            validated: None,
        },
    )
    .await
}

async fn run(
    state: &AppState,
    caller: &Caller,
    connection_id: &str,
    headers: &HeaderMap,
    request: WriteRequest,
) -> Response {
    match write(state, caller, connection_id, headers, request).await {
        Ok((_, _, answer)) => answered(answer),
        Err(response) => response,
    }
}

/// A finished write as HTTP, marked when it was replayed.
fn answered(answer: WriteAnswer) -> Response {
    let mut response = outcome_response(answer.outcome);
    if answer.replayed {
        mark_replayed(&mut response);
    }
    response
}

/// Runs a write on a connection the caller sees; returns the connection, the write's
/// journal key (its Idempotency-Key) and its answer, or the response that refused or
/// failed it.
async fn write(
    state: &AppState,
    caller: &Caller,
    connection_id: &str,
    headers: &HeaderMap,
    request: WriteRequest,
) -> Result<(crate::store::Connection, Option<JournalKey>, WriteAnswer), Response> {
    let connection =
        visible(state, caller, connection_id).await.map_err(IntoResponse::into_response)?;
    if connection.status == crate::store::ConnectionStatus::Paused {
        return Err(Problem::conflict(format!(
            "connection `{connection_id}` is paused: it writes nothing to the ATS until it is resumed (PATCH /v1/connections/{connection_id} with {{\"status\": \"active\"}})"
        ))
        .into_response());
    }
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(key)) if !key.trim().is_empty() && key.len() <= 255 => Some(JournalKey {
            tenant_id: connection.tenant_id.clone(),
            connection_id: connection.id.clone(),
            idempotency_key: key.trim().to_string(),
        }),
        Some(_) => {
            return Err(Problem::invalid(
                "Idempotency-Key",
                "must be 1-255 visible ASCII characters",
            )
            .into_response());
        }
    };
    let with_secrets = match state.store.connection_with_secrets(connection_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(Problem::not_found("connection", connection_id).into_response()),
        Err(e) => return Err(Problem::internal(e).into_response()),
    };
    let connector = match state.sync.resolve_connector(&connection) {
        Ok(c) => c,
        Err(reason) => {
            return Err(Problem::new(StatusCode::CONFLICT, "connector not available", reason)
                .into_response());
        }
    };
    let target = WriteTarget {
        runtime: &state.runtime,
        connector,
        context: crate::sync::call_context(&with_secrets),
        budgets: Some(&state.sync.budgets),
        budget_wait: state.sync.config().write_budget_wait,
    };
    match execute(&target, &state.journal, key.clone(), request).await {
        Ok(answer) => Ok((connection, key, answer)),
        Err(error @ WriteError::FailedEarlier(_)) => {
            let mut response = write_problem(error);
            mark_replayed(&mut response);
            Err(response)
        }
        Err(error) => Err(write_problem(error)),
    }
}

/// A write's outcome as HTTP: a push that created the candidate is `201 Created`, every
/// other finished write `200 OK`; the body is the outcome's report.
fn outcome_response(outcome: WriteOutcome) -> Response {
    match outcome {
        WriteOutcome::Pushed(report) => {
            let status = match report.candidate_outcome {
                CandidateOutcome::Created => StatusCode::CREATED,
                CandidateOutcome::Matched => StatusCode::OK,
            };
            (status, Json(report)).into_response()
        }
        WriteOutcome::Done(receipt) => Json(receipt).into_response(),
        WriteOutcome::Result(report) => Json(report).into_response(),
    }
}

fn mark_replayed(response: &mut Response) {
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
}

/// Maps a failed write onto an HTTP problem that says whose fault it was.
fn write_problem(error: WriteError) -> Response {
    match error {
        WriteError::Invalid { field, problem } => Problem::invalid(&field, problem).into_response(),
        WriteError::Journal(JournalError::KeyReused(key)) => Problem::invalid(
            "Idempotency-Key",
            format!("`{key}` was already used for a different request; use a new key"),
        )
        .into_response(),
        WriteError::Journal(JournalError::InProgress(key)) => Problem::conflict(format!(
            "a request with Idempotency-Key `{key}` is still in progress; retry in a moment"
        ))
        .into_response(),
        WriteError::Journal(e) => Problem::internal(e).into_response(),
        WriteError::Unsupported { .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not supported by this ATS",
            error.to_string(),
        )
        .into_response(),
        WriteError::Call(call) => call_problem(call),
        // A retry of a write that failed part-way: nothing is written again.
        WriteError::FailedEarlier(_) => {
            Problem::new(StatusCode::BAD_GATEWAY, "the ATS write failed", error.to_string())
                .into_response()
        }
        WriteError::RateBudget(refused) => {
            // The host's own budget for this connection (the ATS's limit) is spent for
            // longer than the write may wait: nothing was written; retry after the estimate.
            let mut response = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate budget exhausted",
                format!(
                    "{refused}; the budget is set with PUT /v1/connections/{}/rate-budget",
                    refused.connection
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(refused.retry_after_secs()));
            response
        }
    }
}

pub(super) fn call_problem(error: CallError) -> Response {
    let text = error.to_string();
    let (status, title) = match &error {
        CallError::Connector(AtsError::InvalidInput(_)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "the ATS refused the input")
        }
        CallError::Connector(AtsError::Conflict(_)) => {
            (StatusCode::CONFLICT, "conflict in the ATS")
        }
        CallError::Connector(AtsError::NotFound(_)) => {
            (StatusCode::NOT_FOUND, "not found in the ATS")
        }
        CallError::Connector(AtsError::Unsupported(_)) | CallError::NotDeclared { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "not supported by this ATS")
        }
        CallError::Connector(AtsError::RateLimited(limit)) => {
            let mut response =
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate limited by the ATS", text)
                    .into_response();
            if let Some(secs) = limit.retry_after_seconds
                && let Ok(value) = HeaderValue::from_str(&secs.to_string())
            {
                response.headers_mut().insert("retry-after", value);
            }
            return response;
        }
        CallError::Connector(AtsError::Unauthorized(_) | AtsError::Forbidden(_)) => {
            (StatusCode::BAD_GATEWAY, "the ATS refused the connection's credentials")
        }
        CallError::Timeout { .. } => {
            (StatusCode::GATEWAY_TIMEOUT, "the ATS did not answer in time")
        }
        CallError::Busy { .. } => {
            // The sandbox's slots for this connector or connection are all in use: a
            // retry shortly is the right move, nothing was written.
            let mut response =
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "the connector is busy", text)
                    .into_response();
            response.headers_mut().insert("retry-after", HeaderValue::from_static("5"));
            return response;
        }
        _ => (StatusCode::BAD_GATEWAY, "the ATS write failed"),
    };
    Problem::new(status, title, text).into_response()
}
