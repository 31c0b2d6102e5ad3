//! Carerix webhook events (beta Webhooks API) → change events. Payload per research §2.6
//! ([L]): `{id, time, type, applicationId, webhookId, tenant, data: {entityId,
//! changedFields}}`; the event type names the entity and action, spelled inconsistently
//! (`cremployee:created`, `CREmployee:updated`), so it is matched case-insensitively on its
//! entity part. A match whose changed fields include the stage is a stage change. The
//! `Cx-Signature` (RSA-SHA256) is not verified here: the host's secret inbound URL
//! authenticates the sender.

use ats_connector_sdk::prelude::*;
use serde_json::Value;

/// What an event type is about, by its entity part (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    Job,
    Candidate,
    Application,
}

fn entity_of(event_type: &str) -> Option<Entity> {
    let entity = event_type.split([':', '.']).next().unwrap_or_default().to_ascii_lowercase();
    match entity.as_str() {
        "crvacancy" | "vacancy" | "crpublication" | "publication" | "crjob" | "job" => {
            Some(Entity::Job)
        }
        "cremployee" | "employee" | "candidate" => Some(Entity::Candidate),
        "crmatch" | "match" => Some(Entity::Application),
        _ => None,
    }
}

fn is_deletion(event_type: &str) -> bool {
    event_type.to_ascii_lowercase().ends_with("deleted")
}

/// The change kinds events of `event_type` (`CRMatch:updated`) can announce.
pub fn kinds_of(event_type: &str) -> Vec<ChangeKind> {
    match entity_of(event_type) {
        Some(Entity::Job) if is_deletion(event_type) => vec![ChangeKind::JobDeleted],
        Some(Entity::Job) => vec![ChangeKind::JobChanged],
        Some(Entity::Candidate) => vec![ChangeKind::CandidateChanged],
        Some(Entity::Application) => {
            vec![ChangeKind::ApplicationChanged, ChangeKind::ApplicationStageChanged]
        }
        None => Vec::new(),
    }
}

fn parse_one(event: &Value) -> Result<Option<ChangeEvent>, AtsError> {
    let event_type = event.get("type").and_then(Value::as_str).unwrap_or_default();
    let data = event.get("data").cloned().unwrap_or(Value::Null);
    let remote_id = match data.get("entityId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(AtsError::InvalidInput(format!(
                "Carerix webhook event `{event_type}` has no data.entityId"
            )));
        }
    };
    let changed: Vec<String> = data
        .get("changedFields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase).collect()
        })
        .unwrap_or_default();
    let kind = match entity_of(event_type) {
        Some(Entity::Job) if is_deletion(event_type) => ChangeKind::JobDeleted,
        Some(Entity::Job) => ChangeKind::JobChanged,
        Some(Entity::Candidate) => ChangeKind::CandidateChanged,
        Some(Entity::Application) => {
            let stage = changed.iter().any(|f| f == "stage" || f.starts_with("statusinfo"));
            if stage { ChangeKind::ApplicationStageChanged } else { ChangeKind::ApplicationChanged }
        }
        None => return Ok(None),
    };
    Ok(Some(ChangeEvent {
        kind,
        remote_id,
        occurred_at: event
            .get("time")
            .and_then(Value::as_str)
            .and_then(crate::qualifier::to_rfc3339),
        raw: event.to_string(),
    }))
}

/// One event or an array of events; entities the contract has no change kind for are
/// skipped.
pub fn parse(request: &WebhookRequest) -> Result<Vec<ChangeEvent>, AtsError> {
    let body: Value = serde_json::from_slice(&request.body)
        .map_err(|e| AtsError::InvalidInput(format!("Carerix webhook body is not JSON: {e}")))?;
    let events = match body {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut out = Vec::new();
    for event in &events {
        out.extend(parse_one(event)?);
    }
    Ok(out)
}
