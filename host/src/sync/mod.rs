//! The sync engine: per connection a jobs sync (default every 3 h) and an applications
//! watch (default every 5 min), start times spread with jitter, "sync now" that coalesces
//! with a queued or running run, never two runs of one sync at once, failures backing the
//! schedule off, and `needs-reauth` connections paused.
//!
//! | module | owns |
//! |---|---|
//! | [`runner`] | one run: passes, pages, checkpoints, retries, guards |
//! | [`detect`] | change detection → stored records + events |
//! | [`reference`] | the tags, rejection reasons and users a jobs run refreshes |
//! | [`budget`] | the per-connection rate budget shared by syncs and writes |

pub mod budget;
pub mod detect;
pub mod reference;
pub mod runner;
/// The host's time helpers (`crate::time`), where the sync engine's timestamps come from.
pub use crate::time;

use crate::runtime::{
    CallContext, CallError, Field, Invocation, LoadedConnector, Output, Registry, Runtime,
};
use crate::store::{
    Connection, ConnectionStatus, ConnectionWithSecrets, Run, RunCounts, RunProgress, RunState,
    Store, StoreError, SyncKind, Trigger,
};
use budget::RateBudgets;
use futures::FutureExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};

/// Tunables of the engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// Records asked for per page.
    pub page_size: u32,
    /// Pages one run may read before it stops `partial` (the next run continues).
    pub max_pages_per_run: u64,
    /// Incremental reads ask for records changed since the watermark minus this window.
    #[serde(with = "crate::runtime::limits::millis")]
    pub overlap: Duration,
    /// A full scan (which detects deletions) at least this often.
    #[serde(with = "crate::runtime::limits::millis")]
    pub full_scan_every: Duration,
    /// `Retry-After` waits up to this long happen inside the run; longer ones end it `partial`.
    #[serde(with = "crate::runtime::limits::millis")]
    pub inline_retry_after_max: Duration,
    /// Wait when a 429 carries no `Retry-After` (seconds).
    pub default_retry_after_secs: u32,
    pub max_rate_limit_waits: u32,
    /// Retries of a transient failure within a run.
    pub transient_retries: u32,
    #[serde(with = "crate::runtime::limits::millis")]
    pub retry_base: Duration,
    #[serde(with = "crate::runtime::limits::millis")]
    pub retry_max: Duration,
    /// Connector calls per second per connection (syncs and writes together), unless the
    /// connection sets its own budget (`PUT /v1/connections/{id}/rate-budget`).
    pub calls_per_second: f64,
    /// How long a write waits for its turn in the connection's rate budget before it is
    /// refused (HTTP 429 with `Retry-After`); nothing is written then.
    #[serde(with = "crate::runtime::limits::millis")]
    pub write_budget_wait: Duration,
    /// How long a write's claim on its `Idempotency-Key` holds without progress (each
    /// finished part renews it). A retry of a write whose node died mid-way waits this long,
    /// then resumes after the last part done; meanwhile it answers 409 `in progress`.
    #[serde(with = "crate::runtime::limits::millis")]
    pub write_claim_lease: Duration,
    /// Runs executing at once, over all connections.
    pub max_concurrent_runs: usize,
    /// How often the scheduler looks for due syncs.
    #[serde(with = "crate::runtime::limits::millis")]
    pub scheduler_tick: Duration,
    /// Longest delay a new connection's first syncs are spread over.
    #[serde(with = "crate::runtime::limits::millis")]
    pub first_run_jitter: Duration,
    /// How long a run's claim on its (connection, sync) holds without renewal; the engine
    /// renews it every third of this while the run goes on. On a shared store, a run whose
    /// node died is taken over this long after its last renewal.
    #[serde(with = "crate::runtime::limits::millis")]
    pub run_lease: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            page_size: 100,
            max_pages_per_run: 10_000,
            overlap: Duration::from_secs(300),
            full_scan_every: Duration::from_secs(24 * 3600),
            inline_retry_after_max: Duration::from_secs(30),
            default_retry_after_secs: 30,
            max_rate_limit_waits: 10,
            transient_retries: 4,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
            calls_per_second: 10.0,
            write_budget_wait: Duration::from_secs(10),
            write_claim_lease: crate::writes::journal::DEFAULT_LEASE,
            max_concurrent_runs: 16,
            scheduler_tick: Duration::from_secs(1),
            first_run_jitter: Duration::from_secs(30),
            run_lease: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no connection `{0}`")]
    UnknownConnection(String),
    #[error(
        "connector `{connector}` does not declare `{operation}`, so this connection has no {kind} sync"
    )]
    NotOffered { connector: String, operation: &'static str, kind: &'static str },
}

