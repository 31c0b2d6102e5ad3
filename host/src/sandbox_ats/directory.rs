//! The sandbox ATS's reference data and single-record reads: the account, its users
//! (recruiters), its rejection reasons, the tags in use, one application, and tag removal.

use super::SandboxHandle;
use super::data::BY_TAG;
use super::routes::json_body;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

type S = State<SandboxHandle>;

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": format!("{what} not found") }))).into_response()
}

pub async fn account() -> Json<Value> {
    Json(json!({ "id": "acct-1", "name": "Sandbox Recruiting B.V." }))
}

pub async fn users() -> Json<Value> {
    Json(json!({ "users": [
        {"id": "u-1", "first_name": "Rita", "last_name": "Recruiter", "email": "rita@sandbox.example", "active": true},
        {"id": "u-2", "first_name": "Hank", "last_name": "Hiring", "email": "hank@sandbox.example", "active": true},
        {"id": "u-3", "first_name": "Olga", "last_name": "Oldhand", "email": null, "active": false},
    ]}))
}

pub async fn rejection_reasons() -> Json<Value> {
    Json(json!({ "rejection_reasons": [
        {"id": "r-1", "name": "Not a fit"},
        {"id": "r-2", "name": "Position filled"},
        {"id": "r-3", "name": "Candidate withdrew"},
    ]}))
}

/// Every tag on a candidate, once, sorted (the keys of the candidates' tag index).
pub async fn tags(State(h): S) -> Json<Value> {
    let tags: Vec<Value> =
        h.data().candidates.keys(BY_TAG).map(|name| json!({"id": name, "name": name})).collect();
    Json(json!({ "tags": tags }))
}

pub async fn application(State(h): S, Path(id): Path<String>) -> Response {
    let found = h.data().applications.json(&id).map(str::to_string);
    match found {
        Some(application) => json_body(StatusCode::OK, application),
        None => not_found(&format!("application {id}")),
    }
}

pub async fn remove_tag(State(h): S, Path((id, tag)): Path<(String, String)>) -> Response {
    let removed = h.data().candidates.update(&id, |candidate| {
        let Some(tags) = candidate["tags"].as_array_mut() else {
            return false;
        };
        let before = tags.len();
        tags.retain(|t| t["tag"] != tag.as_str());
        tags.len() != before
    });
    match removed {
        None => not_found(&format!("candidate {id}")),
        Some(false) => not_found(&format!("tag {tag}")),
        Some(true) => StatusCode::NO_CONTENT.into_response(),
    }
}
