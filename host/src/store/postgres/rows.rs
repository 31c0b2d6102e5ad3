//! Row helpers and the statements several [`Store`](crate::store::Store) methods of
//! [`PgStore`] share: decoding `doc` columns, batch upserts of records, event appends under
//! the event-log lock, filtered record scans, runs and checkpoints inside a transaction.

use super::EVENT_LOG_LOCK;
use super::store::PgStore;
use crate::store::*;
use crate::time::now_ms;
use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};

/// Rows read per round trip while a filtered scan fills its page.
const SCAN_BATCH: i64 = 500;

/// `doc` of a row decoded as `T`, or a [`StoreError::Corrupt`] naming the table and key.
pub(super) fn doc<T: DeserializeOwned>(
    row: &Row,
    table: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    row.try_get::<_, Json<T>>("doc").map(|Json(v)| v).map_err(|e| StoreError::Corrupt {
        tree: table,
        key: key.to_string(),
        reason: e.to_string(),
    })
}

pub(super) async fn one<T: DeserializeOwned>(
    client: &impl GenericClient,
    table: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    key: &str,
) -> Result<Option<T>, StoreError> {
    client.query_opt(sql, params).await?.map(|row| doc(&row, table, key)).transpose()
}

pub(super) async fn all<T: DeserializeOwned>(
    client: &impl GenericClient,
    table: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<T>, StoreError> {
    client.query(sql, params).await?.iter().map(|row| doc(row, table, "")).collect()
}

/// The serialized (kebab-case) name of a unit enum, as stored in JSON.
pub(super) fn json_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Upserts records of one kind (`jobs`, `stages`, `applications`, `candidates`) in one
/// statement.
pub(super) async fn upsert_records<T: Serialize + Sync + std::fmt::Debug>(
    tx: &impl GenericClient,
    table: &'static str,
    records: &[T],
    key: impl Fn(&T) -> (&str, &str, &str, i64),
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut connections = Vec::with_capacity(records.len());
    let mut remotes = Vec::with_capacity(records.len());
    let mut tenants = Vec::with_capacity(records.len());
    let mut updated = Vec::with_capacity(records.len());
    let mut docs = Vec::with_capacity(records.len());
    for record in records {
        let (connection, remote, tenant, updated_at) = key(record);
        connections.push(connection);
        remotes.push(remote);
        tenants.push(tenant);
        updated.push(updated_at);
        docs.push(Json(record));
    }
    // Jobs keep the stored customer-owned flags; the other kinds take the page as it is.
    let keep = if table == "jobs" {
        "jsonb_set(jsonb_set(EXCLUDED.doc, '{active}', COALESCE(t.doc->'active', EXCLUDED.doc->'active')), '{frozen}', COALESCE(t.doc->'frozen', EXCLUDED.doc->'frozen'))"
    } else {
        "EXCLUDED.doc"
    };
    let sql = format!(
        "INSERT INTO ats.{table} AS t (connection_id, remote_id, tenant_id, updated_at, doc)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::jsonb[])
         ON CONFLICT (connection_id, remote_id) DO UPDATE
         SET tenant_id = EXCLUDED.tenant_id, updated_at = EXCLUDED.updated_at, doc = {keep}"
    );
    tx.execute(&sql, &[&connections, &remotes, &tenants, &updated, &docs]).await?;
    Ok(())
}

/// Appends events under the event-log lock; the caller commits.
pub(super) async fn append_events_in(
    tx: &impl GenericClient,
    tenant_id: &str,
    connection_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Event>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENT_LOG_LOCK]).await?;
    let last: i64 =
        tx.query_one("SELECT COALESCE(max(seq), 0) FROM ats.events", &[]).await?.try_get(0)?;
    let occurred_at = now_ms();
    let stored: Vec<Event> = events
        .into_iter()
        .zip(1u64..)
        .map(|(event, offset)| {
            event.into_event(last as u64 + offset, tenant_id, connection_id, occurred_at)
        })
        .collect();
    let seqs: Vec<i64> = stored.iter().map(|e| e.seq as i64).collect();
    let docs: Vec<Json<&Event>> = stored.iter().map(Json).collect();
    // Delivered on commit: the other nodes' fan-out and automations look at once.
    tx.execute("SELECT pg_notify($1, 'events')", &[&super::listen::CHANGES]).await?;
    tx.execute(
        "INSERT INTO ats.events (seq, tenant_id, doc)
         SELECT s, $2, d FROM UNNEST($1::int8[], $3::jsonb[]) AS u(s, d)",
        &[&seqs, &tenant_id, &docs],
    )
    .await?;
    Ok(stored)
}