/// The read operation a sync of `kind` pages through.
pub fn read_operation(kind: SyncKind) -> crate::runtime::Operation {
    match kind {
        SyncKind::Jobs => crate::runtime::Operation::ListJobs,
        SyncKind::Applications => crate::runtime::Operation::ListApplications,
    }
}

/// How the engine reaches a connector. The sandbox [`Runtime`] is the transport in
/// production; the sync benchmark plugs in a native build of the same connector logic to
/// measure what the sandbox costs.
pub trait Transport: Send + Sync {
    fn call<'a>(
        &'a self,
        connector: &'a LoadedConnector,
        context: &'a CallContext,
        invocation: Invocation,
    ) -> futures::future::BoxFuture<'a, Result<Output, CallError>>;
}

impl Transport for Runtime {
    fn call<'a>(
        &'a self,
        connector: &'a LoadedConnector,
        context: &'a CallContext,
        invocation: Invocation,
    ) -> futures::future::BoxFuture<'a, Result<Output, CallError>> {
        Box::pin(Runtime::call(self, connector, context, invocation))
    }
}

/// A sync slot: (connection, kind).
type SlotKey = (String, SyncKind);

/// The run queued or running in a slot, and a channel that tells when it ends.
type ActiveRun = (String, watch::Receiver<Option<Run>>);

pub struct SyncEngine {
    store: Arc<dyn Store>,
    transport: Arc<dyn Transport>,
    registry: Arc<Registry>,
    config: SyncConfig,
    pub budgets: RateBudgets,
    /// The run queued or running per slot, with a channel that tells when it ends.
    slots: Mutex<HashMap<SlotKey, ActiveRun>>,
    /// Due syncs: (due at unix ms, connection, kind).
    due: Mutex<BTreeSet<(i64, String, SyncKind)>>,
    permits: Arc<Semaphore>,
    wake: Notify,
    /// Notified when a committed page appended events (the webhook fan-out listens).
    pub events_appended: Arc<Notify>,
}

/// The call context of a connection: its config and secrets as connector config fields.
pub fn call_context(connection: &ConnectionWithSecrets) -> CallContext {
    let c = &connection.connection;
    let mut fields: Vec<Field> =
        c.config.iter().map(|(k, v)| Field { name: k.clone(), value: v.clone() }).collect();
    fields.extend(
        connection.secrets.0.iter().map(|(k, v)| Field { name: k.clone(), value: v.clone() }),
    );
    let mut context = CallContext::new(c.id.clone(), fields);
    context.tenant_id = c.tenant_id.clone();
    context.allow_private_networks = c.private_networks_granted();
    context
}

impl SyncEngine {
    pub fn new(
        store: Arc<dyn Store>,
        runtime: Arc<Runtime>,
        registry: Arc<Registry>,
        config: SyncConfig,
    ) -> Arc<Self> {
        Self::with_transport(store, runtime, registry, config)
    }

