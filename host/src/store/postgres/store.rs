//! [`Store`] on PostgreSQL (tables in `migrations/0001_store.sql`).
//!
//! `commit_page` is one transaction; a job's customer-owned flags (`active`, `frozen`) are
//! kept from the stored row by the upsert itself, so a concurrent API change between the
//! connector call and the commit is never overwritten. Events take the event-log lock
//! inside the transaction and number themselves after the current maximum: one gap-free
//! sequence across nodes, in commit order.

use super::rows::*;
use crate::store::*;
use crate::time::now_ms;
use deadpool_postgres::Pool;
use std::collections::HashMap;
use tokio_postgres::types::Json;

pub struct PgStore {
    pub(super) pool: Pool,
    secret_box: SecretBox,
    /// For the change listener's own connection.
    url: String,
}

impl PgStore {
    /// Connects to `url` and applies the migrations this build knows.
    pub async fn connect(url: &str, secret_box: SecretBox) -> Result<PgStore, StoreError> {
        Ok(PgStore { pool: super::connect(url).await?, secret_box, url: url.to_string() })
    }

    /// The pool, for the other state that lives in the same database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO ats.tenants (id, doc) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc",
                &[&tenant.id, &Json(tenant)],
            )
            .await?;
        Ok(())
    }

    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        let client = self.pool.get().await?;
        one(&client, "tenants", "SELECT doc FROM ats.tenants WHERE id = $1", &[&id], id).await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let client = self.pool.get().await?;
        all(&client, "tenants", "SELECT doc FROM ats.tenants ORDER BY id", &[]).await
    }

    async fn put_connection(
        &self,
        connection: &Connection,
        secrets: Option<&Secrets>,
    ) -> Result<(), StoreError> {
        let sealed = secrets.map(|s| self.secret_box.seal(s));
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO ats.connections (id, tenant_id, doc, sealed_secrets)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id,
                   doc = EXCLUDED.doc,
                   sealed_secrets = COALESCE(EXCLUDED.sealed_secrets, ats.connections.sealed_secrets)",
                &[&connection.id, &connection.tenant_id, &Json(connection), &sealed],
            )
            .await?;
        Ok(())
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        let client = self.pool.get().await?;
        one(&client, "connections", "SELECT doc FROM ats.connections WHERE id = $1", &[&id], id)
            .await
    }

    async fn connection_with_secrets(
        &self,
        id: &str,
    ) -> Result<Option<ConnectionWithSecrets>, StoreError> {
        let client = self.pool.get().await?;
        let Some(row) = client
            .query_opt("SELECT doc, sealed_secrets FROM ats.connections WHERE id = $1", &[&id])
            .await?
        else {
            return Ok(None);
        };
        let connection: Connection = doc(&row, "connections", id)?;
        let sealed: Option<Vec<u8>> = row.try_get(1)?;
        let secrets = match sealed {
            Some(sealed) => self.secret_box.open_sealed(&sealed)?,
            None => Secrets::default(),
        };
        Ok(Some(ConnectionWithSecrets { connection, secrets }))
    }

    async fn connections(&self, tenant_id: Option<&str>) -> Result<Vec<Connection>, StoreError> {
        let client = self.pool.get().await?;
        all(
            &client,
            "connections",
            "SELECT doc FROM ats.connections WHERE ($1::text IS NULL OR tenant_id = $1) ORDER BY id",
            &[&tenant_id],
        )
        .await
    }

    async fn delete_connection(&self, id: &str) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let existed = tx.execute("DELETE FROM ats.connections WHERE id = $1", &[&id]).await? > 0;
        for table in
            ["jobs", "stages", "applications", "candidates", "checkpoints", "reference_lists"]
        {
            tx.execute(&format!("DELETE FROM ats.{table} WHERE connection_id = $1"), &[&id])
                .await?;
        }
        tx.commit().await?;
        Ok(existed)
    }

    async fn put_run(&self, run: &Run) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        put_run_in(&client, run).await
    }

    async fn claim_run(&self, run: &Run, lease_until: i64) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let now = now_ms();
        let kind = run.kind.as_str();
        let ended = client
            .execute(
                "UPDATE ats.runs SET state = 'cancelled',
                   doc = doc || jsonb_build_object('state', 'cancelled', 'ended_at', $3::int8, 'error', $4::text)
                 WHERE connection_id = $1 AND kind = $2 AND state IN ('queued', 'running')
                   AND lease_until < $3",
                &[&run.connection_id, &kind, &now, &ORPHANED],
            )
            .await?;
        if ended > 0 {
            tracing::warn!(connection = %run.connection_id, kind, "ended a run whose node stopped; this run resumes from its checkpoint");
        }
        let inserted = client
            .execute(
                "INSERT INTO ats.runs (id, tenant_id, connection_id, kind, state, lease_until, doc)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &run.id,
                    &run.tenant_id,
                    &run.connection_id,
                    &kind,
                    &json_name(&run.state),
                    &lease_until,
                    &Json(run),
                ],
            )
            .await?;
        if inserted == 1 {
            return Ok(());
        }
        let holder = client
            .query_opt(
                "SELECT id FROM ats.runs WHERE connection_id = $1 AND kind = $2
                   AND state IN ('queued', 'running')",
                &[&run.connection_id, &kind],
            )
            .await?
            .map(|row| row.try_get::<_, String>(0))
            .transpose()?;
        Err(StoreError::RunActive { run_id: holder.unwrap_or_default() })
    }

    async fn renew_run(&self, run_id: &str, lease_until: i64) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "UPDATE ats.runs SET lease_until = $2 WHERE id = $1 AND state IN ('queued', 'running')",
                &[&run_id, &lease_until],
            )
            .await?;
        Ok(())
    }

    async fn orphaned_runs(&self, now: i64) -> Result<Vec<Run>, StoreError> {
        let client = self.pool.get().await?;
        all(
            &client,
            "runs",
            "SELECT doc FROM ats.runs WHERE state IN ('queued', 'running') AND lease_until < $1",
            &[&now],
        )
        .await
    }

    async fn run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        let client = self.pool.get().await?;
        one(&client, "runs", "SELECT doc FROM ats.runs WHERE id = $1", &[&id], id).await
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, StoreError> {
        let client = self.pool.get().await?;
        let state = filter.state.map(|s| json_name(&s));
        all(
            &client,
            "runs",
            "SELECT doc FROM ats.runs
             WHERE ($1::text IS NULL OR tenant_id = $1)
               AND ($2::text IS NULL OR connection_id = $2)
               AND ($3::text IS NULL OR state = $3)
               AND ($4::text IS NULL OR id < $4)
             ORDER BY id DESC LIMIT $5",
            &[
                &filter.tenant_id,
                &filter.connection_id,
                &state,
                &filter.before,
                &(filter.limit.clamp(1, i64::MAX as usize) as i64),
            ],
        )
        .await
    }

    async fn checkpoint(
        &self,
        connection_id: &str,
        kind: SyncKind,
    ) -> Result<Checkpoint, StoreError> {
        let client = self.pool.get().await?;
        Ok(one(
            &client,
            "checkpoints",
            "SELECT doc FROM ats.checkpoints WHERE connection_id = $1 AND kind = $2",
            &[&connection_id, &kind.as_str()],
            connection_id,
        )
        .await?
        .unwrap_or_default())
    }

    async fn put_checkpoint(
        &self,
        connection_id: &str,
        kind: SyncKind,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        put_checkpoint_in(&client, connection_id, kind, checkpoint).await
    }

    async fn job(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredJob>, StoreError> {
        self.record("jobs", connection_id, remote_id).await
    }

    async fn jobs_by_id(
        &self,
        connection_id: &str,
        remote_ids: &[&str],
    ) -> Result<HashMap<String, StoredJob>, StoreError> {
        self.records_by_id("jobs", connection_id, remote_ids).await
    }

    async fn set_job_flags(
        &self,
        connection_id: &str,
        remote_id: &str,
        flags: JobFlags,
    ) -> Result<Option<StoredJob>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(mut job) = one::<StoredJob>(
            &tx,
            "jobs",
            "SELECT doc FROM ats.jobs WHERE connection_id = $1 AND remote_id = $2 FOR UPDATE",
            &[&connection_id, &remote_id],
            remote_id,
        )
        .await?
        else {
            return Ok(None);
        };
        job.active = flags.active.unwrap_or(job.active);
        job.frozen = flags.frozen.unwrap_or(job.frozen);
        job.updated_at = now_ms();
        tx.execute(
            "UPDATE ats.jobs SET doc = $3, updated_at = $4 WHERE connection_id = $1 AND remote_id = $2",
            &[&connection_id, &remote_id, &Json(&job), &job.updated_at],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    async fn jobs(&self, filter: &RecordFilter) -> Result<Vec<StoredJob>, StoreError> {
        self.scan("jobs", filter, |j| filter.fields.job(j)).await
    }

    async fn jobs_missing_from_scan(
        &self,
        connection_id: &str,
        scan_id: &str,
    ) -> Result<Vec<StoredJob>, StoreError> {
        let client = self.pool.get().await?;
        all(
            &client,
            "jobs",
            "SELECT doc FROM ats.jobs WHERE connection_id = $1
               AND NOT COALESCE((doc->>'archived')::boolean, false)
               AND (doc->>'last_seen_scan') IS DISTINCT FROM $2
             ORDER BY remote_id",
            &[&connection_id, &scan_id],
        )
        .await
    }

    async fn stages(&self, connection_id: &str) -> Result<Vec<StoredStage>, StoreError> {
        let client = self.pool.get().await?;
        let mut stages: Vec<StoredStage> = all(
            &client,
            "stages",
            "SELECT doc FROM ats.stages WHERE connection_id = $1 ORDER BY remote_id",
            &[&connection_id],
        )
        .await?;
        stages.sort_by_key(|s| (s.job_id.clone(), s.position));
        Ok(stages)
    }

    async fn application(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredApplication>, StoreError> {
        self.record("applications", connection_id, remote_id).await
    }

    async fn applications_by_id(
        &self,
        connection_id: &str,
        remote_ids: &[&str],
    ) -> Result<HashMap<String, StoredApplication>, StoreError> {
        self.records_by_id("applications", connection_id, remote_ids).await
    }

    async fn applications(
        &self,
        filter: &RecordFilter,
    ) -> Result<Vec<StoredApplication>, StoreError> {
        self.scan("applications", filter, |a| filter.fields.application(a)).await
    }

    async fn candidates(&self, filter: &RecordFilter) -> Result<Vec<StoredCandidate>, StoreError> {
        self.scan("candidates", filter, |c| filter.fields.candidate(c)).await
    }

    async fn put_reference(
        &self,
        connection_id: &str,
        kind: &str,
        entries: &[serde_json::Value],
    ) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO ats.reference_lists (connection_id, kind, entries) VALUES ($1, $2, $3)
                 ON CONFLICT (connection_id, kind) DO UPDATE SET entries = EXCLUDED.entries",
                &[&connection_id, &kind, &Json(entries)],
            )
            .await?;
        Ok(())
    }

    async fn reference(
        &self,
        connection_id: &str,
        kind: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT entries AS doc FROM ats.reference_lists WHERE connection_id = $1 AND kind = $2",
                &[&connection_id, &kind],
            )
            .await?;
        Ok(row.map(|row| doc(&row, "reference_lists", kind)).transpose()?.unwrap_or_default())
    }

    async fn candidate(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredCandidate>, StoreError> {
        self.record("candidates", connection_id, remote_id).await
    }

    async fn append_events(
        &self,
        tenant_id: &str,
        connection_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let appended = append_events_in(&tx, tenant_id, connection_id, events).await?;
        tx.commit().await?;
        Ok(appended)
    }

    async fn events(
        &self,
        tenant_id: Option<&str>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let client = self.pool.get().await?;
        all(
            &client,
            "events",
            "SELECT doc FROM ats.events WHERE seq > $1 AND ($2::text IS NULL OR tenant_id = $2)
             ORDER BY seq LIMIT $3",
            &[
                &(after.unwrap_or(0).min(i64::MAX as u64) as i64),
                &tenant_id,
                &(limit.clamp(1, i64::MAX as usize) as i64),
            ],
        )
        .await
    }

    async fn commit_page(&self, page: PageCommit) -> Result<Vec<Event>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        upsert_records(&tx, "jobs", &page.jobs, |j| {
            (&j.connection_id, &j.remote_id, &j.tenant_id, j.updated_at)
        })
        .await?;
        upsert_records(&tx, "stages", &page.stages, |s| {
            (&s.connection_id, &s.remote_id, "", s.updated_at)
        })
        .await?;
        upsert_records(&tx, "applications", &page.applications, |a| {
            (&a.connection_id, &a.remote_id, &a.tenant_id, a.updated_at)
        })
        .await?;
        upsert_records(&tx, "candidates", &page.candidates, |c| {
            (&c.connection_id, &c.remote_id, &c.tenant_id, c.updated_at)
        })
        .await?;
        let appended =
            append_events_in(&tx, &page.tenant_id, &page.connection_id, page.events).await?;
        put_checkpoint_in(&tx, &page.connection_id, page.kind, &page.checkpoint).await?;
        put_run_in(&tx, &page.run).await?;
        tx.commit().await?;
        Ok(appended)
    }

    fn inbound_token(&self, connection_id: &str) -> String {
        self.secret_box.token("inbound-webhook", connection_id)
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // A committed transaction is durable on the server; nothing is buffered here.
        Ok(())
    }

    async fn connector_versions(&self) -> Result<Vec<ConnectorVersions>, StoreError> {
        let client = self.pool.get().await?;
        all(
            &client,
            "connector_versions",
            "SELECT doc FROM ats.connector_versions ORDER BY connector_id",
            &[],
        )
        .await
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn wake_on_changes(&self, wake: std::sync::Arc<tokio::sync::Notify>) {
        super::listen::spawn_listener(self.url.clone(), wake);
    }

    async fn put_connector_build(&self, sha256: &str, wasm: &[u8]) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO ats.connector_builds (sha256, wasm, stored_at) VALUES ($1, $2, $3)
                 ON CONFLICT (sha256) DO NOTHING",
                &[&sha256, &wasm, &now_ms()],
            )
            .await?;
        Ok(())
    }

    async fn connector_build(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .pool
            .get()
            .await?
            .query_opt("SELECT wasm FROM ats.connector_builds WHERE sha256 = $1", &[&sha256])
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    async fn put_connector_versions(&self, record: &ConnectorVersions) -> Result<(), StoreError> {
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO ats.connector_versions (connector_id, doc) VALUES ($1, $2)
                 ON CONFLICT (connector_id) DO UPDATE SET doc = EXCLUDED.doc",
                &[&record.connector_id, &Json(record)],
            )
            .await?;
        Ok(())
    }
}
