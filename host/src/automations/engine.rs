//! Running firings, and the worker that keeps doing it. Each action of a firing is planned
//! ([`super::plan`]) and performed through [`Effects`]; every write goes through the write
//! journal under the key `automation:{firing id}:{action index}:{part}`, so a host killed
//! between two actions resumes after the last one recorded done and a write it made but did
//! not record is replayed from the journal, not repeated. Invite webhooks and orders have
//! ids derived from (firing id, action index), so they are created once too.
//!
//! Failures: transient and rate-limited ones retry with exponential backoff (a Retry-After
//! is honoured) up to [`RetryPolicy::max_attempts`]; anything else stops the firing as
//! failed with the action's index and the reason, until an operator retries it
//! ([`super::outbox::Outbox::retry`]). A disabled or deleted automation, or a deleted
//! connection, skips what is left; a paused connection (or one needing new credentials)
//! makes the firing wait. A panic while running a firing fails that firing, nothing else.

use super::matching::{EngineError, Matcher};
use super::orders::Order;
use super::outbox::{ActionStatus, Firing, FiringStatus, Outbox};
use super::plan::{Effect, PlanError, PlanInputs, plan};
use super::storage::{AutomationStore, expire_due_orders};
use crate::store::{ConnectionStatus, Store};
use crate::webhooks::OutboundEvent;
use crate::writes::journal::JournalKey;
use crate::writes::requests::WriteRequest;
use futures::FutureExt;
use serde_json::{Map, Value, json};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

/// Why an action's effect failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    /// Worth retrying later (transient, rate limited, busy, in progress).
    #[error("{kind}: {message}")]
    Retry { kind: String, message: String, retry_after: Option<Duration> },
    /// Retrying the same thing will fail the same way.
    #[error("{kind}: {message}")]
    Permanent { kind: String, message: String },
}

/// What running a firing needs from the host: ATS writes and webhooks. The host's
/// implementation is [`super::host_effects::HostEffects`]; tests use fakes.
pub trait Effects: Send + Sync {
    /// Performs one write on `connection_id` under the journal key; returns what it did.
    fn write(
        &self,
        connection_id: &str,
        key: JournalKey,
        request: WriteRequest,
    ) -> impl Future<Output = Result<Value, ActionError>> + Send;
    /// Offers a signed webhook to the tenant's subscriptions (idempotent on the event id);
    /// returns how many subscriptions will receive it.
    fn notify(
        &self,
        event: &OutboundEvent,
    ) -> impl Future<Output = Result<usize, ActionError>> + Send;
}

/// Retries of actions, and how long a node holds a firing it runs.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts of one action before the firing fails (the first counts).
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// How long a firing waits for a paused connection before looking again.
    pub paused_wait: Duration,
    /// On a shared store, how long a node's claim on a due firing holds: a firing whose
    /// node died comes due on another node this long after it was claimed. Longer than
    /// the slowest firing (its actions' calls and rate-budget waits together).
    pub firing_lease: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts over about 2 hours: 30 s, 1, 2, 4, 8, 16, 32 min, capped at 1 h.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            paused_wait: Duration::from_secs(300),
            firing_lease: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Events of the log one round matches at most.
const EVENTS_PER_ROUND: usize = 256;
/// Due firings one round runs at most.
const FIRINGS_PER_ROUND: usize = 32;

/// Counts a firing that finished a run (`ats_automation_firings_total{outcome}`).
fn count_firing(firing: &Firing) {
    let outcome = match firing.status {
        FiringStatus::Done => "done",
        FiringStatus::Failed => "failed",
        FiringStatus::Skipped => "skipped",
        FiringStatus::Pending => return,
    };
    crate::metrics::global().automation_firing(outcome);
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The automation engine: matching, firings and orders over its storage and effects.
pub struct Engine<E: Effects> {
    pub store: Arc<dyn Store>,
    pub automations: Arc<dyn AutomationStore>,
    pub outbox: Arc<dyn Outbox>,
    pub effects: E,
    pub policy: RetryPolicy,
    wake: tokio::sync::Notify,
}

/// What one round of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub events: usize,
    pub firings: usize,
    pub orders_expired: usize,
}

/// How running one action ended.
enum Step {
    Done(Option<Value>),
    Skipped(String),
    Retry(ActionError),
    Failed(String, String),
}

impl<E: Effects> Engine<E> {
    pub fn new(
        store: Arc<dyn Store>,
        automations: Arc<dyn AutomationStore>,
        outbox: Arc<dyn Outbox>,
        effects: E,
        policy: RetryPolicy,
    ) -> Self {
        Engine { store, automations, outbox, effects, policy, wake: tokio::sync::Notify::new() }
    }

