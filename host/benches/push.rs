//! Push figures, printed (nothing asserted): candidates pushed through the HTTP API
//! (`POST /v1/connections/{id}/candidates`, with an `Idempotency-Key`) of a whole host
//! in-process (sled store, write journal, the bundled wasm `sandbox` connector) into the
//! host's sandbox ATS on loopback, by 16 and 64 concurrent clients, each pushing again as
//! soon as it has its answer:
//!
//! 1. the rate budget lifted (host default 10^9 calls/s): pushes/s and latency;
//! 2. the connection's budget at 10 calls/s (`PUT /v1/connections/{id}/rate-budget`):
//!    latency against the fair-queue wait (clients ÷ rate: the wait of a push when every
//!    client has one queued and they are served in turn).
//!
//! Each scenario gets a fresh sandbox ATS and connection. The clients run in the same
//! process and on the same cores as the host.
//!
//! `cargo bench -p ats-host --bench push`

use ats_host::app::{Host, HostOptions};
use ats_host::runtime::Limits;
use ats_host::sandbox_ats::{self, SandboxHandle};
use ats_host::sync::SyncConfig;
use ats_host::webhooks::dispatcher::DeliveryPolicy;
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ATS_KEY: &str = "bench-ats-key";

#[derive(Clone, Copy)]
enum Budget {
    Lifted,
    /// `calls` per second, set on the connection over the API.
    PerSecond(u32),
}

struct Bench {
    base: String,
    key: String,
    http: reqwest::Client,
}

fn main() -> anyhow::Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let sync = SyncConfig { calls_per_second: 1e9, ..SyncConfig::default() };
    let write_wait = sync.write_budget_wait;
    let host = Host::start(
        Limits::default(),
        HostOptions {
            data_dir: data_dir.path().to_path_buf(),
            connectors_dir: None,
            operator_key: None,
            secret_key: None,
            sync,
            webhooks: DeliveryPolicy::default(),
            run_scheduler: false,
            store: Default::default(),
            compiled_cache: None,
        },
    )
    .await?;
    anyhow::ensure!(host.load_bundled().await > 0, "no bundled connector loaded");
    let key = host
        .generated_operator_key
        .clone()
        .ok_or_else(|| anyhow::anyhow!("a new data dir generates the operator key"))?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let router = host.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let bench =
        Bench { base: format!("http://{addr}"), key, http: reqwest::Client::builder().build()? };
    bench.send("POST", "/v1/tenants", Some(json!({"id": "bench", "name": "bench"}))).await?;

    println!(
        "push candidate over HTTP, {} cores, write budget wait {write_wait:?}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let lifted = Duration::from_secs(6);
    for (clients, budget, time) in [
        (16, Budget::Lifted, lifted),
        (64, Budget::Lifted, lifted),
        (16, Budget::PerSecond(10), Duration::from_secs(20)),
        (64, Budget::PerSecond(10), Duration::from_secs(40)),
    ] {
        bench.scenario(clients, budget, time).await?;
    }
    Ok(())
}

/// What one client saw of one push.
struct Answer {
    took: Duration,
    status: u16,
}

