//! The fake's Webhooks API (research §2.6): the base `/webhooks/v1` and the two-step setup,
//! an application (`POST /applications/` `{"_kind": "Application", name}`) and hooks under
//! it (`/applications/<id>/webhooks`), wanting a token with scope
//! `urn:cx/webhooks:data:manage` ([H], `CX-WH`). Shapes beyond that follow `CX-3P-C` [L]:
//! records answer `{_kind, _id, …}`; `GET /applications` lists `_kind` and `_id` only
//! unless `?fields=name`; a hook is `{"_kind": "Webhook", url, filters: [{eventType}]}`
//! with at most 10 filters; `DELETE /applications/<id>/webhooks/<hook>` removes one. Event
//! types are `<CR entity>:created|updated` on the officially supported entities (matches,
//! candidates, vacancies, contacts, companies, publications, placements, campaigns); research
//! knows of no delete events, so they are refused.

use super::{Shared, WEBHOOKS_SCOPE, lock};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Filters one webhook may carry ([L], `CX-3P-B`).
const MAX_FILTERS: usize = 10;
/// Entities the Webhooks API supports ("MVP1", `CX-WH`), as CR* names.
const ENTITIES: &[&str] = &[
    "CRMatch",
    "CREmployee",
    "CRVacancy",
    "CRContact",
    "CRCompany",
    "CRPublication",
    "CRJob",
    "CRCampaign",
];

pub struct App {
    pub id: String,
    pub name: String,
    pub hooks: Vec<Hook>,
}

pub struct Hook {
    pub id: String,
    pub url: String,
    pub filters: Vec<String>,
}

pub fn routes() -> axum::Router<Arc<Shared>> {
    axum::Router::new()
        .route("/webhooks/v1/applications", get(list_apps).post(create_app))
        .route("/webhooks/v1/applications/", get(list_apps).post(create_app))
        .route("/webhooks/v1/applications/{app}/webhooks", get(list_hooks).post(create_hook))
        .route("/webhooks/v1/applications/{app}/webhooks/{hook}", delete(delete_hook))
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "status": status.as_u16(), "message": message }))).into_response()
}

/// The faults, then a live Bearer token that carries the webhooks scope.
async fn authorize(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    if let Some(fault) = shared.faults.intercept().await {
        return Some(fault);
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let scope = match lock(&shared.tokens).get(bearer) {
        Some(token) if token.live => token.scope.clone(),
        _ => return Some(problem(StatusCode::UNAUTHORIZED, "invalid or expired token")),
    };
    (!scope.split(' ').any(|s| s == WEBHOOKS_SCOPE))
        .then(|| problem(StatusCode::FORBIDDEN, &format!("requires scope {WEBHOOKS_SCOPE}")))
}

fn new_id(shared: &Shared, prefix: &str) -> String {
    let number = shared.webhook_ids.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    format!("{prefix}{number:08x}-4c1e-9a7b")
}

async fn list_apps(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = authorize(&shared, &headers).await {
        return refused;
    }
    let with_name = query.get("fields").is_some_and(|f| f.split(',').any(|f| f == "name"));
    let apps: Vec<Value> = lock(&shared.webhook_apps)
        .iter()
        .map(|app| {
            let mut record = json!({ "_kind": "Application", "_id": app.id });
            if with_name {
                record["name"] = json!(app.name);
            }
            record
        })
        .collect();
    Json(apps).into_response()
}

async fn create_app(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = authorize(&shared, &headers).await {
        return refused;
    }
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default().trim();
    if body.get("_kind").and_then(Value::as_str) != Some("Application") || name.is_empty() {
        return problem(StatusCode::BAD_REQUEST, "expected {\"_kind\": \"Application\", name}");
    }
    let id = new_id(&shared, "a");
    lock(&shared.webhook_apps).push(App { id: id.clone(), name: name.into(), hooks: Vec::new() });
    (StatusCode::CREATED, Json(json!({ "_kind": "Application", "_id": id, "name": name })))
        .into_response()
}

async fn list_hooks(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(app): Path<String>,
) -> Response {
    if let Some(refused) = authorize(&shared, &headers).await {
        return refused;
    }
    match lock(&shared.webhook_apps).iter().find(|a| a.id == app) {
        Some(app) => Json(
            app.hooks
                .iter()
                .map(|h| json!({ "_kind": "Webhook", "_id": h.id, "url": h.url }))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => problem(StatusCode::NOT_FOUND, "application not found"),
    }
}

/// The event types of a hook body, or why they are refused.
fn filters(body: &Value) -> Result<Vec<String>, String> {
    let filters = body.get("filters").and_then(Value::as_array).ok_or("`filters` is required")?;
    if filters.is_empty() || filters.len() > MAX_FILTERS {
        return Err(format!("a webhook takes 1 to {MAX_FILTERS} filters, got {}", filters.len()));
    }
    filters
        .iter()
        .map(|filter| {
            let event = filter.get("eventType").and_then(Value::as_str).unwrap_or_default();
            let known = event.split_once(':').is_some_and(|(entity, action)| {
                ENTITIES.iter().any(|e| e.eq_ignore_ascii_case(entity))
                    && ["created", "updated"].contains(&action.to_ascii_lowercase().as_str())
            });
            if known { Ok(event.to_string()) } else { Err(format!("unknown eventType `{event}`")) }
        })
        .collect()
}

async fn create_hook(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(app): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = authorize(&shared, &headers).await {
        return refused;
    }
    let url = body.get("url").and_then(Value::as_str).unwrap_or_default();
    if body.get("_kind").and_then(Value::as_str) != Some("Webhook")
        || !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return problem(StatusCode::BAD_REQUEST, "expected {\"_kind\": \"Webhook\", url, filters}");
    }
    let filters = match filters(&body) {
        Ok(filters) => filters,
        Err(why) => return problem(StatusCode::BAD_REQUEST, &why),
    };
    let id = new_id(&shared, "w");
    let mut apps = lock(&shared.webhook_apps);
    let Some(app) = apps.iter_mut().find(|a| a.id == app) else {
        return problem(StatusCode::NOT_FOUND, "application not found");
    };
    app.hooks.push(Hook { id: id.clone(), url: url.into(), filters: filters.clone() });
    let filters: Vec<Value> = filters.iter().map(|f| json!({ "eventType": f })).collect();
    let hook = json!({ "_kind": "Webhook", "_id": id, "url": url, "filters": filters });
    (StatusCode::CREATED, Json(hook)).into_response()
}

async fn delete_hook(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((app, hook)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = authorize(&shared, &headers).await {
        return refused;
    }
    let mut apps = lock(&shared.webhook_apps);
    let Some(app) = apps.iter_mut().find(|a| a.id == app) else {
        return problem(StatusCode::NOT_FOUND, "application not found");
    };
    let before = app.hooks.len();
    app.hooks.retain(|h| h.id != hook);
    if app.hooks.len() == before {
        return problem(StatusCode::NOT_FOUND, "webhook not found");
    }
    StatusCode::NO_CONTENT.into_response()
}
