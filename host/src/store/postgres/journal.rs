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

    /// Changes the stored record of `key` (if any) under its row lock.
    async fn update(
        &self,
        key: &JournalKey,
        change: impl FnOnce(&mut JournalRecord) + Send,
    ) -> Result<(), JournalError> {
        let id = key.storage_key();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt("SELECT doc FROM ats.write_journal WHERE key = $1 FOR UPDATE", &[&id])
            .await?;
        let Some(Json(mut record)) =
            row.map(|r| r.try_get::<_, Json<JournalRecord>>(0)).transpose()?
        else {
            return Ok(());
        };
        change(&mut record);
        tx.execute("UPDATE ats.write_journal SET doc = $2 WHERE key = $1", &[&id, &Json(&record)])
            .await?;
        tx.commit().await?;
        Ok(())
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

    async fn part_done(
        &self,
        key: &JournalKey,
        part: &str,
        result: &serde_json::Value,
    ) -> Result<(), JournalError> {
        let (part, result, lease) = (part.to_string(), result.clone(), self.lease);
        self.update(key, move |record| record.part_done(&part, &result, lease)).await
    }

    async fn finish(&self, key: &JournalKey, answer: &Answer) -> Result<(), JournalError> {
        let answer = answer.clone();
        self.update(key, move |record| record.answer = Some(StoredAnswer::Typed(answer))).await
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
