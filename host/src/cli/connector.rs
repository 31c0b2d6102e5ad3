//! `ats-host connector inspect|call`: for connector authors, one file at a time, no server;
//! `connector test` (the kit, in `connector_test`); `connector list|upload|rollback`: the loaded connectors of a running host.

use super::LimitArgs;
use crate::runtime::state::MemoryStateStore;
use crate::runtime::{CallContext, Field, Invocation, Runtime};
use anyhow::{Context, bail};
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// List the connectors loaded in a running host.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: super::client::ApiArgs,
    },
    /// Upload a connector component to a running host (validated, then hot-loaded).
    Upload {
        file: PathBuf,
        #[command(flatten)]
        api: super::client::ApiArgs,
    },
    /// Activate the previously loaded version of a connector on a running host.
    Rollback {
        id: String,
        #[command(flatten)]
        api: super::client::ApiArgs,
    },
    /// Make a connector component of a connector manifest (TOML, see
    /// `sdk/declarative/README.md`): checked (every problem with its line), then written into
    /// the generic manifest connector this binary carries. No Rust toolchain needed.
    Pack {
        /// The manifest, e.g. `acme.toml`.
        file: PathBuf,
        /// Where to write the component; the manifest's path with `.wasm` by default.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Run the conformance kit against a connector (`.wasm`, or a manifest `.toml`), pointed
    /// at a test account, your own fake, or `--sandbox`: read checks always, write checks
    /// unless `--read-only`; a report line per check.
    Test(super::connector_test::TestArgs),
    /// Start a new connector: a Rust crate, or with `--manifest` a manifest, that builds
    /// and passes `connector test --sandbox` as generated.
    New(super::scaffold::NewArgs),
    /// Validate a connector component and print its manifest.
    Inspect {
        /// The connector `.wasm` component.
        file: PathBuf,
    },
    /// Run one operation of a connector, e.g. `list-jobs`, and print the result as JSON.
    Call {
        /// The connector `.wasm` component.
        file: PathBuf,
        /// The operation (WIT name): describe, list-jobs, list-stages, upsert-candidate, ...
        operation: String,
        /// Connection config, repeatable: `--config base-url=https://... --config api-key=...`.
        #[arg(long = "config", value_name = "NAME=VALUE")]
        config: Vec<String>,
        /// The operation's input as JSON with the WIT's names: kebab-case fields and
        /// variants, e.g. `{"limit": 10, "page-token": null}` for list-jobs or
        /// `{"lookup": {"email": "ada@example.com"}}` for find-candidates (`_` and the host's
        /// Rust names work too), bytes as a list or base64 text (`"content": "JVBERi0..."`).
        /// `@FILE` reads it from a file, `-` from stdin (a real CV fits; a command-line
        /// argument does not). Reads default to the first page.
        #[arg(long, value_name = "JSON|@FILE|-")]
        input: Option<String>,
        /// Allow requests to loopback/private networks (for a local or on-premise ATS).
        #[arg(long)]
        allow_private_networks: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

pub async fn run(command: ConnectorCommand) -> anyhow::Result<()> {
    match command {
        ConnectorCommand::List { json, api } => {
            let list = super::client::Client::new(&api)?.get("/v1/connectors").await?;
            let rows = list["data"].as_array().cloned().unwrap_or_default();
            super::client::print_rows(
                &rows,
                &[
                    ("id", "/id"),
                    ("ats", "/active/ats_name"),
                    ("version", "/active/version"),
                    ("contract", "/active/contract"),
                    ("sha256", "/active/sha256"),
                    ("operations", "/active/operations"),
                ],
                json,
            );
            Ok(())
        }
        ConnectorCommand::Upload { file, api } => {
            let wasm = crate::runtime::loader::read_component_file(
                &file,
                crate::runtime::Limits::default().max_component_bytes,
            )
            .await?;
            let answer = super::client::Client::new(&api)?
                .call(
                    reqwest::Method::POST,
                    "/v1/connectors",
                    Some(super::client::Body::Wasm(wasm)),
                )
                .await?;
            println!(
                "active: {} {} (replaced {})",
                answer["active"]["id"].as_str().unwrap_or("?"),
                answer["active"]["version"].as_str().unwrap_or("?"),
                answer["replaced"].as_str().unwrap_or("nothing")
            );
            Ok(())
        }
        ConnectorCommand::Rollback { id, api } => {
            let answer = super::client::Client::new(&api)?
                .post(&format!("/v1/connectors/{id}/rollback"), serde_json::Value::Null)
                .await?;
            println!("active: {} {}", id, answer["active"]["version"].as_str().unwrap_or("?"));
            Ok(())
        }
        ConnectorCommand::Pack { file, out } => {
            let text = tokio::fs::read_to_string(&file)
                .await
                .with_context(|| format!("cannot read the manifest {}", file.display()))?;
            let wasm = crate::declarative::pack(&file.display().to_string(), &text)?;
            let out = out.unwrap_or_else(|| file.with_extension("wasm"));
            tokio::fs::write(&out, &wasm)
                .await
                .with_context(|| format!("cannot write {}", out.display()))?;
            // What a host will see when it loads the component.
            let described = inspect(&out).await?;
            println!(
                "packed {} into {} ({} KiB): connector `{}` {} with {} operations",
                file.display(),
                out.display(),
                wasm.len() / 1024,
                described["manifest"]["id"].as_str().unwrap_or("?"),
                described["manifest"]["connector_version"].as_str().unwrap_or("?"),
                described["manifest"]["operations"].as_array().map_or(0, Vec::len),
            );
            Ok(())
        }
        ConnectorCommand::Test(args) => super::connector_test::run(args).await,
        ConnectorCommand::New(args) => super::scaffold::run(args),
        ConnectorCommand::Inspect { file } => {
            println!("{}", serde_json::to_string_pretty(&inspect(&file).await?)?);
            Ok(())
        }
        ConnectorCommand::Call {
            file,
            operation,
            config,
            input,
            allow_private_networks,
            limits,
        } => {
            let input = match input {
                Some(spec) => Some(read_input(&spec).await?),
                None => None,
            };
            let invocation = parse_invocation(&operation, input.as_deref())?;
            let runtime =
                Runtime::new(limits.limits(), Arc::new(MemoryStateStore::default()), None)?;
            let connector = load(&runtime, &file).await?;
            let mut context = CallContext::new("cli", parse_config(&config)?);
            context.allow_private_networks = allow_private_networks;
            match runtime.call(&connector, &context, invocation).await {
                Ok(output) => {
                    println!("{}", serde_json::to_string_pretty(&output)?);
                    Ok(())
                }
                Err(error) => bail!("{operation} failed ({}): {error}", error.kind()),
            }
        }
    }
}

impl LimitArgs {
    fn default_for_cli() -> Self {
        Self {
            call_timeout_ms: 60_000,
            memory_mb: 128,
            allocator: crate::runtime::AllocatorChoice::OnDemand,
        }
    }
}

async fn load(
    runtime: &Runtime,
    file: &std::path::Path,
) -> anyhow::Result<Arc<crate::runtime::LoadedConnector>> {
    let wasm =
        crate::runtime::loader::read_component_file(file, runtime.limits().max_component_bytes)
            .await?;
    Ok(runtime.load(wasm, &file.display().to_string()).await?)
}

pub(super) fn parse_config(pairs: &[String]) -> anyhow::Result<Vec<Field>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => Ok(Field { name: name.trim().into(), value: value.into() }),
            None => bail!("--config `{pair}` must look like NAME=VALUE"),
        })
        .collect()
}

