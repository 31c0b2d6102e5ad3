//! `/v1/automations`: a tenant's automations (create, read, replace, delete, duplicate,
//! enable with an optional backfill, disable, dry run).
//!
//! The domain (`crate::automations`) decides; this module maps its types onto routes and
//! its typed errors onto problems: an invalid automation is 422 naming every issue (a
//! contradiction names the conditions involved in `related`), and another tenant's
//! automation is 404 like a missing one.

use super::AppState;
use super::auth::Caller;
use super::openapi::{Access, Routes};
use super::problem::{Body, FieldProblem, Problem, from_value, optional_json};
use super::schemas::{Page, page_after};
use crate::automations::matching::DryRunFiring;
use crate::automations::validate::{
    InvalidAutomation, Issue, MAX_AUTOMATIONS_PER_TENANT, MAX_NAME_CHARS, SaveContext, validate,
};
use crate::automations::{Action, Automation, AutomationInput, Scope, Trigger};
use crate::ids::new_id;
use crate::time::now_ms;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", "/v1/automations", "automations", Access::AnyKey, "List automations (a tenant key sees its own); connection_id: those watching that connection; enabled: true or false; page with cursor", None, get(list))
        .query(&["connection_id", "enabled", "cursor", "limit"])
        .replies::<Page<Automation>>(200)
        .add("POST", "/v1/automations", "automations", Access::AnyKey, "Create an automation: one trigger, typed conditions, ordered actions; a contradiction or a field the trigger lacks is refused with 422 naming the fields", Some(example()), post(create))
        .accepts::<CreateAutomationBody>().replies::<Automation>(201)
        .add("GET", "/v1/automations/{id}", "automations", Access::AnyKey, "One automation", None, get(show))
        .replies::<Automation>(200)
        .add("PUT", "/v1/automations/{id}", "automations", Access::AnyKey, "Replace an automation (checked like a new one); enabling it here backfills if its `backfill` is set", Some(without_tenant(example())), axum::routing::put(replace))
        .accepts::<AutomationInput>().replies::<Automation>(200)
        .add("DELETE", "/v1/automations/{id}", "automations", Access::AnyKey, "Delete an automation; what its pending firings have left is skipped", None, axum::routing::delete(remove))
        .replies_empty(204)
        .add("POST", "/v1/automations/{id}/duplicate", "automations", Access::AnyKey, "Copy an automation under a new id (disabled), e.g. to change only its jobs", Some(json!({"name": "Invite on Assessment (job 7)"})), post(duplicate))
        .accepts_optional::<DuplicateBody>().replies::<Automation>(201)
        .add("POST", "/v1/automations/{id}/enable", "automations", Access::AnyKey, "Enable an automation: it fires for events from now on; backfill: also for every application now in its trigger stage", Some(json!({"backfill": true})), post(enable))
        .accepts_optional::<EnableBody>().replies::<Enabled>(200)
        .add("POST", "/v1/automations/{id}/disable", "automations", Access::AnyKey, "Disable an automation: it fires nothing, what its pending firings have left is skipped", None, post(disable))
        .replies::<Automation>(200)
        .add("POST", "/v1/automations/{id}/dry-run", "automations", Access::AnyKey, "Which current applications the automation would fire for and what each action would do (rendered notes, resolved stages), writing nothing", None, post(dry_run))
        .query(&["limit"])
        .replies::<DryRun>(200)
}

fn example() -> Value {
    json!({
        "tenant_id": "acme",
        "name": "Invite on Assessment",
        "scope": {"kind": "connection", "connection_id": "conn_1"},
        "jobs": {"kind": "any"},
        "enabled": true,
        "trigger": {"type": "stage-entered", "stage": {"mapped": "Assessment"}},
        "conditions": {"all": [{"path": "candidate.email", "type": "string", "op": "not-empty"}]},
        "actions": [{"type": "send-invite", "package_id": "coding-test"}, {"type": "add-tag", "tag": "invited"}],
    })
}

fn without_tenant(mut body: Value) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.remove("tenant_id");
    }
    body
}

/// `POST /v1/automations`: an automation, and whose it is.
#[derive(JsonSchema)]
#[allow(dead_code, reason = "a schema only: the body is read as `tenant_id` + `AutomationInput`")]
struct CreateAutomationBody {
    /// Required with the operator key; a tenant key creates automations of its own tenant.
    tenant_id: Option<String>,
    #[serde(flatten)]
    automation: AutomationInput,
}

#[derive(Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DuplicateBody {
    /// The copy's name; "… (copy)" when left out.
    name: Option<String>,
}

#[derive(Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EnableBody {
    /// Fire for every application now in the trigger stage (stage-entered triggers);
    /// the automation's own `backfill` when left out.
    backfill: Option<bool>,
}

/// An enabled automation and how many firings its backfill queued.
#[derive(Serialize, JsonSchema)]
struct Enabled {
    #[serde(flatten)]
    automation: Automation,
    backfill_firings: usize,
}

