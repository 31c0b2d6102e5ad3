//! The engine's [`Effects`] on the running host: writes through `writes::execute` (the
//! connection's connector, rate budget and idempotency journal) and webhooks through the
//! delivery dispatcher. Errors are sorted into retry-later and permanent from their typed
//! variants, never from message text. [`outcome_detail`] is the one place that reads a
//! write's answer.

use super::engine::{ActionError, Effects};
use crate::model::AtsError;
use crate::runtime::{CallError, Runtime};
use crate::store::Store;
use crate::sync::SyncEngine;
use crate::webhooks::OutboundEvent;
use crate::webhooks::dispatcher::Dispatcher;
use crate::writes::journal::{Journal, JournalError, JournalKey};
use crate::writes::requests::WriteRequest;
use crate::writes::{WriteAnswer, WriteError, WriteTarget, execute};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The host's parts the engine acts through.
#[derive(Clone)]
pub struct HostEffects {
    pub store: Arc<dyn Store>,
    pub runtime: Arc<Runtime>,
    pub sync: Arc<SyncEngine>,
    pub journal: Journal,
    pub webhooks: Arc<Dispatcher>,
}

/// The engine as the running host has it (the API's `AppState` holds one).
pub type HostEngine = super::engine::Engine<HostEffects>;

fn retry(kind: &str, message: impl Into<String>, retry_after: Option<Duration>) -> ActionError {
    ActionError::Retry { kind: kind.into(), message: message.into(), retry_after }
}

fn permanent(kind: &str, message: impl Into<String>) -> ActionError {
    ActionError::Permanent { kind: kind.into(), message: message.into() }
}

/// What a finished write reports in the firing (the adapter to the write's answer type).
pub fn outcome_detail(answer: &WriteAnswer) -> Value {
    json!({"outcome": serde_json::to_value(&answer.outcome).unwrap_or(Value::Null), "replayed": answer.replayed})
}

/// Sorts a failed write into retry-later or permanent.
pub fn classify(error: WriteError) -> ActionError {
    let text = error.to_string();
    match error {
        WriteError::RateBudget(refused) => retry("rate-budget", text, Some(refused.retry_after)),
        WriteError::Journal(JournalError::InProgress(_)) => retry("in-progress", text, None),
        WriteError::Journal(JournalError::Storage(_)) => retry("journal", text, None),
        WriteError::Journal(JournalError::KeyReused(_)) => permanent(
            "changed",
            format!(
                "{text} (the action's write changed since it first ran, e.g. a new stage mapping)"
            ),
        ),
        WriteError::Call(call) => classify_call(call),
        WriteError::Invalid { .. } => permanent("invalid", text),
        WriteError::Unsupported { .. } => permanent("unsupported", text),
        other => permanent("failed", other.to_string()),
    }
}

fn classify_call(error: CallError) -> ActionError {
    let kind = error.kind();
    let text = error.to_string();
    match &error {
        CallError::Connector(AtsError::RateLimited(limit)) => {
            retry(kind, text, limit.retry_after_seconds.map(|s| Duration::from_secs(u64::from(s))))
        }
        CallError::Connector(AtsError::Transient(_))
        | CallError::Timeout { .. }
        | CallError::Busy { .. } => retry(kind, text, None),
        CallError::Connector(AtsError::Remote(remote)) if remote.status >= 500 => {
            retry(kind, text, None)
        }
        _ => permanent(kind, text),
    }
}

impl Effects for HostEffects {
    async fn write(
        &self,
        connection_id: &str,
        key: JournalKey,
        request: WriteRequest,
    ) -> Result<Value, ActionError> {
        let with_secrets = self
            .store
            .connection_with_secrets(connection_id)
            .await
            .map_err(|e| retry("store", e.to_string(), None))?
            .ok_or_else(|| permanent("not-found", format!("no connection `{connection_id}`")))?;
        if with_secrets.connection.tenant_id != key.tenant_id {
            return Err(permanent(
                "forbidden",
                format!("connection `{connection_id}` belongs to another tenant"),
            ));
        }
        let connector = self
            .sync
            .resolve_connector(&with_secrets.connection)
            .map_err(|reason| retry("connector-unavailable", reason, None))?;
        let target = WriteTarget {
            runtime: &self.runtime,
            connector,
            context: crate::sync::call_context(&with_secrets),
            budgets: Some(&self.sync.budgets),
            budget_wait: self.sync.config().write_budget_wait,
        };
        match execute(&target, &self.journal, Some(key), request).await {
            Ok(answer) => Ok(outcome_detail(&answer)),
            Err(WriteError::Call(CallError::Connector(AtsError::Conflict(message)))) => {
                // The ATS already has it (a tag already set): the action's aim holds.
                Ok(json!({"outcome": "exists", "detail": message}))
            }
            Err(error) => Err(classify(error)),
        }
    }

    async fn notify(&self, event: &OutboundEvent) -> Result<usize, ActionError> {
        let subscriptions = self
            .webhooks
            .ledger()
            .subscriptions(Some(&event.tenant_id))
            .await
            .map_err(|e| retry("webhooks", e.to_string(), None))?;
        let wanting =
            subscriptions.iter().filter(|s| s.enabled && s.wants(&event.event_type)).count();
        self.webhooks.offer(event).await.map_err(|e| retry("webhooks", e.to_string(), None))?;
        Ok(wanting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RateLimit, RemoteFailure};

    #[test]
    fn call_errors_sort_into_retry_and_permanent() {
        let limited = CallError::Connector(AtsError::RateLimited(RateLimit {
            retry_after_seconds: Some(7),
            message: "slow".into(),
        }));
        assert!(
            matches!(classify(WriteError::Call(limited)), ActionError::Retry { retry_after: Some(d), .. } if d == Duration::from_secs(7))
        );
        assert!(matches!(
            classify(WriteError::Call(CallError::Connector(AtsError::Transient("x".into())))),
            ActionError::Retry { .. }
        ));
        let server = CallError::Connector(AtsError::Remote(RemoteFailure {
            status: 503,
            body_excerpt: String::new(),
        }));
        assert!(matches!(classify(WriteError::Call(server)), ActionError::Retry { .. }));
        let client = CallError::Connector(AtsError::Remote(RemoteFailure {
            status: 400,
            body_excerpt: String::new(),
        }));
        assert!(matches!(classify(WriteError::Call(client)), ActionError::Permanent { .. }));
        assert!(matches!(
            classify(WriteError::Call(CallError::Connector(AtsError::InvalidInput("f".into())))),
            ActionError::Permanent { .. }
        ));
        assert!(matches!(
            classify(WriteError::Journal(JournalError::InProgress("k".into()))),
            ActionError::Retry { .. }
        ));
        assert!(matches!(
            classify(WriteError::Journal(JournalError::KeyReused("k".into()))),
            ActionError::Permanent { .. }
        ));
    }
}
