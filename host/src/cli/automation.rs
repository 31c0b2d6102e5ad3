//! `automation list|create|enable|disable|dry-run|firings` and `order list`: thin clients of
//! `/v1/automations`, `/v1/firings` and `/v1/orders` on a running host.

use super::client::{Client, print_rows};
use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use std::io::Read;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum AutomationCommand {
    /// List automations (with a tenant key: that tenant's).
    List {
        /// Only those watching this connection.
        #[arg(long)]
        connection: Option<String>,
        /// Only enabled (`true`) or disabled (`false`) ones.
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        json: bool,
    },
    /// Create an automation from a JSON file (`-`: standard input), as
    /// `POST /v1/automations` takes it: name, scope, jobs, trigger, conditions, actions.
    ///
    /// Example: {"name": "Invite on Assessment", "scope": {"kind": "connection",
    /// "connection_id": "conn_1"}, "trigger": {"type": "stage-entered", "stage": {"mapped":
    /// "Assessment"}}, "actions": [{"type": "send-invite"}], "enabled": true}
    Create {
        /// The JSON body; `-` reads standard input.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// The tenant it belongs to (required with the operator key unless the file names
        /// `tenant_id`).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Enable an automation: it fires for events from now on.
    Enable {
        id: String,
        /// Also fire for every application now in its trigger stage.
        #[arg(long)]
        backfill: bool,
    },
    /// Disable an automation: it fires nothing; what pending firings have left is skipped.
    Disable { id: String },
    /// Show which current applications the automation would fire for and what each action
    /// would do, writing nothing.
    DryRun {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// List firings (newest first), of one automation when ID is given.
    Firings {
        id: Option<String>,
        /// pending, done, failed or skipped.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// List assessment orders (newest first).
    List {
        /// ordered, invited, started, completed, result-posted, cancelled or expired.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        automation: Option<String>,
        #[arg(long)]
        connection: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// `path?name=value&…` for the pairs that are set.
fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    let query = query.finish();
    if query.is_empty() { path.to_string() } else { format!("{path}?{query}") }
}

/// Every item of a paged list, following `next_cursor`.
async fn all_pages(client: &Client, path: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        let page = match &cursor {
            None => client.get(path).await?,
            Some(cursor) => client.get(&format!("{path}{separator}cursor={cursor}")).await?,
        };
        items.extend(page["data"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Ok(items),
        }
    }
}

fn read_body(file: &PathBuf) -> anyhow::Result<Value> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
        text
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON",
            if file.as_os_str() == "-" {
                "standard input".into()
            } else {
                file.display().to_string()
            }
        )
    })
}

pub async fn automation(client: &Client, command: AutomationCommand) -> anyhow::Result<()> {
    match command {
        AutomationCommand::List { connection, enabled, json } => {
            let path = with_query(
                "/v1/automations",
                &[("connection_id", connection), ("enabled", enabled.map(|e| e.to_string()))],
            );
            let rows = all_pages(client, &path).await?;
            print_rows(
                &rows,
                &[
                    ("id", "/id"),
                    ("tenant", "/tenant_id"),
                    ("name", "/name"),
                    ("trigger", "/trigger/type"),
                    ("enabled", "/enabled"),
                    ("connection", "/scope/connection_id"),
                ],
                json,
            );
        }
        AutomationCommand::Create { file, tenant } => {
            let mut body = read_body(&file)?;
            let Some(map) = body.as_object_mut() else {
                bail!("the automation must be a JSON object");
            };
            if let Some(tenant) = tenant {
                map.insert("tenant_id".into(), json!(tenant));
            }
            let created = client.post("/v1/automations", body).await?;
            let id = created["id"].as_str().unwrap_or("?");
            let state = if created["enabled"] == true { "enabled" } else { "disabled" };
            println!("created automation {id} ({state})");
        }
        AutomationCommand::Enable { id, backfill } => {
            let body = if backfill { json!({"backfill": true}) } else { json!({}) };
            let enabled = client.post(&format!("/v1/automations/{id}/enable"), body).await?;
            match enabled["backfill_firings"].as_u64() {
                Some(n) if backfill => {
                    println!("enabled automation {id}; backfill queued {n} firings")
                }
                _ => println!("enabled automation {id}"),
            }
        }
        AutomationCommand::Disable { id } => {
            client
                .call(reqwest::Method::POST, &format!("/v1/automations/{id}/disable"), None)
                .await?;
            println!("disabled automation {id}");
        }
        AutomationCommand::DryRun { id, json } => {
            let answer = client
                .call(reqwest::Method::POST, &format!("/v1/automations/{id}/dry-run"), None)
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
                return Ok(());
            }
            if let Some(note) = answer["note"].as_str() {
                println!("{note}");
            }
            let firings = answer["firings"].as_array().cloned().unwrap_or_default();
            println!("would fire for {} application(s)", firings.len());
            for firing in firings {
                println!(
                    "application {} (candidate {}, job {}):",
                    firing["application_id"].as_str().unwrap_or("-"),
                    firing["candidate_id"].as_str().unwrap_or("-"),
                    firing["job_id"].as_str().unwrap_or("-")
                );
                for step in firing["actions"].as_array().cloned().unwrap_or_default() {
                    let what = match step["outcome"].as_str() {
                        Some("would") => step["effect"].to_string(),
                        _ => step["reason"].as_str().unwrap_or("").to_string(),
                    };
                    println!(
                        "  {}. {} {}: {what}",
                        step["index"].as_u64().unwrap_or(0) + 1,
                        step["action"].as_str().unwrap_or("?"),
                        step["outcome"].as_str().unwrap_or("?")
                    );
                }
            }
        }
        AutomationCommand::Firings { id, status, json } => {
            let path = with_query("/v1/firings", &[("automation_id", id), ("status", status)]);
            let rows = all_pages(client, &path).await?;
            print_rows(
                &rows,
                &[
                    ("id", "/id"),
                    ("automation", "/automation_id"),
                    ("status", "/status"),
                    ("event", "/event_type"),
                    ("application", "/application_id"),
                    ("failed action", "/failed_action"),
                    ("created", "/created_at"),
                ],
                json,
            );
        }
    }
    Ok(())
}

pub async fn order(client: &Client, command: OrderCommand) -> anyhow::Result<()> {
    let OrderCommand::List { state, automation, connection, json } = command;
    let path = with_query(
        "/v1/orders",
        &[("state", state), ("automation_id", automation), ("connection_id", connection)],
    );
    let rows = all_pages(client, &path).await?;
    print_rows(
        &rows,
        &[
            ("id", "/id"),
            ("state", "/state"),
            ("package", "/package_id"),
            ("application", "/application_id"),
            ("candidate", "/candidate_id"),
            ("connection", "/connection_id"),
            ("score", "/result/score"),
        ],
        json,
    );
    Ok(())
}
