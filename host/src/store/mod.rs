//! Persistent state of the host behind async, backend-neutral traits ([`Store`] here; the
//! write journal, webhook ledger, automation stores, connector `state` and API keys behind
//! traits of their own), on the embedded sled database (the default: one data directory,
//! nothing to install) or on PostgreSQL shared by several host nodes.
//!
//! | module | owns |
//! |---|---|
//! | [`backend`] | every piece of host state on one backend (sled or PostgreSQL) |
//! | [`connector_state`] | the connectors' `state` import on sled |
//! | [`model`] | the records: tenants, connections, runs, checkpoints, jobs, stages, applications, events |
//! | [`postgres`] | the PostgreSQL backend: pool, migrations, every trait's SQL form |
//! | [`secrets`] | encryption at rest of connection secrets |
//! | [`sled_store`] | the sled implementation, its trees and key layout |
//!
//! **Atomic pages.** [`Store::commit_page`] writes a synced page's records, its events and
//! the checkpoint in one transaction: a host killed at any instant either has the page or
//! has not, so a resumed run neither loses nor duplicates records or events.
//!
//! **Several nodes.** On a shared store one unfinished run per (connection, sync) is the
//! database's rule ([`Store::claim_run`]), held by a lease the running node renews
//! ([`Store::renew_run`]); a run whose node died is ended and its slot taken over once its
//! lease runs out ([`Store::orphaned_runs`]). On sled one process owns everything and the
//! sync engine's in-memory slots are the guard. Cursors handed to API clients are opaque
//! (base64 of a record position that both backends order the same way: byte order).

pub mod backend;
pub mod connector_state;
pub mod model;
pub mod postgres;
pub mod secrets;
pub mod sled_store;

pub use model::*;
pub use postgres::PgStore;
pub use secrets::{SecretBox, SecretError, Secrets};
pub use sled_store::SledStore;

use std::collections::HashMap;
use thiserror::Error;

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "cannot open the store in {dir}: {reason}. Is another ats-host running with this data dir? Otherwise move the directory away to start fresh."
    )]
    Open { dir: String, reason: String },
    #[error(
        "the store in {dir} has format version {found}, this build reads version {expected}; use a matching ats-host build or start with an empty data dir"
    )]
    Format { dir: String, found: String, expected: u32 },
    /// The backend failed (disk, database, network): the operation did not happen.
    #[error("the {backend} store failed: {message}")]
    Backend { backend: &'static str, message: String },
    #[error("the store holds an unreadable record in {tree} under `{key}`: {reason}")]
    Corrupt { tree: &'static str, key: String, reason: String },
    #[error(
        "cannot use the PostgreSQL store at {url}: {reason}. Check that the server is up, the URL (postgres://user:password@host:port/database) and that the user may create a schema"
    )]
    Connect { url: String, reason: String },
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error("no {what} `{id}`")]
    NotFound { what: &'static str, id: String },
    /// Another unfinished run holds the (connection, sync) slot.
    #[error("run `{run_id}` of this sync is still unfinished")]
    RunActive { run_id: String },
}

/// Filter of [`Store::runs`].
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub tenant_id: Option<String>,
    pub connection_id: Option<String>,
    pub state: Option<RunState>,
    /// Runs older than this run id (the cursor of the previous page).
    pub before: Option<String>,
    pub limit: usize,
}

/// Filter of the unified reads ([`Store::jobs`], [`Store::applications`]).
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub tenant_id: Option<String>,
    pub connection_id: Option<String>,
    /// Only records the host changed after this instant (unix ms).
    pub updated_after: Option<i64>,
    /// Records after this record key (`connection \0 remote id`, see [`record_key`]).
    pub after: Option<String>,
    pub limit: usize,
    /// Field filters; each applies to the records that have the field (`None`: any).
    pub fields: FieldFilter,
}

