//! `ats-host serve`: load the bundled connectors and a watched directory, serve the API,
//! optionally run the demo.

use super::LimitArgs;
use crate::api::{self, AppState};
use crate::runtime::registry::Installed;
use crate::runtime::state::MemoryStateStore;
use crate::runtime::watcher::DirectoryWatcher;
use crate::runtime::{Registry, Runtime};
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the HTTP API.
    #[arg(long, default_value = "127.0.0.1:8080", env = "ATS_LISTEN")]
    pub listen: SocketAddr,
    /// Data directory (compiled-artifact cache, state).
    #[arg(long, default_value = "data", env = "ATS_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Directory watched for connector `.wasm` files [default: DATA_DIR/connectors].
    #[arg(long, env = "ATS_CONNECTORS_DIR")]
    pub connectors_dir: Option<PathBuf>,
    /// How often the connectors directory is polled (milliseconds).
    #[arg(long, default_value_t = 500, env = "ATS_POLL_MS")]
    pub poll_ms: u64,
    /// Do not load the connectors compiled into the binary.
    #[arg(long)]
    pub no_bundled: bool,
    /// Run the demo: a sandbox ATS on loopback and a demo connection syncing from it.
    #[arg(long, env = "ATS_DEMO")]
    pub demo: bool,
    /// Seconds between demo rounds.
    #[arg(long, default_value_t = 15)]
    pub demo_interval_secs: u64,
    #[command(flatten)]
    pub limits: LimitArgs,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let connectors_dir =
        args.connectors_dir.clone().unwrap_or_else(|| args.data_dir.join("connectors"));
    std::fs::create_dir_all(&connectors_dir).with_context(|| {
        format!("cannot create the connectors directory {}", connectors_dir.display())
    })?;
    let runtime = Arc::new(Runtime::new(
        args.limits.limits(),
        Arc::new(MemoryStateStore::default()),
        Some(args.data_dir.join("compiled")),
    )?);
    tracing::info!(allocator = ?runtime.allocator(), "wasm engine ready");
    let registry = Arc::new(Registry::default());

    if !args.no_bundled {
        for (package, wasm) in crate::bundled::BUNDLED {
            let origin = format!("bundled:{package}");
            match runtime.load(wasm.to_vec(), &origin).await {
                Ok(connector) => {
                    let (id, version) = (
                        connector.manifest.id.clone(),
                        connector.manifest.connector_version.clone(),
                    );
                    if let Installed::Activated { .. } = registry.install(connector) {
                        tracing::info!(%origin, connector = %id, %version, "bundled connector loaded");
                    }
                }
                Err(error) => tracing::error!(%error, "bundled connector rejected"),
            }
        }
    }
    let mut watcher = DirectoryWatcher::new(&connectors_dir, runtime.clone(), registry.clone());
    let report = watcher.load_all().await;
    tracing::info!(
        dir = %connectors_dir.display(),
        loaded = report.loaded.len(),
        rejected = report.rejected.len(),
        "watching connectors directory for new versions"
    );
    watcher.spawn(Duration::from_millis(args.poll_ms.max(50)));

    let demo = if args.demo {
        Some(
            crate::demo::start(
                runtime.clone(),
                registry.clone(),
                Duration::from_secs(args.demo_interval_secs.max(1)),
            )
            .await?,
        )
    } else {
        None
    };
    let db = sled::open(args.data_dir.join("db")).with_context(|| {
        format!(
            "cannot open the store in {} (is another ats-host using this data dir?)",
            args.data_dir.join("db").display()
        )
    })?;
    let (keys, generated) = api::auth::KeyStore::open(&db, &args.data_dir, None)?;
    if let Some(key) = generated {
        tracing::info!(
            "operator API key created and saved to {}: {key}",
            args.data_dir.join("operator.key").display()
        );
    }
    let webhooks = Arc::new(crate::webhooks::dispatcher::Dispatcher::new(
        crate::webhooks::ledger::Ledger::open(&db)?,
        crate::webhooks::dispatcher::DeliveryPolicy::default(),
    )?);
    webhooks.clone().spawn(Duration::from_secs(1));
    let app = api::router(AppState {
        runtime,
        registry,
        keys,
        webhooks,
        connectors_dir: Some(connectors_dir.clone()),
        demo,
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (in use? pass --listen)", args.listen))?;
    tracing::info!(
        "serving on http://{} — try GET /health, /connectors{}",
        listener.local_addr()?,
        if args.demo { ", /demo" } else { "" }
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
