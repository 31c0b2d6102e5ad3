//! The sandbox ATS's reference data and single-record reads: the account, its users
//! (recruiters), its rejection reasons, the tags in use, one application, and tag removal.

use super::SandboxHandle;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeSet;

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

/// Every tag on a candidate, once.
pub async fn tags(State(h): S) -> Json<Value> {
    let names: BTreeSet<String> = h
        .data()
        .candidates
        .iter()
        .filter_map(|c| c["tags"].as_array())
        .flatten()
        .filter_map(|t| t["tag"].as_str().map(str::to_string))
        .collect();
    let tags: Vec<Value> =
        names.into_iter().map(|name| json!({"id": name, "name": name})).collect();
    Json(json!({ "tags": tags }))
}

pub async fn application(State(h): S, Path(id): Path<String>) -> Response {
    match h.data().applications.iter().find(|a| a["id"] == id.as_str()) {
        Some(application) => Json(application.clone()).into_response(),
        None => not_found(&format!("application {id}")),
    }
}

pub async fn remove_tag(State(h): S, Path((id, tag)): Path<(String, String)>) -> Response {
    let mut data = h.data();
    let Some(candidate) = data.candidates.iter_mut().find(|c| c["id"] == id.as_str()) else {
        return not_found(&format!("candidate {id}"));
    };
    let Some(tags) = candidate["tags"].as_array_mut() else {
        return not_found(&format!("tag {tag}"));
    };
    let before = tags.len();
    tags.retain(|t| t["tag"] != tag.as_str());
    if tags.len() == before {
        return not_found(&format!("tag {tag}"));
    }
    StatusCode::NO_CONTENT.into_response()
}