/// Splits a record cursor (`connection \0 remote id`, see [`record_key`]).
pub(super) fn cursor(after: &str) -> (&str, &str) {
    after.split_once('\0').unwrap_or((after, ""))
}

impl PgStore {
    /// Records of `table` matching `filter` in key order after the cursor: tenant,
    /// connection and `updated_after` in SQL, the field filters on the decoded records.
    pub(super) async fn scan<T: DeserializeOwned>(
        &self,
        table: &'static str,
        filter: &RecordFilter,
        matches: impl Fn(&T) -> bool,
    ) -> Result<Vec<T>, StoreError> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT connection_id, remote_id, doc FROM ats.{table}
             WHERE ($1::text IS NULL OR tenant_id = $1)
               AND ($2::text IS NULL OR connection_id = $2)
               AND ($3::int8 IS NULL OR updated_at > $3)
               AND (connection_id, remote_id) > ($4, $5)
             ORDER BY connection_id, remote_id LIMIT $6"
        );
        let limit = filter.limit.max(1);
        let (mut after_connection, mut after_remote) = match &filter.after {
            Some(after) => {
                let (c, r) = cursor(after);
                (c.to_string(), r.to_string())
            }
            None => (String::new(), String::new()),
        };
        let mut found = Vec::new();
        loop {
            let rows = client
                .query(
                    &sql,
                    &[
                        &filter.tenant_id,
                        &filter.connection_id,
                        &filter.updated_after,
                        &after_connection,
                        &after_remote,
                        &SCAN_BATCH,
                    ],
                )
                .await?;
            let batch = rows.len();
            for row in &rows {
                after_connection = row.try_get(0)?;
                after_remote = row.try_get(1)?;
                let record: T = doc(row, table, &after_remote)?;
                if matches(&record) {
                    found.push(record);
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
            }
            if (batch as i64) < SCAN_BATCH {
                return Ok(found);
            }
        }
    }
}

impl PgStore {
    pub(super) async fn record<T: DeserializeOwned>(
        &self,
        table: &'static str,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<T>, StoreError> {
        let client = self.pool.get().await?;
        one(
            &client,
            table,
            &format!("SELECT doc FROM ats.{table} WHERE connection_id = $1 AND remote_id = $2"),
            &[&connection_id, &remote_id],
            remote_id,
        )
        .await
    }
}

impl PgStore {
    /// The records of `table` among `remote_ids`, by remote id, in one query.
    pub(super) async fn records_by_id<T: DeserializeOwned>(
        &self,
        table: &'static str,
        connection_id: &str,
        remote_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, T>, StoreError> {
        if remote_ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT remote_id, doc FROM ats.{table} WHERE connection_id = $1 AND remote_id = ANY($2)"
        );
        let rows = client.query(&sql, &[&connection_id, &remote_ids]).await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("remote_id")?;
                let record = doc(row, table, &id)?;
                Ok((id, record))
            })
            .collect()
    }
}

pub(super) async fn put_run_in(client: &impl GenericClient, run: &Run) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO ats.runs (id, tenant_id, connection_id, kind, state, doc)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, doc = EXCLUDED.doc",
            &[
                &run.id,
                &run.tenant_id,
                &run.connection_id,
                &run.kind.as_str(),
                &json_name(&run.state),
                &Json(run),
            ],
        )
        .await
        .map_err(|error| match error.as_db_error().map(|db| db.code()) {
            Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                StoreError::RunActive { run_id: String::new() }
            }
            _ => error.into(),
        })?;
    Ok(())
}

/// What ends a run whose node died (its lease ran out).
pub(super) const ORPHANED: &str =
    "the node running it stopped (its lease ran out); the next run resumes from its checkpoint";

pub(super) async fn put_checkpoint_in(
    client: &impl GenericClient,
    connection_id: &str,
    kind: SyncKind,
    checkpoint: &Checkpoint,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO ats.checkpoints (connection_id, kind, doc) VALUES ($1, $2, $3)
             ON CONFLICT (connection_id, kind) DO UPDATE SET doc = EXCLUDED.doc",
            &[&connection_id, &kind.as_str(), &Json(checkpoint)],
        )
        .await?;
    Ok(())
}
