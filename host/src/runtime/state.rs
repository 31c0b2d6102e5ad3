//! The per-connection key/value `state` behind the guest import of the same name (session
//! ids, access tokens), with a time-to-live per entry and a quota per connection (entries
//! and bytes), so a connector cannot grow the host's store without bound. The in-memory
//! store serves `connector call` and tests; the persistent store implements the same trait.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Storage of connector state, scoped per connection.
#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    async fn get(&self, scope: &str, key: &str) -> Option<String>;
    async fn set(&self, scope: &str, key: &str, value: String, ttl: Option<Duration>);
    async fn delete(&self, scope: &str, key: &str);
    /// Live entries of `scope` and their bytes (keys + values as stored), leaving out `key`
    /// (the entry a `set` is about to replace).
    async fn usage(&self, scope: &str, except_key: &str) -> StateUsage;
    /// Removes every entry of `scope` (the connection was deleted).
    async fn clear(&self, scope: &str);
}

/// What one connection's state holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateUsage {
    pub entries: usize,
    pub bytes: usize,
}

/// The state one connection may hold.
#[derive(Debug, Clone, Copy)]
pub struct StateQuota {
    pub max_entries: usize,
    pub max_bytes: usize,
}

/// A `state.set` that would take a connection over its quota. The call fails with this
/// (typed as `CallError::StateFull`); what was stored stays.
#[derive(Debug, thiserror::Error)]
#[error(
    "connector state of connection `{connection}` is full: this set would make {entries} entries / {bytes} bytes, over the quota of {max_entries} entries / {max_bytes} bytes (limits.max_state_entries_per_connection, limits.max_state_bytes_per_connection); delete entries or give them a TTL"
)]
pub struct StateFull {
    pub connection: String,
    pub entries: usize,
    pub bytes: usize,
    pub max_entries: usize,
    pub max_bytes: usize,
}

impl StateQuota {
    /// Checks that `store` can take `key` = `value` for `scope`.
    pub async fn admit(
        &self,
        store: &dyn StateStore,
        scope: &str,
        key: &str,
        value: &str,
    ) -> Result<(), StateFull> {
        let usage = store.usage(scope, key).await;
        let entries = usage.entries + 1;
        let bytes = usage.bytes + key.len() + value.len();
        if entries > self.max_entries || bytes > self.max_bytes {
            return Err(StateFull {
                connection: scope.to_string(),
                entries,
                bytes,
                max_entries: self.max_entries,
                max_bytes: self.max_bytes,
            });
        }
        Ok(())
    }
}

/// `(scope, key)` of one state entry.
type EntryId = (String, String);
/// A stored value and the instant it expires, if it does.
type Entry = (String, Option<Instant>);

/// A process-local [`StateStore`]; entries expire lazily on read.
#[derive(Default)]
pub struct MemoryStateStore {
    entries: Mutex<HashMap<EntryId, Entry>>,
}

#[async_trait::async_trait]
impl StateStore for MemoryStateStore {
    async fn get(&self, scope: &str, key: &str) -> Option<String> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (scope.to_string(), key.to_string());
        match entries.get(&id) {
            Some((_, Some(expiry))) if *expiry <= Instant::now() => {
                entries.remove(&id);
                None
            }
            Some((value, _)) => Some(value.clone()),
            None => None,
        }
    }

    async fn set(&self, scope: &str, key: &str, value: String, ttl: Option<Duration>) {
        let expiry = ttl.map(|ttl| Instant::now() + ttl);
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((scope.to_string(), key.to_string()), (value, expiry));
    }

    async fn delete(&self, scope: &str, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(scope.to_string(), key.to_string()));
    }

    async fn usage(&self, scope: &str, except_key: &str) -> StateUsage {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .filter(|((s, k), (_, expiry))| {
                s == scope && k != except_key && expiry.is_none_or(|at| at > now)
            })
            .fold(StateUsage::default(), |usage, ((_, k), (v, _))| StateUsage {
                entries: usage.entries + 1,
                bytes: usage.bytes + k.len() + v.len(),
            })
    }

    async fn clear(&self, scope: &str) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).retain(|(s, _), _| s != scope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_are_scoped_and_expire() {
        let store = MemoryStateStore::default();
        store.set("conn-a", "session", "s1".into(), None).await;
        store.set("conn-a", "short", "x".into(), Some(Duration::ZERO)).await;
        assert_eq!(store.get("conn-a", "session").await.as_deref(), Some("s1"));
        assert_eq!(store.get("conn-b", "session").await, None);
        assert_eq!(store.get("conn-a", "short").await, None);
        store.delete("conn-a", "session").await;
        assert_eq!(store.get("conn-a", "session").await, None);
    }

    #[tokio::test]
    async fn the_quota_counts_live_entries_and_a_replaced_key_once() {
        let store = MemoryStateStore::default();
        let quota = StateQuota { max_entries: 2, max_bytes: 20 };
        store.set("c", "a", "12345".into(), None).await;
        assert!(quota.admit(&store, "c", "a", "1234567890").await.is_ok(), "replacing a key");
        store.set("c", "b", "x".into(), None).await;
        let full = quota.admit(&store, "c", "c", "x").await.expect_err("a third entry");
        assert_eq!((full.entries, full.max_entries), (3, 2));
        assert!(quota.admit(&store, "other", "c", "x").await.is_ok(), "another connection");
        assert!(quota.admit(&store, "c", "b", &"y".repeat(30)).await.is_err(), "over the bytes");
        store.clear("c").await;
        assert_eq!(store.usage("c", "").await, StateUsage::default());
        assert_eq!(store.get("c", "a").await, None);
    }
}
