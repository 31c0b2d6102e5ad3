//! `/v1/tenants` and `/v1/connections`: tenants, and their connections to an ATS. Config
//! is validated against the connector's declared fields (every missing, unknown or misplaced
//! field listed at once); secrets are write-only, encrypted at rest, never returned or logged.
//! A check calls the ATS once and reports ok / unauthorized / unreachable / denied / busy.

use super::AppState;
use super::auth::{Caller, Operator};
use super::openapi::{Access, Routes};
use super::problem::{Body, FieldProblem, Problem};
use crate::connections::{self as rules, RuleError};
use crate::ids::new_id;
use crate::model::{AtsError, PageRequest};
use crate::runtime::{CallError, Invocation, LoadedConnector, Output};
use crate::store::{Connection, ConnectionStatus, Schedules, Secrets};
use crate::time::now_ms;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", "/v1/tenants", "tenants", Access::Operator, "List tenants", None, get(list_tenants))
        .add("POST", "/v1/tenants", "tenants", Access::Operator, "Create a tenant", Some(json!({"id": "acme", "name": "Acme Recruiting"})), post(create_tenant))
        .add("GET", "/v1/connections", "connections", Access::AnyKey, "List connections (a tenant key sees its own)", None, get(list))
        .add("POST", "/v1/connections", "connections", Access::AnyKey, "Create a connection; config is checked against the connector's declared fields", Some(json!({"tenant_id": "acme", "connector_id": "otys", "name": "Acme OTYS", "config": {"base-url": "https://ows.otys.nl"}, "secrets": {"api-key": "..."}, "schedules": {"jobs_every_secs": 10800, "applications_every_secs": 300}})), post(create))
        .add("GET", "/v1/connections/{id}", "connections", Access::AnyKey, "One connection (secrets are never returned)", None, get(show))
        .add("PATCH", "/v1/connections/{id}", "connections", Access::AnyKey, "Update name, config, secrets, schedules, pinned version or status; new secrets resume a needs-reauth connection", Some(json!({"secrets": {"api-key": "new"}})), axum::routing::patch(update))
        .add("DELETE", "/v1/connections/{id}", "connections", Access::AnyKey, "Delete a connection and its synced data", None, axum::routing::delete(remove))
        .add("POST", "/v1/connections/{id}/check", "connections", Access::AnyKey, "Call the ATS once: ok, unauthorized, unreachable, denied (the host's egress policy refused the request), busy (the connector's sandbox slots are in use) or error", None, post(check))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantBody {
    id: String,
    #[serde(default)]
    name: String,
}

