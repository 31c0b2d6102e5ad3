//! OTYS webhooks: OTYS posts `{"request":{"method":"Otys.Services.X.y","args":[session, uid,
//! changes]}}` when a subscribed service call runs. Vacancy, Candidate and Procedure calls
//! become change events; `add` calls carry no uid in `args` and other services are ignored.
//!
//! Subscriptions are made per service call with `WebhooksService.add` / `getList` /
//! `delete`, as the official plugin registers its own.

use crate::records::text;
use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

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

/// The change kinds a service call's webhook can be parsed into (see [`parse`]); none for a
/// service `parse` ignores.
fn kinds_of(service_call: &str) -> &'static [ChangeKind] {
    match service_call.split_once('.') {
        Some(("VacancyService", "delete")) => &[ChangeKind::JobDeleted],
        Some(("VacancyService", _)) => &[ChangeKind::JobChanged],
        Some(("CandidateService", _)) => &[ChangeKind::CandidateChanged],
        Some(("ProcedureService", _)) => {
            &[ChangeKind::ApplicationChanged, ChangeKind::ApplicationStageChanged]
        }
        _ => &[],
    }
}

/// One subscription per configured service call whose changes were asked for
/// (`WebhooksService.add({serviceCall, webhookUrl, klantGlobal: true})`), reusing a live
/// subscription of the same call to the same URL. The receipt's `remote-id` is the
/// subscriptions' uids, comma-joined. A failure removes what this call created.
pub fn register(
    settings: &Settings,
    subscription: &WebhookSubscription,
) -> Result<WriteReceipt, AtsError> {
    let url = subscription.url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(AtsError::InvalidInput(format!("webhook url `{url}` is not http(s)")));
    }
    let calls: Vec<&str> = settings
        .webhook_service_calls
        .iter()
        .map(String::as_str)
        .filter(|call| {
            subscription.kinds.is_empty()
                || kinds_of(call).iter().any(|kind| subscription.kinds.contains(kind))
        })
        .collect();
    if calls.is_empty() {
        return Err(AtsError::InvalidInput(format!(
            "none of the webhook-service-calls ({}) reports the requested kinds",
            settings.webhook_service_calls.join(", ")
        )));
    }
    let live = list(settings)?;
    let mut uids = Vec::new();
    let mut created = Vec::new();
    for call in &calls {
        let existing = live.iter().find(|row| {
            row.get("serviceCall").and_then(Value::as_str) == Some(call)
                && row.get("webhookUrl").and_then(Value::as_str) == Some(url)
        });
        if let Some(uid) = existing.and_then(|row| text(row, "uid")) {
            uids.push(uid);
            continue;
        }
        match add(settings, call, url) {
            Ok(uid) => {
                created.push(uid.clone());
                uids.push(uid);
            }
            Err(error) => {
                for uid in &created {
                    if let Err(cleanup) = delete(settings, uid) {
                        log(
                            Level::Warn,
                            &format!("cannot remove webhook subscription {uid}: {cleanup:?}"),
                        );
                    }
                }
                return Err(error);
            }
        }
    }
    let mut remark = format!(
        "{} OTYS webhook subscription(s) ({}), {} new",
        uids.len(),
        calls.join(", "),
        created.len()
    );
    if subscription.secret.is_some() {
        remark.push_str("; OTYS does not sign webhook deliveries, the secret is not used");
    }
    Ok(WriteReceipt { remote_id: Some(uids.join(",")), remark: Some(remark) })
}

/// Deletes every subscription in `remote_id` (uids, comma-joined); one already gone counts
/// as deleted.
pub fn unregister(settings: &Settings, remote_id: &str) -> Result<WriteReceipt, AtsError> {
    let uids: Vec<&str> = remote_id.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
    if uids.is_empty() {
        return Err(AtsError::InvalidInput("remote-id names no webhook subscription".into()));
    }
    let mut gone = 0;
    for uid in &uids {
        match delete(settings, uid) {
            Ok(()) => {}
            Err(AtsError::NotFound(_)) => gone += 1,
            Err(error) => return Err(error),
        }
    }
    Ok(WriteReceipt {
        remote_id: Some(remote_id.to_string()),
        remark: Some(format!(
            "{} OTYS webhook subscription(s) deleted, {gone} already gone",
            uids.len() - gone
        )),
    })
}

/// The live subscriptions (`WebhooksService.getList`, session only, as the plugin calls it).
fn list(settings: &Settings) -> Result<Vec<Value>, AtsError> {
    let result = rpc::call(settings, "Otys.Services.WebhooksService.getList", Vec::new())?;
    Ok(crate::query::list_output(&result))
}

/// Adds one subscription; its uid is the answer, or, when OTYS answers no uid, the one the
/// list then shows for this call and URL.
fn add(settings: &Settings, call: &str, url: &str) -> Result<String, AtsError> {
    let fields = json!({ "serviceCall": call, "webhookUrl": url, "klantGlobal": true });
    let result = rpc::call(settings, "Otys.Services.WebhooksService.add", vec![fields])?;
    if let Some(uid) = text(&json!({ "uid": result }), "uid") {
        return Ok(uid);
    }
    list(settings)?
        .iter()
        .filter(|row| {
            row.get("serviceCall").and_then(Value::as_str) == Some(call)
                && row.get("webhookUrl").and_then(Value::as_str) == Some(url)
        })
        .find_map(|row| text(row, "uid"))
        .ok_or_else(|| {
            AtsError::Remote(RemoteFailure {
                status: 200,
                body_excerpt: format!("WebhooksService.add for {call} answered no uid: {result}"),
            })
        })
}

fn delete(settings: &Settings, uid: &str) -> Result<(), AtsError> {
    rpc::call(settings, "Otys.Services.WebhooksService.delete", vec![json!(uid)]).map(|_| ())
}
