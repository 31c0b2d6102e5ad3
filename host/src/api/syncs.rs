//! `/v1/connections/{id}/sync`, `/v1/connections/{id}/schedules` and `/v1/runs`: sync now
//! (coalescing), schedules, and runs with their progress.

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use super::schemas::Page;
use crate::store::{ConnectionStatus, Run, Trigger};
use crate::store::{RunFilter, RunState, Schedules, SyncKind};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add(
            "POST",
            "/v1/connections/{id}/sync",
            "syncs",
            Access::AnyKey,
            "Sync now: starts a run, or joins the one queued or running (coalesced)",
            Some(json!({"kind": "jobs"})),
            post(sync_now),
        )
        .accepts_optional::<SyncBody>()
        .replies::<SyncStarted>(202)
        .replies::<SyncStarted>(200)
        .add(
            "GET",
            "/v1/connections/{id}/schedules",
            "syncs",
            Access::AnyKey,
            "The connection's sync schedules and next due times",
            None,
            get(schedules),
        )
        .replies::<ScheduleView>(200)
        .add(
            "PUT",
            "/v1/connections/{id}/schedules",
            "syncs",
            Access::AnyKey,
            "Replace the connection's sync schedules",
            Some(
                json!({"jobs_every_secs": 10800, "applications_every_secs": 300, "enabled": true}),
            ),
            axum::routing::put(put_schedules),
        )
        .accepts::<Schedules>()
        .replies::<SchedulesSet>(200)
        .add(
            "GET",
            "/v1/runs",
            "syncs",
            Access::AnyKey,
            "Sync runs, newest first; filter by connection_id and status; page with cursor",
            None,
            get(list_runs),
        )
        .query(&["connection_id", "status", "cursor", "limit"])
        .replies::<Page<Run>>(200)
        .add(
            "GET",
            "/v1/runs/{id}",
            "syncs",
            Access::AnyKey,
            "One run, with progress while it runs",
            None,
            get(show_run),
        )
        .replies::<Run>(200)
}

/// A sync started (`202`), or joined (`200`, `coalesced`): the run to follow.
#[derive(Serialize, JsonSchema)]
struct SyncStarted {
    run_id: String,
    /// The sync joined a run already queued or running.
    coalesced: bool,
}

/// A connection's schedules and when each sync is next due.
#[derive(Serialize, JsonSchema)]
struct ScheduleView {
    schedules: Schedules,
    status: ConnectionStatus,
    /// Unix milliseconds, by sync kind.
    next_sync_at: BTreeMap<String, i64>,
}

/// The schedules now in force.
#[derive(Serialize, JsonSchema)]
struct SchedulesSet {
    schedules: Schedules,
}

/// The body of a sync now; all of it may be left out (an empty body syncs jobs).
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SyncBody {
    /// `jobs` (the default) or `applications`.
    kind: Option<String>,
    /// Read every record (not only those changed since the last pass) and detect the ones
    /// the ATS no longer lists as deleted.
    #[serde(default)]
    full_scan: bool,
}

async fn sync_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    let body: SyncBody = match super::problem::optional_json(&body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    let kind_text = body.kind.unwrap_or_else(|| "jobs".into());
    let Some(kind) = SyncKind::parse(&kind_text) else {
        return Problem::invalid("kind", format!("`{kind_text}` is not `jobs` or `applications`"))
            .into_response();
    };
    let trigger = if body.full_scan { Trigger::FullScan } else { Trigger::Manual };
    match state.sync.sync_now(&id, kind, trigger).await {
        Ok((run_id, coalesced)) => {
            let status = if coalesced { StatusCode::OK } else { StatusCode::ACCEPTED };
            (status, Json(SyncStarted { run_id, coalesced })).into_response()
        }
        Err(e @ crate::sync::SyncError::NotOffered { .. }) => {
            Problem::invalid("kind", e.to_string()).into_response()
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn schedules(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match visible(&state, &caller, &id).await {
        Ok(c) => Json(ScheduleView {
            next_sync_at: super::connections::next_due(&state, &id),
            schedules: c.schedules,
            status: c.status,
        })
        .into_response(),
        Err(p) => p.into_response(),
    }
}

async fn put_schedules(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(schedules): Body<Schedules>,
) -> Response {
    let mut connection = match visible(&state, &caller, &id).await {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    for (name, secs) in [
        ("jobs_every_secs", schedules.jobs_every_secs),
        ("applications_every_secs", schedules.applications_every_secs),
    ] {
        if !(crate::store::MIN_INTERVAL_SECS..=crate::store::MAX_INTERVAL_SECS).contains(&secs) {
            return Problem::invalid(
                name,
                format!("{secs} is out of range: use 60..=604800 seconds (1 minute to 7 days)"),
            )
            .into_response();
        }
    }
    connection.schedules = schedules;
    connection.updated_at = crate::time::now_ms();
    if let Err(e) = state.store.put_connection(&connection, None).await {
        return Problem::internal(e).into_response();
    }
    state.sync.schedule(&connection).await;
    Json(SchedulesSet { schedules: connection.schedules }).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunQuery {
    connection_id: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RunQuery>,
) -> Response {
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => match serde_json::from_value::<RunState>(json!(text)) {
            Ok(s) => Some(s),
            Err(_) => return Problem::invalid(
                "status",
                format!(
                    "`{text}` is not one of queued, running, success, partial, failed, cancelled"
                ),
            )
            .into_response(),
        },
    };
    if let Some(connection) = &query.connection_id
        && let Err(p) = visible(&state, &caller, connection).await
    {
        return p.into_response();
    }
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let filter = RunFilter {
        tenant_id: caller.tenant().map(str::to_string),
        connection_id: query.connection_id,
        state: status,
        before: query.cursor,
        // One more than the page: the last page has no cursor.
        limit: limit + 1,
    };
    match state.store.runs(&filter).await {
        Ok(runs) => {
            let (mut runs, next) = super::records::page_of(runs, limit, |r| r.id.clone());
            for run in &mut runs {
                hide_private_error(&state, &caller, run).await;
            }
            Json(Page { data: runs, next_cursor: next }).into_response()
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn show_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match state.store.run(&id).await {
        Ok(Some(mut run)) if caller.can_see(&run.tenant_id) => {
            hide_private_error(&state, &caller, &mut run).await;
            Json(run).into_response()
        }
        Ok(_) => Problem::not_found("run", &id).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

/// A run's error on a connection that reaches a private network may quote what a private
/// address answered: a tenant key sees that the run failed, the operator sees why.
async fn hide_private_error(state: &AppState, caller: &Caller, run: &mut crate::store::Run) {
    if *caller == Caller::Operator || run.error.is_none() {
        return;
    }
    let private = state
        .store
        .connection(&run.connection_id)
        .await
        .ok()
        .flatten()
        .is_none_or(|c| c.private_networks_granted());
    if private {
        run.error = Some(
            "details are shown to the operator only: this connection reaches a private network"
                .into(),
        );
    }
}
