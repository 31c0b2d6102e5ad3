//! `WebhooksService`: `add` (`{serviceCall, webhookUrl, klantGlobal}`, validated as OWS
//! would) and `delete` of webhook subscriptions; `getList` is answered by the dispatch.

use super::{RpcError, Shared, lock, text};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

impl Shared {
    /// `WebhooksService.add({serviceCall, webhookUrl, klantGlobal})` → the new uid.
    pub(super) fn webhook_add(&self, args: &[Value]) -> Result<Value, RpcError> {
        let fields = args
            .first()
            .and_then(Value::as_object)
            .ok_or_else(|| RpcError::invalid_params("the webhook must be an object"))?;
        let allowed = ["serviceCall", "webhookUrl", "klantGlobal"];
        if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(RpcError::invalid_params(&format!("unknown webhook field `{unknown}`")));
        }
        let call = fields.get("serviceCall").and_then(Value::as_str).unwrap_or("");
        let call_ok = call.split_once('.').is_some_and(|(service, verb)| {
            service.ends_with("Service")
                && service.chars().all(|c| c.is_ascii_alphanumeric())
                && !verb.is_empty()
                && verb.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !call_ok {
            return Err(RpcError::invalid_params(&format!(
                "serviceCall must be <Service>.<method>, got `{call}`"
            )));
        }
        let url = fields.get("webhookUrl").and_then(Value::as_str).unwrap_or("");
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(RpcError::invalid_params(&format!("invalid webhookUrl `{url}`")));
        }
        if fields.get("klantGlobal").is_some_and(|g| !g.is_boolean()) {
            return Err(RpcError::invalid_params("klantGlobal must be a boolean"));
        }
        let uid = self.next_webhook.fetch_add(1, Ordering::SeqCst) as u64 + 1;
        let mut row = fields.clone();
        row.insert("uid".into(), json!(uid.to_string()));
        lock(&self.webhooks).insert(uid, row);
        Ok(json!(uid.to_string()))
    }

    pub(super) fn webhook_delete(&self, args: &[Value]) -> Result<Value, RpcError> {
        let uid = args
            .first()
            .and_then(|v| text(Some(v)).parse::<u64>().ok())
            .ok_or_else(|| RpcError::invalid_params("bad webhook uid"))?;
        match lock(&self.webhooks).remove(&uid) {
            Some(_) => Ok(json!(true)),
            None => Err(RpcError::not_found("Webhook")),
        }
    }
}
