//! Webhook subscriptions through the Carerix Webhooks API (beta, switched on per tenant by
//! Carerix; research §2.6, `CX-WH` [H]): a token with scope `urn:cx/webhooks:data:manage`,
//! an *application* (`POST {webhooks-url}/applications/` `{"_kind": "Application", name}`)
//! and hooks under it (`/applications/<id>/webhooks`). Request and answer shapes beyond
//! that are [L] (`CX-3P-C`): a hook is `{"_kind": "Webhook", url, filters: [{eventType}]}`,
//! records carry `_id`, the application list is `GET /applications?fields=name` and a hook
//! is removed with `DELETE /applications/<id>/webhooks/<hook>`.
//!
//! Hooks go under one application per tenant, found by its name (`webhook-application`)
//! and created on first use, so a hook id alone identifies a subscription.

use crate::auth::{self, Api};
use crate::settings::Settings;
use crate::webhook::kinds_of;
use ats_connector_sdk::errors::excerpt;
use ats_connector_sdk::http::{Request, Response, url_encode};
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

fn send(
    settings: &Settings,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Response, AtsError> {
    let url = format!("{}{path}", settings.webhooks_url);
    auth::send(settings, Api::Webhooks, |token| {
        let request = Request::new(method, &url).bearer(token).header("accept", "application/json");
        match body {
            Some(body) => request.json(body),
            None => Ok(request),
        }
    })
}

/// The `_id` (or `id`) of a Webhooks API record.
fn record_id(record: &Value) -> Option<String> {
    ["_id", "id"].iter().find_map(|key| match record.get(*key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn without_id(what: &str, response: &Response) -> AtsError {
    AtsError::Remote(RemoteFailure {
        status: response.status(),
        body_excerpt: format!("the {what} answer has no `_id`: {}", excerpt(response.body())),
    })
}

/// The id of the connector's application, created when `create` and missing.
fn application(settings: &Settings, create: bool) -> Result<Option<String>, AtsError> {
    let listed: Value =
        send(settings, "GET", "/applications?fields=name", None)?.error_for_status()?.json()?;
    let items = match &listed {
        Value::Array(items) => items.as_slice(),
        other => ["items", "data", "content"]
            .iter()
            .find_map(|key| other.get(*key).and_then(Value::as_array))
            .map_or(&[][..], Vec::as_slice),
    };
    let found = items
        .iter()
        .find(|app| app.get("name").and_then(Value::as_str) == Some(&settings.webhook_application))
        .and_then(record_id);
    if found.is_some() || !create {
        return Ok(found);
    }
    let body = json!({"_kind": "Application", "name": settings.webhook_application});
    let response = send(settings, "POST", "/applications/", Some(&body))?.error_for_status()?;
    let created: Value = response.json()?;
    record_id(&created).map(Some).ok_or_else(|| without_id("application", &response))
}

/// The configured event types that deliver the `kinds` asked for (all when empty).
fn event_types(settings: &Settings, kinds: &[ChangeKind]) -> Result<Vec<String>, AtsError> {
    let chosen: Vec<String> = settings
        .webhook_events
        .iter()
        .filter(|event| kinds.is_empty() || kinds_of(event).iter().any(|k| kinds.contains(k)))
        .cloned()
        .collect();
    if chosen.is_empty() {
        return Err(AtsError::Unsupported(format!(
            "no event type in config `webhook-events` announces {kinds:?}"
        )));
    }
    Ok(chosen)
}

pub fn register(
    settings: &Settings,
    subscription: &WebhookSubscription,
) -> Result<WriteReceipt, AtsError> {
    let url = subscription.url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(AtsError::InvalidInput(format!("`{url}` is not an http(s) URL")));
    }
    let filters: Vec<Value> = event_types(settings, &subscription.kinds)?
        .into_iter()
        .map(|event| json!({"eventType": event}))
        .collect();
    let application = application(settings, true)?.unwrap_or_default();
    let body = json!({"_kind": "Webhook", "url": url, "filters": filters});
    let path = format!("/applications/{}/webhooks", url_encode(&application));
    let response = send(settings, "POST", &path, Some(&body))?.error_for_status()?;
    let hook: Value = response.json()?;
    let remote_id = record_id(&hook).ok_or_else(|| without_id("webhook", &response))?;
    Ok(WriteReceipt {
        remote_id: Some(remote_id),
        remark: subscription.secret.as_ref().map(|_| {
            "Carerix signs deliveries with its own key (Cx-Signature header); the secret was not sent".into()
        }),
    })
}

/// Removes hook `remote_id`; a hook already gone is no error (the receipt says so).
pub fn unregister(settings: &Settings, remote_id: &str) -> Result<WriteReceipt, AtsError> {
    let hook = remote_id.trim();
    if hook.is_empty() || !hook.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
        return Err(AtsError::InvalidInput(format!("`{hook}` is not a Carerix webhook id")));
    }
    let gone = |why: String| WriteReceipt { remote_id: Some(hook.to_string()), remark: Some(why) };
    let Some(application) = application(settings, false)? else {
        return Ok(gone(format!(
            "no webhook application `{}`: nothing to remove",
            settings.webhook_application
        )));
    };
    let path = format!("/applications/{}/webhooks/{hook}", url_encode(&application));
    let response = send(settings, "DELETE", &path, None)?;
    if matches!(response.status(), 404 | 410) {
        return Ok(gone("the webhook was already removed".into()));
    }
    response.error_for_status()?;
    Ok(WriteReceipt { remote_id: Some(hook.to_string()), remark: None })
}
