//! JSON documents by id, the shape most host state takes on PostgreSQL (automations, stage
//! mappings, push defaults, orders, webhook subscriptions), and **queues** of them
//! (webhook deliveries, automation firings): documents with a status and a next-attempt
//! time, claimed by one node at a time with `FOR UPDATE SKIP LOCKED` and a lease, so two
//! nodes never make the same attempt and a crashed node's claims come due again when
//! their lease runs out.
//!
//! Tables (`migrations/0003_documents.sql`): `id`, `tenant_id` (empty where a document
//! has no tenant), `doc`; queue tables add `status`, `next_attempt_at`, `lease_until` and
//! `created_at`.

use crate::store::StoreError;
use deadpool_postgres::Pool;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::Row;
use tokio_postgres::types::Json;

/// The documents of one database.
#[derive(Clone)]
pub struct Docs {
    pool: Pool,
}

/// Where a queued document stands, as its queue columns say.
pub struct Queued<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    /// `pending` documents are due at `next_attempt_at`.
    pub status: &'a str,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

fn decode<T: DeserializeOwned>(row: &Row, table: &'static str) -> Result<T, StoreError> {
    row.try_get::<_, Json<T>>("doc").map(|Json(v)| v).map_err(|e| StoreError::Corrupt {
        tree: table,
        key: row.try_get::<_, String>("id").unwrap_or_default(),
        reason: e.to_string(),
    })
}

impl Docs {
    pub fn new(pool: Pool) -> Self {
        Docs { pool }
    }

