//! The outbox of firings. A **firing** is one automation fired by one trigger event: its id
//! is derived from (automation id, trigger event key) ([`firing_id`]), so the same trigger
//! seen twice enqueues once. It keeps the automation's actions as they were when it fired,
//! each with its status (pending / done / failed / skipped, with the reason), the attempts
//! of the action in progress and when the next attempt is due.
//!
//! Trees: `automations.firings` (id → JSON), `automations.firings_due`
//! (`{next_attempt_ms:020}/{id}` → empty: pending firings in time order) and
//! `automations.meta` (the event cursor). A firing and its queue entry change in one
//! transaction. A PostgreSQL backend: `firings` with a `next_attempt_at` index; [`Outbox::due`]
//! claims with `… WHERE status = 'pending' AND next_attempt_at <= now() FOR UPDATE SKIP
//! LOCKED` plus a lease, [`Outbox::enqueue`] is `INSERT … ON CONFLICT (id) DO NOTHING`.

use super::model::Action;
use super::storage::{StorageError, decode, encode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FiringStatus {
    /// Actions remain; runs at `next_attempt_at`.
    Pending,
    /// Every action is done or skipped.
    Done,
    /// An action failed for good; the operator can retry it.
    Failed,
    /// Nothing ran (e.g. the connection was paused and the automation skips while paused).
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    Pending,
    Done,
    Failed,
    Skipped,
}

/// One action of a firing and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionRun {
    pub action: Action,
    pub status: ActionStatus,
    pub attempts: u32,
    /// What the action did, once done (the write's outcome, the rendered note, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
    /// Why it failed or was skipped, or the last transient error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The error kind of a failure (`transient`, `rate-limited`, `invalid-input`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub updated_at: i64,
}

/// One automation fired by one trigger event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Firing {
    pub id: String,
    pub tenant_id: String,
    pub automation_id: String,
    pub connection_id: String,
    /// What identifies the trigger event (see `engine::trigger_key`).
    pub trigger_key: String,
    /// The event of the log that fired it; none for a backfill.
    pub event_id: Option<String>,
    pub event_type: String,
    pub application_id: Option<String>,
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    /// The trigger's data as it was when it fired.
    pub document: Value,
    pub backfill: bool,
    pub status: FiringStatus,
    pub actions: Vec<ActionRun>,
    /// Unix ms of the next attempt while pending.
    pub next_attempt_at: i64,
    /// The action that failed for good.
    pub failed_action: Option<usize>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Firing {
    /// The first action not yet done or skipped.
    pub fn next_action(&self) -> Option<usize> {
        self.actions
            .iter()
            .position(|a| matches!(a.status, ActionStatus::Pending | ActionStatus::Failed))
    }
}

/// The firing id of (automation, trigger event key): stable, so enqueuing is idempotent.
pub fn firing_id(automation_id: &str, trigger_key: &str) -> String {
    let digest = Sha256::digest(format!("{automation_id}\n{trigger_key}").as_bytes());
    format!("fir_{}", &hex::encode(digest)[..24])
}

/// Filter of [`Outbox::firings`].
#[derive(Debug, Clone, Default)]
pub struct FiringFilter {
    pub tenant_id: Option<String>,
    pub automation_id: Option<String>,
    pub connection_id: Option<String>,
    pub status: Option<FiringStatus>,
    /// At most this many (0: all).
    pub limit: usize,
}

impl FiringFilter {
    pub fn admits(&self, firing: &Firing) -> bool {
        self.tenant_id.as_ref().is_none_or(|t| *t == firing.tenant_id)
            && self.automation_id.as_ref().is_none_or(|a| *a == firing.automation_id)
            && self.connection_id.as_ref().is_none_or(|c| *c == firing.connection_id)
            && self.status.is_none_or(|s| s == firing.status)
    }

    /// Newest first, at most `limit` (0: all): the order [`Outbox::firings`] answers in.
    pub fn arrange(&self, mut firings: Vec<Firing>) -> Vec<Firing> {
        firings.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        if self.limit > 0 {
            firings.truncate(self.limit);
        }
        firings
    }
}

/// Why an operator retry was refused.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no firing `{0}`")]
    NotFound(String),
    #[error("firing `{id}` is {status:?}; only a failed firing can be retried")]
    NotFailed { id: String, status: FiringStatus },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The firings' storage (see the module doc for a networked backend).