    pub fn matcher(&self) -> Matcher<'_> {
        Matcher { store: &*self.store, automations: &*self.automations, outbox: &*self.outbox }
    }

    /// Wakes the worker (new events, an enable with backfill, an operator retry).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// One round: match new events, expire due orders, run due firings.
    pub async fn run_round(&self, now: i64) -> Result<Round, EngineError> {
        let events = self.matcher().process_events(EVENTS_PER_ROUND, now).await?;
        let orders_expired = expire_due_orders(&*self.automations, now)
            .await
            .map_err(|e| match e {
                super::storage::OrderFailure::Storage(s) => EngineError::Storage(s),
                other => EngineError::Storage(super::storage::StorageError::Corrupt {
                    key: "orders".into(),
                    reason: other.to_string(),
                }),
            })?
            .len();
        let due = self.outbox.due(now, FIRINGS_PER_ROUND, self.policy.firing_lease).await?;
        let firings = due.len();
        for firing in due {
            let id = firing.id.clone();
            match AssertUnwindSafe(self.run_firing(firing, now)).catch_unwind().await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, firing = %id, "automation firing could not be saved")
                }
                Err(panic) => self.fail_after_panic(&id, &crate::panic_message(&*panic), now).await,
            }
        }
        Ok(Round { events, firings, orders_expired })
    }

    async fn fail_after_panic(&self, id: &str, message: &str, now: i64) {
        tracing::error!(firing = %id, panic = %message, "automation firing panicked");
        let Ok(Some(previous)) = self.outbox.firing(id).await else { return };
        let mut next = previous.clone();
        let index = next.next_action().unwrap_or(0);
        if let Some(action) = next.actions.get_mut(index) {
            action.status = ActionStatus::Failed;
            action.reason = Some(format!("internal error: {message}"));
            action.error = Some("panic".into());
        }
        next.status = FiringStatus::Failed;
        next.failed_action = Some(index);
        next.updated_at = now;
        if let Err(error) = self.outbox.save(&previous, &next).await {
            tracing::error!(%error, firing = %id, "cannot mark a panicked firing failed");
            return;
        }
        if let Some(action) = next.actions.get(index) {
            crate::metrics::global().automation_action(action.action.name(), "failed");
        }
        count_firing(&next);
    }

    /// Runs a pending firing from its next action until it is done, waits or fails.
    pub async fn run_firing(&self, mut firing: Firing, now: i64) -> Result<(), EngineError> {
        let mut previous = firing.clone();
        if let Some(reason) = self.skip_reason(&firing).await? {
            for action in firing.actions.iter_mut().filter(|a| a.status == ActionStatus::Pending) {
                action.status = ActionStatus::Skipped;
                action.reason = Some(reason.clone());
                action.updated_at = now;
                crate::metrics::global().automation_action(action.action.name(), "skipped");
            }
            firing.status = if firing.actions.iter().any(|a| a.status == ActionStatus::Done) {
                FiringStatus::Done
            } else {
                FiringStatus::Skipped
            };
            firing.updated_at = now;
            self.outbox.save(&previous, &firing).await?;
            count_firing(&firing);
            return Ok(());
        }
        if let Some(wait) = self.waiting(&firing).await? {
            firing.next_attempt_at = now.saturating_add(ms(wait));
            firing.updated_at = now;
            return Ok(self.outbox.save(&previous, &firing).await?);
        }
        while let Some(index) = firing.next_action() {
            let step = self.run_action(&firing, index, now).await;
            firing.updated_at = now;
            let run = &mut firing.actions[index];
            run.attempts += 1;
            run.updated_at = now;
            let metrics = crate::metrics::global();
            let action = run.action.name();
            match step {
                Step::Done(detail) => {
                    run.status = ActionStatus::Done;
                    run.detail = detail;
                    run.reason = None;
                    run.error = None;
                    metrics.automation_action(action, "done");
                }
                Step::Skipped(reason) => {
                    run.status = ActionStatus::Skipped;
                    run.reason = Some(reason);
                    metrics.automation_action(action, "skipped");
                }
                Step::Retry(error) if run.attempts < self.policy.max_attempts => {
                    let (kind, message, retry_after) = match error {
                        ActionError::Retry { kind, message, retry_after } => {
                            (kind, message, retry_after)
                        }
                        ActionError::Permanent { kind, message } => (kind, message, None),
                    };
                    run.reason = Some(message);
                    run.error = Some(kind);
                    let delay =
                        self.policy.delay(run.attempts).max(retry_after.unwrap_or_default());
                    firing.next_attempt_at = now.saturating_add(ms(delay));
                    self.outbox.save(&previous, &firing).await?;
                    metrics.automation_action(action, "retrying");
                    metrics.automation_firing("retrying");
                    return Ok(());
                }
                Step::Retry(error) => {
                    run.status = ActionStatus::Failed;
                    run.reason = Some(format!("gave up after {} attempts: {error}", run.attempts));
                    run.error = Some(match error {
                        ActionError::Retry { kind, .. } | ActionError::Permanent { kind, .. } => {
                            kind
                        }
                    });
                    firing.status = FiringStatus::Failed;
                    firing.failed_action = Some(index);
                    metrics.automation_action(action, "failed");
                }
                Step::Failed(kind, reason) => {
                    run.status = ActionStatus::Failed;
                    run.reason = Some(reason);
                    run.error = Some(kind);
                    firing.status = FiringStatus::Failed;
                    firing.failed_action = Some(index);
                    metrics.automation_action(action, "failed");
                }
            }
            self.outbox.save(&previous, &firing).await?;
            if firing.status == FiringStatus::Failed {
                tracing::warn!(firing = %firing.id, action = index, "automation firing failed");
                count_firing(&firing);
                return Ok(());
            }
            previous = firing.clone();
        }
        firing.status = FiringStatus::Done;
        self.outbox.save(&previous, &firing).await?;
        count_firing(&firing);
        Ok(())
    }

    /// Why what is left of a firing is skipped, if it is.
    async fn skip_reason(&self, firing: &Firing) -> Result<Option<String>, EngineError> {
        let automation = self.automations.automation(&firing.automation_id).await?;
        Ok(match automation {
            None => Some("the automation was deleted".into()),
            Some(a) if !a.enabled => Some("the automation was disabled".into()),
            Some(_) if self.store.connection(&firing.connection_id).await?.is_none() => {
                Some("the connection was deleted".into())
            }
            Some(_) => None,
        })
    }

    /// How long to wait before looking again, when the connection cannot write now.
    async fn waiting(&self, firing: &Firing) -> Result<Option<Duration>, EngineError> {
        let status = self.store.connection(&firing.connection_id).await?.map(|c| c.status);
        Ok(matches!(status, Some(ConnectionStatus::Paused | ConnectionStatus::NeedsReauth))
            .then_some(self.policy.paused_wait))
    }

    async fn run_action(&self, firing: &Firing, index: usize, now: i64) -> Step {
        let inputs = PlanInputs { store: &*self.store, automations: &*self.automations };
        let effect = match plan(firing, index, &inputs).await {
            Ok(effect) => effect,
            Err(PlanError::Impossible(reason)) => return Step::Failed("impossible".into(), reason),
            Err(error) => {
                return Step::Retry(ActionError::Retry {
                    kind: "storage".into(),
                    message: error.to_string(),
                    retry_after: None,
                });
            }
        };
        match effect {
            Effect::Nothing { reason } => Step::Skipped(reason),
            Effect::Writes { writes } => {
                let mut detail = Map::new();
                for write in writes {
                    let key = JournalKey {
                        tenant_id: firing.tenant_id.clone(),
                        connection_id: write.connection_id.clone(),
                        idempotency_key: format!("automation:{}:{index}:{}", firing.id, write.part),
                    };
                    match self.effects.write(&write.connection_id, key, write.request).await {
                        Ok(outcome) => {
                            detail.insert(write.part, outcome);
                        }
                        Err(ActionError::Permanent { kind, message }) => {
                            return Step::Failed(kind, message);
                        }
                        Err(retry) => return Step::Retry(retry),
                    }
                }
                Step::Done(Some(Value::Object(detail)))
            }
            Effect::Notify { event } => match self.effects.notify(&event).await {
                Ok(0) => Step::Failed(
                    "no-subscription".into(),
                    format!(
                        "no enabled webhook subscription of tenant `{}` wants `{}` events; subscribe the product's URL, then retry the firing",
                        firing.tenant_id, event.event_type
                    ),
                ),
                Ok(n) => {
                    Step::Done(Some(json!({"webhook_event_id": event.id, "subscriptions": n})))
                }
                Err(ActionError::Permanent { kind, message }) => Step::Failed(kind, message),
                Err(retry) => Step::Retry(retry),
            },
            Effect::Order { order, expiry, event } => {
                let order = Order::new(*order, now, expiry);
                if let Err(error) = self.automations.insert_order(&order).await {
                    return Step::Retry(ActionError::Retry {
                        kind: "storage".into(),
                        message: error.to_string(),
                        retry_after: None,
                    });
                }
                match self.effects.notify(&event).await {
                    Ok(n) => Step::Done(Some(
                        json!({"order_id": order.id, "webhook_event_id": event.id, "subscriptions": n}),
                    )),
                    Err(ActionError::Permanent { kind, message }) => Step::Failed(kind, message),
                    Err(retry) => Step::Retry(retry),
                }
            }
        }
    }
}

impl<E: Effects + 'static> Engine<E> {
    /// Runs the worker until the process ends: a round when woken or every `tick`.
    pub fn spawn(self: Arc<Self>, tick: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.run_round(crate::time::now_ms()).await {
                    // A full round leaves more to do (a backlog of events or due
                    // firings): the next round starts at once.
                    Ok(round)
                        if round.events >= EVENTS_PER_ROUND
                            || round.firings >= FIRINGS_PER_ROUND =>
                    {
                        tokio::task::yield_now().await;
                        continue;
                    }
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "automation round failed"),
                }
                crate::time::until_woken_or(&self.wake, tick).await;
            }
        })
    }
}
