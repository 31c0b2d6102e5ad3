//! The connectors' `state` import (session ids, access tokens) persisted in sled (tree
//! `connector.state`: connection `\0` key → value + expiry), so a restart does not force
//! every connection to log in again. Expired entries are dropped when read.

use crate::runtime::state::StateStore;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Serialize, Deserialize)]
struct Entry {
    value: String,
    expires_at_ms: Option<i64>,
}

pub struct SledStateStore {
    tree: sled::Tree,
}

impl SledStateStore {
    pub fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Ok(SledStateStore { tree: db.open_tree("connector.state")? })
    }
}

fn key(scope: &str, key: &str) -> Vec<u8> {
    format!("{scope}\0{key}").into_bytes()
}

impl StateStore for SledStateStore {
    fn get(&self, scope: &str, name: &str) -> Option<String> {
        let id = key(scope, name);
        let raw = self.tree.get(&id).ok()??;
        let entry: Entry = serde_json::from_slice(&raw).ok()?;
        if entry.expires_at_ms.is_some_and(|at| at <= crate::webhooks::now_ms()) {
            let _ = self.tree.remove(&id);
            return None;
        }
        Some(entry.value)
    }

    fn set(&self, scope: &str, name: &str, value: String, ttl: Option<Duration>) {
        let expires_at_ms = ttl.map(|ttl| {
            crate::webhooks::now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2)
        });
        let entry = Entry { value, expires_at_ms };
        if let Err(error) =
            self.tree.insert(key(scope, name), serde_json::to_vec(&entry).unwrap_or_default())
        {
            tracing::error!(%error, connection = scope, "cannot persist connector state");
        }
    }

    fn delete(&self, scope: &str, name: &str) {
        let _ = self.tree.remove(key(scope, name));
    }
}
