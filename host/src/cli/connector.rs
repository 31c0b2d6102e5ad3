//! `ats-host connector inspect|call`: for connector authors, one file at a time, no server;
//! `connector list|upload|rollback`: the loaded connectors of a running host.

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
        /// The operation's input as JSON, e.g. `{"page-token": null, "since": null, "limit": 10}`
        /// for list-jobs (field names as in the WIT, `-` or `_`). Reads default to the first page.
        #[arg(long)]
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

fn parse_config(pairs: &[String]) -> anyhow::Result<Vec<Field>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => Ok(Field { name: name.trim().into(), value: value.into() }),
            None => bail!("--config `{pair}` must look like NAME=VALUE"),
        })
        .collect()
}

/// Builds the invocation from the operation name and optional JSON input. Reads without
/// input default to the first page; WIT-style kebab-case keys are accepted.
fn parse_invocation(operation: &str, input: Option<&str>) -> anyhow::Result<Invocation> {
    let known: Vec<&str> = std::iter::once("describe")
        .chain(crate::runtime::Operation::ALL.iter().map(|op| op.wit_name()))
        .collect();
    if !known.contains(&operation) {
        bail!("unknown operation `{operation}`; expected one of: {}", known.join(", "));
    }
    let input = match input {
        Some(text) => {
            let value: serde_json::Value = serde_json::from_str(text)
                .with_context(|| format!("--input is not valid JSON: {text}"))?;
            Some(snake_case_keys(value))
        }
        None => match operation {
            "list-jobs" | "list-applications" => Some(serde_json::json!({})),
            "list-stages" => Some(serde_json::json!({ "job_id": null })),
            _ => None,
        },
    };
    let mut request = serde_json::json!({ "operation": operation });
    if let Some(mut input) = input {
        if matches!(operation, "list-jobs" | "list-applications")
            && let Some(object) = input.as_object_mut()
        {
            for key in ["page_token", "since", "limit"] {
                object.entry(key).or_insert(serde_json::Value::Null);
            }
        }
        request["input"] = input;
    }
    serde_json::from_value(request).with_context(|| {
        format!(
            "--input does not match the input of `{operation}` (see wit/since_v0.1.0/connector.wit)"
        )
    })
}

fn snake_case_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            map.into_iter().map(|(k, v)| (k.replace('-', "_"), snake_case_keys(v))).collect()
        }
        serde_json::Value::Array(items) => items.into_iter().map(snake_case_keys).collect(),
        other => other,
    }
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
