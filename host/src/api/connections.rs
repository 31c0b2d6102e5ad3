//! `/v1/tenants` and `/v1/connections`: tenants, and their connections to an ATS. Config
//! is validated against the connector's declared fields (every missing, unknown or misplaced
//! field listed at once); secrets are write-only, encrypted at rest, never returned or logged.
//! A check calls the ATS once and reports ok / unauthorized / unreachable / denied / busy.

use super::AppState;
use super::auth::{Caller, Operator};
use super::openapi::{Access, Routes};
use super::problem::{Body, FieldProblem, Problem};
use super::schemas::List;
use crate::connections::{self as rules, RuleError};
use crate::ids::new_id;
use crate::model::{AtsError, PageRequest};
use crate::runtime::{CallError, Invocation, LoadedConnector, Output};
use crate::store::{Connection, ConnectionStatus, Schedules, Secrets, Tenant};
use crate::time::now_ms;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("GET", "/v1/tenants", "tenants", Access::Operator, "List tenants", None, get(list_tenants))
        .replies::<List<Tenant>>(200)
        .add("POST", "/v1/tenants", "tenants", Access::Operator, "Create a tenant", Some(json!({"id": "acme", "name": "Acme Recruiting"})), post(create_tenant))
        .accepts::<TenantBody>().replies::<Tenant>(201)
        .add("GET", "/v1/connections", "connections", Access::AnyKey, "List connections (a tenant key sees its own)", None, get(list))
        .replies::<List<ConnectionView>>(200)
        .add("POST", "/v1/connections", "connections", Access::AnyKey, "Create a connection; config is checked against the connector's declared fields", Some(json!({"tenant_id": "acme", "connector_id": "otys", "name": "Acme OTYS", "config": {"base-url": "https://ows.otys.nl"}, "secrets": {"api-key": "..."}, "schedules": {"jobs_every_secs": 10800, "applications_every_secs": 300}})), post(create))
        .accepts::<CreateBody>().replies::<ConnectionView>(201)
        .add("GET", "/v1/connections/{id}", "connections", Access::AnyKey, "One connection (secrets are never returned)", None, get(show))
        .replies::<ConnectionView>(200)
        .add("PATCH", "/v1/connections/{id}", "connections", Access::AnyKey, "Update name, config, secrets, schedules, pinned version or status; new secrets resume a needs-reauth connection", Some(json!({"secrets": {"api-key": "new"}})), axum::routing::patch(update))
        .accepts::<UpdateBody>().replies::<ConnectionView>(200)
        .add("DELETE", "/v1/connections/{id}", "connections", Access::AnyKey, "Delete a connection and its synced data", None, axum::routing::delete(remove))
        .replies_empty(204)
        .add("POST", "/v1/connections/{id}/check", "connections", Access::AnyKey, "Call the ATS once: ok, unauthorized, unreachable, denied (the host's egress policy refused the request), busy (the connector's sandbox slots are in use) or error", None, post(check))
        .replies::<CheckAnswer>(200)
}

/// A connection as the API shows it: the stored record (never its secrets), when its syncs
/// are next due, and where its ATS posts webhooks.
#[derive(Serialize, JsonSchema)]
struct ConnectionView {
    #[serde(flatten)]
    connection: Connection,
    /// Unix milliseconds, by sync kind (`jobs`, `applications`).
    next_sync_at: BTreeMap<String, i64>,
    inbound_webhook_path: String,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum CheckStatus {
    Ok,
    Unauthorized,
    Unreachable,
    /// The host's egress policy refused the request.
    Denied,
    /// The connector's sandbox slots are in use.
    Busy,
    Error,
}

impl CheckStatus {
    fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Unauthorized => "unauthorized",
            CheckStatus::Unreachable => "unreachable",
            CheckStatus::Denied => "denied",
            CheckStatus::Busy => "busy",
            CheckStatus::Error => "error",
        }
    }
}

