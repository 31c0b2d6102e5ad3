//! The delivery worker: fans events out to matching subscriptions and performs due
//! attempts. A 2xx delivers; 408/425/429/5xx, timeouts and connection errors retry with
//! exponential backoff and jitter (a 429's `Retry-After` is honoured); `410 Gone` disables
//! the subscription; any other 4xx, or the last failed attempt, dead-letters the delivery,
//! which stays replayable through the API with the same id.

use super::ledger::{Ledger, LedgerError};
use super::{Delivery, DeliveryStatus, OutboundEvent, Subscription, signing};
use crate::runtime::egress::is_private;
use crate::time::now_ms;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Retry schedule and limits of deliveries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryPolicy {
    /// Attempts before a delivery is dead-lettered (the first attempt counts).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles with each further attempt.
    #[serde(with = "crate::runtime::limits::millis")]
    pub base_delay: Duration,
    /// Longest delay between two attempts.
    #[serde(with = "crate::runtime::limits::millis")]
    pub max_delay: Duration,
    /// Time a receiver has to answer one attempt.
    #[serde(with = "crate::runtime::limits::millis")]
    pub timeout: Duration,
    /// Allow receivers on loopback/private networks (tests, the demo, on-premise setups).
    pub allow_private_networks: bool,
}

impl Default for DeliveryPolicy {
    /// 8 attempts over roughly 4 hours: 30 s, 1 min, 2, 4, 8, 16, 32, 64 min (capped at 2 h).
    fn default() -> Self {
        DeliveryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(2 * 3600),
            timeout: Duration::from_secs(20),
            allow_private_networks: false,
        }
    }
}

/// Why a receiver URL is refused at subscription time.
#[derive(Debug, thiserror::Error)]
pub enum UrlRejected {
    #[error("`{0}` is not a URL: {1}")]
    Malformed(String, String),
    #[error("webhook URLs must be http or https, not `{0}`")]
    Scheme(String),
    #[error(
        "`{0}` is a loopback/private address; the host does not deliver there unless \
         `webhooks.allow_private_networks` is set"
    )]
    Private(String),
}

pub struct Dispatcher {
    ledger: Ledger,
    client: reqwest::Client,
    policy: DeliveryPolicy,
    wake: tokio::sync::Notify,
}

impl Dispatcher {
    pub fn new(ledger: Ledger, policy: DeliveryPolicy) -> Result<Self, reqwest::Error> {
        // The same guarded client as connector egress: checked DNS, no redirects, no proxy.
        let client = crate::runtime::http::guarded_client(!policy.allow_private_networks)
            .timeout(policy.timeout)
            .user_agent(concat!("ats-host-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Dispatcher { ledger, client, policy, wake: tokio::sync::Notify::new() })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    /// Checks a receiver URL before a subscription is stored.
    pub fn check_url(&self, url: &str) -> Result<(), UrlRejected> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| UrlRejected::Malformed(url.to_string(), e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(UrlRejected::Scheme(parsed.scheme().to_string()));
        }
        if parsed.host().is_none() {
            return Err(UrlRejected::Malformed(url.to_string(), "no host".into()));
        }
        let literal = crate::runtime::egress::literal_address(&parsed);
        if !self.policy.allow_private_networks && literal.is_some_and(is_private) {
            return Err(UrlRejected::Private(url.to_string()));
        }
        Ok(())
    }

    /// Creates one delivery per enabled subscription of the event's tenant that wants it.
    /// Idempotent per (subscription, event).
    pub async fn offer(&self, event: &OutboundEvent) -> Result<usize, LedgerError> {
        let subscriptions = self.ledger.subscriptions(Some(&event.tenant_id)).await?;
        self.offer_to(&subscriptions, event).await
    }

    /// [`Dispatcher::offer`] to `subscriptions`, the tenant's as read for a batch of events.
    async fn offer_to(
        &self,
        subscriptions: &[Subscription],
        event: &OutboundEvent,
    ) -> Result<usize, LedgerError> {
        let mut created = 0;
        for subscription in subscriptions {
            if subscription.enabled
                && subscription.wants(&event.event_type)
                && self.ledger.enqueue(subscription, event).await?
            {
                created += 1;
            }
        }
        if created > 0 {
            self.wake.notify_one();
        }
        Ok(created)
    }

    /// Wakes the worker (after a replay or a new subscription).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Performs every attempt due now, concurrently; returns how many were made.
    pub async fn run_due(&self) -> Result<usize, LedgerError> {
        // A claim outlasts one attempt (its timeout) with room for the save after it.
        let lease = self.policy.timeout * 2 + Duration::from_secs(5);
        let due = self.ledger.due(now_ms(), 64, lease).await?;
        let count = due.len();
        let attempts = due.into_iter().map(|delivery| self.attempt(delivery));
        for result in futures::future::join_all(attempts).await {
            result?;
        }
        Ok(count)
    }

    /// Runs the worker until the process ends: attempts when woken or every `tick`.
    pub fn spawn(self: Arc<Self>, tick: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.run_due().await {
                    tracing::error!(%error, "webhook delivery round failed");
                }
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(tick) => {}
                }
            }
        })
    }

    async fn attempt(&self, delivery: Delivery) -> Result<(), LedgerError> {
        let Some(subscription) = self.ledger.subscription(&delivery.subscription_id).await? else {
            let mut next = delivery.clone();
            next.status = DeliveryStatus::Cancelled;
            next.last_error = Some("subscription deleted".into());
            return self.ledger.save(&delivery, &next).await;
        };
        let outcome = self.send(&subscription, &delivery).await;
        let mut next = delivery.clone();
        next.attempts += 1;
        next.updated_at = now_ms();
        let label = match outcome {
            Outcome::Delivered(code) => {
                next.status = DeliveryStatus::Delivered;
                next.last_status_code = Some(code);
                next.last_error = None;
                "delivered"
            }
            Outcome::Gone => {
                self.ledger
                    .save(&delivery, &{
                        let mut gone = next.clone();
                        gone.status = DeliveryStatus::Cancelled;
                        gone.last_status_code = Some(410);
                        gone.last_error = Some("receiver answered 410 Gone".into());
                        gone
                    })
                    .await?;
                self.ledger.disable(&subscription.id, "receiver answered 410 Gone").await?;
                crate::metrics::global().webhook_delivery("disabled");
                tracing::warn!(subscription = %subscription.id, "webhook subscription disabled: receiver answered 410 Gone");
                return Ok(());
            }
            Outcome::Retry { code, error, retry_after }
                if next.attempts < self.policy.max_attempts =>
            {
                next.last_status_code = code;
                next.last_error = Some(error);
                next.next_attempt_at = now_ms().saturating_add(
                    i64::try_from(self.backoff(next.attempts).max(retry_after).as_millis())
                        .unwrap_or(i64::MAX),
                );
                "retrying"
            }
            Outcome::Retry { code, error, .. } | Outcome::Refused { code, error } => {
                next.status = DeliveryStatus::DeadLetter;
                next.last_status_code = code;
                next.last_error = Some(error);
                tracing::warn!(delivery = %next.id, attempts = next.attempts, error = ?next.last_error, "webhook delivery dead-lettered");
                "dead-letter"
            }
        };
        crate::metrics::global().webhook_delivery(label);
        self.ledger.save(&delivery, &next).await
    }

    async fn send(&self, subscription: &Subscription, delivery: &Delivery) -> Outcome {
        let body = serde_json::to_vec(&delivery.payload).unwrap_or_default();
        let timestamp = now_ms() / 1000;
        let signature = signing::sign(&subscription.secret, &delivery.id, timestamp, &body);
        let request = self
            .client
            .post(&subscription.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        match request.send().await {
            Ok(response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or_default()
                    .min(self.policy.max_delay);
                match code {
                    200..=299 => Outcome::Delivered(code),
                    410 => Outcome::Gone,
                    408 | 425 | 429 | 500..=599 => Outcome::Retry {
                        code: Some(code),
                        error: format!("receiver answered {code}"),
                        retry_after,
                    },
                    _ => Outcome::Refused {
                        code: Some(code),
                        error: format!(
                            "receiver answered {code}; fix the receiver and replay the delivery"
                        ),
                    },
                }
            }
            Err(error) => Outcome::Retry {
                code: None,
                error: if error.is_timeout() {
                    format!("receiver did not answer within {:?}", self.policy.timeout)
                } else {
                    format!("cannot reach the receiver: {}", crate::error_chain(&error))
                },
                retry_after: Duration::ZERO,
            },
        }
    }

    /// Delay after the `attempts`-th failed attempt: base × 2^(attempts−1), capped, ±20 %.
    fn backoff(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(20);
        let delay = self.policy.base_delay.saturating_mul(1 << exponent).min(self.policy.max_delay);
        delay.mul_f64(rand::rng().random_range(0.8..1.2))
    }
}

