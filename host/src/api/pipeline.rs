//! A connection's own pipeline settings: its **stage mapping** (the tenant's stage names →
//! this connection's ATS stage ids, so triggers and actions can name "Assessment" on any
//! ATS) and its **push defaults** (the initial stage, source and tags every push through
//! the host gets unless it sets them). Both are read and replaced whole.

use super::AppState;
use super::auth::Caller;
use super::automations::issues_problem;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use crate::automations::validate::{check_push_defaults, check_stage_mapping};
use crate::automations::{PushDefaults, StageMapping};
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use serde_json::json;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", "/v1/connections/{id}/stage-mappings", "automations", Access::AnyKey, "The connection's stage mapping: the tenant's stage names → ATS stage ids", None, get(show_mapping))
        .replies::<StageMapping>(200)
        .add("PUT", "/v1/connections/{id}/stage-mappings", "automations", Access::AnyKey, "Replace the stage mapping (names compare without case)", Some(json!({"stages": {"Assessment": "stage-3", "Review": "stage-4"}})), put(put_mapping))
        .accepts::<StageMapping>().replies::<StageMapping>(200)
        .add("GET", "/v1/connections/{id}/push-defaults", "automations", Access::AnyKey, "The connection's push defaults", None, get(show_defaults))
        .replies::<PushDefaults>(200)
        .add("PUT", "/v1/connections/{id}/push-defaults", "automations", Access::AnyKey, "Replace the push defaults: initial stage (an ATS stage id or a mapped name; used for pushes with a job), source, and tags added to every push", Some(json!({"initial_stage": {"mapped": "Sourced"}, "source": "AI sourcer", "tags": ["sourced"]})), put(put_defaults))
        .accepts::<PushDefaults>().replies::<PushDefaults>(200)
}

async fn show_mapping(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StageMapping>, Problem> {
    visible(&state, &caller, &id).await?;
    let mapping =
        state.automations.automations.stage_mapping(&id).await.map_err(Problem::internal)?;
    Ok(Json(mapping.unwrap_or_default()))
}

async fn put_mapping(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(mapping): Body<StageMapping>,
) -> Result<Json<StageMapping>, Problem> {
    visible(&state, &caller, &id).await?;
    let issues = check_stage_mapping(&mapping);
    if !issues.is_empty() {
        let detail = format!("the stage mapping of connection `{id}` is not valid");
        return Err(issues_problem("invalid stage mapping", detail, issues));
    }
    state
        .automations
        .automations
        .put_stage_mapping(&id, &mapping)
        .await
        .map_err(Problem::internal)?;
    Ok(Json(mapping))
}

async fn show_defaults(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PushDefaults>, Problem> {
    visible(&state, &caller, &id).await?;
    let defaults =
        state.automations.automations.push_defaults(&id).await.map_err(Problem::internal)?;
    Ok(Json(defaults.unwrap_or_default()))
}

async fn put_defaults(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(defaults): Body<PushDefaults>,
) -> Result<Json<PushDefaults>, Problem> {
    visible(&state, &caller, &id).await?;
    let store = &*state.automations.automations;
    let mapping = store.stage_mapping(&id).await.map_err(Problem::internal)?;
    let issues = check_push_defaults(&defaults, mapping.as_ref());
    if !issues.is_empty() {
        let detail = format!("the push defaults of connection `{id}` are not valid");
        return Err(issues_problem("invalid push defaults", detail, issues));
    }
    store.put_push_defaults(&id, &defaults).await.map_err(Problem::internal)?;
    Ok(Json(defaults))
}
