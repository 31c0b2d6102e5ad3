//! `ats-host serve`: opens the store in the data directory, loads the bundled connectors and
//! a watched directory, starts the sync scheduler and the webhook worker, serves the API,
//! and optionally runs the demo. Settings come from flags, `ATS_*` variables, and an
//! optional TOML file (see [`super::config`]), in that order of precedence.
//!
//! **Stopping.** SIGTERM (what orchestrators send) and Ctrl-C (SIGINT) stop the host the
//! same way: the listener closes, requests in flight get up to [`DRAIN_BOUND`] to finish
//! (a second signal stops waiting), then every task still running (sync runs, workers) is
//! stopped within [`TASK_STOP_BOUND`] at its next await point (a sync run stops at a page
//! boundary: each page is committed with its checkpoint in one transaction), the runs it
//! interrupted are recorded as cancelled, and the store is flushed: the process exits
//! within 15 s of the signal plus the flush, and the next start resumes each interrupted
//! run from its checkpoint. Stopping tasks needs the runtime, so that part is
//! [`super::run_parsed`]'s.

use super::config::FileConfig;
use super::listener::ProblemListener;
use crate::app::{Host, HostOptions};
use crate::runtime::watcher::DirectoryWatcher;
use crate::runtime::{AllocatorChoice, Limits};
use crate::store::backend::StoreLocation;
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long requests in flight get to finish after SIGTERM or Ctrl-C.
pub const DRAIN_BOUND: Duration = Duration::from_secs(10);
/// How long the tasks still running get to stop once the API has drained.
pub const TASK_STOP_BOUND: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML config file (flags and ATS_* variables override it).
    #[arg(long, env = "ATS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address of the HTTP API [default: 127.0.0.1:8080].
    #[arg(long, env = "ATS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory: store, keys, compiled-artifact cache [default: data].
    #[arg(long, env = "ATS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the host keeps its state: `sled` (embedded, in DATA_DIR/store) or a
    /// `postgres://user:password@host:port/database` URL [default: sled]. On PostgreSQL,
    /// give every start the same --secret-key (connection secrets are sealed with it).
    #[arg(long, env = "ATS_STORE", value_parser = parse_store)]
    pub store: Option<StoreLocation>,
    /// Cache of compiled connectors [default: DATA_DIR/compiled]; hosts on one machine may
    /// share one (entries are keyed by content and engine, written atomically).
    #[arg(long, env = "ATS_COMPILED_CACHE")]
    pub compiled_cache: Option<PathBuf>,
    /// Directory watched for connector `.wasm` files [default: DATA_DIR/connectors].
    #[arg(long, env = "ATS_CONNECTORS_DIR")]
    pub connectors_dir: Option<PathBuf>,
    /// How often the connectors directory is polled, in milliseconds [default: 500].
    #[arg(long, env = "ATS_POLL_MS")]
    pub poll_ms: Option<u64>,
    /// Do not load the connectors compiled into the binary.
    #[arg(long, env = "ATS_NO_BUNDLED")]
    pub no_bundled: bool,
    /// Run the demo: a sandbox ATS on loopback, a demo tenant and connection syncing from it,
    /// and simulated recruiter activity, so runs and events appear within seconds.
    #[arg(long, env = "ATS_DEMO")]
    pub demo: bool,
    /// Seconds between simulated recruiter actions in the demo.
    #[arg(long, default_value_t = 15, env = "ATS_DEMO_INTERVAL_SECS")]
    pub demo_interval_secs: u64,
    /// Operator API key [default: DATA_DIR/operator.key, created on first start].
    #[arg(long, env = "ATS_OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<String>,
    /// Key for secrets at rest, 32 bytes base64 [default: DATA_DIR/secret.key, created on
    /// first start].
    #[arg(long, env = "ATS_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Wall-clock limit of one connector call, in milliseconds [default: 60000].
    #[arg(long, env = "ATS_CALL_TIMEOUT_MS")]
    pub call_timeout_ms: Option<u64>,
    /// Memory limit of one connector call, in MiB [default: 128].
    #[arg(long, env = "ATS_MEMORY_MB")]
    pub memory_mb: Option<u64>,
    /// Instance allocator: auto (pooling, falling back to on-demand), pooling, on-demand.
    #[arg(long, value_enum, env = "ATS_ALLOCATOR")]
    pub allocator: Option<AllocatorChoice>,
    /// Let webhook deliveries reach loopback/private networks.
    #[arg(long, env = "ATS_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private_networks: bool,
}

