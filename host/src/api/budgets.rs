//! `/v1/connections/{id}/rate-budget`: a connection's rate budget, the most connector calls
//! the host makes for it in any window (ATS limits differ: Greenhouse 50 per 10 s, Workable
//! 10 per 10 s on an account token, Personio 20 per 60 s). Read it, set the connection's own
//! (stored with the connection, in force at once for its syncs, writes and live reads), or
//! delete it to fall back to the host default (`[sync] calls_per_second`).

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use crate::store::Connection;
use crate::sync::budget::RateBudget;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

const PATH: &str = "/v1/connections/{id}/rate-budget";

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", PATH, "connections", Access::AnyKey, "A connection's rate budget: its own or the host default, the calls in the current window, who waits (writes go before sync pages and live reads, first in first out)", None, get(show))
        .replies::<BudgetView>(200)
        .add("PUT", PATH, "connections", Access::AnyKey, "Set the connection's own rate budget: at most `calls` (1..=10000) connector calls in any `per_secs` (1..=3600) seconds", Some(json!({"calls": 50, "per_secs": 10})), axum::routing::put(set))
        .accepts::<RateBudget>()
        .replies::<BudgetView>(200)
        .add("DELETE", PATH, "connections", Access::AnyKey, "Drop the connection's own rate budget: the host default applies again", None, axum::routing::delete(reset))
        .replies::<BudgetView>(200)
}

/// A connection's rate budget and how it is used now.
#[derive(Serialize, JsonSchema)]
struct BudgetView {
    connection_id: String,
    /// The connection's own budget; `null`: the host default applies.
    rate_budget: Option<RateBudget>,
    source: BudgetSource,
    effective: Effective,
    calls_in_window: usize,
    waiting: Waiting,
    cool_down_left_ms: Option<u64>,
}

/// Whose budget is in force.
#[derive(Serialize, JsonSchema)]
enum BudgetSource {
    #[serde(rename = "connection")]
    Connection,
    #[serde(rename = "host default")]
    HostDefault,
}

/// The limit in force.
#[derive(Serialize, JsonSchema)]
struct Effective {
    calls: u64,
    per_ms: u64,
    calls_per_second: f64,
}

/// Who waits for a turn.
#[derive(Serialize, JsonSchema)]
struct Waiting {
    writes: usize,
    syncs_and_reads: usize,
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The budget of `connection` as the API shows it.
fn view(state: &AppState, connection: &Connection) -> BudgetView {
    let status = state.sync.budgets.status(&connection.id);
    BudgetView {
        connection_id: connection.id.clone(),
        rate_budget: connection.rate_budget,
        source: match connection.rate_budget {
            Some(_) => BudgetSource::Connection,
            None => BudgetSource::HostDefault,
        },
        effective: Effective {
            calls: status.limit.calls,
            per_ms: millis(status.limit.per),
            calls_per_second: status.limit.calls_per_second(),
        },
        calls_in_window: status.calls_in_window,
        waiting: Waiting { writes: status.waiting_writes, syncs_and_reads: status.waiting_syncs },
        cool_down_left_ms: status.cool_down_left.map(millis),
    }
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    match visible(&state, &caller, &id).await {
        Ok(connection) => Json(view(&state, &connection)).into_response(),
        Err(p) => p.into_response(),
    }
}

async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(budget): Body<RateBudget>,
) -> Response {
    if let Err((field, problem)) = budget.check() {
        return Problem::invalid(field, problem).into_response();
    }
    store_budget(&state, &caller, &id, Some(budget)).await
}

async fn reset(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    store_budget(&state, &caller, &id, None).await
}

/// Stores the connection's own budget and puts it in force.
async fn store_budget(
    state: &AppState,
    caller: &Caller,
    id: &str,
    budget: Option<RateBudget>,
) -> Response {
    let mut connection = match visible(state, caller, id).await {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    connection.rate_budget = budget;
    connection.updated_at = crate::time::now_ms();
    if let Err(e) = state.store.put_connection(&connection, None).await {
        return Problem::internal(e).into_response();
    }
    state.sync.budgets.set_limit(&connection.id, budget);
    tracing::info!(connection = %connection.id, ?budget, "rate budget set");
    Json(view(state, &connection)).into_response()
}
