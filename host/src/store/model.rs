//! The records the host keeps: tenants, connections, sync runs, checkpoints, the last-seen
//! jobs, stages and applications of each connection, and the event log.

use super::secrets::Secrets;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionStatus {
    Active,
    /// The ATS refused the credentials; schedules are paused until the connection is updated.
    NeedsReauth,
    /// Paused by the operator.
    Paused,
}

/// How often each sync of a connection runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Schedules {
    /// Jobs + stages sync interval (seconds). Default 3 h.
    pub jobs_every_secs: u64,
    /// Applications watch interval (seconds). Default 5 min.
    pub applications_every_secs: u64,
    pub enabled: bool,
}

impl Default for Schedules {
    fn default() -> Self {
        Schedules { jobs_every_secs: 3 * 3600, applications_every_secs: 300, enabled: true }
    }
}

/// Smallest and largest schedule intervals accepted.
pub const MIN_INTERVAL_SECS: u64 = 60;
pub const MAX_INTERVAL_SECS: u64 = 7 * 24 * 3600;

/// A tenant's connection to one ATS through one connector. Secrets live apart (encrypted)
/// and are never part of this record's JSON.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Connection {
    pub id: String,
    pub tenant_id: String,
    pub connector_id: String,
    /// Use this connector version instead of the active one.
    pub pinned_version: Option<String>,
    /// The content hash (sha256) of the pinned build, recorded when the pin was set: a pin
    /// follows these bytes, never whatever later claims the same version string.
    #[serde(default)]
    pub pinned_sha256: Option<String>,
    pub name: String,
    pub config: BTreeMap<String, String>,
    /// Names of the secret fields that are set (values are write-only).
    #[serde(default)]
    pub secret_names: Vec<String>,
    /// The operator let this connection reach loopback and private networks.
    pub allow_private_networks: bool,
    /// The config values egress hosts were rendered from when the operator granted private
    /// networks. The grant holds only while they are unchanged: a tenant who edits the base
    /// URL cannot point the grant at another private host.
    #[serde(default)]
    pub private_grant: BTreeMap<String, String>,
    pub status: ConnectionStatus,
    pub status_detail: Option<String>,
    pub schedules: Schedules,
    /// The ATS-side webhook subscription the host registered for this connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ats_webhook: Option<AtsWebhook>,
    /// This connection's own rate budget (the ATS's limit); `None`: the host default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_budget: Option<crate::sync::budget::RateBudget>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An ATS-side webhook subscription pointing at a connection's inbound URL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct AtsWebhook {
    /// What the connector's `register-webhook` answered; `unregister-webhook` takes it.
    pub remote_id: String,
    /// The URL the ATS posts to (the host's public URL + the inbound path).
    pub url: String,
    pub registered_at: i64,
}

/// A connection with its decrypted secrets, for making calls. Never serialised.
#[derive(Debug, Clone)]
pub struct ConnectionWithSecrets {
    pub connection: Connection,
    pub secrets: Secrets,
}

