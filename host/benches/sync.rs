//! Sync engine figures, printed (nothing asserted):
//!
//! 1. 10,000 connections scheduled (20,000 sync slots): the host's idle CPU and RSS.
//! 2. A sync of 10,000 jobs from the local sandbox ATS through the wasm `sandbox`
//!    connector vs a native Rust build of the same connector logic, through the same engine,
//!    store and HTTP server: the ratio is what the sandbox costs. Each run's time per record
//!    is split into the connector call (wasm or native, HTTP to the in-process sandbox ATS
//!    included), the diff (store look-ups and change detection), the commit
//!    (`Store::commit_page`) and the rest of the run (its record, checkpoint, stages and
//!    reference lists), beside the fake's own share of the call (the sandbox ATS's time
//!    answering, [`SandboxHandle::busy_time`]). The call and commit are timed by wrapping
//!    the transport and the store; the diff is the remainder.
//!
//! 3. The same sync through the connector manifest of the sandbox ATS
//!    (`sdk/declarative/examples/sandbox.toml`) packed into the generic manifest connector:
//!    its ratio to the hand-written Rust connector.
//!
//! `cargo bench -p ats-host --bench sync`; `ATS_BENCH_SYNC_ONLY=1` skips the idle figures,
//! `ATS_BENCH_ROUNDS` sets the runs per connector (default 5; the median is printed),
//! `ATS_BENCH_VARIANTS` (e.g. `manifest` or `wasm,manifest`) runs only those.

use ats_host::model::{Job, JobPage, JobStatus, Stage, StagePage};
use ats_host::runtime::state::MemoryStateStore;
use ats_host::runtime::{
    CallContext, CallError, Invocation, Limits, LoadedConnector, Output, Registry, Runtime,
};
use ats_host::sandbox_ats::SandboxHandle;
use ats_host::store::{
    Checkpoint, Connection, ConnectionStatus, ConnectionWithSecrets, ConnectorVersions, Event,
    JobFlags, NewEvent, PageCommit, RecordFilter, Run, RunFilter, Schedules, Secrets, SledStore,
    Store, StoreError, StoredApplication, StoredCandidate, StoredJob, StoredStage, SyncKind,
    Tenant,
};
use ats_host::sync::{SyncConfig, SyncEngine, Transport};
use futures::future::BoxFuture;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const KEY: &str = "bench-key";

fn main() -> anyhow::Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        if std::env::var_os("ATS_BENCH_SYNC_ONLY").is_none() {
            idle_scheduler().await?;
        }
        wasm_vs_native().await
    })
}

fn connection(id: &str, base_url: &str) -> Connection {
    connection_to("sandbox", id, base_url)
}