    /// An engine that reaches connectors through `transport`.
    pub fn with_transport(
        store: Arc<dyn Store>,
        transport: Arc<dyn Transport>,
        registry: Arc<Registry>,
        config: SyncConfig,
    ) -> Arc<Self> {
        Arc::new(SyncEngine {
            budgets: RateBudgets::new(config.calls_per_second),
            permits: Arc::new(Semaphore::new(config.max_concurrent_runs.max(1))),
            store,
            transport,
            registry,
            config,
            slots: Mutex::new(HashMap::new()),
            due: Mutex::new(BTreeSet::new()),
            wake: Notify::new(),
            events_appended: Arc::new(Notify::new()),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// The connector version a connection uses: its pinned version, else the active one.
    pub fn resolve_connector(
        &self,
        connection: &Connection,
    ) -> Result<Arc<LoadedConnector>, String> {
        match &connection.pinned_version {
            Some(version) => {
                let build = connection.pinned_sha256.as_deref().unwrap_or(version);
                let found = self
                    .registry
                    .version(&connection.connector_id, build)
                    .map_err(|e| e.to_string())?;
                if found.manifest.connector_version != *version {
                    return Err(format!(
                        "the pinned build {build} of `{}` is version {}, not the pinned {version}; pin again",
                        connection.connector_id, found.manifest.connector_version
                    ));
                }
                Ok(found)
            }
            None => self.registry.active(&connection.connector_id).ok_or_else(|| {
                format!(
                    "connector `{}` is not loaded; GET /v1/connectors lists the loaded ones",
                    connection.connector_id
                )
            }),
        }
    }

    /// The lease of a run claimed or renewed at `now`.
    fn lease_from(&self, now: i64) -> i64 {
        now.saturating_add(i64::try_from(self.config.run_lease.as_millis()).unwrap_or(i64::MAX / 2))
    }

    /// Renews the claim of run `run_id` every third of the lease until aborted.
    fn renew_while_unfinished(self: Arc<Self>, run_id: String) -> tokio::task::JoinHandle<()> {
        let every = (self.config.run_lease / 3).max(Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let lease = self.lease_from(crate::time::now_ms());
                if let Err(error) = self.store.renew_run(&run_id, lease).await {
                    tracing::warn!(%error, run = %run_id, "cannot renew the run's lease");
                }
            }
        })
    }

    /// Marks runs no live process runs (on a shared store: whose lease ran out) as
    /// cancelled (their checkpoints stay, so the next run resumes), and schedules every
    /// connection.
    pub async fn recover_and_schedule(&self) -> Result<(), SyncError> {
        for mut run in self.store.orphaned_runs(crate::time::now_ms()).await? {
            run.state = RunState::Cancelled;
            run.error = Some(
                "the host stopped during this run; the next run resumes from its checkpoint".into(),
            );
            run.end(crate::time::now_ms());
            self.store.put_run(&run).await?;
        }
        for connection in self.store.connections(None).await? {
            self.schedule(&connection).await;
        }
        Ok(())
    }

    /// (Re)computes when a connection's syncs are due.
    pub async fn schedule(&self, connection: &Connection) {
        self.budgets.set_limit(&connection.id, connection.rate_budget);
        self.unschedule(&connection.id);
        if !connection.schedules.enabled || connection.status != ConnectionStatus::Active {
            return;
        }
        let now = crate::time::now_ms();
        for kind in [SyncKind::Jobs, SyncKind::Applications] {
            if !self.offers(connection, kind) {
                continue;
            }
            let interval = self.interval(connection, kind);
            let checkpoint = self.store.checkpoint(&connection.id, kind).await.unwrap_or_default();
            let due = match checkpoint.last_run_at {
                Some(last) => (last + backed_off(interval, checkpoint.consecutive_failures))
                    .max(now + self.jitter(interval / 10)),
                None => now + self.jitter(self.config.first_run_jitter.as_millis() as i64),
            };
            self.due.lock().unwrap_or_else(PoisonError::into_inner).insert((
                due,
                connection.id.clone(),
                kind,
            ));
        }
        self.wake.notify_one();
    }

    /// Whether the connection's connector declares the read a sync of `kind` needs. A
    /// connector that is not loaded (yet) is given the benefit of the doubt: its runs say
    /// what is missing.
    fn offers(&self, connection: &Connection, kind: SyncKind) -> bool {
        self.resolve_connector(connection)
            .map_or(true, |c| c.manifest.operations.contains(&read_operation(kind)))
    }

    pub fn unschedule(&self, connection_id: &str) {
        self.due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(_, id, _)| id != connection_id);
    }

    /// When the syncs of `connection_id` are next due (unix ms).
    pub fn next_due(&self, connection_id: &str) -> Vec<(SyncKind, i64)> {
        let due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        due.iter()
            .filter(|(_, id, _)| id == connection_id)
            .map(|(at, _, kind)| (*kind, *at))
            .collect()
    }

    fn interval(&self, connection: &Connection, kind: SyncKind) -> i64 {
        let secs = match kind {
            SyncKind::Jobs => connection.schedules.jobs_every_secs,
            SyncKind::Applications => connection.schedules.applications_every_secs,
        };
        i64::try_from(secs.max(1)).unwrap_or(i64::MAX / 2).saturating_mul(1000)
    }

    fn jitter(&self, max_ms: i64) -> i64 {
        if max_ms <= 0 { 0 } else { rand::rng().random_range(0..max_ms) }
    }

    /// Starts a run of `kind` for `connection_id` now, or joins the one queued or running.
    /// Returns the run id and whether it was coalesced.
    pub async fn sync_now(
        self: &Arc<Self>,
        connection_id: &str,
        kind: SyncKind,
        trigger: Trigger,
    ) -> Result<(String, bool), SyncError> {
        self.start_run(connection_id, kind, trigger, None).await
    }

