//! The per-connection key/value `state` behind the guest import of the same name (session
//! ids, access tokens), with a time-to-live per entry. The in-memory store serves
//! `connector call` and tests; the persistent store implements the same trait.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Storage of connector state, scoped per connection.
pub trait StateStore: Send + Sync {
    fn get(&self, scope: &str, key: &str) -> Option<String>;
    fn set(&self, scope: &str, key: &str, value: String, ttl: Option<Duration>);
    fn delete(&self, scope: &str, key: &str);
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

impl StateStore for MemoryStateStore {
    fn get(&self, scope: &str, key: &str) -> Option<String> {
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

    fn set(&self, scope: &str, key: &str, value: String, ttl: Option<Duration>) {
        let expiry = ttl.map(|ttl| Instant::now() + ttl);
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((scope.to_string(), key.to_string()), (value, expiry));
    }

    fn delete(&self, scope: &str, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(scope.to_string(), key.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_scoped_and_expire() {
        let store = MemoryStateStore::default();
        store.set("conn-a", "session", "s1".into(), None);
        store.set("conn-a", "short", "x".into(), Some(Duration::ZERO));
        assert_eq!(store.get("conn-a", "session").as_deref(), Some("s1"));
        assert_eq!(store.get("conn-b", "session"), None);
        assert_eq!(store.get("conn-a", "short"), None);
        store.delete("conn-a", "session");
        assert_eq!(store.get("conn-a", "session"), None);
    }
}
