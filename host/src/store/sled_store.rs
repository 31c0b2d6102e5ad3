//! [`Store`] on sled. Trees and keys (`\0` separates key parts; values are JSON):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `format-version` | the on-disk format |
//! | `tenants` | tenant id | [`Tenant`] |
//! | `connections` | connection id | [`Connection`] |
//! | `secrets` | connection id | sealed secrets (see [`super::secrets`]) |
//! | `runs` | run id (time-ordered) | [`Run`] |
//! | `checkpoints` | connection `\0` kind | [`Checkpoint`] |
//! | `jobs` | connection `\0` remote id | [`StoredJob`] |
//! | `stages` | connection `\0` remote id | [`StoredStage`] |
//! | `applications` | connection `\0` remote id | [`StoredApplication`] |
//! | `candidates` | connection `\0` remote id | [`StoredCandidate`] |
//! | `events` | seq (u64 big-endian) | [`Event`] |
//! | `connector_versions` | connector id | [`ConnectorVersions`] |
//!
//! The webhook and write journals live in the same database under their own trees
//! (`webhooks.*`, `writes.journal`, `api.keys`); [`SledStore::db`] hands it out.

use super::*;
use crate::time::now_ms;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use std::path::Path;

pub struct SledStore {
    db: sled::Db,
    secret_box: SecretBox,
    tenants: sled::Tree,
    connections: sled::Tree,
    secrets: sled::Tree,
    runs: sled::Tree,
    checkpoints: sled::Tree,
    jobs: sled::Tree,
    stages: sled::Tree,
    applications: sled::Tree,
    candidates: sled::Tree,
    events: sled::Tree,
    /// `connection \0 kind` → the connection's synced reference list (tags, users, ...).
    reference: sled::Tree,
    /// connector id → the registry's active build and history of that connector.
    connector_versions: sled::Tree,
}

impl SledStore {
    /// Opens (or creates) the store in `dir` (a directory sled owns).
    pub fn open(dir: &Path, secret_box: SecretBox) -> Result<Self, StoreError> {
        let shown = dir.display().to_string();
        // sled reports most damage as an error but panics on some malformed files: both
        // become the same clear error, never a crash of the host.
        let opened = std::panic::catch_unwind(|| sled::open(dir)).map_err(|panic| {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "sled panicked while reading it".into());
            StoreError::Open {
                dir: shown.clone(),
                reason: format!("the data is damaged ({reason})"),
            }
        })?;
        let db =
            opened.map_err(|e| StoreError::Open { dir: shown.clone(), reason: e.to_string() })?;
        Self::with_db(db, secret_box, &shown)
    }

    /// A throwaway in-memory store (tests, benchmarks).
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        Self::with_db(db, SecretBox::ephemeral(), "(temporary)")
    }

    fn with_db(db: sled::Db, secret_box: SecretBox, shown: &str) -> Result<Self, StoreError> {
        let meta = db.open_tree("meta")?;
        match meta.get("format-version")? {
            None => {
                meta.insert("format-version", FORMAT_VERSION.to_string().as_bytes())?;
            }
            Some(found) if found.as_ref() == FORMAT_VERSION.to_string().as_bytes() => {}
            Some(found) => {
                return Err(StoreError::Format {
                    dir: shown.to_string(),
                    found: String::from_utf8_lossy(&found).into_owned(),
                    expected: FORMAT_VERSION,
                });
            }
        }
        Ok(SledStore {
            secret_box,
            tenants: db.open_tree("tenants")?,
            connections: db.open_tree("connections")?,
            secrets: db.open_tree("secrets")?,
            runs: db.open_tree("runs")?,
            checkpoints: db.open_tree("checkpoints")?,
            jobs: db.open_tree("jobs")?,
            stages: db.open_tree("stages")?,
            applications: db.open_tree("applications")?,
            candidates: db.open_tree("candidates")?,
            events: db.open_tree("events")?,
            reference: db.open_tree("reference")?,
            connector_versions: db.open_tree("connector_versions")?,
            db,
        })
    }

    /// The underlying database, for the other journals that live beside the store.
    pub fn db(&self) -> &sled::Db {
        &self.db
    }
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        StoreError::Backend { backend: "sled", message: error.to_string() }
    }
}

fn key(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    raw: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).replace('\0', "/"),
        reason: e.to_string(),
    })
}

fn get<T: DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
    k: &[u8],
) -> Result<Option<T>, StoreError> {
    tree.get(k)?.map(|raw| decode(name, k, &raw)).transpose()
}

