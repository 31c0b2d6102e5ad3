//! The HTTP API (axum). For now: health and the loaded connectors; the demo's last result
//! when the demo runs. Errors are JSON; unknown routes answer 404 JSON.

pub mod auth;

use crate::demo::DemoStatus;
use crate::runtime::{Registry, Runtime};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub registry: Arc<Registry>,
    pub demo: Option<Arc<DemoStatus>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/connectors", get(list_connectors))
        .route("/connectors/{id}", get(get_connector))
        .route("/demo", get(demo))
        .fallback(not_found)
        .with_state(state)
}

fn problem(status: StatusCode, title: &str, detail: String) -> Response {
    let body = json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail });
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/problem+json"),
    );
    response
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "connectors": state.registry.list().len(),
        "allocator": state.runtime.allocator(),
    }))
}

async fn list_connectors(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "connectors": state.registry.list() }))
}

async fn get_connector(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.registry.active(&id) {
        Some(active) => {
            let versions =
                state.registry.list().into_iter().find(|c| c.id == id).map(|c| c.versions);
            Json(json!({ "id": id, "manifest": crate::runtime::loader::ManifestView::from(&active.manifest), "active": active.info(), "versions": versions }))
                .into_response()
        }
        None => problem(
            StatusCode::NOT_FOUND,
            "connector not found",
            format!("no connector `{id}` is loaded; GET /connectors lists them"),
        ),
    }
}

async fn demo(State(state): State<AppState>) -> Response {
    match &state.demo {
        Some(demo) => Json(demo.snapshot()).into_response(),
        None => problem(
            StatusCode::NOT_FOUND,
            "demo not running",
            "start the host with `serve --demo`".into(),
        ),
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "not found",
        format!("no route for {uri}; try GET /health or GET /connectors"),
    )
}