fn connection_to(connector: &str, id: &str, base_url: &str) -> Connection {
    Connection {
        id: id.into(),
        tenant_id: "bench".into(),
        connector_id: connector.into(),
        pinned_version: None,
        pinned_sha256: None,
        private_grant: Default::default(),
        name: id.into(),
        config: BTreeMap::from([("base-url".to_string(), base_url.to_string())]),
        secret_names: vec!["api-key".into()],
        allow_private_networks: true,
        status: ConnectionStatus::Active,
        status_detail: None,
        schedules: Schedules::default(),
        ats_webhook: None,
        rate_budget: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn secrets() -> Secrets {
    Secrets(BTreeMap::from([("api-key".to_string(), KEY.to_string())]))
}

async fn idle_scheduler() -> anyhow::Result<()> {
    let rss_before = rss_kib();
    let store = Arc::new(SledStore::temporary()?);
    store.put_tenant(&Tenant { id: "bench".into(), name: "bench".into(), created_at: 0 }).await?;
    let now = ats_host::time::now_ms();
    for i in 0..10_000 {
        let id = format!("conn_{i:05}");
        store.put_connection(&connection(&id, "http://127.0.0.1:9"), Some(&secrets())).await?;
        for kind in [SyncKind::Jobs, SyncKind::Applications] {
            let checkpoint = Checkpoint { last_run_at: Some(now), ..Checkpoint::default() };
            store.put_checkpoint(&id, kind, &checkpoint).await?;
        }
    }
    let runtime =
        Arc::new(Runtime::new(Limits::default(), Arc::new(MemoryStateStore::default()), None)?);
    let engine =
        SyncEngine::new(store, runtime, Arc::new(Registry::default()), SyncConfig::default());
    let started = Instant::now();
    engine.recover_and_schedule().await?;
    let scheduled_in = started.elapsed();
    engine.spawn_scheduler();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_before = cpu_time();
    let window = Duration::from_secs(5);
    tokio::time::sleep(window).await;
    let cpu = cpu_time().saturating_sub(cpu_before);
    println!(
        "10,000 connections, {} sync slots scheduled in {scheduled_in:.1?}",
        engine.scheduled_count()
    );
    println!(
        "  idle: {:.2}% of one core over {window:?}; RSS {} MiB (+{} MiB for the connections)",
        cpu.as_secs_f64() / window.as_secs_f64() * 100.0,
        rss_kib() / 1024,
        rss_kib().saturating_sub(rss_before) / 1024
    );
    Ok(())
}

const JOBS: usize = 10_012;

async fn wasm_vs_native() -> anyhow::Result<()> {
    let (addr, sandbox) = ats_host::sandbox_ats::start(([127, 0, 0, 1], 0).into(), KEY).await?;
    sandbox.seed_jobs(10_000, "2026-11-20T10:00:00Z");
    let base_url = format!("http://{addr}");
    // `ATS_BENCH_KEEP_RESIDENT_KIB` overrides how much of a pooled memory slot stays
    // resident between calls (to see what re-faulting a page's memory costs).
    let defaults = Limits::default();
    let limits = Limits {
        pooling_memory_keep_resident: std::env::var("ATS_BENCH_KEEP_RESIDENT_KIB")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .map_or(defaults.pooling_memory_keep_resident, |kib| kib << 10),
        ..defaults
    };
    let runtime = Arc::new(Runtime::new(limits, Arc::new(MemoryStateStore::default()), None)?);
    let registry = Arc::new(Registry::default());
    let wasm = ats_host::bundled::BUNDLED
        .iter()
        .find(|(package, _)| *package == "connector-sandbox")
        .map(|(_, wasm)| wasm.to_vec())
        .ok_or_else(|| anyhow::anyhow!("the sandbox connector is not bundled"))?;
    registry.install(runtime.load(wasm, "bench").await?).await?;
    // The same ATS through a connector manifest packed into the generic component.
    let example = include_str!("../../sdk/declarative/examples/sandbox.toml");
    let packed = ats_host::declarative::pack("sandbox.toml", example)?;
    registry.install(runtime.load(packed, "bench-manifest").await?).await?;
    let native: Arc<dyn Transport> = Arc::new(NativeSandbox { http: reqwest::Client::new() });
    let wasm_transport: Arc<dyn Transport> = runtime.clone();

    let rounds: usize =
        std::env::var("ATS_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    // `ATS_BENCH_VARIANTS=manifest` (a comma list) runs only those, e.g. under `perf`.
    let variants = std::env::var("ATS_BENCH_VARIANTS").unwrap_or_default();
    let wanted = |name: &str| variants.is_empty() || variants.split(',').any(|v| v == name);
    let mut figures: BTreeMap<&str, Vec<Split>> = BTreeMap::new();
    for _ in 0..rounds {
        for (name, transport) in [
            ("wasm", wasm_transport.clone()),
            ("native", native.clone()),
            ("manifest", wasm_transport.clone()),
        ] {
            if !wanted(name) {
                continue;
            }
            let connector = if name == "manifest" { "sandbox-declarative" } else { "sandbox" };
            let split =
                sync_once(name, connector, transport, &registry, &base_url, &sandbox).await?;
            figures.entry(name).or_default().push(split);
        }
    }
    let median = |name: &str| {
        let mut runs = figures.get(name).cloned().unwrap_or_default();
        runs.sort_by_key(|s| s.total);
        runs.get(runs.len() / 2).copied().unwrap_or_default()
    };
    let (wasm, native, manifest) = (median("wasm"), median("native"), median("manifest"));
    println!(
        "sync of {JOBS} jobs (100 per page), median of {rounds}: wasm {:.1?}, native {:.1?}",
        wasm.total, native.total
    );
    println!("  µs per record   total    call (fake)    diff (reads)  commit   rest  records/s");
    for (name, split) in [("wasm", wasm), ("native", native), ("manifest", manifest)] {
        split.print(name);
    }
    println!(
        "  wasm / native ratio: {:.3} (the sandbox adds {:.1}%)",
        wasm.total.as_secs_f64() / native.total.as_secs_f64(),
        (wasm.total.as_secs_f64() / native.total.as_secs_f64() - 1.0) * 100.0
    );
    println!(
        "  host time only (total - fake): wasm / native {:.3}",
        wasm.host().as_secs_f64() / native.host().as_secs_f64()
    );
    println!(
        "  manifest connector / Rust connector (both wasm): {:.3}; manifest / native {:.3}",
        manifest.total.as_secs_f64() / wasm.total.as_secs_f64(),
        manifest.total.as_secs_f64() / native.total.as_secs_f64()
    );
    Ok(())
}

/// Where one run's time went (see the module doc).
#[derive(Debug, Clone, Copy, Default)]
struct Split {
    total: Duration,
    call: Duration,
    fake: Duration,
    commit: Duration,
    diff: Duration,
    /// The part of `diff` spent reading stored records.
    lookups: Duration,
    rest: Duration,
}

impl Split {
    fn host(&self) -> Duration {
        self.total.saturating_sub(self.fake)
    }

    fn print(&self, name: &str) {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / JOBS as f64;
        println!(
            "  {name:<14}{:>7.1} {:>7.1} ({:>4.1}) {:>7.1} ({:>4.1}) {:>7.1} {:>6.1} {:>10.0}",
            per(self.total),
            per(self.call),
            per(self.fake),
            per(self.diff),
            per(self.lookups),
            per(self.commit),
            per(self.rest),
            JOBS as f64 / self.total.as_secs_f64()
        );
    }
}

async fn sync_once(
    name: &str,
    connector: &str,
    transport: Arc<dyn Transport>,
    registry: &Arc<Registry>,
    base_url: &str,
    sandbox: &SandboxHandle,
) -> anyhow::Result<Split> {
    let sled = SledStore::temporary()?;
    sled.put_tenant(&Tenant { id: "bench".into(), name: "bench".into(), created_at: 0 }).await?;
    sled.put_connection(&connection_to(connector, "conn_bench", base_url), Some(&secrets()))
        .await?;
    let store = Arc::new(TimedStore {
        inner: sled,
        lookups: AtomicU64::new(0),
        commit: AtomicU64::new(0),
        rest: AtomicU64::new(0),
    });
    let transport = Arc::new(TimedTransport { inner: transport, nanos: AtomicU64::new(0) });
    let config = SyncConfig { calls_per_second: 1e9, ..SyncConfig::default() };
    let engine =
        SyncEngine::with_transport(store.clone(), transport.clone(), registry.clone(), config);
    let fake_before = sandbox.busy_time();
    let started = Instant::now();
    let run = engine.run_and_wait("conn_bench", SyncKind::Jobs).await?;
    let total = started.elapsed();
    anyhow::ensure!(
        run.counts.created == JOBS as u64,
        "{name} run created {} jobs: {run:?}",
        run.counts.created
    );
    let call = nanos(&transport.nanos);
    let (lookups, commit, rest) = (nanos(&store.lookups), nanos(&store.commit), nanos(&store.rest));
    Ok(Split {
        total,
        call,
        fake: sandbox.busy_time().saturating_sub(fake_before),
        commit,
        diff: total.saturating_sub(call + commit + rest),
        lookups,
        rest,
    })
}

fn nanos(counter: &AtomicU64) -> Duration {
    Duration::from_nanos(counter.load(Ordering::Relaxed))
}

fn add(counter: &AtomicU64, started: Instant) {
    let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(took, Ordering::Relaxed);
}

/// A transport that sums the time of its calls.
struct TimedTransport {
    inner: Arc<dyn Transport>,
    nanos: AtomicU64,
}

impl Transport for TimedTransport {
    fn call<'a>(
        &'a self,
        connector: &'a LoadedConnector,
        context: &'a CallContext,
        invocation: Invocation,
    ) -> BoxFuture<'a, Result<Output, CallError>> {
        Box::pin(async move {
            let started = Instant::now();
            let output = self.inner.call(connector, context, invocation).await;
            add(&self.nanos, started);
            output
        })
    }
}

/// A sled store that sums the time of `commit_page`, of its look-ups of synced records
/// (part of the diff, which is timed as the remainder) and of everything else.
struct TimedStore {
    inner: SledStore,
    lookups: AtomicU64,
    commit: AtomicU64,
    rest: AtomicU64,
}

/// The `Store` impl of [`TimedStore`]: each listed method timed into its counter (the
/// whole impl comes from the macro so `async_trait` sees the expanded methods).
macro_rules! timed_store {
    ($($counter:ident: fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        #[async_trait::async_trait]
        impl Store for TimedStore {
            $(async fn $name(&self $(, $arg: $ty)*) -> $ret {
                let started = Instant::now();
                let output = self.inner.$name($($arg),*).await;
                add(&self.$counter, started);
                output
            })*

            fn inbound_token(&self, connection_id: &str) -> String {
                self.inner.inbound_token(connection_id)
            }
        }
    };
}

timed_store! {
    rest: fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    rest: fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError>;
    rest: fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    rest: fn put_connection(&self, connection: &Connection, secrets: Option<&Secrets>) -> Result<(), StoreError>;
    rest: fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError>;
    rest: fn connection_with_secrets(&self, id: &str) -> Result<Option<ConnectionWithSecrets>, StoreError>;
    rest: fn connections(&self, tenant_id: Option<&str>) -> Result<Vec<Connection>, StoreError>;
    rest: fn delete_connection(&self, id: &str) -> Result<bool, StoreError>;
    rest: fn put_run(&self, run: &Run) -> Result<(), StoreError>;
    rest: fn run(&self, id: &str) -> Result<Option<Run>, StoreError>;
    rest: fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, StoreError>;
    rest: fn checkpoint(&self, connection_id: &str, kind: SyncKind) -> Result<Checkpoint, StoreError>;
    rest: fn put_checkpoint(&self, connection_id: &str, kind: SyncKind, checkpoint: &Checkpoint) -> Result<(), StoreError>;
    lookups: fn job(&self, connection_id: &str, remote_id: &str) -> Result<Option<StoredJob>, StoreError>;
    rest: fn set_job_flags(&self, connection_id: &str, remote_id: &str, flags: JobFlags) -> Result<Option<StoredJob>, StoreError>;
    lookups: fn jobs(&self, filter: &RecordFilter) -> Result<Vec<StoredJob>, StoreError>;
    lookups: fn jobs_missing_from_scan(&self, connection_id: &str, scan_id: &str) -> Result<Vec<StoredJob>, StoreError>;
    rest: fn stages(&self, connection_id: &str) -> Result<Vec<StoredStage>, StoreError>;
    lookups: fn application(&self, connection_id: &str, remote_id: &str) -> Result<Option<StoredApplication>, StoreError>;
    lookups: fn applications(&self, filter: &RecordFilter) -> Result<Vec<StoredApplication>, StoreError>;
    lookups: fn candidates(&self, filter: &RecordFilter) -> Result<Vec<StoredCandidate>, StoreError>;
    rest: fn put_reference(&self, connection_id: &str, kind: &str, entries: &[Value]) -> Result<(), StoreError>;
    rest: fn reference(&self, connection_id: &str, kind: &str) -> Result<Vec<Value>, StoreError>;
    lookups: fn candidate(&self, connection_id: &str, remote_id: &str) -> Result<Option<StoredCandidate>, StoreError>;
    rest: fn append_events(&self, tenant_id: &str, connection_id: &str, events: Vec<NewEvent>) -> Result<Vec<Event>, StoreError>;
    rest: fn events(&self, tenant_id: Option<&str>, after: Option<u64>, limit: usize) -> Result<Vec<Event>, StoreError>;
    commit: fn commit_page(&self, page: PageCommit) -> Result<Vec<Event>, StoreError>;
    rest: fn flush(&self) -> Result<(), StoreError>;
    rest: fn connector_versions(&self) -> Result<Vec<ConnectorVersions>, StoreError>;
    rest: fn put_connector_versions(&self, record: &ConnectorVersions) -> Result<(), StoreError>;
}

/// The sandbox connector's `list-jobs` / `list-stages` logic compiled natively.
struct NativeSandbox {
    http: reqwest::Client,
}

impl NativeSandbox {
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        context: &CallContext,
        path: &str,
    ) -> Result<T, CallError> {
        let field = |name: &str| {
            context
                .config
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.value.clone())
                .unwrap_or_default()
        };
        let url = format!("{}{path}", field("base-url").trim_end_matches('/'));
        let response = self
            .http
            .get(url)
            .bearer_auth(field("api-key"))
            .send()
            .await
            .map_err(|e| CallError::Host(e.to_string()))?;
        let bytes = response.bytes().await.map_err(|e| CallError::Host(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| CallError::Host(e.to_string()))
    }
}

impl Transport for NativeSandbox {
    fn call<'a>(
        &'a self,
        _: &'a LoadedConnector,
        context: &'a CallContext,
        invocation: Invocation,
    ) -> BoxFuture<'a, Result<Output, CallError>> {
        Box::pin(async move {
            match invocation {
                Invocation::ListJobs(page) => {
                    let mut path = format!("/api/jobs?limit={}", page.limit.unwrap_or(100));
                    if let Some(cursor) = &page.page_token {
                        path.push_str(&format!("&cursor={cursor}"));
                    }
                    if let Some(since) = &page.since {
                        path.push_str(&format!("&updated_since={since}"));
                    }
                    let page: JobsPage = self.get(context, &path).await?;
                    let items =
                        page.jobs.iter().map(|raw| to_job(raw)).collect::<Result<_, _>>()?;
                    Ok(Output::Jobs(JobPage { items, next_page_token: page.next_cursor }))
                }
                Invocation::ListStages { .. } => {
                    let body: Value = self.get(context, "/api/stages").await?;
                    let items = body["stages"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|raw| Stage {
                            id: raw["id"].as_str().unwrap_or_default().into(),
                            name: raw["name"].as_str().unwrap_or_default().into(),
                            job_id: None,
                            position: raw["position"].as_u64().unwrap_or(0) as u32,
                            raw: raw.to_string(),
                        })
                        .collect();
                    Ok(Output::Stages(StagePage { items, next_page_token: None }))
                }
                other => Err(CallError::Host(format!(
                    "the native bench connector does not do {other:?}"
                ))),
            }
        })
    }
}