/// Filters on record fields of the unified reads. Each is exact (e-mails and statuses
/// case-insensitively; phones by their digits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldFilter {
    /// Applications: of this job.
    pub job_id: Option<String>,
    /// Applications: in this stage.
    pub stage_id: Option<String>,
    /// Jobs (`open`, `closed`, ...) and applications (`active`, `rejected`, ...).
    pub status: Option<String>,
    /// Jobs: activated by the customer or not.
    pub active: Option<bool>,
    /// Jobs: in this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Candidates: with this e-mail address.
    pub email: Option<String>,
    /// Candidates: with this phone number.
    pub phone: Option<String>,
}

/// The digits of a phone number, the form phone filters compare.
pub fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

impl FieldFilter {
    pub fn job(&self, job: &StoredJob) -> bool {
        self.status.as_ref().is_none_or(|s| s.eq_ignore_ascii_case(&job.status))
            && self.active.is_none_or(|a| a == job.active)
            && self
                .country
                .as_ref()
                .is_none_or(|c| job.country.as_ref().is_some_and(|jc| jc.eq_ignore_ascii_case(c)))
    }

    pub fn application(&self, application: &StoredApplication) -> bool {
        self.job_id.as_ref().is_none_or(|j| *j == application.job_id)
            && self.stage_id.as_ref().is_none_or(|s| application.stage_id.as_ref() == Some(s))
            && self.status.as_ref().is_none_or(|s| s.eq_ignore_ascii_case(&application.status))
    }

    pub fn candidate(&self, candidate: &StoredCandidate) -> bool {
        self.email.as_ref().is_none_or(|e| {
            candidate.emails.iter().any(|ce| ce.trim().eq_ignore_ascii_case(e.trim()))
        }) && self.phone.as_ref().is_none_or(|p| {
            let wanted = phone_digits(p);
            !wanted.is_empty() && candidate.phones.iter().any(|cp| phone_digits(cp) == wanted)
        })
    }
}

/// The key of a connection's record, the position cursors of unified reads point at.
pub fn record_key(connection_id: &str, remote_id: &str) -> String {
    format!("{connection_id}\0{remote_id}")
}

