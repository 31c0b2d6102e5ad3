//! Automations, stage mappings, push defaults, assessment orders and the outbox of
//! firings on PostgreSQL ([`AutomationStore`], [`Outbox`]). Orders change by
//! compare-and-swap on their `version` in one `UPDATE … WHERE version = $n`; firings are a
//! queue (see [`super::docs`]): a node claims due firings with a lease, so two nodes never
//! run the same firing's next action at once.

use super::docs::{Docs, Queued};
use crate::automations::model::{Automation, PushDefaults, StageMapping};
use crate::automations::orders::Order;
use crate::automations::outbox::{Firing, FiringFilter, FiringStatus, Outbox};
use crate::automations::storage::{AutomationStore, OrderFilter, StorageError};
use crate::store::StoreError;
use std::time::Duration;

const CURSOR_KEY: &str = "automations.event-cursor";

/// Both automation stores on one database.
#[derive(Clone)]
pub struct PgAutomations {
    docs: Docs,
}

impl PgAutomations {
    pub fn new(pool: deadpool_postgres::Pool) -> Self {
        PgAutomations { docs: Docs::new(pool) }
    }
}

impl From<StoreError> for StorageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt { key, reason, .. } => StorageError::Corrupt { key, reason },
            other => StorageError::Storage(other.to_string()),
        }
    }
}

#[async_trait::async_trait]
impl AutomationStore for PgAutomations {
    async fn put_automation(&self, automation: &Automation) -> Result<(), StorageError> {
        Ok(self.docs.put("automations", &automation.id, &automation.tenant_id, automation).await?)
    }

    async fn automation(&self, id: &str) -> Result<Option<Automation>, StorageError> {
        Ok(self.docs.get("automations", id).await?)
    }

    async fn delete_automation(&self, id: &str) -> Result<bool, StorageError> {
        Ok(self.docs.delete("automations", id).await?)
    }

    async fn automations(&self, tenant_id: Option<&str>) -> Result<Vec<Automation>, StorageError> {
        let mut found: Vec<Automation> = self.docs.list("automations", tenant_id).await?;
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn put_stage_mapping(
        &self,
        connection_id: &str,
        mapping: &StageMapping,
    ) -> Result<(), StorageError> {
        Ok(self.docs.put("stage_mappings", connection_id, "", mapping).await?)
    }

    async fn stage_mapping(
        &self,
        connection_id: &str,
    ) -> Result<Option<StageMapping>, StorageError> {
        Ok(self.docs.get("stage_mappings", connection_id).await?)
    }

    async fn put_push_defaults(
        &self,
        connection_id: &str,
        defaults: &PushDefaults,
    ) -> Result<(), StorageError> {
        Ok(self.docs.put("push_defaults", connection_id, "", defaults).await?)
    }

    async fn push_defaults(
        &self,
        connection_id: &str,
    ) -> Result<Option<PushDefaults>, StorageError> {
        Ok(self.docs.get("push_defaults", connection_id).await?)
    }

    async fn forget_connection(&self, connection_id: &str) -> Result<(), StorageError> {
        self.docs.delete("stage_mappings", connection_id).await?;
        self.docs.delete("push_defaults", connection_id).await?;
        Ok(())
    }

    async fn insert_order(&self, order: &Order) -> Result<bool, StorageError> {
        Ok(self.docs.insert_new("orders", &order.id, &order.tenant_id, order).await?)
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StorageError> {
        Ok(self.docs.get("orders", id).await?)
    }

    async fn orders(&self, filter: &OrderFilter) -> Result<Vec<Order>, StorageError> {
        let mut found: Vec<Order> = self.docs.list("orders", filter.tenant_id.as_deref()).await?;
        found.retain(|o| filter.admits(o));
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn swap_order(&self, previous: &Order, next: &Order) -> Result<bool, StorageError> {
        let expected = i64::try_from(previous.version).unwrap_or(i64::MAX);
        Ok(self.docs.swap("orders", &previous.id, "version", expected, next).await?)
    }
}

fn queued(firing: &Firing) -> Queued<'_> {
    Queued {
        id: &firing.id,
        tenant_id: &firing.tenant_id,
        status: match firing.status {
            FiringStatus::Pending => "pending",
            FiringStatus::Done => "done",
            FiringStatus::Failed => "failed",
            FiringStatus::Skipped => "skipped",
        },
        next_attempt_at: firing.next_attempt_at,
        created_at: firing.created_at,
    }
}

#[async_trait::async_trait]
impl Outbox for PgAutomations {
    async fn enqueue(&self, firing: &Firing) -> Result<bool, StorageError> {
        Ok(self.docs.put_queued("firings", queued(firing), firing, true).await?)
    }

    async fn firing(&self, id: &str) -> Result<Option<Firing>, StorageError> {
        Ok(self.docs.get("firings", id).await?)
    }

    async fn firings(&self, filter: &FiringFilter) -> Result<Vec<Firing>, StorageError> {
        let mut found: Vec<Firing> = self.docs.list("firings", filter.tenant_id.as_deref()).await?;
        found.retain(|firing| filter.admits(firing));
        Ok(filter.arrange(found))
    }

    async fn due(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Firing>, StorageError> {
        Ok(self.docs.claim_due("firings", now, limit, lease).await?)
    }

    /// Fenced ([`Docs::save_claimed`]): a node whose claim ran out while it worked does not
    /// overwrite the node that took the firing over (what the late node wrote to the ATS
    /// is journaled under the action's key, so the other node's run of it replays).
    async fn save(&self, previous: &Firing, next: &Firing) -> Result<(), StorageError> {
        Ok(self.docs.save_claimed("firings", queued(next), next, previous).await?)
    }

    async fn cursor(&self) -> Result<Option<u64>, StorageError> {
        Ok(self.docs.meta(CURSOR_KEY).await?.and_then(|raw| raw.parse::<u64>().ok()))
    }

    async fn set_cursor(&self, seq: u64) -> Result<(), StorageError> {
        Ok(self.docs.set_meta(CURSOR_KEY, &seq.to_string()).await?)
    }
}
