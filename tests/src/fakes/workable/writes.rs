//! The fake's write handlers.

#![allow(
    clippy::result_large_err,
    reason = "a handler's early answer is an axum Response; boxing it buys nothing in a test fake"
)]

use super::*;

/// `copy`, `move`, `comments`, `disqualify` on candidate `id`.
pub(super) async fn act(
    State(shared): State<Arc<Shared>>,
    Path((host, id, action)): Path<(String, String, String)>,
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
    if text(&body["member_id"]).as_deref() != Some(MEMBER) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "member_id is missing or not a member");
    }
    let stage = |value: &Value| -> Result<Option<String>, Response> {
        match text(value) {
            None => Ok(None),
            Some(slug) if STAGES.iter().any(|(s, _, _)| *s == slug) => Ok(Some(slug)),
            Some(_) => Err(error(StatusCode::UNPROCESSABLE_ENTITY, "Unknown stage")),
        }
    };
    let mut store = lock(&shared.store);
    let Some(index) = store.candidates.iter().position(|c| c.id == id) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    let now = ats_host::time::now_ms();
    match action.as_str() {
        "copy" => {
            let Some(code) = text(&body["target_job_shortcode"]) else {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "target_job_shortcode is required");
            };
            if !store.jobs.iter().any(|j| j.shortcode == code) {
                return error(StatusCode::NOT_FOUND, "Job not found");
            }
            let target = match stage(&body["target_stage"]) {
                Ok(target) => target.unwrap_or_else(|| "applied".into()),
                Err(refused) => return refused,
            };
            let seq = shared.seq.fetch_add(1, Ordering::SeqCst);
            let copy = Candidate {
                seq,
                id: format!("{:x}", 0xc000_0000u64 + seq),
                job: Some(code),
                stage: Some(target),
                comments: Vec::new(),
                updated_ms: now,
                ..store.candidates[index].clone()
            };
            let json = candidate_json(&store, &copy);
            store.candidates.push(copy);
            answer(&shared, StatusCode::CREATED, json!({ "candidate": json }))
        }
        "move" => {
            let target = match stage(&body["target_stage"]) {
                Ok(Some(target)) => target,
                Ok(None) => {
                    return error(StatusCode::UNPROCESSABLE_ENTITY, "target_stage is required");
                }
                Err(refused) => return refused,
            };
            let candidate = &mut store.candidates[index];
            if candidate.job.is_none() {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Talent pool candidates have no pipeline",
                );
            }
            candidate.stage = Some(target);
            candidate.disqualified = false;
            candidate.updated_ms = now;
            answer(&shared, StatusCode::ACCEPTED, json!({}))
        }
        "comments" => {
            let comment = &body["comment"];
            let Some(text_body) = text(&comment["body"]) else {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "comment body is required");
            };
            let attachment = match &comment["attachment"] {
                Value::Null => None,
                file => {
                    let decoded = file["data"]
                        .as_str()
                        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok());
                    match (text(&file["name"]), decoded) {
                        (Some(name), Some(bytes)) => Some((name, bytes)),
                        _ => {
                            return error(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                "attachment needs name and base64 data",
                            );
                        }
                    }
                }
            };
            let comment_id =
                format!("{:x}", 0xd000_0000u64 + shared.seq.fetch_add(1, Ordering::SeqCst));
            store.candidates[index].comments.push((text_body, attachment));
            answer(&shared, StatusCode::CREATED, json!({ "id": comment_id }))
        }
        "disqualify" => {
            let note = text(&body["disqualify_note"]);
            if note.as_ref().is_some_and(|n| n.chars().count() > 256) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "disqualify_note is too long (256 at most)",
                );
            }
            let reason = match text(&body["disqualify_reason_id"]) {
                None => None,
                Some(id) => match REASONS.iter().find(|(r, _)| *r == id) {
                    Some((_, name)) => Some(name.to_string()),
                    None => {
                        return error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "Unknown disqualification reason",
                        );
                    }
                },
            };
            let candidate = &mut store.candidates[index];
            candidate.disqualified = true;
            candidate.disqualify_note = note.or(reason);
            candidate.updated_ms = now;
            answer(&shared, StatusCode::OK, json!({}))
        }
        _ => error(StatusCode::NOT_FOUND, "Not found"),
    }
}
