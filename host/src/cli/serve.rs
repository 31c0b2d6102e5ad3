//! `ats-host serve`: opens the store in the data directory, loads the bundled connectors and
//! a watched directory, starts the sync scheduler and the webhook worker, serves the API,
//! and optionally runs the demo. Settings come from flags, `ATS_*` variables, and an
//! optional TOML file (see [`super::config`]), in that order of precedence.

use super::config::FileConfig;
use crate::app::{Host, HostOptions};
use crate::runtime::watcher::DirectoryWatcher;
use crate::runtime::{AllocatorChoice, Limits};
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
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
    let host = Host::start(
        limits,
        HostOptions {
            data_dir: data_dir.clone(),
            connectors_dir: Some(connectors_dir.clone()),
            operator_key: args.operator_key.or(file.api.operator_key),
            secret_key: args.secret_key,
            sync: file.sync.unwrap_or_default(),
            webhooks,
            run_scheduler: false,
        },
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
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (in use? pass --listen)"))?;
    tracing::info!(
        "serving on http://{} — try GET /health, /v1/openapi.json{}",
        listener.local_addr()?,
        if demo_on { ", /demo" } else { "" }
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    crate::store::Store::flush(host.store.as_ref())?;
    Ok(())
}