    /// [`SyncEngine::sync_now`]; for the scheduled slot due at `slot_due`, a run that
    /// another node finished between the scheduler's look and this claim is not run again.
    async fn start_run(
        self: &Arc<Self>,
        connection_id: &str,
        kind: SyncKind,
        trigger: Trigger,
        slot_due: Option<i64>,
    ) -> Result<(String, bool), SyncError> {
        let connection = self
            .store
            .connection(connection_id)
            .await?
            .ok_or_else(|| SyncError::UnknownConnection(connection_id.to_string()))?;
        if !self.offers(&connection, kind) {
            return Err(SyncError::NotOffered {
                connector: connection.connector_id.clone(),
                operation: read_operation(kind).wit_name(),
                kind: kind.as_str(),
            });
        }
        let key = (connection_id.to_string(), kind);
        let now = crate::time::now_ms();
        let run = Run {
            id: new_run_id(now),
            tenant_id: connection.tenant_id.clone(),
            connection_id: connection_id.to_string(),
            kind,
            trigger,
            state: RunState::Queued,
            full_scan: false,
            counts: RunCounts::default(),
            progress: RunProgress::default(),
            queued_at: now,
            started_at: None,
            ended_at: None,
            duration_ms: None,
            error: None,
            parts: Vec::new(),
            node: Some(crate::ids::node_id().to_string()),
        };
        // The slot is taken before the run is saved (no lock is held across the save): a
        // concurrent "sync now" finds it and joins this run.
        let (sender, receiver) = watch::channel(None);
        {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((run_id, _)) = slots.get(&key) {
                return Ok((run_id.clone(), true));
            }
            slots.insert(key.clone(), (run.id.clone(), receiver));
        }
        let lease = self.lease_from(crate::time::now_ms());
        match self.store.claim_run(&run, lease).await {
            Ok(()) => {
                // A run ends by updating its checkpoint before freeing the slot, so a slot
                // won just after another node's run ended sees that run here.
                if let Some(due) = slot_due
                    && self.ran_elsewhere(&connection, kind, due).await.is_some()
                {
                    let mut skipped = run.clone();
                    skipped.state = RunState::Cancelled;
                    skipped.error = Some("another node ran this scheduled slot".into());
                    skipped.end(crate::time::now_ms());
                    let saved = self.store.put_run(&skipped).await;
                    self.slots.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                    saved?;
                    return Ok((run.id, true));
                }
            }
            Err(StoreError::RunActive { run_id }) => {
                // Another node runs this sync: join its run.
                self.slots.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                return Ok((run_id, true));
            }
            Err(error) => {
                self.slots.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                return Err(error.into());
            }
        }
        let engine = self.clone();
        let run_id = run.id.clone();
        // Only a shared store has leases to renew (on sled `renew_run` does nothing).
        let renewal =
            self.store.is_shared().then(|| self.clone().renew_while_unfinished(run.id.clone()));
        tokio::spawn(async move {
            let permit = engine.permits.clone().acquire_owned().await;
            let fallback = run.clone();
            // `execute` catches panics of the pass itself; this catches the rest (recording
            // the outcome), so the slot is always cleared and the run always ends.
            let finished =
                match std::panic::AssertUnwindSafe(engine.execute(run)).catch_unwind().await {
                    Ok(finished) => finished,
                    Err(panic) => {
                        let mut run = fallback;
                        run.state = RunState::Failed;
                        run.error = Some(format!(
                            "the host failed during this run: {}",
                            crate::panic_message(panic.as_ref())
                        ));
                        run.end(crate::time::now_ms());
                        let _ = engine.store.put_run(&run).await;
                        run
                    }
                };
            drop(permit);
            if let Some(renewal) = renewal {
                renewal.abort();
            }
            engine.slots.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
            if let Ok(Some(connection)) = engine.store.connection(&finished.connection_id).await {
                engine.reschedule_after(&connection, finished.kind, &finished).await;
            }
            let _ = sender.send(Some(finished));
        });
        Ok((run_id, false))
    }

    /// Starts (or joins) a run and waits for its end.
    pub async fn run_and_wait(
        self: &Arc<Self>,
        connection_id: &str,
        kind: SyncKind,
    ) -> Result<Run, SyncError> {
        let (run_id, _) = self.sync_now(connection_id, kind, Trigger::Manual).await?;
        self.wait(&run_id).await
    }

    /// Waits for the end of a run started by this engine.
    pub async fn wait(&self, run_id: &str) -> Result<Run, SyncError> {
        let receiver = {
            let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.values().find(|(id, _)| id == run_id).map(|(_, rx)| rx.clone())
        };
        if let Some(mut receiver) = receiver {
            while receiver.borrow().is_none() {
                if receiver.changed().await.is_err() {
                    break;
                }
            }
            if let Some(run) = receiver.borrow().clone() {
                return Ok(run);
            }
        }
        self.store.run(run_id).await?.ok_or_else(|| {
            SyncError::Store(StoreError::NotFound { what: "run", id: run_id.into() })
        })
    }