/// Serves until SIGTERM or Ctrl-C, then drains the API (see the module doc).
pub async fn run(args: ServeArgs) -> anyhow::Result<Stopped> {
    let file = FileConfig::load(args.config.as_deref())?;
    let data_dir = args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
    let connectors_dir =
        args.connectors_dir.or(file.connectors_dir).unwrap_or_else(|| data_dir.join("connectors"));
    std::fs::create_dir_all(&connectors_dir).with_context(|| {
        format!("cannot create the connectors directory {}", connectors_dir.display())
    })?;
    let listen = args.listen.or(file.listen).unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    let demo_on = args.demo || file.demo.unwrap_or(false);
    // The file's limits over the defaults, then the flags (and their ATS_* variables).
    let from_file = file.limits.limits()?;
    let limits = Limits {
        call_timeout: args.call_timeout_ms.map_or(from_file.call_timeout, Duration::from_millis),
        memory_bytes: args.memory_mb.map_or(from_file.memory_bytes, |mb| mb << 20),
        allocator: args.allocator.unwrap_or(from_file.allocator),
        ..from_file
    };
    let mut webhooks = file.webhooks.unwrap_or_default();
    webhooks.allow_private_networks |= args.webhooks_allow_private_networks || demo_on;
    let automations = file.automations.options()?;
    let host = Host::start_with_automations(
        limits,
        HostOptions {
            data_dir: data_dir.clone(),
            connectors_dir: Some(connectors_dir.clone()),
            operator_key: args.operator_key.or(file.api.operator_key),
            secret_key: args.secret_key,
            sync: file.sync.unwrap_or_default(),
            webhooks,
            run_scheduler: false,
            compiled_cache: args.compiled_cache,
            store: args.store.clone().unwrap_or_default(),
        },
        automations,
    )
    .await?;
    tracing::info!(allocator = ?host.state.runtime.allocator(), data_dir = %data_dir.display(), "host ready");
    if let Some(key) = &host.generated_operator_key {
        // Logs are shipped and kept: the key itself is never printed, only where it is.
        let shown: String = key.chars().take(10).collect();
        tracing::info!(
            "operator API key created ({shown}…) and saved to {}; use it as `Authorization: Bearer $(cat {})`",
            data_dir.join("operator.key").display(),
            data_dir.join("operator.key").display()
        );
    }
    if !args.no_bundled {
        host.load_bundled().await;
    }
    let mut watcher = DirectoryWatcher::new(
        &connectors_dir,
        host.state.runtime.clone(),
        host.state.registry.clone(),
    );
    let report = watcher.load_all().await;
    tracing::info!(
        dir = %connectors_dir.display(),
        loaded = report.loaded.len(),
        rejected = report.rejected.len(),
        "watching connectors directory for new versions"
    );
    watcher.spawn(Duration::from_millis(args.poll_ms.or(file.poll_ms).unwrap_or(500).max(50)));
    host.sync.spawn_scheduler();

    let mut state = host.state.clone();
    if demo_on {
        state.demo = Some(
            crate::demo::start(&host, Duration::from_secs(args.demo_interval_secs.max(1))).await?,
        );
    }
    let app = crate::api::router(state);
    let listener = ProblemListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (in use? pass --listen)"))?;
    // Registered once serving starts (a signal while connectors load ends the process at
    // once, which loses nothing either) and kept, so that a second signal is seen too.
    let mut signals = Signals::new()?;
    tracing::info!(
        "serving on http://{} — try GET /health, /v1/openapi.json{}",
        axum::serve::Listener::local_addr(&listener)?,
        if demo_on { ", /demo" } else { "" }
    );
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut server = tokio::spawn(async move {
        let mut stopping = stopping;
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            })
            .await
    });
    let signal = tokio::select! {
        signal = signals.next() => signal,
        ended = &mut server => {
            return Err(match ended {
                Ok(Ok(())) => anyhow::anyhow!("the API server stopped by itself"),
                Ok(Err(error)) => anyhow::Error::from(error).context("the API server failed"),
                Err(error) => anyhow::Error::from(error).context("the API server task failed"),
            });
        }
    };
    tracing::info!(
        %signal,
        "shutting down: no new connections; requests in flight get up to {} s to finish",
        DRAIN_BOUND.as_secs()
    );
    let _ = stop.send(true);
    tokio::select! {
        ended = &mut server => match ended {
            Ok(Ok(())) => tracing::info!("requests in flight finished"),
            Ok(Err(error)) => tracing::warn!(%error, "the API server ended with an error"),
            Err(error) => tracing::warn!(%error, "the API server task ended abnormally"),
        },
        _ = tokio::time::sleep(DRAIN_BOUND) => {
            server.abort();
            tracing::warn!("requests still running after {} s are cut", DRAIN_BOUND.as_secs());
        }
        again = signals.next() => {
            server.abort();
            tracing::warn!(signal = %again, "second signal: requests in flight are cut");
        }
    }
    Ok(Stopped { store: host.store.clone(), location: args.store.unwrap_or_default(), signal })
}

fn parse_store(value: &str) -> Result<StoreLocation, String> {
    StoreLocation::parse(value)
}

/// A host whose API has stopped; [`Stopped::finish`] records the interrupted runs and
/// flushes the store (after the tasks are stopped, when the caller owns the runtime).
pub struct Stopped {
    store: Arc<dyn crate::store::Store>,
    location: StoreLocation,
    signal: &'static str,
}

impl Stopped {
    pub async fn finish(self) -> anyhow::Result<()> {
        use crate::store::{RunFilter, RunState};
        // A PostgreSQL pool's connections ran on the runtime that has stopped: connect anew
        // (only runs are written here, no secrets).
        let store: Arc<dyn crate::store::Store> = match &self.location {
            StoreLocation::Embedded => self.store.clone(),
            StoreLocation::Postgres(url) => Arc::new(
                crate::store::PgStore::connect(url, crate::store::SecretBox::ephemeral()).await?,
            ),
        };
        let now = crate::time::now_ms();
        let mut interrupted = 0;
        for state in [RunState::Running, RunState::Queued] {
            let filter =
                RunFilter { state: Some(state), limit: usize::MAX, ..RunFilter::default() };
            // This node's runs only: on a shared store the others belong to live nodes.
            let mine = |run: &crate::store::Run| {
                run.node.as_deref().is_none_or(|node| node == crate::ids::node_id())
            };
            for mut run in store.runs(&filter).await?.into_iter().filter(mine) {
                run.state = RunState::Cancelled;
                run.error = Some(format!(
                    "the host shut down ({}) during this run; the next run resumes from its checkpoint",
                    self.signal
                ));
                run.end(now);
                store.put_run(&run).await?;
                interrupted += 1;
            }
        }
        store.flush().await?;
        tracing::info!(signal = self.signal, interrupted, "host stopped; store flushed");
        Ok(())
    }
}

/// SIGTERM and SIGINT (Ctrl-C), each seen every time it arrives.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