    /// Stores (replaces) a document.
    pub async fn put<T: Serialize + Sync + std::fmt::Debug>(
        &self,
        table: &'static str,
        id: &str,
        tenant_id: &str,
        doc: &T,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO ats.{table} (id, tenant_id, doc) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, doc = EXCLUDED.doc"
        );
        self.pool.get().await?.execute(&sql, &[&id, &tenant_id, &Json(doc)]).await?;
        Ok(())
    }

    /// Stores a document unless one has its id; returns whether it did.
    pub async fn insert_new<T: Serialize + Sync + std::fmt::Debug>(
        &self,
        table: &'static str,
        id: &str,
        tenant_id: &str,
        doc: &T,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO ats.{table} (id, tenant_id, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING"
        );
        Ok(self.pool.get().await?.execute(&sql, &[&id, &tenant_id, &Json(doc)]).await? == 1)
    }

    /// Replaces the document `id` by `doc` if its JSON field `field` still equals `expected`
    /// (compare-and-swap on a version); returns whether it did.
    pub async fn swap<T: Serialize + Sync + std::fmt::Debug>(
        &self,
        table: &'static str,
        id: &str,
        field: &str,
        expected: i64,
        doc: &T,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE ats.{table} SET doc = $3 WHERE id = $1 AND (doc->>'{field}')::bigint = $2"
        );
        Ok(self.pool.get().await?.execute(&sql, &[&id, &expected, &Json(doc)]).await? == 1)
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        table: &'static str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let sql = format!("SELECT id, doc FROM ats.{table} WHERE id = $1");
        let row = self.pool.get().await?.query_opt(&sql, &[&id]).await?;
        row.map(|row| decode(&row, table)).transpose()
    }

    pub async fn delete(&self, table: &'static str, id: &str) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM ats.{table} WHERE id = $1");
        Ok(self.pool.get().await?.execute(&sql, &[&id]).await? > 0)
    }

    /// Every document of `table`, optionally one tenant's, in id order.
    pub async fn list<T: DeserializeOwned>(
        &self,
        table: &'static str,
        tenant_id: Option<&str>,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!(
            "SELECT id, doc FROM ats.{table} WHERE ($1::text IS NULL OR tenant_id = $1) ORDER BY id"
        );
        let rows = self.pool.get().await?.query(&sql, &[&tenant_id]).await?;
        rows.iter().map(|row| decode(row, table)).collect()
    }

    /// A value of the shared `meta` table (cursors).
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt("SELECT value FROM ats.meta WHERE key = $1", &[&key])
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO ats.meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&key, &value],
            )
            .await?;
        Ok(())
    }

    /// Stores a queued document with its queue columns, releasing any claim on it
    /// (`only_if_new`: unless one has its id; returns whether it was written).
    pub async fn put_queued<T: Serialize + Sync + std::fmt::Debug>(
        &self,
        table: &'static str,
        at: Queued<'_>,
        doc: &T,
        only_if_new: bool,
    ) -> Result<bool, StoreError> {
        let on_conflict = if only_if_new {
            "DO NOTHING"
        } else {
            "DO UPDATE SET tenant_id = EXCLUDED.tenant_id, status = EXCLUDED.status,
               next_attempt_at = EXCLUDED.next_attempt_at, lease_until = 0, doc = EXCLUDED.doc"
        };
        let sql = format!(
            "INSERT INTO ats.{table} (id, tenant_id, status, next_attempt_at, created_at, lease_until, doc)
             VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (id) {on_conflict}"
        );
        let written = self
            .pool
            .get()
            .await?
            .execute(
                &sql,
                &[
                    &at.id,
                    &at.tenant_id,
                    &at.status,
                    &at.next_attempt_at,
                    &at.created_at,
                    &Json(doc),
                ],
            )
            .await?;
        Ok(written == 1)
    }

    /// Saves a queued document this node claimed (or loaded) as `previous`, fenced: only
    /// while the stored document is still `previous`. When another node took the document
    /// over (this node's lease ran out) and saved it since, nothing is written (a WARN says
    /// so): this node's late result must not undo the other's progress. A save that
    /// leaves the document pending and due keeps this node's lease (it goes on with the
    /// next step); any other save releases it.
    pub async fn save_claimed<T: Serialize + Sync + std::fmt::Debug>(
        &self,
        table: &'static str,
        at: Queued<'_>,
        doc: &T,
        previous: &T,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE ats.{table} SET tenant_id = $2, status = $3::text, next_attempt_at = $4::bigint,
                 lease_until = CASE WHEN $3::text = 'pending' AND $4::bigint <= $7::bigint
                     THEN lease_until ELSE 0 END,
                 doc = $5
             WHERE id = $1 AND doc = $6"
        );
        let now = crate::time::now_ms();
        let written = self
            .pool
            .get()
            .await?
            .execute(
                &sql,
                &[
                    &at.id,
                    &at.tenant_id,
                    &at.status,
                    &at.next_attempt_at,
                    &Json(doc),
                    &Json(previous),
                    &now,
                ],
            )
            .await?;
        if written == 0 {
            tracing::warn!(
                table,
                id = %at.id,
                "another node took this over (this node's claim ran out): this node's result is dropped"
            );
        }
        Ok(())
    }

    /// Claims up to `limit` pending documents due at `now` that no live lease holds, for
    /// `lease` (its end saturates rather than overflowing the column); oldest due first. A node that dies holding them lets them come due again
    /// when the lease runs out; saving a document ([`Docs::save_claimed`]) releases it unless
    /// it stays pending and due (the node goes on with it).
    pub async fn claim_due<T: DeserializeOwned>(
        &self,
        table: &'static str,
        now: i64,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<T>, StoreError> {
        let lease_until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let sql = format!(
            "UPDATE ats.{table} SET lease_until = $3
             WHERE id IN (
                 SELECT id FROM ats.{table}
                 WHERE status = 'pending' AND next_attempt_at <= $1 AND lease_until <= $1
                 ORDER BY next_attempt_at, id LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             RETURNING id, next_attempt_at, doc"
        );
        let limit = limit.clamp(1, i64::MAX as usize) as i64;
        let mut rows = self.pool.get().await?.query(&sql, &[&now, &limit, &lease_until]).await?;
        rows.sort_by_key(|row| {
            (
                row.try_get::<_, i64>("next_attempt_at").unwrap_or(0),
                row.try_get::<_, String>("id").unwrap_or_default(),
            )
        });
        rows.iter().map(|row| decode(row, table)).collect()
    }
}
