//! The `ats-host` command line (clap): `serve`; for connector authors `connector
//! inspect|call`; for operators the API clients `connector list|upload|rollback`,
//! `tenant`, `key`, `connection`, `sync now`, `runs`, `events tail`, `webhook`,
//! `automation`, `order`; and `sandbox-ats`.

mod automation;
mod client;
pub mod config;
pub mod connector;
mod connector_test;
mod listener;
mod ops;
mod scaffold;
mod serve;
mod wit_json;

use crate::runtime::{AllocatorChoice, Limits};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "ats-host",
    version,
    about = "WebAssembly plugin host for applicant-tracking-system (ATS) connectors"
)]
pub struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "text", env = "ATS_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the host: load connectors (bundled + a watched directory) and serve the HTTP API.
    ///
    /// SIGTERM and Ctrl-C stop it gracefully: requests in flight get up to 10 s, running
    /// syncs stop at a checkpoint within 5 s more, the store is flushed, the process exits.
    #[command(after_long_help = config::FILE_FORMAT)]
    Serve(serve::ServeArgs),
    /// Work with one connector file (for connector authors).
    #[command(subcommand)]
    Connector(connector::ConnectorCommand),
    /// Manage tenants on a running host.
    Tenant {
        #[command(subcommand)]
        command: ops::TenantCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Tenant API keys on a running host.
    Key {
        #[command(subcommand)]
        command: ops::KeyCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Manage connections on a running host.
    Connection {
        #[command(subcommand)]
        command: ops::ConnectionCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Start syncs on a running host.
    Sync {
        #[command(subcommand)]
        command: ops::SyncCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// List sync runs of a running host.
    Runs {
        #[arg(long)]
        connection: Option<String>,
        /// success, partial, failed, cancelled, running, queued.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Read the event log of a running host.
    Events {
        #[command(subcommand)]
        command: ops::EventsCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Webhook subscriptions and deliveries of a running host.
    Webhook {
        #[command(subcommand)]
        command: ops::WebhookCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Automations of a running host: list, create from a JSON file, enable (with
    /// backfill), disable, dry run, and their firings.
    Automation {
        #[command(subcommand)]
        command: automation::AutomationCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Assessment orders of a running host.
    Order {
        #[command(subcommand)]
        command: automation::OrderCommand,
        #[command(flatten)]
        api: client::ApiArgs,
    },
    /// Run only the sandbox ATS (the REST API the example connector talks to).
    SandboxAts {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7800")]
        listen: SocketAddr,
        /// API key clients must send as a bearer token.
        #[arg(long, default_value = crate::sandbox_ats::DEMO_API_KEY)]
        api_key: String,
    },
}

/// Sandbox limits, shared by `serve` and `connector call`.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Wall-clock limit of one connector call (milliseconds).
    #[arg(long, default_value_t = 60_000, env = "ATS_CALL_TIMEOUT_MS")]
    pub call_timeout_ms: u64,
    /// Memory limit of one connector call (MiB).
    #[arg(long, default_value_t = 128, env = "ATS_MEMORY_MB")]
    pub memory_mb: u64,
    /// Instance allocator: auto (pooling, falling back to on-demand), pooling, on-demand.
    #[arg(long, value_enum, default_value = "auto", env = "ATS_ALLOCATOR")]
    pub allocator: AllocatorChoice,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            call_timeout: Duration::from_millis(self.call_timeout_ms),
            memory_bytes: self.memory_mb << 20,
            allocator: self.allocator,
            ..Limits::default()
        }
    }
}

/// Parses the command line and runs it.
pub fn run() -> anyhow::Result<()> {
    run_parsed(Cli::parse())
}

/// Runs a parsed command line on a runtime of its own (the binary's `main`, and tests that
/// run the host as a process of its own). `serve`, once its API has drained after a
/// signal, stops every task still running (sync runs at their next await point, so at a
/// page boundary: each page is committed with its checkpoint in one transaction) within
/// [`serve::TASK_STOP_BOUND`], then records the runs it interrupted and flushes the store.
pub fn run_parsed(cli: Cli) -> anyhow::Result<()> {
    init_tracing(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Serve(args) => {
            let stopped = runtime.block_on(serve::run(args));
            runtime.shutdown_timeout(serve::TASK_STOP_BOUND);
            // The tasks are stopped; what is left runs on a runtime of its own.
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(stopped?.finish())
        }
        command => runtime.block_on(execute(command)),
    }
}

/// Runs one parsed command on the current runtime (tests of the operator commands). A
/// `serve` run this way leaves its tasks to the caller's runtime.
pub async fn execute(command: Command) -> anyhow::Result<()> {
    {
        match command {
            Command::Serve(args) => serve::run(args).await?.finish().await,
            Command::Tenant { command, api } => {
                ops::tenant(&client::Client::new(&api)?, command).await
            }
            Command::Key { command, api } => ops::key(&client::Client::new(&api)?, command).await,
            Command::Connector(command) => connector::run(command).await,
            Command::Connection { command, api } => {
                ops::connection(&client::Client::new(&api)?, command).await
            }
            Command::Sync { command, api } => ops::sync(&client::Client::new(&api)?, command).await,
            Command::Runs { connection, status, json, api } => {
                ops::runs(&client::Client::new(&api)?, connection, status, json).await
            }
            Command::Events { command, api } => {
                ops::events(&client::Client::new(&api)?, command).await
            }
            Command::Webhook { command, api } => {
                ops::webhook(&client::Client::new(&api)?, command).await
            }
            Command::Automation { command, api } => {
                automation::automation(&client::Client::new(&api)?, command).await
            }
            Command::Order { command, api } => {
                automation::order(&client::Client::new(&api)?, command).await
            }
            Command::SandboxAts { listen, api_key } => {
                let (addr, _handle) = crate::sandbox_ats::start(listen, &api_key).await?;
                println!(
                    "sandbox ATS listening on http://{addr} (API key: {api_key}); Ctrl-C stops it"
                );
                tokio::signal::ctrl_c().await?;
                Ok(())
            }
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,wasmtime=warn,cranelift=warn")
    });
    // `try_init` also forwards the `log` records of dependencies (sled, hyper) to tracing.
    use tracing_subscriber::util::SubscriberInitExt as _;
    if subscriber(format, filter, std::io::stderr).try_init().is_err() {
        eprintln!("a tracing subscriber was already installed; keeping it");
    }
}

/// The log subscriber for `format`, writing to `writer`.
fn subscriber<W>(
    format: LogFormat,
    filter: tracing_subscriber::EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}

/// `data-dir/connectors` unless given.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_logs_are_one_object_a_line_with_the_span_fields() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let filter = tracing_subscriber::EnvFilter::new("info");
        let subscriber = subscriber(LogFormat::Json, filter, move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "connector_call",
                tenant = "acme",
                connection = "conn_1",
                version = "1.2.0"
            );
            let _entered = span.enter();
            tracing::info!(operation = "list-jobs", "connector call ended");
        });
        let text = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf-8");
        let line: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("a line")).expect("a JSON object");
        assert_eq!(line["fields"]["message"], "connector call ended");
        assert_eq!(line["fields"]["operation"], "list-jobs");
        assert_eq!(line["span"]["tenant"], "acme", "{line}");
        assert_eq!(line["span"]["connection"], "conn_1");
        assert_eq!(line["span"]["version"], "1.2.0");
    }
}
