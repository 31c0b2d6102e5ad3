//! Automations, stage mappings, push defaults and assessment orders on sled, behind
//! [`AutomationStore`]. Trees: `automations.automations` (id → JSON),
//! `automations.stage_mappings` and `automations.push_defaults` (connection id → JSON),
//! `automations.orders` (id → JSON). Orders change by compare-and-swap on their `version`,
//! so two concurrent result posts cannot both win ([`update_order`]).
//!
//! A PostgreSQL backend is one table per tree with the same keys and a `tenant_id` column
//! (indexed) for the listings; [`AutomationStore::swap_order`] is `UPDATE orders SET … WHERE
//! id = $1 AND version = $2`, and [`AutomationStore::insert_order`] an `INSERT … ON
//! CONFLICT (id) DO NOTHING`.

use super::model::{Automation, PushDefaults, StageMapping};
use super::orders::{Order, OrderError, OrderState};
use serde::{Serialize, de::DeserializeOwned};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("automation store: {0}")]
    Storage(String),
    #[error("automation store holds an unreadable record under {key}: {reason}")]
    Corrupt { key: String, reason: String },
}

impl From<sled::Error> for StorageError {
    fn from(error: sled::Error) -> Self {
        StorageError::Storage(error.to_string())
    }
}

/// Filter of [`AutomationStore::orders`].
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub tenant_id: Option<String>,
    pub automation_id: Option<String>,
    pub connection_id: Option<String>,
    pub application_id: Option<String>,
    pub state: Option<OrderState>,
    /// Only orders not yet finished (for expiry).
    pub unfinished: bool,
}

impl OrderFilter {
    pub fn admits(&self, order: &Order) -> bool {
        self.tenant_id.as_ref().is_none_or(|t| *t == order.tenant_id)
            && self.automation_id.as_ref().is_none_or(|a| order.automation_id.as_ref() == Some(a))
            && self.connection_id.as_ref().is_none_or(|c| *c == order.connection_id)
            && self.application_id.as_ref().is_none_or(|a| *a == order.application_id)
            && self.state.is_none_or(|s| s == order.state)
            && (!self.unfinished || !order.state.is_terminal())
    }
}

/// What automations need from storage (see the module doc for a networked backend).
#[async_trait::async_trait]
pub trait AutomationStore: Send + Sync {
    async fn put_automation(&self, automation: &Automation) -> Result<(), StorageError>;
    async fn automation(&self, id: &str) -> Result<Option<Automation>, StorageError>;
    async fn delete_automation(&self, id: &str) -> Result<bool, StorageError>;
    /// Every automation, optionally one tenant's, oldest first.
    async fn automations(&self, tenant_id: Option<&str>) -> Result<Vec<Automation>, StorageError>;

    async fn put_stage_mapping(
        &self,
        connection_id: &str,
        mapping: &StageMapping,
    ) -> Result<(), StorageError>;
    async fn stage_mapping(
        &self,
        connection_id: &str,
    ) -> Result<Option<StageMapping>, StorageError>;
    async fn put_push_defaults(
        &self,
        connection_id: &str,
        defaults: &PushDefaults,
    ) -> Result<(), StorageError>;
    async fn push_defaults(
        &self,
        connection_id: &str,
    ) -> Result<Option<PushDefaults>, StorageError>;
    /// Forgets a deleted connection's stage mapping and push defaults (its orders and
    /// automations stay, as history and for the operator to edit).
    async fn forget_connection(&self, connection_id: &str) -> Result<(), StorageError>;

    /// Stores a new order unless one has its id; returns whether it is new.
    async fn insert_order(&self, order: &Order) -> Result<bool, StorageError>;
    async fn order(&self, id: &str) -> Result<Option<Order>, StorageError>;
    /// Orders matching `filter`, newest first.
    async fn orders(&self, filter: &OrderFilter) -> Result<Vec<Order>, StorageError>;
    /// Replaces `previous` by `next` if the stored order still has `previous.version`;
    /// returns whether it did.
    async fn swap_order(&self, previous: &Order, next: &Order) -> Result<bool, StorageError>;
}

/// The automation trees of one sled database.
#[derive(Clone)]
pub struct SledAutomationStore {
    automations: sled::Tree,
    mappings: sled::Tree,
    defaults: sled::Tree,
    orders: sled::Tree,
}

