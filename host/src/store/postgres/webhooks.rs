//! Webhook subscriptions and deliveries on PostgreSQL ([`DeliveryLedger`]). Signing
//! secrets are sealed with the host's key as on sled; deliveries are a queue (see
//! [`super::docs`]): a node claims due attempts with a lease, so each attempt is made by
//! one node, and one that dies mid-attempt lets it come due again after the lease.

use super::docs::{Docs, Queued};
use crate::store::{SecretBox, StoreError};
use crate::time::now_ms;
use crate::webhooks::ledger::{
    DeliveryLedger, LedgerError, open_signing_secret, seal_signing_secret,
};
use crate::webhooks::{Delivery, DeliveryStatus, OutboundEvent, Subscription};

const CURSOR_KEY: &str = "webhooks.fan-out-cursor";

pub struct PgLedger {
    docs: Docs,
    secret_box: SecretBox,
}

impl PgLedger {
    pub fn new(pool: deadpool_postgres::Pool, secret_box: SecretBox) -> Self {
        PgLedger { docs: Docs::new(pool), secret_box }
    }
}

impl From<StoreError> for LedgerError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt { key, reason, .. } => LedgerError::Corrupt { key, reason },
            other => LedgerError::Storage(other.to_string()),
        }
    }
}

fn queued(delivery: &Delivery) -> Queued<'_> {
    Queued {
        id: &delivery.id,
        tenant_id: &delivery.tenant_id,
        status: match delivery.status {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::DeadLetter => "dead-letter",
            DeliveryStatus::Cancelled => "cancelled",
        },
        next_attempt_at: delivery.next_attempt_at,
        created_at: delivery.created_at,
    }
}

#[async_trait::async_trait]
impl DeliveryLedger for PgLedger {
    async fn put_subscription(&self, subscription: &Subscription) -> Result<(), LedgerError> {
        let sealed = seal_signing_secret(&self.secret_box, subscription);
        Ok(self
            .docs
            .put("webhook_subscriptions", &subscription.id, &subscription.tenant_id, &sealed)
            .await?)
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, LedgerError> {
        let stored: Option<Subscription> = self.docs.get("webhook_subscriptions", id).await?;
        stored.map(|s| open_signing_secret(&self.secret_box, id, s)).transpose()
    }

    async fn delete_subscription(&self, id: &str) -> Result<bool, LedgerError> {
        Ok(self.docs.delete("webhook_subscriptions", id).await?)
    }

    async fn subscriptions(&self, tenant: Option<&str>) -> Result<Vec<Subscription>, LedgerError> {
        let stored: Vec<Subscription> = self.docs.list("webhook_subscriptions", tenant).await?;
        stored
            .into_iter()
            .map(|s| {
                let id = s.id.clone();
                open_signing_secret(&self.secret_box, &id, s)
            })
            .collect()
    }

    async fn enqueue(
        &self,
        subscription: &Subscription,
        event: &OutboundEvent,
    ) -> Result<bool, LedgerError> {
        let delivery = Delivery::first(subscription, event, now_ms());
        Ok(self.docs.put_queued("webhook_deliveries", queued(&delivery), &delivery, true).await?)
    }

    async fn delivery(&self, id: &str) -> Result<Option<Delivery>, LedgerError> {
        Ok(self.docs.get("webhook_deliveries", id).await?)
    }

    async fn deliveries(
        &self,
        tenant: Option<&str>,
        status: Option<DeliveryStatus>,
    ) -> Result<Vec<Delivery>, LedgerError> {
        let mut found: Vec<Delivery> = self.docs.list("webhook_deliveries", tenant).await?;
        found.retain(|d| status.is_none_or(|s| s == d.status));
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn due(
        &self,
        now: i64,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<Delivery>, LedgerError> {
        Ok(self.docs.claim_due("webhook_deliveries", now, limit, lease).await?)
    }

    /// Fenced ([`Docs::save_claimed`]): an attempt whose claim ran out does not overwrite
    /// the node that took the delivery over (the receiver may see the event twice, with one
    /// `webhook-id`, as after any retry).
    async fn save(&self, previous: &Delivery, next: &Delivery) -> Result<(), LedgerError> {
        Ok(self.docs.save_claimed("webhook_deliveries", queued(next), next, previous).await?)
    }

    async fn fan_out_cursor(&self) -> Result<Option<String>, LedgerError> {
        Ok(self.docs.meta(CURSOR_KEY).await?)
    }

    async fn set_fan_out_cursor(&self, cursor: &str) -> Result<(), LedgerError> {
        Ok(self.docs.set_meta(CURSOR_KEY, cursor).await?)
    }
}
