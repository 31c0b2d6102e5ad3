//! The fake BambooHR's write routes: the create-candidate call (multipart or JSON), status
//! changes and comments.

use super::*;

/// (part name, file name, content) of an uploaded file.
type File = (String, String, Vec<u8>);

/// The fields and files of a create-candidate request.
struct Upload {
    fields: Vec<(String, String)>,
    files: Vec<File>,
}

/// The fields and files of a create-candidate request, multipart or JSON.
fn fields_of(headers: &HeaderMap, body: &[u8]) -> Option<Upload> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(body).ok()?;
        let fields = value
            .as_object()?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect();
        return Some(Upload { fields, files: Vec::new() });
    }
    let parts = multipart::parts(content_type, body)?;
    let (files, fields): (Vec<_>, Vec<_>) = parts.into_iter().partition(|p| p.filename.is_some());
    Some(Upload {
        fields: fields.iter().map(|p| (p.name.clone(), p.text())).collect(),
        files: files
            .into_iter()
            .map(|p| (p.name, p.filename.unwrap_or_default(), p.content))
            .collect(),
    })
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    Path(sub): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = gate(&shared, &sub, &headers, "POST application".into()).await {
        return answer;
    }
    let Some(Upload { fields, files }) = fields_of(&headers, &body) else {
        return bad_request("expected multipart/form-data or JSON");
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (first, last) = (field("firstName"), field("lastName"));
    if first.is_empty() || last.is_empty() {
        return bad_request("firstName and lastName are required");
    }
    let Ok(job) = field("jobId").parse::<u64>() else {
        return bad_request("jobId is required");
    };
    let mut store = lock(&shared.store);
    if !store.jobs.iter().any(|j| j.id == job) {
        return bad_request("Invalid jobId");
    }
    let applicant = Applicant {
        id: shared.new_id(),
        first,
        last,
        email: field("email"),
        phone: field("phoneNumber"),
        source: field("source"),
    };
    let candidate_id = applicant.id;
    store.applicants.push(applicant);
    store.applications.push(Application {
        id: shared.new_id(),
        applicant: candidate_id,
        job,
        status: 1,
        applied: bamboo_time(now_ms()),
        comments: Vec::new(),
        files: files
            .into_iter()
            .filter(|(name, _, _)| name == "resume" || name == "coverLetter")
            .map(|(_, filename, content)| (filename, content))
            .collect(),
    });
    Json(json!({ "result": "success", "candidateId": candidate_id })).into_response()
}

/// Runs `change` on application `id`, answering 404 when unknown.
fn on_application(
    shared: &Shared,
    id: &str,
    change: impl FnOnce(&mut Application) -> Value,
) -> Response {
    let mut store = lock(&shared.store);
    let found =
        id.parse::<u64>().ok().and_then(|id| store.applications.iter_mut().find(|a| a.id == id));
    match found {
        Some(application) => Json(change(application)).into_response(),
        None => not_found(),
    }
}

fn json_of(body: &Bytes) -> Option<Value> {
    serde_json::from_slice::<Value>(body).ok().filter(Value::is_object)
}

pub(super) async fn set_status(
    State(shared): State<Arc<Shared>>,
    Path((sub, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) =
        gate(&shared, &sub, &headers, format!("POST applications/{id}/status")).await
    {
        return answer;
    }
    // A status id, as a number or as numeric text.
    let status = json_of(&body).and_then(|b| match b.get("status") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    });
    let Some(status) = status.filter(|s| STATUSES.iter().any(|known| known.0 == *s)) else {
        return bad_request("status must be a known status id");
    };
    on_application(&shared, &id, |a| {
        a.status = status;
        json!({ "id": a.id, "status": status_json(status) })
    })
}

pub(super) async fn comment(
    State(shared): State<Arc<Shared>>,
    Path((sub, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) =
        gate(&shared, &sub, &headers, format!("POST applications/{id}/comments")).await
    {
        return answer;
    }
    let body = json_of(&body).unwrap_or_default();
    let text = body.get("comment").and_then(Value::as_str).unwrap_or_default().to_string();
    if body.get("type").and_then(Value::as_str) != Some("comment") || text.trim().is_empty() {
        return bad_request("type \"comment\" and a comment are required");
    }
    let comment_id = shared.new_id();
    on_application(&shared, &id, |a| {
        a.comments.push(text);
        json!({ "type": "comment", "id": comment_id })
    })
}