/// A page of the sandbox ATS's jobs, read as the wasm connector reads it (records kept raw).
#[derive(serde::Deserialize)]
struct JobsPage {
    jobs: Vec<Box<RawValue>>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// The fields the sandbox connector maps (`connectors/sandbox/src/records.rs`).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct JobFields {
    id: Option<String>,
    #[serde(rename = "ref")]
    code: Option<String>,
    title: Option<String>,
    status: Option<String>,
    city: Option<String>,
    description: Option<String>,
    department: Option<String>,
    recruiter: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

/// The same mapping as the wasm connector's, natively.
fn to_job(raw: &RawValue) -> Result<Job, CallError> {
    let job: JobFields =
        serde_json::from_str(raw.get()).map_err(|e| CallError::Host(e.to_string()))?;
    Ok(Job {
        id: job.id.unwrap_or_default(),
        code: job.code,
        title: job.title.unwrap_or_default(),
        status: if job.status.as_deref() == Some("closed") {
            JobStatus::Closed
        } else {
            JobStatus::Open
        },
        location: job.city.map(ats_host::model::Location::text),
        employment_type: None,
        description: job.description,
        department: job.department,
        assigned_users: job.recruiter.into_iter().collect(),
        post_url: None,
        screening_questions: Vec::new(),
        opened_at: None,
        closed_at: None,
        created_at: job.created_at,
        updated_at: job.updated_at,
        custom_fields: Vec::new(),
        raw: raw.get().to_string(),
    })
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of /proc/self/stat (11 and 12 after the name).
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
