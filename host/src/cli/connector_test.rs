//! `ats-host connector test FILE`: the conformance kit ([`crate::kit`]) against any
//! connector — a `.wasm` component or a manifest (`.toml`, packed on the fly) — pointed at
//! the author's test account, a fake of theirs, or (`--sandbox`) the sandbox ATS this binary
//! carries. Prints a line per check; fails when a check fails.

use super::LimitArgs;
use crate::runtime::state::MemoryStateStore;
use crate::runtime::{CallContext, Field, Runtime};
use anyhow::{Context, bail};
use clap::Args;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The connector: a `.wasm` component, or a connector manifest (`.toml`).
    pub file: PathBuf,
    /// Connection config, repeatable: `--config api-key=...`.
    #[arg(long = "config", value_name = "NAME=VALUE")]
    pub config: Vec<String>,
    /// Sets the `base-url` config field: your test account's API root or your own fake.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Only the read checks; nothing is written to the ATS. Use it on a real account.
    #[arg(long)]
    pub read_only: bool,
    /// Start the sandbox ATS this binary carries on a loopback port and test against it
    /// (sets `base-url` and `api-key` unless given): what a scaffolded connector talks to.
    #[arg(long)]
    pub sandbox: bool,
    /// Allow requests to loopback/private networks (a local fake or an on-premise ATS).
    #[arg(long)]
    pub allow_private_networks: bool,
    /// Stop paging a list after this many pages.
    #[arg(long, default_value_t = 200)]
    pub max_pages: u32,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

pub async fn run(args: TestArgs) -> anyhow::Result<()> {
    let wasm = component(&args.file).await?;
    let mut config = super::connector::parse_config(&args.config)?;
    let mut allow_private = args.allow_private_networks;
    if let Some(url) = &args.base_url {
        config.retain(|f| f.name != "base-url");
        config.push(Field { name: "base-url".into(), value: url.clone() });
    }
    let _sandbox = if args.sandbox {
        let (addr, handle) = crate::sandbox_ats::start(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            crate::sandbox_ats::DEMO_API_KEY,
        )
        .await
        .context("cannot start the sandbox ATS")?;
        set_default(&mut config, "base-url", format!("http://{addr}"));
        set_default(&mut config, "api-key", crate::sandbox_ats::DEMO_API_KEY.to_string());
        allow_private = true;
        Some(handle)
    } else {
        None
    };
    let runtime = Runtime::new(args.limits.limits(), Arc::new(MemoryStateStore::default()), None)?;
    let origin = args.file.display().to_string();
    let gaps = crate::declarative::declared_gaps(&wasm);
    let connector = runtime.load(wasm, &origin).await?;
    let missing: Vec<&str> = connector
        .manifest
        .config_fields
        .iter()
        .filter(|field| field.required && !config.iter().any(|f| f.name == field.name))
        .map(|field| field.name.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{origin} needs config {}: pass each as --config NAME=VALUE (or --base-url URL, or --sandbox for the bundled sandbox ATS)",
            missing.join(", ")
        );
    }
    let mut context = CallContext::new("connector-test", config);
    context.allow_private_networks = allow_private;
    let options = crate::kit::KitOptions {
        read_only: args.read_only,
        max_pages: args.max_pages.max(1),
        gaps,
        ..Default::default()
    };
    let report = crate::kit::run(&runtime, &connector, &context, options).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::kit::render(&report));
    }
    let failed = report.failures().count();
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}

/// Adds `name = value` unless the config already has `name`.
fn set_default(config: &mut Vec<Field>, name: &str, value: String) {
    if !config.iter().any(|f| f.name == name) {
        config.push(Field { name: name.into(), value });
    }
}

/// The component of `file`: read as it is, or packed when it is a manifest.
async fn component(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let is_manifest = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if !is_manifest {
        return Ok(crate::runtime::loader::read_component_file(
            file,
            crate::runtime::Limits::default().max_component_bytes,
        )
        .await?);
    }
    let text = tokio::fs::read_to_string(file)
        .await
        .with_context(|| format!("cannot read the manifest {}", file.display()))?;
    Ok(crate::declarative::pack(&file.display().to_string(), &text)?)
}