#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Stores a new firing unless one has its id; returns whether it is new.
    async fn enqueue(&self, firing: &Firing) -> Result<bool, StorageError>;
    async fn firing(&self, id: &str) -> Result<Option<Firing>, StorageError>;
    /// Firings matching `filter`, newest first.
    async fn firings(&self, filter: &FiringFilter) -> Result<Vec<Firing>, StorageError>;
    /// Pending firings due at `now`, oldest first, claimed for `lease`: on a store several
    /// nodes share, another node is not handed them until the lease runs out (or the
    /// firing is saved).
    async fn due(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Firing>, StorageError>;
    /// Records a firing's new state (`previous` as stored before), keeping the due-queue
    /// in step atomically.
    async fn save(&self, previous: &Firing, next: &Firing) -> Result<(), StorageError>;
    /// The seq of the last event the engine has matched.
    async fn cursor(&self) -> Result<Option<u64>, StorageError>;
    async fn set_cursor(&self, seq: u64) -> Result<(), StorageError>;

    /// Puts a failed firing back in the queue: the failed action runs again (with the
    /// same journal key, so what it wrote before is not written twice), then the rest.
    async fn retry(&self, id: &str, now: i64) -> Result<Firing, RetryError> {
        let previous =
            self.firing(id).await?.ok_or_else(|| RetryError::NotFound(id.to_string()))?;
        if previous.status != FiringStatus::Failed {
            return Err(RetryError::NotFailed { id: id.to_string(), status: previous.status });
        }
        let mut next = previous.clone();
        next.status = FiringStatus::Pending;
        next.next_attempt_at = now;
        next.failed_action = None;
        next.updated_at = now;
        for action in next.actions.iter_mut().filter(|a| a.status == ActionStatus::Failed) {
            action.status = ActionStatus::Pending;
            action.attempts = 0;
            action.updated_at = now;
        }
        self.save(&previous, &next).await?;
        Ok(next)
    }
}

/// The outbox trees of one sled database.
#[derive(Clone)]
pub struct SledOutbox {
    firings: sled::Tree,
    due: sled::Tree,
    meta: sled::Tree,
}

const CURSOR_KEY: &[u8] = b"event-cursor";

impl SledOutbox {
    pub fn open(db: &sled::Db) -> Result<Self, StorageError> {
        Ok(SledOutbox {
            firings: db.open_tree("automations.firings")?,
            due: db.open_tree("automations.firings_due")?,
            meta: db.open_tree("automations.meta")?,
        })
    }

    fn write(&self, previous: Option<&Firing>, next: &Firing) -> Result<bool, StorageError> {
        let old_due = previous
            .filter(|p| p.status == FiringStatus::Pending)
            .map(|p| due_key(p.next_attempt_at, &p.id));
        let new_due =
            (next.status == FiringStatus::Pending).then(|| due_key(next.next_attempt_at, &next.id));
        let encoded = encode(next);
        let only_if_new = previous.is_none();
        (&self.firings, &self.due)
            .transaction(|(firings, due)| {
                if only_if_new && firings.get(next.id.as_bytes())?.is_some() {
                    return Ok(false);
                }
                if let Some(old) = &old_due {
                    due.remove(old.as_bytes())?;
                }
                if let Some(new) = &new_due {
                    due.insert(new.as_bytes(), &[])?;
                }
                firings.insert(next.id.as_bytes(), encoded.as_slice())?;
                Ok::<bool, ConflictableTransactionError<()>>(true)
            })
            .map_err(|error| match error {
                TransactionError::Storage(e) => StorageError::from(e),
                TransactionError::Abort(()) => StorageError::Corrupt {
                    key: next.id.clone(),
                    reason: "transaction aborted".into(),
                },
            })
    }
}

fn due_key(at_ms: i64, id: &str) -> String {
    format!("{:020}/{id}", at_ms.max(0))
}

#[async_trait::async_trait]
impl Outbox for SledOutbox {
    async fn enqueue(&self, firing: &Firing) -> Result<bool, StorageError> {
        self.write(None, firing)
    }

    async fn firing(&self, id: &str) -> Result<Option<Firing>, StorageError> {
        self.firings.get(id.as_bytes())?.map(|raw| decode(id.as_bytes(), &raw)).transpose()
    }

    async fn firings(&self, filter: &FiringFilter) -> Result<Vec<Firing>, StorageError> {
        let mut found = Vec::new();
        for entry in self.firings.iter() {
            let (key, raw) = entry?;
            let firing: Firing = decode(&key, &raw)?;
            if filter.admits(&firing) {
                found.push(firing);
            }
        }
        Ok(filter.arrange(found))
    }

    async fn due(
        &self,
        now: i64,
        limit: usize,
        _lease: Duration, // one process holds sled: no other node to hold a firing against
    ) -> Result<Vec<Firing>, StorageError> {
        let mut ready = Vec::new();
        for entry in self.due.range(..due_key(now.saturating_add(1), "").into_bytes()) {
            let (key, _) = entry?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let Some((_, id)) = key.split_once('/') else { continue };
            if let Some(firing) = self.firing(id).await?
                && firing.status == FiringStatus::Pending
            {
                ready.push(firing);
            }
            if ready.len() >= limit {
                break;
            }
        }
        Ok(ready)
    }