/// What an automation would do now.
#[derive(Serialize, JsonSchema)]
struct DryRun {
    automation_id: String,
    /// Each application it would fire for, with what each action would do.
    firings: Vec<DryRunFiring>,
    /// Why the dry run looked at no applications, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    connection_id: Option<String>,
    enabled: Option<bool>,
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DryRunQuery {
    limit: Option<usize>,
}

/// The tenant a create is for: a tenant key's own, or the one an operator key names.
async fn owner(
    state: &AppState,
    caller: &Caller,
    asked: Option<String>,
) -> Result<String, Problem> {
    match (caller, asked) {
        (Caller::Tenant { tenant_id }, None) => Ok(tenant_id.clone()),
        (Caller::Tenant { tenant_id }, Some(asked)) if *tenant_id == asked => Ok(asked),
        (Caller::Tenant { .. }, Some(_)) => Err(Problem::invalid(
            "tenant_id",
            "a tenant key acts for its own tenant; leave tenant_id out",
        )),
        (Caller::Operator, None) => {
            Err(Problem::invalid("tenant_id", "required with the operator key: whose is it?"))
        }
        (Caller::Operator, Some(asked)) => match state.store.tenant(&asked).await {
            Ok(Some(_)) => Ok(asked),
            Ok(None) => Err(Problem::invalid(
                "tenant_id",
                format!("no tenant `{asked}`; create it with POST /v1/tenants"),
            )),
            Err(error) => Err(Problem::internal(error)),
        },
    }
}

/// Problems with each field of a request, as one 422 (`related`: other fields involved).
pub(super) fn issues_problem(title: &str, detail: String, issues: Vec<Issue>) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, title, detail).with_fields(
        issues
            .into_iter()
            .map(|issue| FieldProblem {
                field: issue.field,
                problem: issue.problem,
                related: issue.related,
            })
            .collect(),
    )
}

fn invalid_automation(error: InvalidAutomation) -> Problem {
    issues_problem("invalid automation", error.to_string(), error.issues)
}

/// Refuses a new automation (created or duplicated) for a tenant that already keeps
/// [`MAX_AUTOMATIONS_PER_TENANT`].
async fn room_for_another(state: &AppState, tenant_id: &str) -> Result<(), Problem> {
    let kept = state
        .automations
        .automations
        .automations(Some(tenant_id))
        .await
        .map_err(Problem::internal)?;
    if kept.len() >= MAX_AUTOMATIONS_PER_TENANT {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "automation limit reached",
            format!(
                "tenant `{tenant_id}` keeps {} automations, the most allowed ({MAX_AUTOMATIONS_PER_TENANT}); delete ones it no longer uses, or combine them with conditions",
                kept.len()
            ),
        ));
    }
    Ok(())
}

/// Checks an automation of `tenant_id` before it is saved: the domain's checks with the
/// tenant's stage mappings, and that every connection it names is the tenant's.
async fn check_input(
    state: &AppState,
    tenant_id: &str,
    input: &AutomationInput,
) -> Result<(), Problem> {
    let connections = state.store.connections(Some(tenant_id)).await.map_err(Problem::internal)?;
    let store = &*state.automations.automations;
    let mut mappings = BTreeMap::new();
    for connection in &connections {
        if let Some(mapping) =
            store.stage_mapping(&connection.id).await.map_err(Problem::internal)?
        {
            mappings.insert(connection.id.clone(), mapping);
        }
    }
    let mut issues = match validate(input, &SaveContext { mappings }) {
        Ok(()) => Vec::new(),
        Err(invalid) => invalid.issues,
    };
    let unknown = |id: &str| !id.trim().is_empty() && !connections.iter().any(|c| c.id == id);
    let no_such = |id: &str| format!("tenant `{tenant_id}` has no connection `{id}`");
    if let Scope::Connection { connection_id } = &input.scope
        && unknown(connection_id)
    {
        issues.push(Issue::new("scope.connection_id", no_such(connection_id)));
    }
    for (i, action) in input.actions.iter().enumerate() {
        if let Action::PushToConnection { connection_id, .. } = action
            && unknown(connection_id)
        {
            issues.push(Issue::new(&format!("actions[{i}].connection_id"), no_such(connection_id)));
        }
    }
    if issues.is_empty() { Ok(()) } else { Err(invalid_automation(InvalidAutomation { issues })) }
}

/// The automation if the caller may see it; 404 otherwise (ids do not leak).
async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Automation, Problem> {
    match state.automations.automations.automation(id).await {
        Ok(Some(a)) if caller.can_see(&a.tenant_id) => Ok(a),
        Ok(_) => Err(Problem::not_found("automation", id)),
        Err(error) => Err(Problem::internal(error)),
    }
}

async fn save(state: &AppState, automation: &Automation) -> Result<(), Problem> {
    state.automations.automations.put_automation(automation).await.map_err(Problem::internal)
}

