//! Several nodes on one PostgreSQL database (issue 15's figures), printed, nothing asserted:
//! sync runs per minute and candidate pushes per second with 1, 2 and 3 host nodes, and the
//! ratio of each to one node, in one run.
//!
//! For each node count: a throwaway cluster (`initdb`/`pg_ctl`, see `ats_tests::postgres`),
//! that many `ats-host serve --store postgres://…` processes (this bench binary re-executed
//! as the host, so the host is the build being measured), the sandbox connector only, and
//! the sandbox ATS in this process on 127.0.0.1. Connections are spread over the nodes and
//! driven closed-loop: each connection's "sync now" (jobs) starts again as soon as its run
//! ended (the bench watches the runs table, one query every 20 ms, instead of polling the
//! API); each push client pushes again as soon as it has its answer, to the node its
//! connection is on. Two ATS speeds: answering at once (the work is the host's and the
//! database's, CPU-bound) and answering after 100 ms (a real ATS's latency, where a node's
//! concurrency limits bind: 16 runs at once per node, 64 calls at once per connector).
//!
//! The cluster is the tests' (fsync and synchronous commit off, so the figures measure the
//! nodes' and the database's work, not this machine's disk).
//! Every process (nodes, PostgreSQL, the fake ATS, the clients) shares this machine's cores:
//! on 2 cores the CPU-bound figures measure what coordinating through the database costs,
//! not how far more machines would carry.
//!
//! `cargo bench -p ats-tests --bench nodes`  (`ATS_BENCH_WINDOW_SECS`, default 10;
//! `ATS_BENCH_SQL=N` instead prints the statements the database ran per sync and per push
//! with N nodes, from its log)

use ats_tests::postgres::PgCluster;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Set in a child: the host's command line, separated by [`SEPARATOR`].
const CHILD_ARGS: &str = "ATS_BENCH_NODE_ARGS";
const SEPARATOR: char = '\u{1f}';
const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const OPERATOR_KEY: &str = "ats_op_bench_nodes_operator_key_0123456789ab";
const ATS_KEY: &str = "bench-ats-key";
/// Connections driven at once (spread over the nodes), for syncs and for pushes.
const CONNECTIONS: usize = 48;
/// The latency of the slow ATS.
const SLOW_ATS: Duration = Duration::from_millis(100);
const NODE_CONFIG: &str = "[sync]\ncalls_per_second = 1000000.0\n";