impl Bench {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request =
                request.header("content-type", "application/json").body(serde_json::to_vec(&body)?);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }

    /// A fresh sandbox ATS and a connection to it with `budget`; returns its id.
    async fn connect(&self, budget: Budget) -> anyhow::Result<(String, SandboxHandle)> {
        let (ats, sandbox) =
            sandbox_ats::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), ATS_KEY).await?;
        let connection = self
            .send(
                "POST",
                "/v1/connections",
                Some(json!({
                    "tenant_id": "bench", "connector_id": "sandbox", "name": "bench",
                    "config": {"base-url": format!("http://{ats}")},
                    "secrets": {"api-key": ATS_KEY},
                    "allow_private_networks": true,
                    "schedules": {"enabled": false},
                })),
            )
            .await?;
        let id = connection["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no connection id in {connection}"))?
            .to_string();
        if let Budget::PerSecond(calls) = budget {
            self.send(
                "PUT",
                &format!("/v1/connections/{id}/rate-budget"),
                Some(json!({"calls": calls, "per_secs": 1})),
            )
            .await?;
        }
        Ok((id, sandbox))
    }

    async fn scenario(&self, clients: usize, budget: Budget, time: Duration) -> anyhow::Result<()> {
        let (connection, sandbox) = self.connect(budget).await?;
        let label = match budget {
            Budget::Lifted => "budget lifted".to_string(),
            Budget::PerSecond(calls) => format!("{calls} calls/s"),
        };
        if let Budget::Lifted = budget {
            // Warm the instance pool, the HTTP connections and the store.
            self.clients(&connection, "warm", clients, Duration::from_secs(1)).await?;
        }
        let ats_before = sandbox.busy_time();
        let started = Instant::now();
        let mut answers = self.clients(&connection, "run", clients, time).await?;
        let wall = started.elapsed();
        let ats_busy = sandbox.busy_time().saturating_sub(ats_before);
        answers.sort_by_key(|a| a.took);
        let ok = answers.iter().filter(|a| a.status == 201 || a.status == 200).count();
        let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
        let other = answers.len() - ok - refused.len();
        let took: Vec<Duration> = answers.iter().map(|a| a.took).collect();
        println!(
            "{clients:>3} clients, {label:<13}: {ok:>6} pushes in {:.1} s = {:>7.1} pushes/s; p50 {:>9.1?}, p99 {:>9.1?}, max {:>9.1?}; 429: {} (slowest {:.1?}); other errors: {other}; sandbox ATS busy {:.0}% of the time",
            wall.as_secs_f64(),
            ok as f64 / wall.as_secs_f64(),
            percentile(&took, 50),
            percentile(&took, 99),
            took.last().copied().unwrap_or_default(),
            refused.len(),
            refused.iter().map(|a| a.took).max().unwrap_or_default(),
            ats_busy.as_secs_f64() / wall.as_secs_f64() * 100.0,
        );
        if let Budget::PerSecond(calls) = budget {
            // One connector call per push (the upsert): a push waits for every client ahead.
            let fair = Duration::from_secs_f64(clients as f64 / f64::from(calls));
            println!(
                "{:>19}fair-queue wait {fair:.2?}: p50 / fair {:.2}, p99 / fair {:.2}, max / fair {:.2}",
                "",
                percentile(&took, 50).as_secs_f64() / fair.as_secs_f64(),
                percentile(&took, 99).as_secs_f64() / fair.as_secs_f64(),
                took.last().copied().unwrap_or_default().as_secs_f64() / fair.as_secs_f64(),
            );
        }
        Ok(())
    }

    /// `clients` clients pushing for `time` (each finishes the push it has started).
    async fn clients(
        &self,
        connection: &str,
        round: &str,
        clients: usize,
        time: Duration,
    ) -> anyhow::Result<Vec<Answer>> {
        let until = Instant::now() + time;
        let url = Arc::new(format!("{}/v1/connections/{connection}/candidates", self.base));
        let mut tasks = Vec::new();
        for client in 0..clients {
            let (http, key, url) = (self.http.clone(), self.key.clone(), url.clone());
            let round = format!("{connection}-{round}-{client}");
            tasks.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                let mut i = 0u64;
                while Instant::now() < until {
                    i += 1;
                    let body = json!({
                        "candidate": {
                            "first_name": "Ada", "last_name": format!("Bench {i}"),
                            "emails": [format!("{round}-{i}@bench.example")],
                        },
                        "source": "push bench",
                    });
                    let started = Instant::now();
                    let response = http
                        .post(url.as_str())
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .header("idempotency-key", format!("{round}-{i}"))
                        .body(serde_json::to_vec(&body)?)
                        .send()
                        .await?;
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                    response.bytes().await?;
                    answers.push(Answer { took: started.elapsed(), status });
                    if let (429, Some(secs)) = (status, retry_after) {
                        // As a product would: wait out Retry-After before the next push.
                        tokio::time::sleep(Duration::from_secs(secs)).await;
                    }
                }
                anyhow::Ok(answers)
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await??);
        }
        Ok(all)
    }
}

/// The `p`-th percentile of sorted `values` (nearest rank).
fn percentile(values: &[Duration], p: usize) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let rank = (values.len() * p).div_ceil(100).clamp(1, values.len());
    values[rank - 1]
}
