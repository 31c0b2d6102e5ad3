//! API key records on PostgreSQL ([`KeyTable`]), by the sha256 of the key: a key minted on
//! one node authenticates on every node.

use crate::api::auth::{KeyError, KeyRecord, KeyTable};
use deadpool_postgres::Pool;
use tokio_postgres::types::Json;

pub struct PgKeys {
    pool: Pool,
}

impl PgKeys {
    pub fn new(pool: Pool) -> Self {
        PgKeys { pool }
    }
}

fn storage(error: impl std::fmt::Display) -> KeyError {
    KeyError::Storage(error.to_string())
}

#[async_trait::async_trait]
impl KeyTable for PgKeys {
    async fn insert(&self, digest: &str, record: &KeyRecord) -> Result<(), KeyError> {
        let client = self.pool.get().await.map_err(storage)?;
        client
            .execute(
                "INSERT INTO ats.api_keys (digest, doc) VALUES ($1, $2)
                 ON CONFLICT (digest) DO UPDATE SET doc = EXCLUDED.doc",
                &[&digest, &Json(record)],
            )
            .await
            .map_err(storage)?;
        Ok(())
    }

    async fn get(&self, digest: &str) -> Result<Option<KeyRecord>, KeyError> {
        let client = self.pool.get().await.map_err(storage)?;
        let row = client
            .query_opt("SELECT doc FROM ats.api_keys WHERE digest = $1", &[&digest])
            .await
            .map_err(storage)?;
        Ok(row.and_then(|row| row.try_get::<_, Json<KeyRecord>>(0).ok()).map(|Json(r)| r))
    }

    async fn all(&self) -> Result<Vec<(String, KeyRecord)>, KeyError> {
        let client = self.pool.get().await.map_err(storage)?;
        let rows = client
            .query("SELECT digest, doc FROM ats.api_keys ORDER BY digest", &[])
            .await
            .map_err(storage)?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let digest: String = row.try_get(0).ok()?;
                let Json(record) = row.try_get::<_, Json<KeyRecord>>(1).ok()?;
                Some((digest, record))
            })
            .collect())
    }

    async fn remove(&self, digest: &str) -> Result<bool, KeyError> {
        let client = self.pool.get().await.map_err(storage)?;
        let removed = client
            .execute("DELETE FROM ats.api_keys WHERE digest = $1", &[&digest])
            .await
            .map_err(storage)?;
        Ok(removed > 0)
    }
}
