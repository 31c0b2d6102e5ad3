//! The HTTP API (axum). Unversioned operational routes (`/health`, `/metrics`, `/demo`)
//! and the JSON API under `/v1`, authenticated with API keys, documented by the
//! generated `/v1/openapi.json`. Errors are `application/problem+json`.
//!
//! | module | owns |
//! |---|---|
//! | [`auth`] | API keys, operator vs tenant callers |
//! | [`problem`] | error answers and JSON body extraction |
//! | [`openapi`] | the self-documenting route table |
//! | [`connectors`] | `/v1/connectors` |
//! | [`webhooks`] | `/v1/webhooks`, `/v1/webhook-deliveries` |
//! | [`tenants`] | tenant API keys |
//! | [`connections`] | `/v1/tenants`, `/v1/connections` |
//! | [`syncs`] | sync now, schedules, `/v1/runs` |
//! | [`records`] | unified reads and `/v1/events` |
//! | [`writes`] | writes through connectors, with idempotency keys |
//! | [`inbound`] | webhooks from the ATS → syncs |

pub mod auth;
pub mod connections;
pub mod connectors;
pub mod inbound;
pub mod openapi;
pub mod problem;
pub mod records;
pub mod syncs;
pub mod tenants;
pub mod webhooks;
pub mod writes;

use crate::demo::DemoStatus;
use crate::runtime::{Registry, Runtime};
use crate::webhooks::dispatcher::Dispatcher;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use openapi::{Access, Routes};
use problem::Problem;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// Largest JSON request body accepted by default (attachments have their own cap).
pub const MAX_JSON_BODY_BYTES: usize = 1 << 20;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub registry: Arc<Registry>,
    pub keys: auth::KeyStore,
    pub webhooks: Arc<Dispatcher>,
    pub store: Arc<dyn crate::store::Store>,
    pub sync: Arc<crate::sync::SyncEngine>,
    pub journal: crate::writes::journal::Journal,
    /// Where uploaded connectors are saved (the watched directory).
    pub connectors_dir: Option<PathBuf>,
    pub demo: Option<Arc<DemoStatus>>,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let (v1, endpoints) = v1_routes().into_parts();
    let document = Arc::new(openapi::document(&endpoints));
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/demo", get(demo))
        .route(
            "/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json((*document).clone()) }
            }),
        )
        .merge(v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY_BYTES))
        .layer(axum::middleware::from_fn(count_requests))
        .with_state(state)
}

/// Every documented `/v1` route.
pub fn v1_routes() -> Routes<AppState> {
    let routes = Routes::default().add(
        "GET",
        "/v1/me",
        "auth",
        Access::AnyKey,
        "Who the presented API key belongs to",
        None,
        get(me),
    );
    let routes = connectors::routes(routes);
    let routes = tenants::routes(routes);
    let routes = connections::routes(routes);
    let routes = syncs::routes(routes);
    let routes = records::routes(routes);
    let routes = writes::routes(routes);
    let routes = inbound::routes(routes);
    webhooks::routes(routes)
}

/// The generated OpenAPI document (also served at `/v1/openapi.json`).
pub fn openapi_document() -> Value {
    openapi::document(&v1_routes().into_parts().1)
}

async fn count_requests(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    crate::metrics::global().api_request(response.status().as_u16());
    response
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "connectors": state.registry.list().len(),
        "allocator": state.runtime.allocator(),
    }))
}

async fn metrics() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::global().render(),
    )
        .into_response()
}

async fn me(caller: auth::Caller) -> Json<auth::Caller> {
    Json(caller)
}

async fn demo(State(state): State<AppState>) -> Response {
    match &state.demo {
        Some(demo) => Json(demo.snapshot()).into_response(),
        None => Problem::new(
            StatusCode::NOT_FOUND,
            "demo not running",
            "start the host with `serve --demo`",
        )
        .into_response(),
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not found",
        format!("no route for {uri}; GET /v1/openapi.json lists every route"),
    )
    .into_response()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
        format!("{method} is not supported on {uri}; GET /v1/openapi.json lists every route"),
    )
    .into_response()
}