impl Connection {
    /// Whether calls of this connection may reach private networks now: granted by the
    /// operator, and every config value the grant was given for still unchanged.
    pub fn private_networks_granted(&self) -> bool {
        self.allow_private_networks
            && self.private_grant.iter().all(|(field, value)| self.config.get(field) == Some(value))
    }
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SyncKind {
    /// Jobs and stages.
    Jobs,
    /// Applications and their stages.
    Applications,
}

impl SyncKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Jobs => "jobs",
            SyncKind::Applications => "applications",
        }
    }

    pub fn parse(text: &str) -> Option<SyncKind> {
        match text {
            "jobs" => Some(SyncKind::Jobs),
            "applications" => Some(SyncKind::Applications),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    Queued,
    Running,
    Success,
    /// Stopped early (a limit, a long Retry-After, a repeated page token); the checkpoint is
    /// kept and the next run resumes. Never reported as success.
    Partial,
    Failed,
    Cancelled,
}

impl RunState {
    pub fn is_finished(self) -> bool {
        !matches!(self, RunState::Queued | RunState::Running)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Success => "success",
            RunState::Partial => "partial",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RunCounts {
    pub seen: u64,
    pub created: u64,
    pub updated: u64,
    pub closed: u64,
    pub reopened: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RunProgress {
    pub pages: u64,
    pub records: u64,
}

/// What started a run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// Its schedule came due.
    Schedule,
    /// "Sync now" (API, CLI, demo).
    Manual,
    /// A webhook from the ATS.
    Webhook,
    /// "Sync now" asking for a full scan: every record is read, and records the ATS no
    /// longer lists are detected as deleted.
    FullScan,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Run {
    pub id: String,
    pub tenant_id: String,
    pub connection_id: String,
    pub kind: SyncKind,
    pub trigger: Trigger,
    pub state: RunState,
    pub full_scan: bool,
    pub counts: RunCounts,
    pub progress: RunProgress,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Milliseconds from start to end, once the run ended.
    #[serde(default)]
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    /// Optional parts of the run (stages, the candidates behind applications) that were
    /// skipped because the connector does not offer them, or that failed without costing
    /// the main records; a failed part makes the run `partial`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<RunPart>,
    /// The host node that runs (or ran) it, where several share a store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// An optional part of a run that did not happen as planned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct RunPart {
    /// `stages` or `candidates`.
    pub part: String,
    /// `skipped` (the connector does not offer it) or `failed`.
    pub outcome: PartOutcome,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PartOutcome {
    Skipped,
    Failed,
}

impl Run {
    /// Marks the run ended now: `ended_at` and `duration_ms`.
    pub fn end(&mut self, now_ms: i64) {
        self.ended_at = Some(now_ms);
        self.duration_ms = Some(now_ms - self.started_at.unwrap_or(now_ms));
    }
}

/// Where a sync stands between runs and between pages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// High-water mark of `updated_at` after the last completed incremental pass.
    pub watermark: Option<String>,
    /// The run in progress (or interrupted) and where it was.
    pub run_id: Option<String>,
    pub page_token: Option<String>,
    /// The `since` the interrupted pass used (kept so a resume uses the same filter).
    pub pass_since: Option<String>,
    /// Highest `updated_at` seen in the current pass.
    pub pass_max_updated: Option<String>,
    pub pass_full_scan: bool,
    pub pages_in_pass: u64,
    pub last_full_scan_at: Option<i64>,
    pub last_run_at: Option<i64>,
    pub consecutive_failures: u32,
}

/// A change of a job's customer-owned flags; `None` leaves a flag as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobFlags {
    pub active: Option<bool>,
    pub frozen: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct StoredJob {
    pub connection_id: String,
    pub tenant_id: String,
    pub remote_id: String,
    pub code: Option<String>,
    pub title: String,
    /// `open` or `closed`, as the ATS says.
    pub status: String,
    pub location: Option<String>,
    /// ISO 3166-1 alpha-2, from the structured location (contract 0.2).
    #[serde(default)]
    pub country: Option<String>,
    pub description: Option<String>,
    pub assigned_users: Vec<String>,
    pub remote_updated_at: Option<String>,
    pub raw: serde_json::Value,
    /// Newly synced jobs start inactive until the customer activates them.
    pub active: bool,
    /// Frozen jobs keep their fields; ATS updates are recorded in `raw` only.
    pub frozen: bool,
    /// Closed (or deleted) in the ATS.
    pub archived: bool,
    pub first_seen_at: i64,
    pub updated_at: i64,
    /// The full scan that last saw this job (deletion detection).
    pub last_seen_scan: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct StoredStage {
    pub connection_id: String,
    pub remote_id: String,
    pub job_id: Option<String>,
    pub name: String,
    pub position: u32,
    /// When the host last saw the stage change (unix ms); 0 for stages stored before this
    /// field existed.
    #[serde(default)]
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct StoredApplication {
    pub connection_id: String,
    pub tenant_id: String,
    pub remote_id: String,
    pub candidate_id: String,
    pub job_id: String,
    pub stage_id: Option<String>,
    pub status: String,
    pub remote_updated_at: Option<String>,
    /// When the host first saw the application in its current stage.
    pub stage_entered_at: i64,
    pub raw: serde_json::Value,
    pub first_seen_at: i64,
    pub updated_at: i64,
}

/// The last-seen contact details of a candidate behind a synced application: the baseline
/// `candidate.updated` is detected against.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct StoredCandidate {
    pub connection_id: String,
    pub tenant_id: String,
    pub remote_id: String,
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub custom_fields: Vec<(String, String)>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Current employer and job title.
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    pub remote_updated_at: Option<String>,
    pub first_seen_at: i64,
    pub updated_at: i64,
}

/// An entry of the append-only event log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Event {
    /// Position in the log; the cursor.
    pub seq: u64,
    pub id: String,
    pub tenant_id: String,
    pub connection_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub subject_id: String,
    pub data: serde_json::Value,
    pub occurred_at: i64,
}

/// An event before it has a place in the log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub subject_id: String,
    pub data: serde_json::Value,
}

impl NewEvent {
    /// The event at place `seq` of the log (the backends number it).
    pub fn into_event(self, seq: u64, tenant_id: &str, connection_id: &str, now: i64) -> Event {
        Event {
            seq,
            id: format!("evt_{seq:016}"),
            tenant_id: tenant_id.to_string(),
            connection_id: connection_id.to_string(),
            event_type: self.event_type.to_string(),
            subject_id: self.subject_id,
            data: self.data,
            occurred_at: now,
        }
    }
}

/// Everything one synced page changes, written atomically with the checkpoint.
#[derive(Debug, Clone)]
pub struct PageCommit {
    pub connection_id: String,
    pub tenant_id: String,
    pub kind: SyncKind,
    pub jobs: Vec<StoredJob>,
    pub stages: Vec<StoredStage>,
    pub applications: Vec<StoredApplication>,
    pub candidates: Vec<StoredCandidate>,
    pub events: Vec<NewEvent>,
    pub checkpoint: Checkpoint,
    pub run: Run,
}