fn main() -> anyhow::Result<()> {
    if let Ok(args) = std::env::var(CHILD_ARGS) {
        let argv = std::iter::once("ats-host").chain(args.split(SEPARATOR));
        let cli = <ats_host::cli::Cli as clap::Parser>::try_parse_from(argv)?;
        return ats_host::cli::run_parsed(cli);
    }
    if std::env::args().any(|arg| arg == "--list") {
        return Ok(()); // `cargo test --benches` asks for the list of tests: there are none.
    }
    let window = std::env::var("ATS_BENCH_WINDOW_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs);
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(run(window))
}

/// Figures of one node count: work per second (or minute) and database transactions per
/// unit of work (every node's, the watcher's one query per 20 ms included).
struct Figures {
    nodes: usize,
    syncs_fast: Rate,
    syncs_slow: Rate,
    pushes_fast: Rate,
    pushes_slow: Rate,
}

#[derive(Clone, Copy)]
struct Rate {
    per_second: f64,
    transactions_each: f64,
}

async fn run(window: Duration) -> anyhow::Result<()> {
    let (ats, sandbox) = ats_host::sandbox_ats::start(([127, 0, 0, 1], 0).into(), ATS_KEY).await?;
    sandbox.seed_jobs(88, "2026-11-20T10:00:00Z");
    let ats = format!("http://{ats}");
    println!(
        "nodes on one PostgreSQL, {} cores shared by nodes, database, fake ATS and clients; \
         {CONNECTIONS} connections driven closed-loop, {window:?} per figure",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut all = Vec::new();
    for nodes in 1..=3 {
        let cluster = PgCluster::start();
        let dirs: Vec<tempfile::TempDir> =
            (0..nodes).map(|_| tempfile::tempdir()).collect::<Result<_, _>>()?;
        let mut started = Vec::new();
        for dir in &dirs {
            started.push(Node::start(dir.path(), &cluster.url).await?);
        }
        let bench = Bench::new(&started, &cluster.url, &ats).await?;
        let diagnose = std::env::var("ATS_BENCH_SQL").ok().and_then(|n| n.parse::<usize>().ok());
        if diagnose == Some(nodes) {
            return bench.statements(&cluster, window).await;
        }
        sandbox.set_delay(Duration::ZERO);
        bench.syncs(Duration::from_secs(2)).await?; // warm: instances, HTTP and DB connections
        let syncs_fast = bench.syncs(window).await?;
        let pushes_fast = bench.pushes(window).await?;
        sandbox.set_delay(SLOW_ATS);
        let syncs_slow = bench.syncs(window).await?;
        let pushes_slow = bench.pushes(window).await?;
        sandbox.set_delay(Duration::ZERO);
        let figures = Figures { nodes, syncs_fast, syncs_slow, pushes_fast, pushes_slow };
        println!(
            "{nodes} node(s): syncs/min {:>6.0} ({:>4.1} db tx each) at once, {:>6.0} ({:>4.1}) at 100 ms; pushes/s {:>6.1} ({:>4.1} db tx each) at once, {:>6.1} ({:>4.1}) at 100 ms",
            figures.syncs_fast.per_second * 60.0,
            figures.syncs_fast.transactions_each,
            figures.syncs_slow.per_second * 60.0,
            figures.syncs_slow.transactions_each,
            figures.pushes_fast.per_second,
            figures.pushes_fast.transactions_each,
            figures.pushes_slow.per_second,
            figures.pushes_slow.transactions_each,
        );
        all.push(figures);
        for node in started {
            node.stop();
        }
        drop(cluster);
    }
    let one = &all[0];
    for figures in &all[1..] {
        println!(
            "{} nodes / 1 node: syncs {:.2} (ATS at once) {:.2} (ATS 100 ms); pushes {:.2} (ATS at once) {:.2} (ATS 100 ms)",
            figures.nodes,
            figures.syncs_fast.per_second / one.syncs_fast.per_second,
            figures.syncs_slow.per_second / one.syncs_slow.per_second,
            figures.pushes_fast.per_second / one.pushes_fast.per_second,
            figures.pushes_slow.per_second / one.pushes_slow.per_second,
        );
    }
    Ok(())
}

/// One `ats-host serve` process on the database.
struct Node {
    child: Child,
    base: String,
}

impl Node {
    async fn start(dir: &Path, url: &str) -> anyhow::Result<Node> {
        std::fs::write(dir.join("operator.key"), OPERATOR_KEY)?;
        let connectors = dir.join("connectors");
        std::fs::create_dir_all(&connectors)?;
        std::fs::write(
            connectors.join("sandbox.wasm"),
            ats_tests::bundled_wasm("connector-sandbox"),
        )?;
        std::fs::write(dir.join("host.toml"), NODE_CONFIG)?;
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        let args = [
            "serve".to_string(),
            "--data-dir".into(),
            path(dir.to_path_buf()),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--no-bundled".into(),
            "--config".into(),
            path(dir.join("host.toml")),
            "--compiled-cache".into(),
            path(ats_tests::shared_artifact_cache()),
            "--store".into(),
            url.into(),
            "--secret-key".into(),
            SECRET_KEY.into(),
        ];
        let log = dir.join("host.log");
        let child = Command::new(std::env::current_exe()?)
            .env(CHILD_ARGS, args.join(&SEPARATOR.to_string()))
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn,ats_host::cli::serve=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let mut node = Node { child, base: String::new() };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = text.split("serving on ").nth(1) {
                node.base = rest.split_whitespace().next().unwrap_or_default().to_string();
                return Ok(node);
            }
            if let Some(status) = node.child.try_wait()? {
                anyhow::bail!("a node exited ({status}) before serving:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("a node did not serve within 120 s: {}", log.display())
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The connections (each on one node) and what drives them.
struct Bench {
    /// (node base URL, connection id)
    connections: Vec<(String, String)>,
    http: reqwest::Client,
    db: Arc<tokio_postgres::Client>,
}

impl Bench {
    async fn new(nodes: &[Node], url: &str, ats: &str) -> anyhow::Result<Bench> {
        let http = reqwest::Client::new();
        let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let first = &nodes[0].base;
        post(&http, first, "/v1/tenants", json!({"id": "bench"})).await?;
        let mut connections = Vec::new();
        for n in 0..CONNECTIONS {
            let created = post(
                &http,
                first,
                "/v1/connections",
                json!({
                    "tenant_id": "bench", "connector_id": "sandbox", "config": {"base-url": ats},
                    "secrets": {"api-key": ATS_KEY}, "allow_private_networks": true,
                    "schedules": {"enabled": false},
                }),
            )
            .await?;
            let id = created["id"].as_str().unwrap_or_default().to_string();
            connections.push((nodes[n % nodes.len()].base.clone(), id));
        }
        Ok(Bench { connections, http, db: Arc::new(db) })
    }

    /// Committed and rolled back transactions of the database so far.
    async fn transactions(&self) -> anyhow::Result<i64> {
        let row = self
            .db
            .query_one(
                "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = current_database()",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    /// Every connection syncs its jobs again and again for `window`: runs per second.
    async fn syncs(&self, window: Duration) -> anyhow::Result<Rate> {
        let transactions = self.transactions().await?;
        let finished: Arc<Mutex<HashSet<String>>> = Arc::default();
        let watching: Arc<Mutex<HashSet<String>>> = Arc::default();
        let until = Instant::now() + window;
        let watcher = {
            let (db, finished, watching) = (self.db.clone(), finished.clone(), watching.clone());
            tokio::spawn(async move {
                while Instant::now() < until + Duration::from_secs(30) {
                    let ids: Vec<String> = lock(&watching).iter().cloned().collect();
                    if !ids.is_empty() {
                        let rows = db
                            .query(
                                "SELECT id FROM ats.runs WHERE id = ANY($1) AND state NOT IN ('queued', 'running')",
                                &[&ids],
                            )
                            .await?;
                        let mut done = lock(&finished);
                        let mut watched = lock(&watching);
                        for row in rows {
                            let id: String = row.get(0);
                            watched.remove(&id);
                            done.insert(id);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                anyhow::Ok(())
            })
        };
        let started = Instant::now();
        let mut clients = Vec::new();
        for (base, connection) in self.connections.clone() {
            let (http, finished, watching) =
                (self.http.clone(), finished.clone(), watching.clone());
            clients.push(tokio::spawn(async move {
                let mut runs = 0u64;
                while Instant::now() < until {
                    let path = format!("/v1/connections/{connection}/sync");
                    let run = post(&http, &base, &path, json!({"kind": "jobs"})).await?;
                    let id = run["run_id"].as_str().unwrap_or_default().to_string();
                    lock(&watching).insert(id.clone());
                    while !lock(&finished).contains(&id) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    runs += 1;
                }
                anyhow::Ok(runs)
            }));
        }
        let mut runs = 0;
        for client in clients {
            runs += client.await??;
        }
        let wall = started.elapsed();
        watcher.abort();
        self.rate(runs, wall, transactions).await
    }

    /// A client per connection pushes candidates for `window`: successful pushes per second.
    async fn pushes(&self, window: Duration) -> anyhow::Result<Rate> {
        let transactions = self.transactions().await?;
        let until = Instant::now() + window;
        let started = Instant::now();
        let mut clients = Vec::new();
        for (base, connection) in self.connections.clone() {
            let http = self.http.clone();
            clients.push(tokio::spawn(async move {
                let (mut pushed, mut i) = (0u64, 0u64);
                let url = format!("{base}/v1/connections/{connection}/candidates");
                while Instant::now() < until {
                    i += 1;
                    let key = format!("{connection}-{}-{i}", started.elapsed().as_nanos());
                    let response = http
                        .post(&url)
                        .bearer_auth(OPERATOR_KEY)
                        .header("idempotency-key", &key)
                        .json(&json!({"candidate": {
                            "first_name": "Ada", "last_name": format!("Bench {i}"),
                            "emails": [format!("{key}@bench.example")],
                        }, "source": "nodes bench"}))
                        .send()
                        .await?;
                    if response.status().is_success() {
                        pushed += 1;
                    }
                    response.bytes().await?;
                }
                anyhow::Ok(pushed)
            }));
        }
        let mut pushed = 0;
        for client in clients {
            pushed += client.await??;
        }
        self.rate(pushed, started.elapsed(), transactions).await
    }

    /// Diagnosis (`ATS_BENCH_SQL=1`): the statements the database ran per sync and per
    /// push, most frequent first, from its log.
    async fn statements(&self, cluster: &PgCluster, window: Duration) -> anyhow::Result<()> {
        let db = &self.db;
        db.simple_query("ALTER SYSTEM SET log_statement = 'all'").await?;
        db.simple_query("SELECT pg_reload_conf()").await?;
        for (what, unit) in [("syncs", 0), ("pushes", 1)] {
            let skip = cluster.server_log().lines().count();
            let rate =
                if unit == 0 { self.syncs(window).await? } else { self.pushes(window).await? };
            let done = (rate.per_second * window.as_secs_f64()).max(1.0);
            let log = cluster.server_log();
            let mut counts = std::collections::HashMap::<String, usize>::new();
            for line in log.lines().skip(skip) {
                let statement = line.split_once("statement: ").map(|(_, s)| s).or_else(|| {
                    line.split_once("LOG:  execute ")
                        .and_then(|(_, rest)| Some(rest.split_once(": ")?.1))
                });
                if let Some(statement) = statement {
                    let head: String = statement.chars().take(90).collect();
                    *counts.entry(head).or_default() += 1;
                }
            }
            let mut counts: Vec<_> = counts.into_iter().collect();
            counts.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
            println!("{what}: {done:.0} done; statements per unit of work:");
            for (statement, count) in counts.iter().take(30) {
                println!("  {:>7.2}  {statement}", *count as f64 / done);
            }
        }
        Ok(())
    }

    async fn rate(
        &self,
        done: u64,
        wall: Duration,
        transactions_before: i64,
    ) -> anyhow::Result<Rate> {
        // The statistics collector reports committed transactions with a short delay.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let transactions = self.transactions().await? - transactions_before;
        Ok(Rate {
            per_second: done as f64 / wall.as_secs_f64(),
            transactions_each: transactions as f64 / done.max(1) as f64,
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response =
        http.post(format!("{base}{path}")).bearer_auth(OPERATOR_KEY).json(&body).send().await?;
    let status = response.status();
    let body: Value = serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
    Ok(body)
}
