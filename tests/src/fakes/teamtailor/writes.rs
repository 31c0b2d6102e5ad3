//! The fake's write handlers, and the reject-reasons list.

#![allow(
    clippy::result_large_err,
    reason = "a handler's early answer is an axum Response; boxing it buys nothing in a test fake"
)]

use super::*;

pub(super) async fn apply(
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
    let (Some(candidate), Some(job)) = (related(&body, "candidate"), related(&body, "job")) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "candidate and job - must exist");
    };
    let id = shared.id();
    let mut store = lock(&shared.store);
    let Some(first_stage) =
        store.jobs.iter().find(|j| j.id == job).and_then(|j| j.stages.first().copied())
    else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "job - must exist");
    };
    if !store.candidates.iter().any(|c| c.id == candidate) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "candidate - must exist");
    }
    if store.applications.iter().any(|a| a.candidate == candidate && a.job == job) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "candidate - has already applied to this job",
        );
    }
    let application = Application {
        id,
        candidate,
        job,
        stage: first_stage,
        cover_letter: text(&body["data"]["attributes"]["cover-letter"]).unwrap_or_default(),
        updated_ms: ats_host::time::now_ms(),
    };
    let json = application_json(&application);
    store.applications.push(application);
    answer(&headers, StatusCode::CREATED, json!({ "data": json }))
}

pub(super) async fn move_application(
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
    let stage = related(&body, "stage");
    let mut store = lock(&shared.store);
    let Some(index) = store.applications.iter().position(|a| a.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    let job = store.applications[index].job;
    let on_job = |s: u64| store.jobs.iter().any(|j| j.id == job && j.stages.contains(&s));
    let Some(stage) = stage.filter(|s| on_job(*s)) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "stage - must be a stage of the job");
    };
    let application = &mut store.applications[index];
    application.stage = stage;
    application.updated_ms = ats_host::time::now_ms();
    answer(&headers, StatusCode::OK, json!({ "data": application_json(application) }))
}

pub(super) async fn note(
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
    let Some(text_body) = text(&body["data"]["attributes"]["note"]) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "note - can't be blank");
    };
    if related(&body, "user").map(|u| u.to_string()).as_deref() != Some(USER) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "user - must exist");
    }
    let Some(candidate) = related(&body, "candidate") else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "candidate - must exist");
    };
    let id = shared.id();
    let mut store = lock(&shared.store);
    let Some(c) = store.candidates.iter_mut().find(|c| c.id == candidate) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "candidate - must exist");
    };
    c.notes.push(text_body.clone());
    answer(
        &headers,
        StatusCode::CREATED,
        json!({ "data": { "id": id.to_string(), "type": "notes",
        "attributes": { "note": text_body, "created-at": stamp(ats_host::time::now_ms()) } } }),
    )
}

pub(super) async fn reasons(
    State(shared): State<Arc<Shared>>,
    Path(host): Path<String>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&shared, &host, &headers, false).await {
        return refused;
    }
    let items: Vec<Value> = REASONS
        .iter()
        .map(|(id, reason)| json!({ "id": id, "type": "reject-reasons", "attributes": { "reason": reason } }))
        .collect();
    page(&shared, &headers, "reject-reasons", &query, items)
}