    async fn save(&self, previous: &Firing, next: &Firing) -> Result<(), StorageError> {
        self.write(Some(previous), next).map(|_| ())
    }

    async fn cursor(&self) -> Result<Option<u64>, StorageError> {
        Ok(self
            .meta
            .get(CURSOR_KEY)?
            .and_then(|raw| String::from_utf8_lossy(&raw).parse::<u64>().ok()))
    }

    async fn set_cursor(&self, seq: u64) -> Result<(), StorageError> {
        self.meta.insert(CURSOR_KEY, seq.to_string().as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LEASE: Duration = Duration::from_secs(300);

    pub(crate) fn firing(id: &str, at: i64) -> Firing {
        Firing {
            id: id.into(),
            tenant_id: "t".into(),
            automation_id: "a".into(),
            connection_id: "c".into(),
            trigger_key: "k".into(),
            event_id: None,
            event_type: "application.stage_changed".into(),
            application_id: Some("app".into()),
            candidate_id: None,
            job_id: None,
            document: json!({}),
            backfill: false,
            status: FiringStatus::Pending,
            actions: vec![ActionRun {
                action: Action::AddTag { tag: "x".into() },
                status: ActionStatus::Pending,
                attempts: 0,
                detail: None,
                reason: None,
                error: None,
                updated_at: at,
            }],
            next_attempt_at: at,
            failed_action: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn outbox() -> SledOutbox {
        SledOutbox::open(&sled::Config::new().temporary(true).open().expect("sled"))
            .expect("outbox")
    }

    #[tokio::test]
    async fn a_firing_enqueues_once_and_comes_due_in_time_order() {
        let o = outbox();
        assert_eq!(firing_id("a", "k"), firing_id("a", "k"));
        assert_ne!(firing_id("a", "k"), firing_id("b", "k"));
        assert!(o.enqueue(&firing("f2", 20)).await.expect("enqueue"));
        assert!(o.enqueue(&firing("f1", 10)).await.expect("enqueue"));
        assert!(!o.enqueue(&firing("f1", 99)).await.expect("again"), "same id: not enqueued twice");
        let due: Vec<String> =
            o.due(20, 10, LEASE).await.expect("due").into_iter().map(|f| f.id).collect();
        assert_eq!(due, vec!["f1", "f2"]);
        assert!(o.due(5, 10, LEASE).await.expect("due").is_empty());
        let before = o.firing("f1").await.expect("read").expect("there");
        let mut later = before.clone();
        later.next_attempt_at = 50;
        o.save(&before, &later).await.expect("save");
        assert_eq!(o.due(20, 10, LEASE).await.expect("due").len(), 1, "moved out of the window");
        let mut done = later.clone();
        done.status = FiringStatus::Done;
        o.save(&later, &done).await.expect("save");
        assert!(o.due(i64::MAX - 1, 10, LEASE).await.expect("due").iter().all(|f| f.id != "f1"));
    }

    #[tokio::test]
    async fn only_failed_firings_retry_and_the_failed_action_runs_again() {
        let o = outbox();
        let mut failed = firing("f1", 10);
        failed.status = FiringStatus::Failed;
        failed.failed_action = Some(0);
        failed.actions[0].status = ActionStatus::Failed;
        failed.actions[0].attempts = 3;
        o.enqueue(&failed).await.expect("enqueue");
        assert!(o.due(100, 10, LEASE).await.expect("due").is_empty());
        let retried = o.retry("f1", 100).await.expect("retry");
        assert_eq!(
            (retried.status, retried.actions[0].status, retried.actions[0].attempts),
            (FiringStatus::Pending, ActionStatus::Pending, 0)
        );
        assert_eq!(o.due(100, 10, LEASE).await.expect("due").len(), 1);
        assert!(matches!(o.retry("f1", 100).await, Err(RetryError::NotFailed { .. })));
        assert!(matches!(o.retry("nope", 100).await, Err(RetryError::NotFound(_))));
    }

    #[tokio::test]
    async fn the_cursor_persists_and_filters_apply() {
        let o = outbox();
        assert_eq!(o.cursor().await.expect("cursor"), None);
        o.set_cursor(42).await.expect("set");
        assert_eq!(o.cursor().await.expect("cursor"), Some(42));
        o.enqueue(&firing("f1", 1)).await.expect("enqueue");
        let other = FiringFilter { tenant_id: Some("other".into()), ..FiringFilter::default() };
        assert!(o.firings(&other).await.expect("list").is_empty());
        assert_eq!(o.firings(&FiringFilter::default()).await.expect("list").len(), 1);
    }
}
