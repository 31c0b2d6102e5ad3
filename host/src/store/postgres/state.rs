//! The connectors' `state` import on PostgreSQL ([`StateStore`]): one row per (connection,
//! key), the value sealed with the host's key as on sled, so a session token stored by a
//! call on one node serves the next call on any node. Expired or unreadable entries are
//! dropped when read.

use crate::runtime::state::{StateStore, StateUsage};
use crate::store::SecretBox;
use crate::store::connector_state::{open_entry, seal_entry};
use deadpool_postgres::Pool;
use std::time::Duration;

pub struct PgStateStore {
    pool: Pool,
    secret_box: SecretBox,
}

impl PgStateStore {
    pub fn new(pool: Pool, secret_box: SecretBox) -> Self {
        PgStateStore { pool, secret_box }
    }

    async fn run(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) {
        let outcome = match self.pool.get().await {
            Ok(client) => client.execute(sql, params).await.map(drop).map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = outcome {
            tracing::error!(%error, "cannot persist connector state");
        }
    }
}

#[async_trait::async_trait]
impl StateStore for PgStateStore {
    async fn get(&self, scope: &str, key: &str) -> Option<String> {
        let client = self.pool.get().await.ok()?;
        let row = client
            .query_opt(
                "SELECT sealed FROM ats.connector_state WHERE scope = $1 AND key = $2",
                &[&scope, &key],
            )
            .await
            .ok()??;
        let sealed: Vec<u8> = row.try_get(0).ok()?;
        let value = open_entry(&self.secret_box, &sealed);
        if value.is_none() {
            self.delete(scope, key).await;
        }
        value
    }

    async fn set(&self, scope: &str, key: &str, value: String, ttl: Option<Duration>) {
        let sealed = seal_entry(&self.secret_box, value, ttl);
        self.run(
            "INSERT INTO ats.connector_state (scope, key, sealed) VALUES ($1, $2, $3)
             ON CONFLICT (scope, key) DO UPDATE SET sealed = EXCLUDED.sealed",
            &[&scope, &key, &sealed],
        )
        .await;
    }

    async fn delete(&self, scope: &str, key: &str) {
        self.run("DELETE FROM ats.connector_state WHERE scope = $1 AND key = $2", &[&scope, &key])
            .await;
    }

    /// Counts bytes as stored (sealed), as on sled. An unreachable database counts as full
    /// (the set is refused rather than let past the quota).
    async fn usage(&self, scope: &str, except_key: &str) -> StateUsage {
        let full = StateUsage { entries: usize::MAX / 2, bytes: usize::MAX / 2 };
        let Ok(client) = self.pool.get().await else { return full };
        let row = client
            .query_one(
                "SELECT count(*), COALESCE(sum(octet_length(key) + octet_length(sealed)), 0)::int8
                 FROM ats.connector_state WHERE scope = $1 AND key <> $2",
                &[&scope, &except_key],
            )
            .await;
        match row.and_then(|row| Ok((row.try_get::<_, i64>(0)?, row.try_get::<_, i64>(1)?))) {
            Ok((entries, bytes)) => StateUsage {
                entries: usize::try_from(entries).unwrap_or(usize::MAX / 2),
                bytes: usize::try_from(bytes).unwrap_or(usize::MAX / 2),
            },
            Err(_) => full,
        }
    }

    async fn clear(&self, scope: &str) {
        self.run("DELETE FROM ats.connector_state WHERE scope = $1", &[&scope]).await;
    }
}
