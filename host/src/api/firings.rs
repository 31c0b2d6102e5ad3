//! `/v1/firings`: what automations did — one firing per (automation, trigger event), each
//! action with its status, attempts and outcome or reason — and an operator retry of a
//! failed firing (409 for one that did not fail). Another tenant's firing is 404.

use super::AppState;
use super::auth::Caller;
use super::openapi::{Access, Routes};
use super::problem::Problem;
use super::schemas::{Page, page_after};
use crate::automations::outbox::{Firing, FiringFilter, FiringStatus, RetryError};
use crate::time::now_ms;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", "/v1/firings", "automations", Access::AnyKey, "Firings, newest first, each action with its status; filter by automation_id, status (pending, done, failed, skipped), connection_id; page with cursor", None, get(list_firings))
        .query(&["automation_id", "status", "connection_id", "cursor", "limit"])
        .replies::<Page<Firing>>(200)
        .add("GET", "/v1/firings/{id}", "automations", Access::AnyKey, "One firing: the trigger's data and each action's status, attempts, outcome or reason", None, get(show_firing))
        .replies::<Firing>(200)
        .add("POST", "/v1/firings/{id}/retry", "automations", Access::AnyKey, "Run a failed firing again from its failed action (what was written before is not written twice)", None, post(retry_firing))
        .replies::<Firing>(200)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FiringQuery {
    automation_id: Option<String>,
    status: Option<FiringStatus>,
    connection_id: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// The firing if the caller may see it; 404 otherwise.
async fn visible_firing(state: &AppState, caller: &Caller, id: &str) -> Result<Firing, Problem> {
    match state.automations.outbox.firing(id).await {
        Ok(Some(f)) if caller.can_see(&f.tenant_id) => Ok(f),
        Ok(_) => Err(Problem::not_found("firing", id)),
        Err(error) => Err(Problem::internal(error)),
    }
}

async fn list_firings(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FiringQuery>,
) -> Result<Json<Page<Firing>>, Problem> {
    let filter = FiringFilter {
        tenant_id: caller.tenant().map(str::to_string),
        automation_id: query.automation_id,
        connection_id: query.connection_id,
        status: query.status,
        limit: 0,
    };
    let firings = state.automations.outbox.firings(&filter).await.map_err(Problem::internal)?;
    let key = |f: &Firing| (f.created_at, f.id.clone());
    Ok(Json(page_after(firings, query.cursor.as_deref(), query.limit, key, true)?))
}

async fn show_firing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Firing>, Problem> {
    Ok(Json(visible_firing(&state, &caller, &id).await?))
}

async fn retry_firing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Firing>, Problem> {
    visible_firing(&state, &caller, &id).await?;
    let firing =
        state.automations.outbox.retry(&id, now_ms()).await.map_err(|error| match error {
            RetryError::NotFound(_) => Problem::not_found("firing", &id),
            error @ RetryError::NotFailed { .. } => Problem::conflict(error.to_string()),
            RetryError::Storage(error) => Problem::internal(error),
        })?;
    state.automations.wake();
    Ok(Json(firing))
}