/// The storage the sync engine and the API use.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError>;
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// Saves a connection; `secrets` replaces the stored secrets when given.
    async fn put_connection(
        &self,
        connection: &Connection,
        secrets: Option<&Secrets>,
    ) -> Result<(), StoreError>;
    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError>;
    async fn connection_with_secrets(
        &self,
        id: &str,
    ) -> Result<Option<ConnectionWithSecrets>, StoreError>;
    async fn connections(&self, tenant_id: Option<&str>) -> Result<Vec<Connection>, StoreError>;
    /// Deletes a connection with its checkpoints and synced records (events stay).
    async fn delete_connection(&self, id: &str) -> Result<bool, StoreError>;

    async fn put_run(&self, run: &Run) -> Result<(), StoreError>;
    /// Saves a new unfinished `run` as the one run of its (connection, sync) slot, held until
    /// `lease_until` (unix ms; [`Store::renew_run`] extends it). A shared store allows one
    /// unfinished run per slot ([`StoreError::RunActive`] names the one holding it) and ends
    /// one whose lease ran out (its node died) before taking the slot. On an embedded store
    /// one process owns every run and guards the slots itself: this is [`Store::put_run`].
    async fn claim_run(&self, run: &Run, lease_until: i64) -> Result<(), StoreError> {
        let _ = lease_until;
        self.put_run(run).await
    }
    /// Extends the lease of an unfinished run (a no-op on an embedded store).
    async fn renew_run(&self, run_id: &str, lease_until: i64) -> Result<(), StoreError> {
        let _ = (run_id, lease_until);
        Ok(())
    }
    /// Unfinished runs no live process runs: on an embedded store every one (the process
    /// that ran them is gone when the next one opens it); on a shared one, those whose lease
    /// ran out by `now`.
    async fn orphaned_runs(&self, now: i64) -> Result<Vec<Run>, StoreError> {
        let _ = now;
        let filter = RunFilter { limit: usize::MAX, ..RunFilter::default() };
        let mut runs = self.runs(&filter).await?;
        runs.retain(|run| !run.state.is_finished());
        Ok(runs)
    }
    async fn run(&self, id: &str) -> Result<Option<Run>, StoreError>;
    /// Newest first.
    async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, StoreError>;

    async fn checkpoint(
        &self,
        connection_id: &str,
        kind: SyncKind,
    ) -> Result<Checkpoint, StoreError>;
    async fn put_checkpoint(
        &self,
        connection_id: &str,
        kind: SyncKind,
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError>;

    async fn job(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredJob>, StoreError>;
    /// The stored jobs among `remote_ids`, by remote id: what a sync page compares against,
    /// in one read where the backend allows (one query on PostgreSQL).
    async fn jobs_by_id(
        &self,
        connection_id: &str,
        remote_ids: &[&str],
    ) -> Result<HashMap<String, StoredJob>, StoreError> {
        let mut found = HashMap::new();
        for id in remote_ids {
            if let Some(job) = self.job(connection_id, id).await? {
                found.insert(id.to_string(), job);
            }
        }
        Ok(found)
    }
    /// Sets the customer-owned flags of a stored job atomically (the sync never changes
    /// them, and a page commit keeps what is stored); `None` when there is no such job.
    async fn set_job_flags(
        &self,
        connection_id: &str,
        remote_id: &str,
        flags: JobFlags,
    ) -> Result<Option<StoredJob>, StoreError>;
    /// Jobs in key order (connection, remote id).
    async fn jobs(&self, filter: &RecordFilter) -> Result<Vec<StoredJob>, StoreError>;
    /// The jobs of a connection that full scan `scan_id` did not see (not archived, another
    /// `last_seen_scan`), in key order: the deletion check at the end of a full pass.
    async fn jobs_missing_from_scan(
        &self,
        connection_id: &str,
        scan_id: &str,
    ) -> Result<Vec<StoredJob>, StoreError> {
        let filter = RecordFilter {
            connection_id: Some(connection_id.to_string()),
            limit: usize::MAX,
            ..RecordFilter::default()
        };
        let mut jobs = self.jobs(&filter).await?;
        jobs.retain(|job| !job.archived && job.last_seen_scan.as_deref() != Some(scan_id));
        Ok(jobs)
    }
    async fn stages(&self, connection_id: &str) -> Result<Vec<StoredStage>, StoreError>;
    async fn application(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredApplication>, StoreError>;
    /// The stored applications among `remote_ids`, by remote id (see [`Store::jobs_by_id`]).
    async fn applications_by_id(
        &self,
        connection_id: &str,
        remote_ids: &[&str],
    ) -> Result<HashMap<String, StoredApplication>, StoreError> {
        let mut found = HashMap::new();
        for id in remote_ids {
            if let Some(application) = self.application(connection_id, id).await? {
                found.insert(id.to_string(), application);
            }
        }
        Ok(found)
    }
    async fn applications(
        &self,
        filter: &RecordFilter,
    ) -> Result<Vec<StoredApplication>, StoreError>;
    /// The candidates behind synced applications.
    async fn candidates(&self, filter: &RecordFilter) -> Result<Vec<StoredCandidate>, StoreError>;
    /// Replaces a connection's reference list of `kind` (`tags`, `rejection-reasons`,
    /// `users`) with `entries`, as last synced.
    async fn put_reference(
        &self,
        connection_id: &str,
        kind: &str,
        entries: &[serde_json::Value],
    ) -> Result<(), StoreError>;
    /// A connection's reference list of `kind`, as last synced (empty when never synced).
    async fn reference(
        &self,
        connection_id: &str,
        kind: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError>;
    /// The last-seen candidate behind a synced application.
    async fn candidate(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<StoredCandidate>, StoreError>;

    /// Appends events outside a page (e.g. from writes and inbound webhooks).
    async fn append_events(
        &self,
        tenant_id: &str,
        connection_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>, StoreError>;
    /// Events after `after` (a seq), oldest first, optionally of one tenant.
    async fn events(
        &self,
        tenant_id: Option<&str>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;

    /// Writes one synced page atomically (see the module doc); returns the events appended.
    async fn commit_page(&self, page: PageCommit) -> Result<Vec<Event>, StoreError>;

    /// The secret token of a connection's inbound webhook URL.
    fn inbound_token(&self, connection_id: &str) -> String;

    /// Flushes to disk.
    async fn flush(&self) -> Result<(), StoreError>;

    /// The connector registry's saved state, one record per connector id (see
    /// [`ConnectorVersions`]).
    async fn connector_versions(&self) -> Result<Vec<ConnectorVersions>, StoreError>;
    /// Saves (replaces) the registry's record of one connector.
    async fn put_connector_versions(&self, record: &ConnectorVersions) -> Result<(), StoreError>;

    /// Whether several nodes share this store (they then share uploads and follow each
    /// other's connector versions).
    fn is_shared(&self) -> bool {
        false
    }
    /// Wakes `wake` when another node of a shared store commits new events (nothing to do
    /// on an embedded store: its one process raises the signal itself).
    fn wake_on_changes(&self, wake: std::sync::Arc<tokio::sync::Notify>) {
        let _ = wake;
    }
    /// Keeps an uploaded build's bytes for the other nodes of a shared store, by sha256 (a
    /// no-op on an embedded store, whose one process has them).
    async fn put_connector_build(&self, sha256: &str, wasm: &[u8]) -> Result<(), StoreError> {
        let _ = (sha256, wasm);
        Ok(())
    }
    /// The bytes of a build some node uploaded.
    async fn connector_build(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = sha256;
        Ok(None)
    }
}

#[cfg(test)]
mod field_filter_tests {
    use super::*;

    #[test]
    fn candidates_match_e_mails_without_case_and_phones_by_digits() {
        let candidate = StoredCandidate {
            connection_id: "c".into(),
            tenant_id: "t".into(),
            remote_id: "1".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            emails: vec!["Ada@Example.com".into()],
            phones: vec!["+31 6 1234 5678".into()],
            custom_fields: vec![],
            tags: vec![],
            source: None,
            company: None,
            title: None,
            location: None,
            remote_updated_at: None,
            first_seen_at: 0,
            updated_at: 0,
        };
        let by = |email: Option<&str>, phone: Option<&str>| FieldFilter {
            email: email.map(str::to_string),
            phone: phone.map(str::to_string),
            ..FieldFilter::default()
        };
        assert!(by(Some("ada@example.COM"), None).candidate(&candidate));
        assert!(by(None, Some("+31612345678")).candidate(&candidate));
        assert!(!by(None, Some("12345678")).candidate(&candidate), "digits compare whole");
        assert!(!by(Some("bob@example.com"), None).candidate(&candidate));
        assert!(by(None, None).candidate(&candidate));
    }
}

/// What the connector registry keeps of one connector across restarts
/// (`runtime::registry`): which build is active and the builds installed, in the order
/// rollback walks back through.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnectorVersions {
    pub connector_id: String,
    /// sha256 of the build new calls use (empty before the first install).
    pub active_sha256: String,
    /// Builds installed, oldest first: the latest activation of each by upload or a new
    /// file comes last. Bounded (`runtime::registry::REMEMBERED_BUILDS`); a build is listed
    /// once.
    pub builds: Vec<KnownBuild>,
    /// Unix ms of the last change.
    pub updated_at: i64,
}

/// One build a connector registry installed: its content hash and version string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownBuild {
    pub sha256: String,
    pub version: String,
}