async fn list_tenants(State(state): State<AppState>, _op: Operator) -> Response {
    match state.store.tenants() {
        Ok(tenants) => Json(json!({"data": tenants})).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn create_tenant(
    State(state): State<AppState>,
    _op: Operator,
    Body(body): Body<TenantBody>,
) -> Response {
    match rules::create_tenant(state.store.as_ref(), &body.id, &body.name) {
        Ok(tenant) => (StatusCode::CREATED, Json(tenant)).into_response(),
        Err(error) => rule_problem(error).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    tenant_id: Option<String>,
    connector_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    config: BTreeMap<String, String>,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
    pinned_version: Option<String>,
    #[serde(default)]
    allow_private_networks: bool,
    schedules: Option<Schedules>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    config: Option<BTreeMap<String, String>>,
    secrets: Option<BTreeMap<String, String>>,
    /// `null` unpins (use the active version).
    #[serde(default, with = "double_option")]
    pinned_version: Option<Option<String>>,
    schedules: Option<Schedules>,
    /// `active` or `paused`.
    status: Option<String>,
    /// Only the operator key may grant (`true`); any key may withdraw (`false`).
    allow_private_networks: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// The connection if the caller may see it; 404 otherwise (ids do not leak).
pub fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Connection, Problem> {
    match state.store.connection(id) {
        Ok(Some(c)) if caller.can_see(&c.tenant_id) => Ok(c),
        Ok(_) => Err(Problem::not_found("connection", id)),
        Err(e) => Err(Problem::internal(e)),
    }
}

fn view(state: &AppState, connection: &Connection) -> Value {
    let mut value = serde_json::to_value(connection).unwrap_or_default();
    let next: BTreeMap<&str, i64> =
        state.sync.next_due(&connection.id).into_iter().map(|(k, at)| (k.as_str(), at)).collect();
    value["next_sync_at"] = json!(next);
    value["inbound_webhook_path"] = json!(super::inbound::path(state, &connection.id));
    value
}

async fn list(State(state): State<AppState>, caller: Caller) -> Response {
    match state.store.connections(caller.tenant()) {
        Ok(all) => Json(json!({"data": all.iter().map(|c| view(&state, c)).collect::<Vec<_>>()}))
            .into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    match visible(&state, &caller, &id) {
        Ok(c) => Json(view(&state, &c)).into_response(),
        Err(p) => p.into_response(),
    }
}

/// A rule broken, as problem+json: one field, every field, or a conflict.
pub(super) fn rule_problem(error: RuleError) -> Problem {
    match error {
        RuleError::Invalid { field, problem } => Problem::invalid(&field, problem),
        error @ RuleError::Fields(_) => {
            let detail = error.to_string();
            let RuleError::Fields(issues) = error else { return Problem::internal(detail) };
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid connection config", detail)
                .with_fields(
                    issues
                        .into_iter()
                        .map(|i| FieldProblem { field: i.field, problem: i.problem })
                        .collect(),
                )
        }
        error @ RuleError::TenantExists(_) => Problem::conflict(error.to_string()),
        RuleError::Store(error) => Problem::internal(error),
    }
}

/// The connector version the connection will use, with its config checked against it.
fn check_fields(
    state: &AppState,
    connector_id: &str,
    pinned: Option<&str>,
    config: &BTreeMap<String, String>,
    secrets: &BTreeMap<String, String>,
) -> Result<Arc<LoadedConnector>, Problem> {
    let connector =
        rules::connector_for(&state.registry, connector_id, pinned).map_err(rule_problem)?;
    rules::check_fields(&connector, config, secrets).map_err(rule_problem)?;
    Ok(connector)
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<CreateBody>,
) -> Response {
    let tenant_id = match (&caller, body.tenant_id.clone()) {
        (Caller::Tenant { tenant_id }, None) => tenant_id.clone(),
        (Caller::Tenant { tenant_id }, Some(asked)) if *tenant_id == asked => asked,
        (Caller::Tenant { .. }, Some(_)) => {
            return Problem::invalid(
                "tenant_id",
                "a tenant key creates connections of its own tenant; leave tenant_id out",
            )
            .into_response();
        }
        (Caller::Operator, Some(asked)) => asked,
        (Caller::Operator, None) => {
            return Problem::invalid("tenant_id", "required with the operator key").into_response();
        }
    };
    if body.allow_private_networks && caller != Caller::Operator {
        return Problem::invalid(
            "allow_private_networks",
            "only the operator key may let a connection reach private networks",
        )
        .into_response();
    }
    match state.store.tenant(&tenant_id) {
        Ok(Some(_)) => {}
        Ok(None) if caller == Caller::Operator => {
            return Problem::invalid(
                "tenant_id",
                format!("no tenant `{tenant_id}`; create it with POST /v1/tenants"),
            )
            .into_response();
        }
        Ok(None) => {
            // A tenant key's tenant exists implicitly.
            if let Err(error) = rules::ensure_tenant(state.store.as_ref(), &tenant_id, &tenant_id) {
                return rule_problem(error).into_response();
            }
        }
        Err(e) => return Problem::internal(e).into_response(),
    }
    let connector = match check_fields(
        &state,
        &body.connector_id,
        body.pinned_version.as_deref(),
        &body.config,
        &body.secrets,
    ) {
        Ok(connector) => connector,
        Err(p) => return p.into_response(),
    };
    let schedules = body.schedules.unwrap_or_default();
    if let Err(error) = rules::check_schedules(&schedules) {
        return rule_problem(error).into_response();
    }
    let now = now_ms();
    let connection = Connection {
        id: new_id("conn"),
        tenant_id,
        connector_id: body.connector_id,
        pinned_sha256: body.pinned_version.is_some().then(|| connector.sha256.clone()),
        pinned_version: body.pinned_version,
        private_grant: if body.allow_private_networks {
            rules::egress_fields(&connector.manifest, &body.config)
        } else {
            BTreeMap::new()
        },
        name: body.name,
        config: body.config,
        secret_names: body.secrets.keys().cloned().collect(),
        allow_private_networks: body.allow_private_networks,
        status: ConnectionStatus::Active,
        status_detail: None,
        schedules,
        ats_webhook: None,
        rate_budget: None,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = state.store.put_connection(&connection, Some(&Secrets(body.secrets))) {
        return Problem::internal(e).into_response();
    }
    state.sync.schedule(&connection);
    tracing::info!(connection = %connection.id, tenant = %connection.tenant_id, connector = %connection.connector_id, "connection created");
    (StatusCode::CREATED, Json(view(&state, &connection))).into_response()
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<UpdateBody>,
) -> Response {
    let mut connection = match visible(&state, &caller, &id) {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    let current = match state.store.connection_with_secrets(&id) {
        Ok(Some(c)) => c.secrets,
        Ok(None) => return Problem::not_found("connection", &id).into_response(),
        Err(e) => return Problem::internal(e).into_response(),
    };
    let config = body.config.clone().unwrap_or_else(|| connection.config.clone());
    let mut secrets = current.0.clone();
    if let Some(new) = &body.secrets {
        secrets.extend(new.clone());
    }
    let pinned = body.pinned_version.clone().unwrap_or_else(|| connection.pinned_version.clone());
    if body.allow_private_networks == Some(true) && caller != Caller::Operator {
        return Problem::invalid(
            "allow_private_networks",
            "only the operator key may let a connection reach private networks",
        )
        .into_response();
    }
    let connector = match check_fields(
        &state,
        &connection.connector_id,
        pinned.as_deref(),
        &config,
        &secrets,
    ) {
        Ok(connector) => connector,
        Err(p) => return p.into_response(),
    };
    if body.pinned_version.is_some() {
        connection.pinned_sha256 = pinned.is_some().then(|| connector.sha256.clone());
    }
    rules::apply_private_grant(
        &mut connection,
        body.allow_private_networks,
        &connector.manifest,
        &config,
    );
    if let Some(schedules) = &body.schedules {
        if let Err(error) = rules::check_schedules(schedules) {
            return rule_problem(error).into_response();
        }
        connection.schedules = schedules.clone();
    }
    if let Some(name) = body.name {
        connection.name = name;
    }
    if let Some(status) = body.status.as_deref()
        && let Err(error) = rules::set_status(&mut connection, status)
    {
        return rule_problem(error).into_response();
    }
    if body.secrets.is_some() {
        rules::secrets_renewed(&mut connection);
    }
    connection.config = config;
    connection.pinned_version = pinned;
    connection.secret_names = secrets.keys().cloned().collect();
    connection.updated_at = now_ms();
    let new_secrets = body.secrets.is_some().then_some(Secrets(secrets));
    if let Err(e) = state.store.put_connection(&connection, new_secrets.as_ref()) {
        return Problem::internal(e).into_response();
    }
    state.sync.schedule(&connection);
    Json(view(&state, &connection)).into_response()
}

async fn remove(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(p) = visible(&state, &caller, &id) {
        return p.into_response();
    }
    state.sync.unschedule(&id);
    match state.store.delete_connection(&id) {
        Ok(_) => {
            // Session ids and tokens the connector kept for this connection go with it.
            state.runtime.clear_state(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn check(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(p) = visible(&state, &caller, &id) {
        return p.into_response();
    }
    let connection = match state.store.connection_with_secrets(&id) {
        Ok(Some(c)) => c,
        Ok(None) => return Problem::not_found("connection", &id).into_response(),
        Err(e) => return Problem::internal(e).into_response(),
    };
    let connector = match state.sync.resolve_connector(&connection.connection) {
        Ok(c) => c,
        Err(reason) => return Json(json!({"status": "error", "detail": reason})).into_response(),
    };
    let context = crate::sync::call_context(&connection);
    // The connector's own `check` (contract 0.2) when it has one: one cheap request that
    // names the account; else the smallest read it offers.
    let page = PageRequest { page_token: None, since: None, limit: Some(1) };
    let manifest = &connector.manifest;
    let invocation = if manifest.declares(crate::runtime::Operation::Check) {
        Invocation::Check
    } else if manifest.declares(crate::runtime::Operation::ListJobs) {
        Invocation::ListJobs(page)
    } else {
        Invocation::ListStages { job_id: None, page }
    };
    let started = std::time::Instant::now();
    let mut account = None;
    let (status, detail) = match state.runtime.call(&connector, &context, invocation).await {
        Ok(Output::Account(answer)) => {
            let name = crate::runtime::bounds::cap_text(answer.display_name, 200);
            let detail = format!("the ATS accepted these credentials for account `{name}`");
            account = Some(name);
            ("ok", detail)
        }
        Ok(_) => ("ok", "the ATS answered with these credentials".to_string()),
        // The host's egress policy, not the ATS, refused (typed by the runtime).
        Err(error @ CallError::EgressDenied { .. }) => ("denied", error.to_string()),
        Err(CallError::Connector(AtsError::Unauthorized(m) | AtsError::Forbidden(m))) => {
            ("unauthorized", m)
        }
        Err(error @ (CallError::Timeout { .. } | CallError::Connector(AtsError::Transient(_)))) => {
            ("unreachable", error.to_string())
        }
        Err(error @ CallError::Busy { .. }) => ("busy", error.to_string()),
        Err(error) => ("error", error.to_string()),
    };
    // What a private ATS (or whatever a private address answers) said stays with the
    // operator: a tenant key sees the outcome, not the excerpt.
    let hidden = caller != Caller::Operator && connection.connection.private_networks_granted();
    let detail = if hidden {
        format!(
            "{status} (details are shown to the operator only: this connection reaches a private network)"
        )
    } else {
        detail
    };
    let account = account.filter(|_| !hidden);
    Json(json!({"status": status, "detail": detail, "account": account, "connector": connector.info().version, "took_ms": started.elapsed().as_millis() as u64})).into_response()
}