impl SledAutomationStore {
    pub fn open(db: &sled::Db) -> Result<Self, StorageError> {
        Ok(SledAutomationStore {
            automations: db.open_tree("automations.automations")?,
            mappings: db.open_tree("automations.stage_mappings")?,
            defaults: db.open_tree("automations.push_defaults")?,
            orders: db.open_tree("automations.orders")?,
        })
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

pub(crate) fn decode<T: DeserializeOwned>(key: &[u8], raw: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(raw).map_err(|e| StorageError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &str) -> Result<Option<T>, StorageError> {
    tree.get(key.as_bytes())?.map(|raw| decode(key.as_bytes(), &raw)).transpose()
}

fn all<T: DeserializeOwned>(tree: &sled::Tree) -> Result<Vec<T>, StorageError> {
    tree.iter()
        .map(|entry| {
            let (key, raw) = entry?;
            decode(&key, &raw)
        })
        .collect()
}

#[async_trait::async_trait]
impl AutomationStore for SledAutomationStore {
    async fn put_automation(&self, automation: &Automation) -> Result<(), StorageError> {
        self.automations.insert(automation.id.as_bytes(), encode(automation))?;
        Ok(())
    }

    async fn automation(&self, id: &str) -> Result<Option<Automation>, StorageError> {
        get(&self.automations, id)
    }

    async fn delete_automation(&self, id: &str) -> Result<bool, StorageError> {
        Ok(self.automations.remove(id.as_bytes())?.is_some())
    }

    async fn automations(&self, tenant_id: Option<&str>) -> Result<Vec<Automation>, StorageError> {
        let mut found: Vec<Automation> = all(&self.automations)?;
        found.retain(|a| tenant_id.is_none_or(|t| t == a.tenant_id));
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn put_stage_mapping(
        &self,
        connection_id: &str,
        mapping: &StageMapping,
    ) -> Result<(), StorageError> {
        self.mappings.insert(connection_id.as_bytes(), encode(mapping))?;
        Ok(())
    }

    async fn stage_mapping(
        &self,
        connection_id: &str,
    ) -> Result<Option<StageMapping>, StorageError> {
        get(&self.mappings, connection_id)
    }

    async fn forget_connection(&self, connection_id: &str) -> Result<(), StorageError> {
        self.mappings.remove(connection_id.as_bytes())?;
        self.defaults.remove(connection_id.as_bytes())?;
        Ok(())
    }

    async fn put_push_defaults(
        &self,
        connection_id: &str,
        defaults: &PushDefaults,
    ) -> Result<(), StorageError> {
        self.defaults.insert(connection_id.as_bytes(), encode(defaults))?;
        Ok(())
    }

    async fn push_defaults(
        &self,
        connection_id: &str,
    ) -> Result<Option<PushDefaults>, StorageError> {
        get(&self.defaults, connection_id)
    }

    async fn insert_order(&self, order: &Order) -> Result<bool, StorageError> {
        let swapped = self.orders.compare_and_swap(
            order.id.as_bytes(),
            None::<&[u8]>,
            Some(encode(order)),
        )?;
        Ok(swapped.is_ok())
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StorageError> {
        get(&self.orders, id)
    }

    async fn orders(&self, filter: &OrderFilter) -> Result<Vec<Order>, StorageError> {
        let mut found: Vec<Order> = all(&self.orders)?;
        found.retain(|o| filter.admits(o));
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn swap_order(&self, previous: &Order, next: &Order) -> Result<bool, StorageError> {
        let Some(current) = self.orders.get(previous.id.as_bytes())? else { return Ok(false) };
        let stored: Order = decode(previous.id.as_bytes(), &current)?;
        if stored.version != previous.version {
            return Ok(false);
        }
        let swapped = self.orders.compare_and_swap(
            previous.id.as_bytes(),
            Some(current),
            Some(encode(next)),
        )?;
        Ok(swapped.is_ok())
    }
}

/// Why an order operation failed.
#[derive(Debug, Error)]
pub enum OrderFailure {
    #[error("no assessment order `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How many times an order change is retried when another change wins the race.
const SWAP_ATTEMPTS: usize = 16;

/// Applies `change` to the stored order atomically (compare-and-swap, retried when another
/// change came first). `change` returns what the caller needs and may leave the order
/// untouched; only a changed order is written.
pub async fn update_order<T>(
    store: &dyn AutomationStore,
    id: &str,
    mut change: impl FnMut(&mut Order) -> Result<T, OrderError>,
) -> Result<(Order, T), OrderFailure> {
    for _ in 0..SWAP_ATTEMPTS {
        let previous =
            store.order(id).await?.ok_or_else(|| OrderFailure::NotFound(id.to_string()))?;
        let mut next = previous.clone();
        let answer = change(&mut next)?;
        if next == previous || store.swap_order(&previous, &next).await? {
            return Ok((next, answer));
        }
    }
    Err(OrderFailure::Storage(StorageError::Corrupt {
        key: id.to_string(),
        reason: "the order kept changing under concurrent updates; retry".into(),
    }))
}

/// Expires every unfinished order past its expiry; returns the orders expired.
pub async fn expire_due_orders(
    store: &dyn AutomationStore,
    now: i64,
) -> Result<Vec<Order>, OrderFailure> {
    let filter = OrderFilter { unfinished: true, ..OrderFilter::default() };
    let mut expired = Vec::new();
    for order in store.orders(&filter).await? {
        if order.expires_at <= now {
            let (order, changed) =
                update_order(store, &order.id, |o| Ok(o.expire_if_due(now))).await?;
            if changed {
                expired.push(order);
            }
        }
    }
    Ok(expired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automations::orders::{DEFAULT_EXPIRY, NewOrder, OrderResult, Posted};

    fn store() -> SledAutomationStore {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        SledAutomationStore::open(&db).expect("store")
    }

    fn new_order(id: &str, tenant: &str) -> Order {
        Order::new(
            NewOrder {
                id: id.into(),
                tenant_id: tenant.into(),
                connection_id: "c".into(),
                application_id: "a".into(),
                candidate_id: "cand".into(),
                job_id: None,
                package_id: "p".into(),
                automation_id: None,
                firing_id: None,
            },
            0,
            DEFAULT_EXPIRY,
        )
    }

    fn result(score: f64) -> OrderResult {
        OrderResult {
            score: Some(score),
            max_score: None,
            link: "https://r.example/1".into(),
            summary: None,
            attributes: Default::default(),
            report: None,
            completed_at: None,
        }
    }

    #[tokio::test]
    async fn orders_insert_once_and_list_per_tenant() {
        let s = store();
        assert!(s.insert_order(&new_order("o1", "t1")).await.expect("insert"));
        assert!(!s.insert_order(&new_order("o1", "t1")).await.expect("again"), "ids are unique");
        s.insert_order(&new_order("o2", "t2")).await.expect("insert");
        let t1 = OrderFilter { tenant_id: Some("t1".into()), ..OrderFilter::default() };
        assert_eq!(s.orders(&t1).await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn results_post_once_through_compare_and_swap() {
        let s = store();
        s.insert_order(&new_order("o1", "t")).await.expect("insert");
        let (order, posted) =
            update_order(&s, "o1", |o| o.post_result(result(80.0), 5)).await.expect("post");
        assert_eq!((posted, order.state), (Posted::New, OrderState::ResultPosted));
        let (_, again) =
            update_order(&s, "o1", |o| o.post_result(result(80.0), 6)).await.expect("again");
        assert_eq!(again, Posted::Again);
        let conflict = update_order(&s, "o1", |o| o.post_result(result(20.0), 7)).await;
        assert!(matches!(conflict, Err(OrderFailure::Order(OrderError::ResultConflict { .. }))));
        let stale = new_order("o1", "t");
        assert!(!s.swap_order(&stale, &stale).await.expect("swap"), "a stale version loses");
        assert!(matches!(
            update_order(&s, "nope", |_| Ok(())).await,
            Err(OrderFailure::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn due_orders_expire() {
        let s = store();
        s.insert_order(&new_order("o1", "t")).await.expect("insert");
        let late = i64::try_from(DEFAULT_EXPIRY.as_millis()).expect("fits");
        assert!(expire_due_orders(&s, late - 1).await.expect("early").is_empty());
        assert_eq!(expire_due_orders(&s, late).await.expect("due").len(), 1);
        assert_eq!(s.order("o1").await.expect("read").expect("there").state, OrderState::Expired);
        assert!(expire_due_orders(&s, late + 1).await.expect("again").is_empty());
    }

    #[tokio::test]
    async fn automations_mappings_and_defaults_round_trip() {
        let s = store();
        let mapping = StageMapping { stages: [("Invited".to_string(), "s2".to_string())].into() };
        s.put_stage_mapping("c1", &mapping).await.expect("put");
        assert_eq!(s.stage_mapping("c1").await.expect("get"), Some(mapping));
        assert_eq!(s.stage_mapping("c2").await.expect("get"), None);
        let defaults =
            PushDefaults { source: Some("AI sourcer".into()), ..PushDefaults::default() };
        s.put_push_defaults("c1", &defaults).await.expect("put");
        assert_eq!(s.push_defaults("c1").await.expect("get"), Some(defaults));
        assert!(s.automations(Some("t")).await.expect("list").is_empty());
        assert!(!s.delete_automation("a").await.expect("delete"));
    }
}