/// The answer of a check: the ATS was called, or no connector version could be.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
enum CheckAnswer {
    Called {
        status: CheckStatus,
        detail: String,
        /// The account the credentials belong to (connectors with `check`).
        account: Option<String>,
        /// The connector version called.
        connector: String,
        took_ms: u64,
    },
    /// No connector version to call (`status` is `error`).
    Unavailable { status: CheckStatus, detail: String },
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TenantBody {
    id: String,
    #[serde(default)]
    name: String,
}

async fn list_tenants(State(state): State<AppState>, _op: Operator) -> Response {
    match state.store.tenants().await {
        Ok(tenants) => Json(List::of(tenants)).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn create_tenant(
    State(state): State<AppState>,
    _op: Operator,
    Body(body): Body<TenantBody>,
) -> Response {
    match rules::create_tenant(state.store.as_ref(), &body.id, &body.name).await {
        Ok(tenant) => (StatusCode::CREATED, Json(tenant)).into_response(),
        Err(error) => rule_problem(error).into_response(),
    }
}

#[derive(Deserialize, JsonSchema)]
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    config: Option<BTreeMap<String, String>>,
    secrets: Option<BTreeMap<String, String>>,
    /// `null` unpins (use the active version).
    #[serde(default, deserialize_with = "double_option::deserialize")]
    #[schemars(with = "Option<String>")]
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
pub async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Connection, Problem> {
    match state.store.connection(id).await {
        Ok(Some(c)) if caller.can_see(&c.tenant_id) => Ok(c),
        Ok(_) => Err(Problem::not_found("connection", id)),
        Err(e) => Err(Problem::internal(e)),
    }
}

fn view(state: &AppState, connection: &Connection) -> ConnectionView {
    ConnectionView {
        next_sync_at: next_due(state, &connection.id),
        inbound_webhook_path: super::inbound::path(state, &connection.id),
        connection: connection.clone(),
    }
}

/// When each sync of a connection is next due (unix milliseconds), by kind.
pub(super) fn next_due(state: &AppState, connection_id: &str) -> BTreeMap<String, i64> {
    state.sync.next_due(connection_id).into_iter().map(|(k, at)| (k.as_str().into(), at)).collect()
}

async fn list(State(state): State<AppState>, caller: Caller) -> Response {
    match state.store.connections(caller.tenant()).await {
        Ok(all) => Json(List::of(all.iter().map(|c| view(&state, c)).collect())).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    match visible(&state, &caller, &id).await {
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
                    issues.into_iter().map(|i| FieldProblem::new(i.field, i.problem)).collect(),
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
    match state.store.tenant(&tenant_id).await {
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
            if let Err(error) =
                rules::ensure_tenant(state.store.as_ref(), &tenant_id, &tenant_id).await
            {
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
    if let Err(e) = state.store.put_connection(&connection, Some(&Secrets(body.secrets))).await {
        return Problem::internal(e).into_response();
    }
    state.sync.schedule(&connection).await;
    tracing::info!(connection = %connection.id, tenant = %connection.tenant_id, connector = %connection.connector_id, "connection created");
    (StatusCode::CREATED, Json(view(&state, &connection))).into_response()
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<UpdateBody>,
) -> Response {
    let mut connection = match visible(&state, &caller, &id).await {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    let current = match state.store.connection_with_secrets(&id).await {
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
    if let Err(e) = state.store.put_connection(&connection, new_secrets.as_ref()).await {
        return Problem::internal(e).into_response();
    }
    state.sync.schedule(&connection).await;
    Json(view(&state, &connection)).into_response()
}

async fn remove(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    state.sync.unschedule(&id);
    match state.store.delete_connection(&id).await {
        Ok(_) => {
            // Session ids and tokens the connector kept for this connection go with it, as
            // do its stage mapping and push defaults.
            state.runtime.clear_state(&id).await;
            if let Err(error) = state.automations.automations.forget_connection(&id).await {
                return Problem::internal(error).into_response();
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn check(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    let connection = match state.store.connection_with_secrets(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Problem::not_found("connection", &id).into_response(),
        Err(e) => return Problem::internal(e).into_response(),
    };
    let connector = match state.sync.resolve_connector(&connection.connection) {
        Ok(c) => c,
        Err(reason) => {
            let answer = CheckAnswer::Unavailable { status: CheckStatus::Error, detail: reason };
            return Json(answer).into_response();
        }
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
            (CheckStatus::Ok, detail)
        }
        Ok(_) => (CheckStatus::Ok, "the ATS answered with these credentials".to_string()),
        // The host's egress policy, not the ATS, refused (typed by the runtime).
        Err(error @ CallError::EgressDenied { .. }) => (CheckStatus::Denied, error.to_string()),
        Err(CallError::Connector(AtsError::Unauthorized(m) | AtsError::Forbidden(m))) => {
            (CheckStatus::Unauthorized, m)
        }
        Err(error @ (CallError::Timeout { .. } | CallError::Connector(AtsError::Transient(_)))) => {
            (CheckStatus::Unreachable, error.to_string())
        }
        Err(error @ CallError::Busy { .. }) => (CheckStatus::Busy, error.to_string()),
        Err(error) => (CheckStatus::Error, error.to_string()),
    };
    // What a private ATS (or whatever a private address answers) said stays with the
    // operator: a tenant key sees the outcome, not the excerpt.
    let hidden = caller != Caller::Operator && connection.connection.private_networks_granted();
    let detail = if hidden {
        format!(
            "{} (details are shown to the operator only: this connection reaches a private network)",
            status.as_str()
        )
    } else {
        detail
    };
    let account = account.filter(|_| !hidden);
    Json(CheckAnswer::Called {
        status,
        detail,
        account,
        connector: connector.info().version,
        took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
    .into_response()
}
