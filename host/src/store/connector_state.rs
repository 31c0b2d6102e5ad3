//! The connectors' `state` import (session ids, access tokens) persisted in sled (tree
//! `connector.state`: connection `\0` key → value + expiry), so a restart does not force
//! every connection to log in again. Values are credentials, so each entry is encrypted
//! with the store's secret key like connection secrets; an entry that does not decrypt
//! (another key) reads as missing, and the connector simply authenticates again. Expired
//! entries are dropped when read.

use super::SecretBox;
use crate::runtime::state::{StateStore, StateUsage};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Serialize, Deserialize)]
struct Entry {
    value: String,
    expires_at_ms: Option<i64>,
}

pub struct SledStateStore {
    tree: sled::Tree,
    secret_box: SecretBox,
}

impl SledStateStore {
    pub fn open(db: &sled::Db, secret_box: SecretBox) -> Result<Self, sled::Error> {
        Ok(SledStateStore { tree: db.open_tree("connector.state")?, secret_box })
    }
}

/// An entry as stored by every backend: value and expiry, sealed with the host's key.
pub fn seal_entry(secret_box: &SecretBox, value: String, ttl: Option<Duration>) -> Vec<u8> {
    let expires_at_ms = ttl
        .map(|ttl| crate::time::now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2));
    secret_box.seal_bytes(&serde_json::to_vec(&Entry { value, expires_at_ms }).unwrap_or_default())
}

/// The value of a stored entry; `None` when it does not open with this key or has
/// expired (the caller drops it).
pub fn open_entry(secret_box: &SecretBox, sealed: &[u8]) -> Option<String> {
    let entry = secret_box
        .open_bytes(sealed)
        .ok()
        .and_then(|plain| serde_json::from_slice::<Entry>(&plain).ok())?;
    if entry.expires_at_ms.is_some_and(|at| at <= crate::time::now_ms()) {
        return None;
    }
    Some(entry.value)
}

fn key(scope: &str, key: &str) -> Vec<u8> {
    format!("{scope}\0{key}").into_bytes()
}

#[async_trait::async_trait]
impl StateStore for SledStateStore {
    async fn get(&self, scope: &str, name: &str) -> Option<String> {
        let id = key(scope, name);
        let raw = self.tree.get(&id).ok()??;
        let value = open_entry(&self.secret_box, &raw);
        if value.is_none() {
            let _ = self.tree.remove(&id);
        }
        value
    }

    async fn set(&self, scope: &str, name: &str, value: String, ttl: Option<Duration>) {
        let sealed = seal_entry(&self.secret_box, value, ttl);
        if let Err(error) = self.tree.insert(key(scope, name), sealed) {
            tracing::error!(%error, connection = scope, "cannot persist connector state");
        }
    }

    async fn delete(&self, scope: &str, name: &str) {
        let _ = self.tree.remove(key(scope, name));
    }

    /// Counts bytes as stored (sealed): a little more than the plaintext, never less.
    async fn usage(&self, scope: &str, except_key: &str) -> StateUsage {
        let prefix = key(scope, "");
        let except = key(scope, except_key);
        self.tree
            .scan_prefix(&prefix)
            .filter_map(Result::ok)
            .filter(|(k, _)| k.as_ref() != except.as_slice())
            .fold(StateUsage::default(), |usage, (k, v)| StateUsage {
                entries: usage.entries + 1,
                bytes: usage.bytes + (k.len() - prefix.len()) + v.len(),
            })
    }

    async fn clear(&self, scope: &str) {
        for (k, _) in self.tree.scan_prefix(key(scope, "")).filter_map(Result::ok) {
            let _ = self.tree.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_are_encrypted_at_rest_and_unreadable_with_another_key() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let secret_box = SecretBox::ephemeral();
        let store = SledStateStore::open(&db, secret_box.clone()).expect("open");
        store.set("conn_1", "token", "eyJ-very-secret-token".into(), None).await;
        assert_eq!(store.get("conn_1", "token").await.as_deref(), Some("eyJ-very-secret-token"));
        let tree = db.open_tree("connector.state").expect("tree");
        for entry in tree.iter() {
            let (_, value) = entry.expect("entry");
            let text = String::from_utf8_lossy(&value);
            assert!(!text.contains("very-secret"), "a state value is stored in clear");
        }
        let other = SledStateStore::open(&db, SecretBox::ephemeral()).expect("open");
        assert_eq!(other.get("conn_1", "token").await, None, "another key reads nothing");
        store.set("conn_1", "short", "x".into(), Some(Duration::from_millis(1))).await;
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(store.get("conn_1", "short").await, None, "expired");
    }
}