fn all<T: DeserializeOwned>(
    iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    name: &'static str,
) -> Result<Vec<T>, StoreError> {
    iter.map(|entry| {
        let (k, v) = entry?;
        decode(name, &k, &v)
    })
    .collect()
}

/// The key range of one connection's records.
fn prefix(connection_id: &str) -> Vec<u8> {
    let mut p = connection_id.as_bytes().to_vec();
    p.push(0);
    p
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn append_event(
    events: &TransactionalTree,
    tenant_id: &str,
    connection_id: &str,
    event: NewEvent,
) -> TxResult<Event> {
    let seq = events.generate_id()? + 1;
    let stored = event.into_event(seq, tenant_id, connection_id, now_ms());
    events.insert(&seq.to_be_bytes(), encode(&stored))?;
    Ok(stored)
}

fn unwrap_tx<T>(result: Result<T, TransactionError<StoreError>>) -> Result<T, StoreError> {
    result.map_err(|error| match error {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.into(),
    })
}

#[async_trait::async_trait]
impl Store for SledStore {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.tenants.insert(tenant.id.as_bytes(), encode(tenant))?;
        Ok(())
    }

    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        get(&self.tenants, "tenants", id.as_bytes())
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        all(self.tenants.iter(), "tenants")
    }

    async fn put_connection(
        &self,
        connection: &Connection,
        secrets: Option<&Secrets>,
    ) -> Result<(), StoreError> {
        let sealed = secrets.map(|s| self.secret_box.seal(s));
        let record = encode(connection);
        unwrap_tx((&self.connections, &self.secrets).transaction(|(connections, stored)| {
            connections.insert(connection.id.as_bytes(), record.as_slice())?;
            if let Some(sealed) = &sealed {
                stored.insert(connection.id.as_bytes(), sealed.as_slice())?;
            }
            Ok(())
        }))
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        get(&self.connections, "connections", id.as_bytes())
    }

    async fn connection_with_secrets(
        &self,
        id: &str,
    ) -> Result<Option<ConnectionWithSecrets>, StoreError> {
        let Some(connection) = self.connection(id).await? else { return Ok(None) };
        let secrets = match self.secrets.get(id.as_bytes())? {
            Some(sealed) => self.secret_box.open_sealed(&sealed)?,
            None => Secrets::default(),
        };
        Ok(Some(ConnectionWithSecrets { connection, secrets }))
    }

    async fn connections(&self, tenant_id: Option<&str>) -> Result<Vec<Connection>, StoreError> {
        let list: Vec<Connection> = all(self.connections.iter(), "connections")?;
        Ok(list.into_iter().filter(|c| tenant_id.is_none_or(|t| t == c.tenant_id)).collect())
    }

    async fn delete_connection(&self, id: &str) -> Result<bool, StoreError> {
        let existed = self.connections.remove(id.as_bytes())?.is_some();
        self.secrets.remove(id.as_bytes())?;
        for tree in [
            &self.jobs,
            &self.stages,
            &self.applications,
            &self.candidates,
            &self.checkpoints,
            &self.reference,
        ] {
            for entry in tree.scan_prefix(prefix(id)) {
                let (k, _) = entry?;
                tree.remove(k)?;
            }
        }
        Ok(existed)
    }

    async fn put_run(&self, run: &Run) -> Result<(), StoreError> {
        self.runs.insert(run.id.as_bytes(), encode(run))?;
        Ok(())
    }

    async fn run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        get(&self.runs, "runs", id.as_bytes())
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, StoreError> {
        let range = match &filter.before {
            Some(before) => self.runs.range(..before.as_bytes().to_vec()),
            None => self.runs.range::<Vec<u8>, _>(..),
        };
        let mut found = Vec::new();
        for entry in range.rev() {
            let (k, v) = entry?;
            let run: Run = decode("runs", &k, &v)?;
            if filter.connection_id.as_ref().is_none_or(|c| *c == run.connection_id)
                && filter.tenant_id.as_ref().is_none_or(|t| *t == run.tenant_id)
                && filter.state.is_none_or(|s| s == run.state)
            {
                found.push(run);
                if found.len() >= filter.limit.max(1) {
                    break;
                }
            }
        }
        Ok(found)
    }

    async fn checkpoint(
        &self,
        connection_id: &str,
        kind: SyncKind,
    ) -> Result<Checkpoint, StoreError> {
        Ok(get(&self.checkpoints, "checkpoints", &key(&[connection_id, kind.as_str()]))?
            .unwrap_or_default())
    }

    async fn put_checkpoint(
        &self,
        connection_id: &str,
        kind: SyncKind,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        self.checkpoints.insert(key(&[connection_id, kind.as_str()]), encode(checkpoint))?;
        Ok(())
    }

    async fn job(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredJob>, StoreError> {
        get(&self.jobs, "jobs", &key(&[connection_id, remote_id]))
    }

    async fn set_job_flags(
        &self,
        connection_id: &str,
        remote_id: &str,
        flags: JobFlags,
    ) -> Result<Option<StoredJob>, StoreError> {
        let k = key(&[connection_id, remote_id]);
        unwrap_tx(self.jobs.transaction(|jobs| {
            let Some(raw) = jobs.get(&k)? else { return Ok(None) };
            let mut job: StoredJob =
                decode("jobs", &k, &raw).map_err(ConflictableTransactionError::Abort)?;
            job.active = flags.active.unwrap_or(job.active);
            job.frozen = flags.frozen.unwrap_or(job.frozen);
            job.updated_at = now_ms();
            jobs.insert(k.as_slice(), encode(&job))?;
            Ok(Some(job))
        }))
    }

    async fn jobs(&self, filter: &RecordFilter) -> Result<Vec<StoredJob>, StoreError> {
        scan_records(&self.jobs, "jobs", filter, |j: &StoredJob| {
            (&j.tenant_id, j.updated_at, filter.fields.job(j))
        })
    }

    async fn jobs_missing_from_scan(
        &self,
        connection_id: &str,
        scan_id: &str,
    ) -> Result<Vec<StoredJob>, StoreError> {
        /// What the check reads of a job; the rest (`raw` above all) is skipped unparsed,
        /// and only the jobs found missing are decoded whole.
        #[derive(serde::Deserialize)]
        struct Seen {
            archived: bool,
            last_seen_scan: Option<String>,
        }
        let mut missing = Vec::new();
        for entry in self.jobs.scan_prefix(prefix(connection_id)) {
            let (k, v) = entry?;
            let seen: Seen = decode("jobs", &k, &v)?;
            if !seen.archived && seen.last_seen_scan.as_deref() != Some(scan_id) {
                missing.push(decode("jobs", &k, &v)?);
            }
        }
        Ok(missing)
    }

    async fn stages(&self, connection_id: &str) -> Result<Vec<StoredStage>, StoreError> {
        let mut stages: Vec<StoredStage> =
            all(self.stages.scan_prefix(prefix(connection_id)), "stages")?;
        stages.sort_by_key(|s| (s.job_id.clone(), s.position));
        Ok(stages)
    }

    async fn application(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredApplication>, StoreError> {
        get(&self.applications, "applications", &key(&[connection_id, remote_id]))
    }

    async fn candidate(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredCandidate>, StoreError> {
        get(&self.candidates, "candidates", &key(&[connection_id, remote_id]))
    }

    async fn applications(
        &self,
        filter: &RecordFilter,
    ) -> Result<Vec<StoredApplication>, StoreError> {
        scan_records(&self.applications, "applications", filter, |a: &StoredApplication| {
            (&a.tenant_id, a.updated_at, filter.fields.application(a))
        })
    }

    async fn candidates(&self, filter: &RecordFilter) -> Result<Vec<StoredCandidate>, StoreError> {
        scan_records(&self.candidates, "candidates", filter, |c: &StoredCandidate| {
            (&c.tenant_id, c.updated_at, filter.fields.candidate(c))
        })
    }

    async fn put_reference(
        &self,
        connection_id: &str,
        kind: &str,
        entries: &[serde_json::Value],
    ) -> Result<(), StoreError> {
        self.reference.insert(key(&[connection_id, kind]), encode(&entries))?;
        Ok(())
    }

    async fn reference(
        &self,
        connection_id: &str,
        kind: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        Ok(get(&self.reference, "reference", &key(&[connection_id, kind]))?.unwrap_or_default())
    }

    async fn append_events(
        &self,
        tenant_id: &str,
        connection_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>, StoreError> {
        unwrap_tx(self.events.transaction(|tree| {
            events
                .iter()
                .cloned()
                .map(|e| append_event(tree, tenant_id, connection_id, e))
                .collect::<TxResult<Vec<_>>>()
        }))
    }

    async fn events(
        &self,
        tenant_id: Option<&str>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let start = after.map_or(0, |seq| seq.saturating_add(1));
        let mut found = Vec::new();
        for entry in self.events.range(start.to_be_bytes()..) {
            let (k, v) = entry?;
            let event: Event = decode("events", &k, &v)?;
            if tenant_id.is_none_or(|t| t == event.tenant_id) {
                found.push(event);
                if found.len() >= limit.max(1) {
                    break;
                }
            }
        }
        Ok(found)
    }

    async fn commit_page(&self, page: PageCommit) -> Result<Vec<Event>, StoreError> {
        let trees = (
            &self.jobs,
            &self.stages,
            &self.applications,
            &self.candidates,
            &self.events,
            &self.checkpoints,
            &self.runs,
        );
        unwrap_tx(trees.transaction(
            |(jobs, stages, applications, candidates, events, checkpoints, runs)| {
                for job in &page.jobs {
                    let k = key(&[&job.connection_id, &job.remote_id]);
                    // The flags are the customer's: keep what is stored now, not what the
                    // page read before the connector call (an API change may lie between).
                    // The page's job is copied only when they differ.
                    let mut flagged = None;
                    if let Some(raw) = jobs.get(&k)? {
                        let current: StoredJob = decode("jobs", &k, &raw)
                            .map_err(ConflictableTransactionError::Abort)?;
                        if (current.active, current.frozen) != (job.active, job.frozen) {
                            let mut job = job.clone();
                            job.active = current.active;
                            job.frozen = current.frozen;
                            flagged = Some(job);
                        }
                    }
                    jobs.insert(k, encode(flagged.as_ref().unwrap_or(job)))?;
                }
                for stage in &page.stages {
                    stages.insert(key(&[&stage.connection_id, &stage.remote_id]), encode(stage))?;
                }
                for application in &page.applications {
                    applications.insert(
                        key(&[&application.connection_id, &application.remote_id]),
                        encode(application),
                    )?;
                }
                for candidate in &page.candidates {
                    candidates.insert(
                        key(&[&candidate.connection_id, &candidate.remote_id]),
                        encode(candidate),
                    )?;
                }
                let appended = page
                    .events
                    .iter()
                    .cloned()
                    .map(|e| append_event(events, &page.tenant_id, &page.connection_id, e))
                    .collect::<TxResult<Vec<_>>>()?;
                checkpoints.insert(
                    key(&[&page.connection_id, page.kind.as_str()]),
                    encode(&page.checkpoint),
                )?;
                runs.insert(page.run.id.as_bytes(), encode(&page.run))?;
                Ok(appended)
            },
        ))
    }

    fn inbound_token(&self, connection_id: &str) -> String {
        self.secret_box.token("inbound-webhook", connection_id)
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // fsync blocks: off the async workers.
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Backend { backend: "sled", message: e.to_string() })??;
        Ok(())
    }

    async fn connector_versions(&self) -> Result<Vec<ConnectorVersions>, StoreError> {
        all(self.connector_versions.iter(), "connector_versions")
    }

    async fn put_connector_versions(&self, record: &ConnectorVersions) -> Result<(), StoreError> {
        self.connector_versions.insert(record.connector_id.as_bytes(), encode(record))?;
        Ok(())
    }
}

/// Records of `tree` matching `filter`, in key order, starting after the cursor.
fn scan_records<T: DeserializeOwned>(
    tree: &sled::Tree,
    name: &'static str,
    filter: &RecordFilter,
    fields: impl Fn(&T) -> (&String, i64, bool),
) -> Result<Vec<T>, StoreError> {
    use std::ops::Bound;
    let start = match (&filter.after, &filter.connection_id) {
        (Some(after), _) => Bound::Excluded(after.as_bytes().to_vec()),
        (None, Some(connection)) => Bound::Included(prefix(connection)),
        (None, None) => Bound::Unbounded,
    };
    let mut found = Vec::new();
    for entry in tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
        let (k, v) = entry?;
        if let Some(connection) = &filter.connection_id
            && !k.starts_with(&prefix(connection))
        {
            break;
        }
        let record: T = decode(name, &k, &v)?;
        let (tenant, updated_at, matches) = fields(&record);
        if matches
            && filter.tenant_id.as_ref().is_none_or(|t| t == tenant)
            && filter.updated_after.is_none_or(|after| updated_at > after)
        {
            found.push(record);
            if found.len() >= filter.limit.max(1) {
                break;
            }
        }
    }
    Ok(found)
}
