//! OTYS webhooks: OTYS posts `{"request":{"method":"Otys.Services.X.y","args":[session, uid,
//! changes]}}` when a subscribed service call runs. Vacancy, Candidate and Procedure calls
//! become change events; `add` calls carry no uid in `args` and other services are ignored.

use crate::records::text;
use ats_connector_sdk::prelude::*;
use serde_json::Value;

pub fn parse(request: &WebhookRequest) -> Result<Vec<ChangeEvent>, AtsError> {
    let body: Value = serde_json::from_slice(&request.body)
        .map_err(|e| AtsError::InvalidInput(format!("webhook body is not JSON: {e}")))?;
    let call = body
        .get("request")
        .ok_or_else(|| AtsError::InvalidInput("webhook body has no `request`".into()))?;
    let method = call
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| AtsError::InvalidInput("webhook body has no `request.method`".into()))?;
    let args = call.get("args").and_then(Value::as_array).cloned().unwrap_or_default();
    let service_call = method.strip_prefix("Otys.Services.").unwrap_or(method);
    let Some((service, verb)) = service_call.split_once('.') else {
        return Err(AtsError::InvalidInput(format!(
            "webhook method `{method}` is not Service.verb"
        )));
    };
    let changes = args.get(2);
    let kind = match (service, verb) {
        ("VacancyService", "delete") => ChangeKind::JobDeleted,
        ("VacancyService", _) => ChangeKind::JobChanged,
        ("CandidateService", _) => ChangeKind::CandidateChanged,
        ("ProcedureService", _) if touches_status(changes) => ChangeKind::ApplicationStageChanged,
        ("ProcedureService", _) => ChangeKind::ApplicationChanged,
        _ => return Ok(Vec::new()),
    };
    let remote_id = args.get(1).and_then(|id| text(&serde_json::json!({ "id": id }), "id"));
    let Some(remote_id) = remote_id else { return Ok(Vec::new()) };
    Ok(vec![ChangeEvent { kind, remote_id, occurred_at: None, raw: body.to_string() }])
}

fn touches_status(changes: Option<&Value>) -> bool {
    changes
        .and_then(Value::as_object)
        .is_some_and(|fields| fields.keys().any(|key| key.starts_with("ProcedureStatus")))
}
