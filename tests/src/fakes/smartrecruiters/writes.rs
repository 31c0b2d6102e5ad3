//! The fake SmartRecruiters' write routes: candidates (create, read, update), tags,
//! attachments, job-scoped status and the Message API.

use super::*;

fn text_of(body: &Value, key: &str) -> String {
    body.get(key).and_then(Value::as_str).unwrap_or_default().trim().to_string()
}

fn json_body(body: &Bytes) -> Result<Value, Refused> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "INVALID_BODY", "expected a JSON object"))
}

pub(super) async fn create_candidate(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = gate(&shared, &headers, "POST /candidates".into()).await {
        return answer;
    }
    let body = match json_body(&body) {
        Ok(body) => body,
        Err(answer) => return *answer,
    };
    let (first, last) = (text_of(&body, "firstName"), text_of(&body, "lastName"));
    if first.is_empty() || last.is_empty() {
        return error(StatusCode::BAD_REQUEST, "INVALID_BODY", "firstName and lastName required");
    }
    let at = now();
    let candidate = Candidate {
        id: shared.new_id(),
        first,
        last,
        email: text_of(&body, "email"),
        phone: text_of(&body, "phoneNumber"),
        source: body.pointer("/sourceDetails/sourceId").and_then(Value::as_str).map(str::to_string),
        created: at.clone(),
        updated: at,
        ..Candidate::default()
    };
    let mut store = lock(&shared.store);
    let answer = candidate_json(&store, &candidate);
    store.candidates.push(candidate);
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// Runs `change` on candidate `id` (its `updatedOn` set to now), answering 404 when unknown.
fn with_candidate(
    shared: &Shared,
    id: &str,
    change: impl FnOnce(&mut Candidate) -> Result<(), Refused>,
) -> Result<Value, Refused> {
    let mut store = lock(&shared.store);
    let Some(candidate) = store.candidates.iter_mut().find(|c| c.id == id) else {
        return Err(refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "Candidate not found"));
    };
    change(candidate)?;
    candidate.updated = now();
    let candidate = candidate.clone();
    Ok(candidate_json(&store, &candidate))
}

pub(super) async fn candidate(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = gate(&shared, &headers, format!("{method} /candidates/{id}")).await {
        return answer;
    }
    if method == axum::http::Method::GET {
        let store = lock(&shared.store);
        return match store.candidates.iter().find(|c| c.id == id) {
            Some(c) => Json(candidate_json(&store, c)).into_response(),
            None => error(StatusCode::NOT_FOUND, "NOT_FOUND", "Candidate not found"),
        };
    }
    let body = match json_body(&body) {
        Ok(body) => body,
        Err(answer) => return *answer,
    };
    let result = with_candidate(&shared, &id, |c| {
        for (key, field) in [
            ("firstName", &mut c.first),
            ("lastName", &mut c.last),
            ("email", &mut c.email),
            ("phoneNumber", &mut c.phone),
        ] {
            if let Some(value) = body.get(key).and_then(Value::as_str) {
                *field = value.to_string();
            }
        }
        Ok(())
    });
    result.map_or_else(|answer| *answer, |value| Json(value).into_response())
}

pub(super) async fn add_tags(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = gate(&shared, &headers, format!("POST /candidates/{id}/tags")).await {
        return answer;
    }
    let tags: Vec<String> = match json_body(&body).map(|b| b.get("tags").cloned()) {
        Ok(Some(Value::Array(tags))) => {
            tags.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        Ok(_) => return error(StatusCode::BAD_REQUEST, "INVALID_BODY", "tags must be a list"),
        Err(answer) => return *answer,
    };
    let result = with_candidate(&shared, &id, |c| {
        for tag in tags {
            if !c.tags.contains(&tag) {
                c.tags.push(tag);
            }
        }
        Ok(())
    });
    match result {
        Ok(value) => Json(json!({ "tags": value["tags"] })).into_response(),
        Err(answer) => *answer,
    }
}

pub(super) async fn add_attachment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) =
        gate(&shared, &headers, format!("POST /candidates/{id}/attachments")).await
    {
        return answer;
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(parts) = multipart::parts(content_type, &body) else {
        return error(StatusCode::BAD_REQUEST, "INVALID_BODY", "expected multipart/form-data");
    };
    let kind = parts.iter().find(|p| p.name == "attachmentType").map(multipart::Part::text);
    let file = parts.iter().find(|p| p.name == "file" && p.filename.is_some());
    let (Some(kind), Some(file)) = (kind, file) else {
        return error(StatusCode::BAD_REQUEST, "INVALID_BODY", "attachmentType and file required");
    };
    if !["RESUME", "COVER_LETTER", "OTHER"].contains(&kind.as_str()) {
        return error(StatusCode::BAD_REQUEST, "INVALID_BODY", "unknown attachmentType");
    }
    let attachment_id = shared.new_id();
    let name = file.filename.clone().unwrap_or_default();
    let stored = (name.clone(), kind.clone(), file.content.clone());
    match with_candidate(&shared, &id, |c| {
        c.attachments.push(stored);
        Ok(())
    }) {
        Ok(_) => {
            (StatusCode::CREATED, Json(json!({ "id": attachment_id, "name": name, "type": kind })))
                .into_response()
        }
        Err(answer) => *answer,
    }
}

pub(super) async fn set_status(
    State(shared): State<Arc<Shared>>,
    Path((id, job)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let what = format!("PUT /candidates/{id}/jobs/{job}/status");
    if let Some(answer) = gate(&shared, &headers, what).await {
        return answer;
    }
    let body = match json_body(&body) {
        Ok(body) => body,
        Err(answer) => return *answer,
    };
    let status = text_of(&body, "status");
    if !STATUSES.contains(&status.as_str()) {
        return error(StatusCode::BAD_REQUEST, "INVALID_STATUS", "unknown status");
    }
    let reason = Some(text_of(&body, "reason")).filter(|r| !r.is_empty());
    let result = with_candidate(&shared, &id, |c| {
        let Some(assignment) = c.assignments.iter_mut().find(|a| a.job_id == job) else {
            return Err(refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "Candidate is not on this job"));
        };
        assignment.status = status;
        assignment.reason = reason;
        Ok(())
    });
    result.map_or_else(|answer| *answer, |_| StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn share_message(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = gate(&shared, &headers, "POST /messages/shares".into()).await {
        return answer;
    }
    let body = match json_body(&body) {
        Ok(body) => body,
        Err(answer) => return *answer,
    };
    let (content, correlation) = (text_of(&body, "content"), text_of(&body, "correlationId"));
    let audience = body.get("shareWith").and_then(Value::as_object).is_some_and(|with| {
        with.values().any(|v| v == &json!(true) || v.as_array().is_some_and(|l| !l.is_empty()))
    });
    if content.is_empty() || correlation.is_empty() || !audience {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
            "content, correlationId and a shareWith audience are required",
        );
    }
    let mut store = lock(&shared.store);
    if !store.candidates.iter().any(|c| c.id == correlation) {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Candidate not found");
    }
    let id = shared.new_id();
    store.messages.push((id.clone(), correlation, content));
    (StatusCode::CREATED, Json(json!({ "id": id }))).into_response()
}
