//! Subscriptions and deliveries on sled. Trees: `webhooks.subscriptions` (id → JSON),
//! `webhooks.deliveries` (id → JSON), `webhooks.due` (`{next_attempt_ms:020}/{id}` → empty,
//! the queue of pending attempts in time order) and `webhooks.meta` (the fan-out cursor).
//! A delivery and its queue entry change in one transaction, so a crash never loses or
//! doubles a pending attempt.
//!
//! The dispatcher sees storage only through [`DeliveryLedger`]. A networked backend for
//! several host nodes implements it on PostgreSQL: `deliveries` with a `next_attempt_at`
//! index in place of the `due` tree, [`DeliveryLedger::due`] claiming rows with `SELECT …
//! WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at FOR
//! UPDATE SKIP LOCKED LIMIT n` plus a lease column, so each attempt is made by one node;
//! `enqueue` an `INSERT … ON CONFLICT (id) DO NOTHING` (the delivery id is stable).

use super::{Delivery, DeliveryStatus, OutboundEvent, Subscription};
use crate::time::now_ms;
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("webhook store: {0}")]
    Storage(String),
    #[error("webhook store holds an unreadable record under {key}: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("no webhook subscription `{0}`")]
    UnknownSubscription(String),
    #[error("no webhook delivery `{0}`")]
    UnknownDelivery(String),
}

impl From<sled::Error> for LedgerError {
    fn from(error: sled::Error) -> Self {
        LedgerError::Storage(error.to_string())
    }
}