/// The text of `--input`: as given, `@FILE` read from a file, `-` read from stdin.
async fn read_input(spec: &str) -> anyhow::Result<String> {
    if spec == "-" {
        use tokio::io::AsyncReadExt as _;
        let mut text = String::new();
        tokio::io::stdin()
            .read_to_string(&mut text)
            .await
            .context("cannot read --input from stdin (`-`)")?;
        return Ok(text);
    }
    match spec.strip_prefix('@') {
        Some(path) => tokio::fs::read_to_string(path)
            .await
            .with_context(|| format!("cannot read the --input file {path}")),
        None => Ok(spec.to_string()),
    }
}

/// Builds the invocation from the operation name and optional JSON input written with the
/// WIT's names (see [`super::wit_json`]). Reads without input default to the first page.
fn parse_invocation(operation: &str, input: Option<&str>) -> anyhow::Result<Invocation> {
    let known: Vec<&str> = std::iter::once("describe")
        .chain(crate::runtime::Operation::ALL.iter().map(|op| op.wit_name()))
        .collect();
    if !known.contains(&operation) {
        bail!("unknown operation `{operation}`; expected one of: {}", known.join(", "));
    }
    let input = match input {
        Some(text) => Some(serde_json::from_str::<serde_json::Value>(text).with_context(|| {
            let shown: String = text.chars().take(200).collect();
            format!("--input is not valid JSON: {shown}")
        })?),
        None => match operation {
            "list-jobs" | "list-applications" => Some(serde_json::json!({})),
            "list-stages" => Some(serde_json::json!({ "job-id": null })),
            _ => None,
        },
    };
    let mut request = serde_json::json!({ "operation": operation });
    if let Some(input) = input {
        request["input"] = input;
    }
    super::wit_json::from_value(request).map_err(|error| {
        anyhow::anyhow!(
            "--input does not match the input of `{operation}` (see wit/since_v0.2.0/connector.wit): {error}"
        )
    })
}

/// What `connector inspect FILE` prints: the file, its hash, the contract version it
/// implements and its manifest (after the same checks a host's load makes).
pub async fn inspect(file: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let runtime = Runtime::new(
        LimitArgs::default_for_cli().limits(),
        Arc::new(MemoryStateStore::default()),
        None,
    )?;
    let connector = load(&runtime, file).await?;
    let info = connector.info();
    Ok(serde_json::json!({
        "file": file.display().to_string(),
        "sha256": info.sha256,
        "contract": info.contract,
        "size_bytes": info.size_bytes,
        "manifest": crate::runtime::loader::ManifestView::from(&connector.manifest),
    }))
}
