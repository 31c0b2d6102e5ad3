//! `/v1/tenants/{tenant}/keys`: the operator mints, lists and revokes tenant API keys. A key
//! is shown once, when it is created; only its hash is stored.

use super::AppState;
use super::auth::KeyRecord;
use super::auth::Operator;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use super::schemas::List;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add(
            "GET",
            "/v1/tenants/{tenant}/keys",
            "tenants",
            Access::Operator,
            "List a tenant's API keys (ids and labels, never the keys)",
            None,
            get(list_keys),
        )
        .replies::<List<KeyRecord>>(200)
        .add(
            "POST",
            "/v1/tenants/{tenant}/keys",
            "tenants",
            Access::Operator,
            "Create a tenant API key; the key is in the answer, once",
            Some(json!({"label": "sourcing product"})),
            axum::routing::post(create_key),
        )
        .accepts::<CreateKey>()
        .replies::<NewKey>(201)
        .add(
            "DELETE",
            "/v1/tenants/{tenant}/keys/{key}",
            "tenants",
            Access::Operator,
            "Revoke a tenant API key",
            None,
            delete(revoke_key),
        )
        .replies_empty(204)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    #[serde(default)]
    label: String,
}

/// A new tenant key: the key itself, shown this once, and its record.
#[derive(Serialize, JsonSchema)]
struct NewKey {
    key: String,
    record: KeyRecord,
}

/// Tenant ids: 1–64 of `[A-Za-z0-9._-]` ([`crate::connections::check_tenant_id`]).
pub fn check_tenant_id(id: &str) -> Result<(), Problem> {
    crate::connections::check_tenant_id(id).map_err(super::connections::rule_problem)
}

async fn list_keys(
    State(state): State<AppState>,
    _op: Operator,
    Path(tenant): Path<String>,
) -> Response {
    match state.keys.list(Some(&tenant)).await {
        Ok(keys) => Json(List::of(keys)).into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}

async fn create_key(
    State(state): State<AppState>,
    _op: Operator,
    Path(tenant): Path<String>,
    Body(body): Body<CreateKey>,
) -> Response {
    if let Err(problem) = check_tenant_id(&tenant) {
        return problem.into_response();
    }
    match state.keys.create_tenant_key(&tenant, &body.label).await {
        Ok((key, record)) => (StatusCode::CREATED, Json(NewKey { key, record })).into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}

async fn revoke_key(
    State(state): State<AppState>,
    _op: Operator,
    Path((tenant, key)): Path<(String, String)>,
) -> Response {
    match state.keys.revoke(&key, Some(&tenant)).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => Problem::not_found("API key", &key).into_response(),
        Err(error) => Problem::internal(error).into_response(),
    }
}
