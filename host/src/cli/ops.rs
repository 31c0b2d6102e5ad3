//! Operator subcommands against a running host: tenants and their API keys, connections,
//! sync now with a live progress line (indicatif, on stderr, drawn only on a terminal), runs,
//! the event log and webhook deliveries.

use super::client::{Client, pairs, print_rows};
use anyhow::bail;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (a customer of the products using this host).
    Create {
        /// 1-64 letters, digits, `.`, `_` or `-`.
        id: String,
        /// A name for people.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key for a tenant; it is printed once (only its hash is stored).
    Create {
        #[arg(long)]
        tenant: String,
        /// What the key is for, e.g. the product using it.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List a tenant's keys (ids and labels, never the keys).
    List {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection of a tenant to an ATS through a loaded connector.
    Create {
        #[arg(long)]
        tenant: String,
        /// Connector id (see `ats-host connector list`).
        #[arg(long)]
        connector: String,
        /// A name for people.
        #[arg(long, default_value = "")]
        name: String,
        /// Config value, repeatable: `--config base-url=https://...`.
        #[arg(long = "config", value_name = "NAME=VALUE")]
        config: Vec<String>,
        /// Secret value (write-only, encrypted at rest), repeatable: `--secret api-key=...`.
        #[arg(long = "secret", value_name = "NAME=VALUE")]
        secrets: Vec<String>,
        /// Allow the connector to reach loopback/private networks (an on-premise ATS).
        #[arg(long)]
        allow_private_networks: bool,
    },
    /// List connections.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Call the ATS once with the connection's credentials: ok, unauthorized, unreachable, denied (by the host's egress policy), busy or error.
    Check { id: String },
    /// Pin a connection to one connector version (rollback for one customer), or `--unpin`
    /// it to follow the active version again.
    Pin {
        id: String,
        /// A version loaded in the host (see `ats-host connector list`).
        #[arg(required_unless_present = "unpin")]
        version: Option<String>,
        #[arg(long, conflicts_with = "version")]
        unpin: bool,
    },
    /// Delete a connection and its synced data.
    Delete { id: String },
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Start a sync now (coalesces with a running or queued one) and show its progress.
    Now {
        connection: String,
        /// `jobs` (jobs and stages) or `applications`.
        #[arg(long, default_value = "jobs")]
        kind: String,
        /// Return the run id at once instead of waiting for the run to end.
        #[arg(long)]
        no_wait: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print events after a cursor; with --follow keep printing new ones.
    Tail {
        #[arg(long)]
        after: Option<String>,
        #[arg(long)]
        follow: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// List subscriptions.
    List {
        #[arg(long)]
        json: bool,
    },
    /// List deliveries, e.g. `--status dead-letter`.
    Deliveries {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Queue a dead-lettered delivery again (same delivery id).
    Replay { delivery: String },
}

pub async fn tenant(client: &Client, command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { id, name } => {
            let created = client.post("/v1/tenants", json!({ "id": id, "name": name })).await?;
            println!("created tenant {}", created["id"].as_str().unwrap_or(&id));
        }
        TenantCommand::List { json } => {
            let list = client.get("/v1/tenants").await?;
            let rows = list["data"].as_array().cloned().unwrap_or_default();
            print_rows(
                &rows,
                &[("id", "/id"), ("name", "/name"), ("created", "/created_at")],
                json,
            );
        }
    }
    Ok(())
}

pub async fn key(client: &Client, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { tenant, label } => {
            let path = format!("/v1/tenants/{}/keys", path_segment(&tenant));
            let created = client.post(&path, json!({ "label": label })).await?;
            let Some(key) = created["key"].as_str() else {
                bail!("the host did not return a key: {created}");
            };
            eprintln!(
                "API key {} of tenant {tenant}; it is shown once, store it now:",
                created["record"]["id"].as_str().unwrap_or("?")
            );
            println!("{key}");
        }
        KeyCommand::List { tenant, json } => {
            let list = client.get(&format!("/v1/tenants/{}/keys", path_segment(&tenant))).await?;
            let rows = list["data"].as_array().cloned().unwrap_or_default();
            print_rows(
                &rows,
                &[("id", "/id"), ("label", "/label"), ("created", "/created_at")],
                json,
            );
        }
    }
    Ok(())
}

/// `value` safe as one path segment (tenant ids are `[A-Za-z0-9._-]`; anything else is
/// escaped, so the host names the id as invalid instead of routing elsewhere).
fn path_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub async fn connection(client: &Client, command: ConnectionCommand) -> anyhow::Result<()> {
    match command {
        ConnectionCommand::Create {
            tenant,
            connector,
            name,
            config,
            secrets,
            allow_private_networks,
        } => {
            let body = json!({
                "tenant_id": tenant,
                "connector_id": connector,
                "name": name,
                "config": pairs(&config, "config")?,
                "secrets": pairs(&secrets, "secret")?,
                "allow_private_networks": allow_private_networks,
            });
            let created = client.post("/v1/connections", body).await?;
            println!("created connection {}", created["id"].as_str().unwrap_or("?"));
            println!("{}", serde_json::to_string_pretty(&created)?);
        }
        ConnectionCommand::List { json } => {
            let list = client.get("/v1/connections").await?;
            let rows = list["data"].as_array().cloned().unwrap_or_default();
            print_rows(
                &rows,
                &[
                    ("id", "/id"),
                    ("tenant", "/tenant_id"),
                    ("connector", "/connector_id"),
                    ("status", "/status"),
                    ("name", "/name"),
                ],
                json,
            );
        }
        ConnectionCommand::Check { id } => {
            let answer = client.post(&format!("/v1/connections/{id}/check"), json!({})).await?;
            println!(
                "{}: {}",
                answer["status"].as_str().unwrap_or("?"),
                answer["detail"].as_str().unwrap_or("")
            );
            if answer["status"] != "ok" {
                bail!("the connection check failed: {}", answer["status"]);
            }
        }
        ConnectionCommand::Pin { id, version, unpin } => {
            let pinned = if unpin { serde_json::Value::Null } else { json!(version) };
            let updated = client
                .call(
                    Method::PATCH,
                    &format!("/v1/connections/{id}"),
                    Some(super::client::Body::Json(json!({ "pinned_version": pinned }))),
                )
                .await?;
            match updated["pinned_version"].as_str() {
                Some(version) => println!("connection {id} is pinned to version {version}"),
                None => println!("connection {id} follows the active connector version"),
            }
        }
        ConnectionCommand::Delete { id } => {
            client.call(Method::DELETE, &format!("/v1/connections/{id}"), None).await?;
            println!("deleted connection {id}");
        }
    }
    Ok(())
}

pub async fn sync(client: &Client, command: SyncCommand) -> anyhow::Result<()> {
    let SyncCommand::Now { connection, kind, no_wait } = command;
    let started =
        client.post(&format!("/v1/connections/{connection}/sync"), json!({"kind": kind})).await?;
    let Some(run_id) = started["run_id"].as_str().map(str::to_string) else {
        bail!("the host did not return a run id: {started}");
    };
    if started["coalesced"] == true {
        eprintln!("joined run {run_id}, already queued or running");
    }
    if no_wait {
        println!("{run_id}");
        return Ok(());
    }
    let bar = progress_bar();
    let ended = follow(client, &run_id, &bar).await;
    bar.finish_and_clear();
    let run = ended?;
    println!("{}", serde_json::to_string_pretty(&run)?);
    match run["state"].as_str() {
        Some("success") => Ok(()),
        state => bail!("run {run_id} ended {}", state.unwrap_or("?")),
    }
}

/// A spinner on stderr with the run's state, pages and records; indicatif draws it only
/// when stderr is a terminal (never into a pipe, a file or a test's captured output).
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    let style = ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Polls run `run_id` until it ends, showing its progress on `bar`; the ended run.
async fn follow(client: &Client, run_id: &str, bar: &ProgressBar) -> anyhow::Result<Value> {
    loop {
        let run = client.get(&format!("/v1/runs/{run_id}")).await?;
        let state = run["state"].as_str().unwrap_or("?");
        let pages = run["progress"]["pages"].as_u64().unwrap_or(0);
        let records = run["progress"]["records"].as_u64().unwrap_or(0);
        bar.set_message(format!("{run_id} {state:<9} pages {pages:>5}  records {records:>7}"));
        if !matches!(state, "queued" | "running") {
            return Ok(run);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn runs(
    client: &Client,
    connection: Option<String>,
    status: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let mut query = vec![];
    if let Some(c) = connection {
        query.push(format!("connection_id={c}"));
    }
    if let Some(s) = status {
        query.push(format!("status={s}"));
    }
    let list = client.get(&format!("/v1/runs?{}", query.join("&"))).await?;
    let rows = list["data"].as_array().cloned().unwrap_or_default();
    print_rows(
        &rows,
        &[
            ("id", "/id"),
            ("connection", "/connection_id"),
            ("kind", "/kind"),
            ("state", "/state"),
            ("seen", "/counts/seen"),
            ("created", "/counts/created"),
            ("updated", "/counts/updated"),
            ("error", "/error"),
        ],
        json,
    );
    Ok(())
}

pub async fn events(client: &Client, command: EventsCommand) -> anyhow::Result<()> {
    let EventsCommand::Tail { mut after, follow, json } = command;
    loop {
        let path = match &after {
            Some(cursor) => format!("/v1/events?after={cursor}&limit=200"),
            None => "/v1/events?limit=200".to_string(),
        };
        let page = client.get(&path).await?;
        for event in page["data"].as_array().cloned().unwrap_or_default() {
            if json {
                println!("{event}");
            } else {
                println!(
                    "{}  {:<28} {}  {}",
                    event["id"].as_str().unwrap_or("?"),
                    event["type"].as_str().unwrap_or("?"),
                    event["connection_id"].as_str().unwrap_or("-"),
                    event["data"]
                );
            }
        }
        if let Some(next) = page["next_cursor"].as_str() {
            after = Some(next.to_string());
        }
        if !follow {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

pub async fn webhook(client: &Client, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::List { json } => {
            let list = client.get("/v1/webhooks").await?;
            let rows = list["data"].as_array().cloned().unwrap_or_default();
            print_rows(
                &rows,
                &[
                    ("id", "/id"),
                    ("tenant", "/tenant_id"),
                    ("enabled", "/enabled"),
                    ("url", "/url"),
                    ("events", "/event_types"),
                ],
                json,
            );
        }
        WebhookCommand::Deliveries { status, json } => {
            let path = match status {
                Some(s) => format!("/v1/webhook-deliveries?status={s}"),
                None => "/v1/webhook-deliveries".into(),
            };
            let list = client.get(&path).await?;
            let rows = list["data"].as_array().cloned().unwrap_or_default();
            print_rows(
                &rows,
                &[
                    ("id", "/id"),
                    ("event", "/event_type"),
                    ("status", "/status"),
                    ("attempts", "/attempts"),
                    ("last", "/last_status_code"),
                    ("error", "/last_error"),
                ],
                json,
            );
        }
        WebhookCommand::Replay { delivery } => {
            let answer = client
                .post(&format!("/v1/webhook-deliveries/{delivery}/replay"), Value::Null)
                .await?;
            println!("queued {} again", answer["id"].as_str().unwrap_or(&delivery));
        }
    }
    Ok(())
}