/// What webhook delivery needs from storage (see the module doc for a networked backend).
#[async_trait::async_trait]
pub trait DeliveryLedger: Send + Sync {
    async fn put_subscription(&self, subscription: &Subscription) -> Result<(), LedgerError>;
    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, LedgerError>;
    async fn delete_subscription(&self, id: &str) -> Result<bool, LedgerError>;
    /// Every subscription, optionally only one tenant's.
    async fn subscriptions(&self, tenant: Option<&str>) -> Result<Vec<Subscription>, LedgerError>;
    /// Creates the delivery of `event` to `subscription` unless it exists (fan-out is
    /// idempotent: running it twice after a crash delivers once). Returns whether it is new.
    async fn enqueue(
        &self,
        subscription: &Subscription,
        event: &OutboundEvent,
    ) -> Result<bool, LedgerError>;
    async fn delivery(&self, id: &str) -> Result<Option<Delivery>, LedgerError>;
    /// Deliveries, optionally of one tenant and in one status, newest first.
    async fn deliveries(
        &self,
        tenant: Option<&str>,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, LedgerError>;
    /// Pending deliveries whose next attempt is due at `now`, oldest first.
    /// On a shared store each is claimed for `lease` (longer than one attempt), so no other
    /// node attempts it meanwhile; a dead node's claims come due again after it.
    async fn due(
        &self,
        now: i64,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<Delivery>, LedgerError>;
    /// Records a delivery's new state (`previous` is what was stored before), keeping the
    /// due-queue in step atomically.
    async fn save(&self, previous: &Delivery, next: &Delivery) -> Result<(), LedgerError>;
    async fn fan_out_cursor(&self) -> Result<Option<String>, LedgerError>;
    async fn set_fan_out_cursor(&self, cursor: &str) -> Result<(), LedgerError>;

    /// Disables a subscription and cancels its pending deliveries.
    async fn disable(&self, id: &str, reason: &str) -> Result<(), LedgerError> {
        let mut subscription = self
            .subscription(id)
            .await?
            .ok_or_else(|| LedgerError::UnknownSubscription(id.into()))?;
        subscription.enabled = false;
        subscription.disabled_reason = Some(reason.to_string());
        self.put_subscription(&subscription).await?;
        for delivery in self.deliveries(Some(&subscription.tenant_id), None).await? {
            if delivery.subscription_id == id && delivery.status == DeliveryStatus::Pending {
                let mut cancelled = delivery.clone();
                cancelled.status = DeliveryStatus::Cancelled;
                cancelled.last_error = Some(format!("subscription disabled: {reason}"));
                self.save(&delivery, &cancelled).await?;
            }
        }
        Ok(())
    }

    /// Puts a dead-lettered or cancelled delivery back in the queue for one more round of
    /// attempts, with the same id.
    async fn replay(&self, id: &str) -> Result<Delivery, LedgerError> {
        let previous =
            self.delivery(id).await?.ok_or_else(|| LedgerError::UnknownDelivery(id.into()))?;
        let mut next = previous.clone();
        next.status = DeliveryStatus::Pending;
        next.attempts = 0;
        next.next_attempt_at = now_ms();
        next.updated_at = next.next_attempt_at;
        self.save(&previous, &next).await?;
        Ok(next)
    }
}

/// The ledger the dispatcher holds.
pub type Ledger = std::sync::Arc<dyn DeliveryLedger>;

/// The webhook trees of one sled database.
#[derive(Clone)]
pub struct SledLedger {
    subscriptions: sled::Tree,
    deliveries: sled::Tree,
    due: sled::Tree,
    meta: sled::Tree,
    /// Signing secrets are stored sealed with the store's key, like connection secrets.
    secret_box: crate::store::SecretBox,
}

/// The prefix of a sealed signing secret as stored (base64 of the sealed bytes follows). A
/// secret stored before secrets were sealed has none, reads as it is, and is sealed on the
/// next write.
const SEALED: &str = "sealed:";

const CURSOR_KEY: &[u8] = b"fan-out-cursor";

impl SledLedger {
    pub fn open(db: &sled::Db, secret_box: crate::store::SecretBox) -> Result<Self, LedgerError> {
        Ok(SledLedger {
            subscriptions: db.open_tree("webhooks.subscriptions")?,
            deliveries: db.open_tree("webhooks.deliveries")?,
            due: db.open_tree("webhooks.due")?,
            meta: db.open_tree("webhooks.meta")?,
            secret_box,
        })
    }

    fn seal_subscription(&self, subscription: &Subscription) -> Vec<u8> {
        encode(&seal_signing_secret(&self.secret_box, subscription))
    }

    fn open_subscription(&self, key: &str, raw: &[u8]) -> Result<Subscription, LedgerError> {
        open_signing_secret(&self.secret_box, key, decode(key, raw)?)
    }
}

/// The subscription as stored: its signing secret sealed with the host's key.
pub fn seal_signing_secret(
    secret_box: &crate::store::SecretBox,
    subscription: &Subscription,
) -> Subscription {
    use base64::Engine as _;
    let sealed = secret_box.seal_bytes(subscription.secret.as_bytes());
    let secret = format!("{SEALED}{}", base64::engine::general_purpose::STANDARD.encode(sealed));
    Subscription { secret, ..subscription.clone() }
}

/// The subscription as stored (under `key`) with its signing secret opened; a secret
/// stored before secrets were sealed reads as it is.
pub fn open_signing_secret(
    secret_box: &crate::store::SecretBox,
    key: &str,
    mut subscription: Subscription,
) -> Result<Subscription, LedgerError> {
    use base64::Engine as _;
    if let Some(sealed) = subscription.secret.strip_prefix(SEALED) {
        let corrupt = |reason: String| LedgerError::Corrupt { key: key.to_string(), reason };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|e| corrupt(format!("sealed secret: {e}")))?;
        let plain = secret_box
            .open_bytes(&bytes)
            .map_err(|e| corrupt(format!("signing secret does not open with this key: {e}")))?;
        subscription.secret =
            String::from_utf8(plain).map_err(|e| corrupt(format!("signing secret: {e}")))?;
    }
    Ok(subscription)
}

#[async_trait::async_trait]
impl DeliveryLedger for SledLedger {
    async fn put_subscription(&self, subscription: &Subscription) -> Result<(), LedgerError> {
        self.subscriptions
            .insert(subscription.id.as_bytes(), self.seal_subscription(subscription))?;
        Ok(())
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, LedgerError> {
        self.subscriptions
            .get(id.as_bytes())?
            .map(|raw| self.open_subscription(id, &raw))
            .transpose()
    }

    async fn delete_subscription(&self, id: &str) -> Result<bool, LedgerError> {
        Ok(self.subscriptions.remove(id.as_bytes())?.is_some())
    }

    /// Every subscription, optionally only one tenant's.
    async fn subscriptions(&self, tenant: Option<&str>) -> Result<Vec<Subscription>, LedgerError> {
        let mut all = Vec::new();
        for entry in self.subscriptions.iter() {
            let (key, raw) = entry?;
            let subscription = self.open_subscription(&String::from_utf8_lossy(&key), &raw)?;
            if tenant.is_none_or(|t| t == subscription.tenant_id) {
                all.push(subscription);
            }
        }
        Ok(all)
    }

    /// Creates the delivery of `event` to `subscription` unless it exists (fan-out is
    /// idempotent: running it twice after a crash delivers once). Returns whether it is new.
    async fn enqueue(
        &self,
        subscription: &Subscription,
        event: &OutboundEvent,
    ) -> Result<bool, LedgerError> {
        let id = delivery_id(&subscription.id, &event.id);
        if self.deliveries.contains_key(id.as_bytes())? {
            return Ok(false);
        }
        self.write(None, &Delivery::first(subscription, event, now_ms()))?;
        Ok(true)
    }

    async fn delivery(&self, id: &str) -> Result<Option<Delivery>, LedgerError> {
        self.deliveries.get(id.as_bytes())?.map(|raw| decode(id, &raw)).transpose()
    }

    /// Deliveries, optionally of one tenant and in one status, newest first.
    async fn deliveries(
        &self,
        tenant: Option<&str>,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, LedgerError> {
        let mut found = Vec::new();
        for entry in self.deliveries.iter() {
            let (key, raw) = entry?;
            let delivery: Delivery = decode(&String::from_utf8_lossy(&key), &raw)?;
            if tenant.is_none_or(|t| t == delivery.tenant_id)
                && status.is_none_or(|s| s == delivery.status)
            {
                found.push(delivery);
            }
        }
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    /// Pending deliveries whose next attempt is due at `now`, oldest first.
    async fn due(
        &self,
        now: i64,
        limit: usize,
        _lease: std::time::Duration,
    ) -> Result<Vec<Delivery>, LedgerError> {
        let mut ready = Vec::new();
        for entry in self.due.range(..due_key(now.saturating_add(1), "")) {
            let (key, _) = entry?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let Some((_, id)) = key.split_once('/') else { continue };
            if let Some(delivery) = self.delivery(id).await?
                && delivery.status == DeliveryStatus::Pending
            {
                ready.push(delivery);
            }
            if ready.len() >= limit {
                break;
            }
        }
        Ok(ready)
    }

    /// Records a delivery's new state (`previous` is what was stored before), keeping the
    /// due-queue in step in the same transaction.
    async fn save(&self, previous: &Delivery, next: &Delivery) -> Result<(), LedgerError> {
        self.write(Some(previous), next)
    }

    async fn fan_out_cursor(&self) -> Result<Option<String>, LedgerError> {
        Ok(self.meta.get(CURSOR_KEY)?.map(|raw| String::from_utf8_lossy(&raw).into_owned()))
    }

    async fn set_fan_out_cursor(&self, cursor: &str) -> Result<(), LedgerError> {
        self.meta.insert(CURSOR_KEY, cursor.as_bytes())?;
        Ok(())
    }
}

impl SledLedger {
    fn write(&self, previous: Option<&Delivery>, next: &Delivery) -> Result<(), LedgerError> {
        let old_due = previous
            .filter(|p| p.status == DeliveryStatus::Pending)
            .map(|p| due_key(p.next_attempt_at, &p.id));
        let new_due = (next.status == DeliveryStatus::Pending)
            .then(|| due_key(next.next_attempt_at, &next.id));
        let encoded = encode(next);
        (&self.deliveries, &self.due)
            .transaction(|(deliveries, due)| {
                if let Some(old) = &old_due {
                    due.remove(old.as_bytes())?;
                }
                if let Some(new) = &new_due {
                    due.insert(new.as_bytes(), &[])?;
                }
                deliveries.insert(next.id.as_bytes(), encoded.as_slice())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|error| match error {
                TransactionError::Storage(e) => LedgerError::from(e),
                TransactionError::Abort(()) => LedgerError::Corrupt {
                    key: next.id.clone(),
                    reason: "transaction aborted".into(),
                },
            })
    }
}

/// Stable delivery id of one event to one subscription.
pub fn delivery_id(subscription_id: &str, event_id: &str) -> String {
    let digest = Sha256::digest(format!("{subscription_id}\n{event_id}").as_bytes());
    format!("dlv_{}", &hex::encode(digest)[..24])
}

fn due_key(at_ms: i64, id: &str) -> String {
    format!("{:020}/{id}", at_ms.max(0))
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: serde::de::DeserializeOwned>(key: &str, raw: &[u8]) -> Result<T, LedgerError> {
    serde_json::from_slice(raw)
        .map_err(|e| LedgerError::Corrupt { key: key.to_string(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signing_secrets_are_sealed_at_rest_and_read_back_whole() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let ledger = SledLedger::open(&db, crate::store::SecretBox::ephemeral()).expect("ledger");
        let subscription = Subscription {
            id: "wh_1".into(),
            tenant_id: "acme".into(),
            url: "https://receiver.example/hook".into(),
            event_types: vec!["*".into()],
            enabled: true,
            disabled_reason: None,
            created_at: 0,
            secret: "whsec-very-secret-signing-key".into(),
        };
        ledger.put_subscription(&subscription).await.expect("put");
        for entry in db.open_tree("webhooks.subscriptions").expect("tree").iter() {
            let (_, raw) = entry.expect("entry");
            assert!(!String::from_utf8_lossy(&raw).contains("very-secret"), "stored in clear");
        }
        let read = ledger.subscription("wh_1").await.expect("read").expect("found");
        assert_eq!(read.secret, subscription.secret);
        assert_eq!(
            ledger.subscriptions(Some("acme")).await.expect("list")[0].secret,
            subscription.secret
        );
        let other = SledLedger::open(&db, crate::store::SecretBox::ephemeral()).expect("ledger");
        assert!(other.subscription("wh_1").await.is_err(), "another key cannot read the secret");
    }
}
