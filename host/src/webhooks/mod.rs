//! Outbound webhooks: per-tenant subscriptions with event filters, one delivery per
//! (subscription, event) with a stable id, signed attempts, retries with exponential backoff,
//! automatic disabling on `410 Gone`, a dead-letter state and replay.
//!
//! | module | owns |
//! |---|---|
//! | [`signing`] | the Standard Webhooks signature |
//! | [`ledger`] | subscriptions and deliveries on sled, the due-queue |
//! | [`dispatcher`] | the worker that fans events out and performs attempts |

pub mod dispatcher;
pub mod ledger;
pub mod signing;

use serde::{Deserialize, Serialize};

/// A tenant's subscription to events.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    /// Event types delivered (`job.created`, `application.stage_changed`, ...); `*` or an
    /// empty list means every event. A trailing `.*` matches a family (`job.*`).
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why the host disabled the subscription (e.g. the receiver answered 410).
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    /// Signing secret; never serialised in API answers (see [`SubscriptionView`]).
    pub secret: String,
}

impl Subscription {
    /// Does this subscription want events of `event_type`?
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty()
            || self.event_types.iter().any(|filter| {
                filter == "*"
                    || filter == event_type
                    || filter.strip_suffix(".*").is_some_and(|family| {
                        event_type.strip_prefix(family).is_some_and(|rest| rest.starts_with('.'))
                    })
            })
    }
}

/// A subscription as the API shows it: everything but the secret.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
}

impl From<&Subscription> for SubscriptionView {
    fn from(s: &Subscription) -> Self {
        SubscriptionView {
            id: s.id.clone(),
            tenant_id: s.tenant_id.clone(),
            url: s.url.clone(),
            event_types: s.event_types.clone(),
            enabled: s.enabled,
            disabled_reason: s.disabled_reason.clone(),
            created_at: s.created_at,
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed (or the receiver refused it for good); replayable.
    DeadLetter,
    /// The subscription was disabled before the delivery succeeded; replayable.
    Cancelled,
}

/// One event to one subscription. The id is derived from both, so it is stable across
/// retries and replays and receivers can dedupe on `webhook-id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub subscription_id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// Unix milliseconds of the next attempt while pending.
    pub next_attempt_at: i64,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
impl Delivery {
    /// The delivery of `event` to `subscription` before its first attempt, due `now`.
    pub fn first(subscription: &Subscription, event: &OutboundEvent, now: i64) -> Delivery {
        Delivery {
            id: ledger::delivery_id(&subscription.id, &event.id),
            subscription_id: subscription.id.clone(),
            tenant_id: subscription.tenant_id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            payload: serde_json::to_value(event).unwrap_or_default(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_status_code: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// An event offered for delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboundEvent {
    pub id: String,
    pub tenant_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: serde_json::Value,
    /// Unix milliseconds.
    pub occurred_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(filters: &[&str]) -> Subscription {
        Subscription {
            id: "s".into(),
            tenant_id: "t".into(),
            url: "http://127.0.0.1/".into(),
            event_types: filters.iter().map(|f| f.to_string()).collect(),
            enabled: true,
            disabled_reason: None,
            created_at: 0,
            secret: "k".into(),
        }
    }

    #[test]
    fn filters_match_exact_types_families_and_everything() {
        assert!(subscription(&[]).wants("job.created"));
        assert!(subscription(&["*"]).wants("application.created"));
        assert!(subscription(&["job.*"]).wants("job.closed"));
        assert!(!subscription(&["job.*"]).wants("jobs.closed"));
        assert!(!subscription(&["job.*"]).wants("application.created"));
        assert!(subscription(&["application.stage_changed"]).wants("application.stage_changed"));
        assert!(!subscription(&["application.stage_changed"]).wants("application.created"));
    }
}