enum Outcome {
    Delivered(u16),
    Gone,
    Retry { code: Option<u16>, error: String, retry_after: Duration },
    Refused { code: Option<u16>, error: String },
}

impl Dispatcher {
    /// Offers every event of the store's log after the saved fan-out cursor, then moves
    /// the cursor. Crash-safe: deliveries are idempotent per (subscription, event).
    pub async fn fan_out_from(
        &self,
        store: &dyn crate::store::Store,
    ) -> Result<usize, FanOutError> {
        let mut offered = 0;
        loop {
            let after = self.ledger.fan_out_cursor().await?.and_then(|c| c.parse::<u64>().ok());
            let events = store.events(None, after, 500).await?;
            let Some(last) = events.last().map(|e| e.seq) else { return Ok(offered) };
            // Each tenant's subscriptions are read once per batch, not once per event.
            let mut subscriptions: HashMap<String, Vec<Subscription>> = HashMap::new();
            for event in &events {
                if !subscriptions.contains_key(&event.tenant_id) {
                    let of_tenant = self.ledger.subscriptions(Some(&event.tenant_id)).await?;
                    subscriptions.insert(event.tenant_id.clone(), of_tenant);
                }
                let of_tenant = subscriptions.get(&event.tenant_id).map_or(&[][..], Vec::as_slice);
                let mut data = event.data.clone();
                if let Some(map) = data.as_object_mut() {
                    map.insert("connection_id".into(), serde_json::json!(event.connection_id));
                }
                let outbound = OutboundEvent {
                    id: event.id.clone(),
                    tenant_id: event.tenant_id.clone(),
                    event_type: event.event_type.clone(),
                    data,
                    occurred_at: event.occurred_at,
                };
                self.offer_to(of_tenant, &outbound).await?;
                offered += 1;
            }
            self.ledger.set_fan_out_cursor(&last.to_string()).await?;
        }
    }

    /// Runs the fan-out whenever `appended` is notified, and every `tick`.
    pub fn spawn_fan_out(
        self: Arc<Self>,
        store: Arc<dyn crate::store::Store>,
        appended: Arc<tokio::sync::Notify>,
        tick: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.fan_out_from(store.as_ref()).await {
                    tracing::error!(%error, "webhook fan-out failed");
                }
                crate::time::until_woken_or(&appended, tick).await;
            }
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
