//! [`WriteJournal`] on PostgreSQL: one row per (tenant, connection, `Idempotency-Key`),
//! claimed under the row lock (`SELECT … FOR UPDATE`) by the rule the backends share
//! ([`claim`]). Nodes share the table, so a claim another node holds is respected until its
//! lease runs out (sled, held by one process, takes over another process's claim at once).
//! A committed transaction is durable: [`WriteJournal::persist`] has nothing left to do.

use crate::writes::journal::{
    Answer, Begin, Claim, DEFAULT_LEASE, JournalError, JournalKey, JournalRecord, StoredAnswer,
    WriteJournal, claim,
};
use deadpool_postgres::Pool;
use std::time::Duration;
use tokio_postgres::types::Json;

pub struct PgJournal {
    pool: Pool,
    lease: Duration,
}

impl PgJournal {
    /// The journal in the database of `pool` (its table comes with the migrations), its
    /// claims leased for [`DEFAULT_LEASE`].
    pub fn new(pool: Pool) -> Self {
        PgJournal { pool, lease: DEFAULT_LEASE }
    }

    /// The same journal with claims leased for `lease`: how long a write another node
    /// started and stopped making progress on waits before a retry takes it over.
    pub fn with_lease(self, lease: Duration) -> Self {
        PgJournal { lease, ..self }
    }
}

#[async_trait::async_trait]
impl WriteJournal for PgJournal {
    async fn begin(&self, key: &JournalKey, fingerprint: &str) -> Result<Begin, JournalError> {
        let id = key.storage_key();
        let mut client = self.pool.get().await?;
        loop {
            let tx = client.transaction().await?;
            let row = tx
                .query_opt("SELECT doc FROM ats.write_journal WHERE key = $1 FOR UPDATE", &[&id])
                .await?;
            let stored = row.is_some();
            // An unreadable record is treated as absent, as on sled.
            let existing = row
                .and_then(|r| r.try_get::<_, Json<JournalRecord>>(0).ok())
                .map(|Json(record)| record);
            let (record, done) = match claim(existing, key, fingerprint, false, self.lease)? {
                Claim::Replay(answer) => return Ok(Begin::Replay(answer)),
                Claim::Take { record, done } => (record, done),
            };
            let written = if stored {
                tx.execute(
                    "UPDATE ats.write_journal SET doc = $2 WHERE key = $1",
                    &[&id, &Json(&record)],
                )
                .await?
            } else {
                tx.execute(
                    "INSERT INTO ats.write_journal (key, doc) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    &[&id, &Json(&record)],
                )
                .await?
            };
            if written == 1 {
                tx.commit().await?;
                return Ok(Begin::Run { done });
            }
            // Another node inserted the key between the look and the insert: look again.
        }
    }

    /// One statement: the part is appended and the lease extended in place.
    async fn part_done(
        &self,
        key: &JournalKey,
        part: &str,
        result: &serde_json::Value,
    ) -> Result<(), JournalError> {
        let lease_until = crate::time::now_ms()
            .saturating_add(i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX));
        self.pool
            .get()
            .await?
            .execute(
                "UPDATE ats.write_journal SET doc = jsonb_set(jsonb_set(doc, '{parts}',
                     COALESCE(doc->'parts', '[]'::jsonb) || jsonb_build_array(jsonb_build_array($2::text, $3::jsonb))),
                     '{lease_until}', to_jsonb($4::bigint))
                 WHERE key = $1",
                &[&key.storage_key(), &part, &Json(result), &lease_until],
            )
            .await?;
        Ok(())
    }

    /// One statement: the answer is set in place.
    async fn finish(&self, key: &JournalKey, answer: &Answer) -> Result<(), JournalError> {
        let answer = StoredAnswer::Typed(answer.clone());
        self.pool
            .get()
            .await?
            .execute(
                "UPDATE ats.write_journal SET doc = jsonb_set(doc, '{answer}', $2::jsonb) WHERE key = $1",
                &[&key.storage_key(), &Json(&answer)],
            )
            .await?;
        Ok(())
    }

    async fn abandon(&self, key: &JournalKey) -> Result<(), JournalError> {
        self.pool
            .get()
            .await?
            .execute("DELETE FROM ats.write_journal WHERE key = $1", &[&key.storage_key()])
            .await?;
        Ok(())
    }

    async fn persist(&self) -> Result<(), JournalError> {
        Ok(())
    }
}

impl From<tokio_postgres::Error> for JournalError {
    fn from(error: tokio_postgres::Error) -> Self {
        JournalError::Storage(crate::store::StoreError::from(error).to_string())
    }
}

impl From<deadpool_postgres::PoolError> for JournalError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        JournalError::Storage(crate::store::StoreError::from(error).to_string())
    }
}
