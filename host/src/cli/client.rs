//! The operator's commands (`connector list|upload|rollback`, `connection ...`, `sync now`,
//! `runs`, `events tail`, `webhook ...`): thin clients of the `/v1` API of a running host.

use anyhow::{Context, bail};
use clap::Args;
use reqwest::Method;
use serde_json::Value;
use std::path::PathBuf;

/// Where the host is and which key to use.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Base URL of a running host.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080", env = "ATS_URL")]
    pub url: String,
    /// API key [default: the operator key in DATA_DIR/operator.key].
    #[arg(long, global = true, env = "ATS_API_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Data directory whose `operator.key` is used when no key is given.
    #[arg(long, global = true, default_value = "data", env = "ATS_DATA_DIR")]
    pub data_dir: PathBuf,
}

/// An API client with the key resolved.
pub struct Client {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(args: &ApiArgs) -> anyhow::Result<Self> {
        let key = match &args.key {
            Some(key) => key.clone(),
            None => {
                let path = args.data_dir.join("operator.key");
                std::fs::read_to_string(&path)
                    .with_context(|| {
                        format!(
                            "no API key: pass --key or ATS_API_KEY, or run next to the host's data dir ({} not readable)",
                            path.display()
                        )
                    })?
                    .trim()
                    .to_string()
            }
        };
        Ok(Client {
            base: args.url.trim_end_matches('/').to_string(),
            key,
            http: reqwest::Client::builder().build()?,
        })
    }

    /// Sends a request and returns the JSON answer, or fails with the problem's detail.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url).bearer_auth(&self.key);
        match body {
            Some(Body::Json(json)) => {
                request = request.header("content-type", "application/json").body(json.to_string());
            }
            Some(Body::Wasm(bytes)) => {
                request = request.header("content-type", "application/wasm").body(bytes);
            }
            None => {}
        }
        let response = request.send().await.with_context(|| {
            format!("cannot reach the host at {} (is `ats-host serve` running? --url)", self.base)
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let detail = json["detail"].as_str().map(str::to_string).unwrap_or(text);
            bail!("{method} {path}: {status}: {detail}");
        }
        Ok(json)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(Body::Json(body))).await
    }
}

pub enum Body {
    Json(Value),
    Wasm(Vec<u8>),
}

/// Prints JSON for scripts (`--json`) or a table of `columns` for people.
pub fn print_rows(rows: &[Value], columns: &[(&str, &str)], json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(rows).unwrap_or_default());
        return;
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|(_, pointer)| cell(row.pointer(pointer))).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (title, _))| {
            cells.iter().map(|r| r[i].len()).chain([title.len()]).max().unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<String>| {
        values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect::<Vec<_>>().join("  ")
    };
    println!("{}", line(columns.iter().map(|(t, _)| t.to_uppercase()).collect()));
    for row in cells {
        println!("{}", line(row));
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `name=value` pairs from the command line into a JSON object.
pub fn pairs(items: &[String], what: &str) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut map = serde_json::Map::new();
    for item in items {
        let Some((name, value)) = item.split_once('=') else {
            bail!("--{what} expects NAME=VALUE, got `{item}`");
        };
        map.insert(name.trim().to_string(), Value::String(value.to_string()));
    }
    Ok(map)
}
