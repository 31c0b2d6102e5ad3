//! `/v1/inbound/{connection}/{token}`: webhooks from the ATS itself. The connector's
//! `parse-webhook` turns the raw request into change events; each triggers (or joins) the
//! matching sync, so a change seen by a webhook and by later polls is still one event
//! (change detection compares with the stored state). The token in the path authenticates
//! the sender; a wrong token or connection answers 404 alike.

use super::AppState;
use super::openapi::{Access, Routes};
use super::problem::Problem;
use crate::model::{ChangeKind, Field, WebhookReply, WebhookRequest};
use crate::runtime::{CallError, Invocation, Operation, Output};
use crate::store::SyncKind;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeSet;

pub fn routes(routes: Routes<AppState>) -> Routes<AppState> {
    routes.add("POST", "/v1/inbound/{connection}/{token}", "inbound", Access::Public, "Receive a webhook from the ATS (the URL is shown on the connection as inbound_webhook_path)", None, post(receive))
        .accepts_bytes("*/*")
        .replies::<InboundSummary>(202)
}

/// What a webhook started (when the connector does not answer the ATS itself).
#[derive(Serialize, JsonSchema)]
struct InboundSummary {
    /// Change events the connector read from the webhook.
    changes: usize,
    runs: Vec<InboundRun>,
}

/// A sync the webhook started or joined.
#[derive(Serialize, JsonSchema)]
struct InboundRun {
    kind: SyncKind,
    run_id: String,
    coalesced: bool,
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
    let connection = match state.store.connection_with_secrets(&connection_id).await {
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
    let mut reply = None;
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
            Ok(Output::Webhook(outcome)) => {
                changes = outcome.events.len();
                reply = outcome.reply;
                for event in outcome.events {
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
        match state.sync.sync_now(&connection_id, kind, crate::store::Trigger::Webhook).await {
            Ok((run_id, coalesced)) => runs.push(InboundRun { kind, run_id, coalesced }),
            // A change of a kind this connector does not read: nothing to sync.
            Err(crate::sync::SyncError::NotOffered { .. }) => {}
            Err(e) => return Problem::internal(e).into_response(),
        }
    }
    match reply {
        Some(reply) => connector_reply(reply),
        None => (StatusCode::ACCEPTED, Json(InboundSummary { changes, runs })).into_response(),
    }
}

/// Largest webhook reply body a connector may have the host send.
const MAX_REPLY_BYTES: usize = 64 << 10;

/// The connector's answer to its ATS (e.g. Salesforce's SOAP acknowledgement), bounded: a
/// status outside 200..=499, a content type that is not a header value or a body over
/// 64 KiB is replaced by the host's own `202`.
fn connector_reply(reply: WebhookReply) -> Response {
    let status = StatusCode::from_u16(reply.status)
        .ok()
        .filter(|status| (200..500).contains(&status.as_u16()));
    let content_type = HeaderValue::from_str(&reply.content_type).ok();
    match (status, content_type) {
        (Some(status), Some(content_type)) if reply.body.len() <= MAX_REPLY_BYTES => {
            (status, [(header::CONTENT_TYPE, content_type)], reply.body).into_response()
        }
        _ => {
            tracing::warn!(
                status = reply.status,
                bytes = reply.body.len(),
                "a connector's webhook reply was refused (status, content type or size)"
            );
            StatusCode::ACCEPTED.into_response()
        }
    }
}
