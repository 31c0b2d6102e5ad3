//! `/v1/inbound/{connection}/{token}`: webhooks from the ATS itself. The connector's
//! `parse-webhook` turns the raw request into change events; each triggers (or joins) the
//! matching sync, so a change seen by a webhook and by later polls is still one event
//! (change detection compares with the stored state). The token in the path authenticates
//! the sender; a wrong token or connection answers 404 alike.

use super::AppState;
use super::openapi::{Access, Routes};
use super::problem::Problem;
use crate::model::{ChangeKind, Field, WebhookRequest};
use crate::runtime::{CallError, Invocation, Operation, Output};
use crate::store::SyncKind;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use std::collections::BTreeSet;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes.add("POST", "/v1/inbound/{connection}/{token}", "inbound", Access::Public, "Receive a webhook from the ATS (the URL is shown on the connection as inbound_webhook_path)", None, post(receive))
}

/// The path an ATS should post its webhooks to for `connection_id`.
pub fn path(state: &AppState, connection_id: &str) -> String {
    format!("/v1/inbound/{connection_id}/{}", state.store.inbound_token(connection_id))
}

async fn receive(
    State(state): State<AppState>,
    Path((connection_id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let expected = state.store.inbound_token(&connection_id);
    let token_ok = expected.len() == token.len()
        && expected.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    let connection = match state.store.connection_with_secrets(&connection_id) {
        Ok(Some(c)) if token_ok => c,
        Ok(_) => return Problem::not_found("inbound webhook", &connection_id).into_response(),
        Err(e) => return Problem::internal(e).into_response(),
    };
    let connector = match state.sync.resolve_connector(&connection.connection) {
        Ok(c) => c,
        Err(reason) => {
            return Problem::new(StatusCode::CONFLICT, "connector not available", reason)
                .into_response();
        }
    };
    let mut kinds = BTreeSet::new();
    let mut changes = 0;
    if connector.manifest.operations.contains(&Operation::ParseWebhook) {
        let request = WebhookRequest {
            headers: headers
                .iter()
                .map(|(k, v)| Field {
                    name: k.as_str().to_string(),
                    value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
                })
                .collect(),
            body: body.to_vec(),
        };
        let context = crate::sync::call_context(&connection);
        match state.runtime.call(&connector, &context, Invocation::ParseWebhook(request)).await {
            Ok(Output::Events(events)) => {
                changes = events.len();
                for event in events {
                    kinds.insert(match event.kind {
                        ChangeKind::JobChanged | ChangeKind::JobDeleted => SyncKind::Jobs,
                        ChangeKind::CandidateChanged
                        | ChangeKind::ApplicationChanged
                        | ChangeKind::ApplicationStageChanged => SyncKind::Applications,
                    });
                }
            }
            Ok(_) => {}
            Err(CallError::Connector(error)) => {
                return Problem::new(
                    StatusCode::BAD_REQUEST,
                    "webhook not understood",
                    crate::runtime::call::describe_ats_error(&error),
                )
                .into_response();
            }
            Err(error) => {
                return Problem::new(
                    StatusCode::BAD_GATEWAY,
                    "connector failed",
                    error.to_string(),
                )
                .into_response();
            }
        }
    } else {
        // Without a parser every webhook means "something changed".
        kinds.extend([SyncKind::Jobs, SyncKind::Applications]);
    }
    let mut runs = Vec::new();
    for kind in kinds {
        match state.sync.sync_now(&connection_id, kind, "webhook") {
            Ok((run_id, coalesced)) => {
                runs.push(json!({"kind": kind, "run_id": run_id, "coalesced": coalesced}))
            }
            // A change of a kind this connector does not read: nothing to sync.
            Err(crate::sync::SyncError::NotOffered { .. }) => {}
            Err(e) => return Problem::internal(e).into_response(),
        }
    }
    (StatusCode::ACCEPTED, Json(json!({"changes": changes, "runs": runs}))).into_response()
}