    async fn reschedule_after(&self, connection: &Connection, kind: SyncKind, run: &Run) {
        self.due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(_, id, k)| !(id == &connection.id && *k == kind));
        if !connection.schedules.enabled
            || connection.status != ConnectionStatus::Active
            || !self.offers(connection, kind)
        {
            return;
        }
        let failures = self
            .store
            .checkpoint(&connection.id, kind)
            .await
            .map(|c| c.consecutive_failures)
            .unwrap_or(0);
        let interval = self.interval(connection, kind);
        let next = if run.state == RunState::Partial {
            // Resume soon, after any cool-down the ATS asked for.
            let cool =
                self.budgets.cool_down_left(&connection.id).map_or(0, |d| d.as_millis() as i64);
            crate::time::now_ms() + cool.max(1000).min(interval)
        } else {
            crate::time::now_ms() + backed_off(interval, failures) + self.jitter(interval / 20)
        };
        self.due.lock().unwrap_or_else(PoisonError::into_inner).insert((
            next,
            connection.id.clone(),
            kind,
        ));
    }

    /// Runs the scheduler until the process ends.
    pub fn spawn_scheduler(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                engine.start_due().await;
                tokio::select! {
                    _ = engine.wake.notified() => {}
                    _ = tokio::time::sleep(engine.config.scheduler_tick) => {}
                }
            }
        })
    }

    /// Starts every sync that is due now.
    pub async fn start_due(self: &Arc<Self>) {
        let now = crate::time::now_ms();
        let ready: Vec<(i64, String, SyncKind)> = {
            let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
            let ready: Vec<_> = due.iter().take_while(|(at, _, _)| *at <= now).cloned().collect();
            for entry in &ready {
                due.remove(entry);
            }
            ready
        };
        for (due, connection_id, kind) in ready {
            match self.store.connection(&connection_id).await {
                Ok(Some(c)) if c.status == ConnectionStatus::Active && c.schedules.enabled => {
                    if let Some(later) = self.ran_elsewhere(&c, kind, due).await {
                        // Another node of a shared store ran this slot: the next one is due
                        // after that run.
                        self.due_at(later, connection_id, kind);
                        continue;
                    }
                    match self.start_run(&connection_id, kind, Trigger::Schedule, Some(due)).await {
                        Ok((_, true)) if !self.runs_here(&connection_id, kind) => {
                            // Joined another node's run: look again once it may have ended.
                            let interval = self.interval(&c, kind);
                            let again = now + interval.min(30_000) + self.jitter(1_000);
                            self.due_at(again, connection_id, kind);
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::error!(%error, connection = %connection_id, "cannot start a scheduled sync");
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn due_at(&self, at: i64, connection_id: String, kind: SyncKind) {
        self.due.lock().unwrap_or_else(PoisonError::into_inner).insert((at, connection_id, kind));
    }

    /// Whether this engine runs the sync of (connection, kind) now.
    fn runs_here(&self, connection_id: &str, kind: SyncKind) -> bool {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&(connection_id.to_string(), kind))
    }

    /// When the slot due at `due` was run since it came due (by another node of a shared
    /// store: the checkpoint's last run is newer than the slot), the time the next slot is
    /// due; `None` when the slot is still to run.
    async fn ran_elsewhere(
        &self,
        connection: &Connection,
        kind: SyncKind,
        due: i64,
    ) -> Option<i64> {
        let checkpoint = self.store.checkpoint(&connection.id, kind).await.ok()?;
        let last = checkpoint.last_run_at?;
        let interval = self.interval(connection, kind);
        let next = last + backed_off(interval, checkpoint.consecutive_failures);
        (next > due + interval / 2).then_some(next)
    }

    /// Number of scheduled sync slots (for metrics and the benchmark).
    pub fn scheduled_count(&self) -> usize {
        self.due.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// The interval after `failures` consecutive failed runs: doubled per failure, at most 16x
/// and at most a day (but never shorter than the interval).
fn backed_off(interval: i64, failures: u32) -> i64 {
    let factor = 1i64 << failures.min(4);
    interval.saturating_mul(factor).min(interval.max(24 * 3600 * 1000))
}

fn new_run_id(now: i64) -> String {
    let suffix: u32 = rand::rng().random();
    format!("run_{now:013}_{suffix:08x}")
}
