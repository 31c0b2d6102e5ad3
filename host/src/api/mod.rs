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
//! | [`budgets`] | a connection's rate budget |
//! | [`ats_webhooks`] | a connection's webhook in the ATS itself (register, remove) |
//! | [`syncs`] | sync now, schedules, `/v1/runs` |
//! | [`records`] | unified reads and `/v1/events` |
//! | [`candidates`] | stored candidates and live candidate reads |
//! | [`reference`] | a connection's synced tags, rejection reasons and users |
//! | [`schemas`] | list and page envelopes, schemas of types sent from other modules |
//! | [`writes`] | writes through connectors, with idempotency keys |
//! | [`inbound`] | webhooks from the ATS → syncs |
//! | [`automations`] | `/v1/automations`, with dry runs, duplicate, enable / disable |
//! | [`firings`] | `/v1/firings`: what automations did, per action; retry of a failed one |
//! | [`orders`] | `/v1/orders`, results (with or without an order) and reviews |
//! | [`pipeline`] | a connection's stage mapping and push defaults |

pub mod ats_webhooks;
pub mod auth;
pub mod automations;
pub mod budgets;
pub mod candidates;
pub mod connections;
pub mod connectors;
pub mod firings;
pub mod inbound;
pub mod openapi;
pub mod orders;
pub mod pipeline;
pub mod problem;
pub mod records;
pub mod reference;
pub mod schemas;
pub mod syncs;
pub mod tenants;
pub mod webhooks;
pub mod writes;

use crate::demo::DemoStatus;
use crate::runtime::{Registry, Runtime};
use crate::webhooks::dispatcher::Dispatcher;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use openapi::{Access, Routes};
use problem::Problem;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
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
    /// The automation engine: its automations, mappings, orders and firings.
    pub automations: Arc<crate::automations::host_effects::HostEngine>,
    /// Where uploaded connectors are saved (the watched directory).
    pub connectors_dir: Option<PathBuf>,
    pub demo: Option<Arc<DemoStatus>>,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let (routes, _) = all_routes().into_parts();
    let store = state.store.clone();
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(store, durable_changes))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY_BYTES))
        .layer(axum::middleware::from_fn(problem_for_plain_errors))
        .layer(axum::middleware::from_fn(count_requests))
        // A panic in a handler is that request's 500 (problem+json), never a dropped
        // connection or a dead worker.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = crate::panic_message(panic.as_ref());
    tracing::error!(%message, "an API handler panicked");
    Problem::internal(format!("the host failed while answering: {message}")).into_response()
}

/// Every route the API serves: the operational ones and `/v1`, each documented.
pub fn all_routes() -> Routes<AppState> {
    v1_routes()
        .add(
            "GET",
            "/v1/openapi.json",
            "operations",
            Access::Public,
            "This OpenAPI document",
            None,
            get(|| async { Json(openapi_document().clone()) }),
        )
        .replies::<Map<String, Value>>(200)
        .add(
            "GET",
            "/health",
            "operations",
            Access::Public,
            "Liveness: version, number of loaded connectors, allocator",
            None,
            get(health),
        )
        .replies::<Health>(200)
        .add(
            "GET",
            "/metrics",
            "operations",
            Access::Public,
            "Prometheus metrics (text exposition format)",
            None,
            get(metrics),
        )
        .replies_as::<String>(200, crate::metrics::CONTENT_TYPE)
        .add(
            "GET",
            "/demo",
            "operations",
            Access::Public,
            "With `serve --demo`: the demo connection, its latest runs and events",
            None,
            get(demo),
        )
        .replies::<crate::demo::DemoSnapshot>(200)
}

/// Every documented `/v1` route.
pub fn v1_routes() -> Routes<AppState> {
    let routes = Routes::default()
        .add(
            "GET",
            "/v1/me",
            "auth",
            Access::AnyKey,
            "Who the presented API key belongs to",
            None,
            get(me),
        )
        .replies::<auth::Caller>(200);
    let routes = connectors::routes(routes);
    let routes = tenants::routes(routes);
    let routes = connections::routes(routes);
    let routes = budgets::routes(routes);
    let routes = ats_webhooks::routes(routes);
    let routes = syncs::routes(routes);
    let routes = records::routes(routes);
    let routes = candidates::routes(routes);
    let routes = reference::routes(routes);
    let routes = writes::routes(routes);
    let routes = inbound::routes(routes);
    let routes = automations::routes(routes);
    let routes = firings::routes(routes);
    let routes = orders::routes(routes);
    let routes = pipeline::routes(routes);
    webhooks::routes(routes)
}

/// The generated OpenAPI document of [`all_routes`] (also served at `/v1/openapi.json`).
pub fn openapi_document() -> &'static Value {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| openapi::document(&all_routes().into_parts().1))
}

/// axum's own rejections (a malformed query string or path parameter, a raw body over its
/// limit) answer `text/plain`; this turns every error answer that is not a [`Problem`]
/// yet into one, keeping its status, its message and its other headers.
async fn problem_for_plain_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let title = status.canonical_reason().unwrap_or("error").to_ascii_lowercase();
    let mut problem = problem::from_rejection_text(status, &title, &text);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        problem.detail.push_str(&format!(
            "; JSON bodies are limited to {MAX_JSON_BODY_BYTES} bytes, connector uploads to the connector file size limit"
        ));
    }
    let mut answer = problem.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// A change the API acknowledged (a 2xx answer to anything but `GET`/`HEAD`) is on disk
/// before the answer leaves: a host killed right after answering "201 Created" still has
/// the connection, automation or key it created when it starts again.
async fn durable_changes(
    State(store): State<Arc<dyn crate::store::Store>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let reading = matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD);
    let response = next.run(request).await;
    if reading || !response.status().is_success() {
        return response;
    }
    match store.flush().await {
        Ok(()) => response,
        Err(error) => Problem::internal(format!("the change could not be made durable: {error}"))
            .into_response(),
    }
}

async fn count_requests(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    crate::metrics::global().api_request(response.status().as_u16());
    response
}

/// Liveness.
#[derive(Serialize, JsonSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
    version: &'static str,
    /// Connectors loaded.
    connectors: usize,
    allocator: crate::runtime::AllocatorKind,
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        connectors: state.registry.list().len(),
        allocator: state.runtime.allocator(),
    })
}

async fn metrics() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        crate::metrics::global().render(),
    )
        .into_response()
}

async fn me(caller: auth::Caller) -> Json<auth::Caller> {
    Json(caller)
}

async fn demo(State(state): State<AppState>) -> Response {
    match &state.demo {
        Some(demo) => Json(demo.snapshot().await).into_response(),
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