/// Fires the automation for every application now in its trigger stage; returns how many
/// firings that queued (an application fired for before is not fired for again).
async fn backfill(state: &AppState, automation: &Automation) -> Result<usize, Problem> {
    let fired = state
        .automations
        .matcher()
        .backfill(automation, now_ms())
        .await
        .map_err(Problem::internal)?;
    state.automations.wake();
    Ok(fired.len())
}

/// What a handler answers: its JSON, or a problem.
type Answer<T> = Result<T, Problem>;

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Answer<Json<Page<Automation>>> {
    let mut all = state
        .automations
        .automations
        .automations(caller.tenant())
        .await
        .map_err(Problem::internal)?;
    all.retain(|a| {
        query.connection_id.as_deref().is_none_or(|c| a.scope.covers(c))
            && query.enabled.is_none_or(|enabled| a.enabled == enabled)
    });
    let key = |a: &Automation| (a.created_at, a.id.clone());
    Ok(Json(page_after(all, query.cursor.as_deref(), query.limit, key, false)?))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(mut body): Body<Map<String, Value>>,
) -> Answer<(StatusCode, Json<Automation>)> {
    let asked = match body.remove("tenant_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(tenant)) => Some(tenant),
        Some(_) => return Err(Problem::invalid("tenant_id", "a tenant id (a string)")),
    };
    let tenant_id = owner(&state, &caller, asked).await?;
    let input: AutomationInput = from_value(Value::Object(body))?;
    room_for_another(&state, &tenant_id).await?;
    check_input(&state, &tenant_id, &input).await?;
    let automation = Automation::create(new_id("aut"), tenant_id, input, now_ms());
    save(&state, &automation).await?;
    if automation.enabled && automation.backfill {
        backfill(&state, &automation).await?;
    }
    tracing::info!(automation = %automation.id, tenant = %automation.tenant_id, trigger = automation.trigger.name(), "automation created");
    Ok((StatusCode::CREATED, Json(automation)))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer<Json<Automation>> {
    Ok(Json(visible(&state, &caller, &id).await?))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(input): Body<AutomationInput>,
) -> Answer<Json<Automation>> {
    let mut automation = visible(&state, &caller, &id).await?;
    check_input(&state, &automation.tenant_id, &input).await?;
    let was_enabled = automation.enabled;
    automation.replace(input, now_ms());
    save(&state, &automation).await?;
    if !was_enabled && automation.enabled && automation.backfill {
        backfill(&state, &automation).await?;
    }
    Ok(Json(automation))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer<StatusCode> {
    visible(&state, &caller, &id).await?;
    state.automations.automations.delete_automation(&id).await.map_err(Problem::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer<(StatusCode, Json<Automation>)> {
    let automation = visible(&state, &caller, &id).await?;
    let body: DuplicateBody = optional_json(&body)?;
    if let Some(name) = &body.name
        && (name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS)
    {
        return Err(Problem::invalid(
            "name",
            format!("1 to {MAX_NAME_CHARS} characters, or leave it out"),
        ));
    }
    room_for_another(&state, &automation.tenant_id).await?;
    let copy = automation.duplicate(new_id("aut"), body.name, now_ms());
    save(&state, &copy).await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer<Json<Enabled>> {
    let mut automation = visible(&state, &caller, &id).await?;
    let body: EnableBody = optional_json(&body)?;
    let stage_trigger = matches!(automation.trigger, Trigger::StageEntered { .. });
    if body.backfill == Some(true) && !stage_trigger {
        return Err(Problem::invalid(
            "backfill",
            format!(
                "backfill fires for applications already in the trigger stage: a {} trigger has none",
                automation.trigger.name()
            ),
        ));
    }
    let newly = automation.set_enabled(true, now_ms());
    save(&state, &automation).await?;
    // Asked for now, or the automation's own setting when it was just enabled.
    let wanted = body.backfill.unwrap_or(newly && automation.backfill && stage_trigger);
    let backfill_firings = if wanted { backfill(&state, &automation).await? } else { 0 };
    Ok(Json(Enabled { automation, backfill_firings }))
}

async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer<Json<Automation>> {
    let mut automation = visible(&state, &caller, &id).await?;
    automation.set_enabled(false, now_ms());
    save(&state, &automation).await?;
    Ok(Json(automation))
}

async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<DryRunQuery>,
) -> Answer<Json<DryRun>> {
    let automation = visible(&state, &caller, &id).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let firings = state
        .automations
        .matcher()
        .dry_run(&automation, limit, now_ms())
        .await
        .map_err(Problem::internal)?;
    let looks_at_applications =
        matches!(automation.trigger, Trigger::StageEntered { .. } | Trigger::ApplicationCreated {});
    let note = (!looks_at_applications).then(|| {
        format!(
            "a {} automation fires on events as they happen; a dry run over the current applications covers stage-entered and application-created triggers",
            automation.trigger.name()
        )
    });
    Ok(Json(DryRun { automation_id: automation.id, firings, note }))
}
