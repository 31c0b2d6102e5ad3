//! `/v1/connections/{id}/ats-webhook`: register the connection's webhook in the ATS itself
//! (through the connector's `register-webhook`), pointing at the connection's inbound URL
//! under the host's public URL, and remove it again. See [`crate::ats_webhook`].

use super::AppState;
use super::auth::Caller;
use super::connections::visible;
use super::openapi::{Access, Routes};
use super::problem::{Body, Problem};
use crate::ats_webhook::{self, RegistrationError};
use crate::model::ChangeKind;
use crate::store::AtsWebhook;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes
        .add("POST", "/v1/connections/{id}/ats-webhook", "connections", Access::AnyKey, "Register this connection's webhook in the ATS (connectors that declare register-webhook): the ATS then posts changes to the connection's inbound URL under public_url", Some(json!({"public_url": "https://ats-host.example.com", "kinds": ["JobChanged", "ApplicationStageChanged"]})), post(register))
        .accepts::<RegisterBody>()
        .replies::<Registered>(201)
        .add("DELETE", "/v1/connections/{id}/ats-webhook", "connections", Access::AnyKey, "Remove this connection's webhook from the ATS", None, axum::routing::delete(unregister))
        .replies_empty(204)
}

/// The webhook registered in the ATS.
#[derive(Serialize, JsonSchema)]
struct Registered {
    ats_webhook: Option<AtsWebhook>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    /// Where the ATS reaches this host, e.g. `https://ats-host.example.com`.
    public_url: String,
    /// The changes to be told about; empty or absent: all the ATS offers.
    #[serde(default)]
    kinds: Vec<ChangeKind>,
}

fn problem(error: RegistrationError) -> Response {
    match error {
        RegistrationError::NotFound(id) => Problem::not_found("connection", &id).into_response(),
        RegistrationError::ConnectorUnavailable(reason) => {
            Problem::new(StatusCode::CONFLICT, "connector not available", reason).into_response()
        }
        error @ RegistrationError::NotOffered { .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not offered by the connector",
            error.to_string(),
        )
        .into_response(),
        RegistrationError::BadPublicUrl(detail) => {
            Problem::invalid("public_url", detail).into_response()
        }
        error @ RegistrationError::NotRegistered => {
            Problem::conflict(error.to_string()).into_response()
        }
        error @ RegistrationError::NoRemoteId => {
            Problem::new(StatusCode::BAD_GATEWAY, "connector failed", error.to_string())
                .into_response()
        }
        RegistrationError::Call(error) => super::writes::call_problem(error),
        RegistrationError::Store(error) => Problem::internal(error).into_response(),
    }
}

async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<RegisterBody>,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    let registered = ats_webhook::register(
        &state.runtime,
        state.store.as_ref(),
        &state.sync,
        &id,
        &body.public_url,
        body.kinds,
    )
    .await;
    match registered {
        Ok(connection) => {
            (StatusCode::CREATED, Json(Registered { ats_webhook: connection.ats_webhook }))
                .into_response()
        }
        Err(error) => problem(error),
    }
}

async fn unregister(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    if let Err(p) = visible(&state, &caller, &id).await {
        return p.into_response();
    }
    match ats_webhook::unregister(&state.runtime, state.store.as_ref(), &state.sync, &id).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => problem(error),
    }
}
