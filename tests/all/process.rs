//! `ats-host` as a process of its own: this test binary re-executed to run only
//! [`child_runs_ats_host`], which runs the command line it finds in the environment through
//! `ats_host::cli::run_parsed`, as the `ats-host` binary does (signals, the runtime's
//! shutdown, stdin and stdout included). Tests use it to restart a host on the same data
//! dir, to send it SIGTERM, and to feed a command stdin. Everything listens on 127.0.0.1.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ARGS_VAR: &str = "ATS_TEST_CHILD_ARGS";
/// Separates the arguments in [`ARGS_VAR`] (ASCII unit separator).
const SEPARATOR: char = '\u{1f}';

/// The child: runs the `ats-host` command line in [`ARGS_VAR`]. Does nothing when run as a
/// normal test.
#[test]
fn child_runs_ats_host() {
    let Ok(args) = std::env::var(ARGS_VAR) else { return };
    let argv = std::iter::once("ats-host").chain(args.split(SEPARATOR));
    let cli = <ats_host::cli::Cli as clap::Parser>::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("the child's command line: {e}"));
    if let Err(error) = ats_host::cli::run_parsed(cli) {
        panic!("ats-host failed: {error:#}");
    }
}

/// This test binary, to run again as a child: `/proc/self/exe` runs this very build even
/// when a newer one replaced the file since.
pub fn test_binary() -> std::path::PathBuf {
    let exe = Path::new("/proc/self/exe");
    if exe.exists() { exe.to_path_buf() } else { std::env::current_exe().expect("the test binary") }
}

/// `ats-host ARGS...` as a child process (stdio left to the caller).
pub fn ats_host(args: &[&str]) -> Command {
    let mut command = Command::new(test_binary());
    command
        .args(["process::child_runs_ats_host", "--exact", "--test-threads=1", "--nocapture"])
        .env(ARGS_VAR, args.join(&SEPARATOR.to_string()))
        .env("NO_COLOR", "1")
        .env(
            "RUST_LOG",
            std::env::var("ATS_TEST_CHILD_LOG")
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        );
    command
}

/// Waits for `child` to exit, polling (the servers it talks to may run on the caller's
/// runtime, which must keep running); `None` when it is still running after `bound`.
pub async fn wait_exit(child: &mut Child, bound: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < bound {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return Some(status);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

/// A running `ats-host serve` on a data dir; killed (by its pid) when dropped.
pub struct HostProcess {
    pub child: Child,
    pub base: String,
    pub key: String,
    pub log: PathBuf,
    http: reqwest::Client,
}

impl HostProcess {
    /// Starts `ats-host serve --data-dir DIR --listen 127.0.0.1:0 EXTRA...` and waits until
    /// it serves (the address is read from its log).
    pub async fn start(dir: &Path, extra: &[&str]) -> HostProcess {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let log = dir.join(format!("host-{}.log", STARTS.fetch_add(1, Ordering::Relaxed)));
        let data_dir = dir.to_str().expect("utf-8 path");
        let cache = ats_tests::shared_artifact_cache();
        let cache = cache.to_str().expect("utf-8 path");
        let mut args = vec![
            "serve",
            "--data-dir",
            data_dir,
            "--listen",
            "127.0.0.1:0",
            "--compiled-cache",
            cache,
        ];
        args.extend_from_slice(extra);
        let mut child = ats_host(&args)
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn the host");
        let started = Instant::now();
        let base = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = text.split("serving on ").nth(1) {
                break rest.split_whitespace().next().unwrap_or_default().to_string();
            }
            if let Some(status) = child.try_wait().expect("poll the host") {
                panic!("the host exited ({status}) before serving:\n{text}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "the host did not serve within 180 s:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let key = std::fs::read_to_string(dir.join("operator.key"))
            .expect("the host saved its operator key")
            .trim()
            .to_string();
        HostProcess { child, base, key, log, http: reqwest::Client::new() }
    }

    /// A request with the operator key.
    pub fn op(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal (`TERM`, `INT`) to this host's process, by its pid.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// SIGTERM, then waits for the exit; panics (with the log) unless it exits cleanly
    /// within `bound`.
    pub async fn terminate(mut self, bound: Duration) -> Duration {
        let sent = Instant::now();
        self.signal("TERM");
        let status = wait_exit(&mut self.child, bound).await;
        let took = sent.elapsed();
        match status {
            Some(status) if status.success() => took,
            Some(status) => panic!("the host exited with {status}:\n{}", self.log_text()),
            None => panic!("the host ran on {bound:?} after SIGTERM:\n{}", self.log_text()),
        }
    }
}

/// Prepares DIR for a host with only the sandbox connector (in DIR/connectors) and
/// `config` as DIR/host.toml; returns the `serve` arguments that use them.
pub fn sandbox_only(dir: &Path, config: &str) -> Vec<String> {
    let connectors = dir.join("connectors");
    std::fs::create_dir_all(&connectors).expect("connectors dir");
    std::fs::write(connectors.join("sandbox.wasm"), ats_tests::bundled_wasm("connector-sandbox"))
        .expect("connector file");
    let file = dir.join("host.toml");
    std::fs::write(&file, config).expect("config file");
    let file = file.to_str().expect("utf-8 path").to_string();
    vec!["--no-bundled".into(), "--config".into(), file]
}

impl HostProcess {
    /// Creates tenant `tenant` and a connection of it to the sandbox ATS at `url`, its
    /// schedules off; returns the connection id.
    pub async fn sandbox_connection(&self, tenant: &str, url: &str) -> String {
        use serde_json::json;
        let _ = ats_tests::api_host::send(
            self.op(reqwest::Method::POST, "/v1/tenants").json(&json!({"id": tenant})),
        )
        .await;
        let (status, created) = ats_tests::api_host::send(
            self.op(reqwest::Method::POST, "/v1/connections").json(&json!({
                "tenant_id": tenant, "connector_id": "sandbox", "config": {"base-url": url},
                "secrets": {"api-key": ats_tests::sync_rig::KEY}, "allow_private_networks": true,
                "schedules": {"jobs_every_secs": 86_400, "applications_every_secs": 86_400, "enabled": false},
            })),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().expect("connection id").to_string()
    }
}

impl HostProcess {
    /// `POST /v1/connections/{connection}/sync` for `kind` (`jobs`, `applications`): the
    /// run id (of a new run, or of the one it joined).
    pub async fn start_sync(&self, connection: &str, kind: &str) -> String {
        let (status, started) = ats_tests::api_host::send(
            self.op(reqwest::Method::POST, &format!("/v1/connections/{connection}/sync"))
                .json(&serde_json::json!({"kind": kind})),
        )
        .await;
        assert!(status == 202 || status == 200, "{started}");
        started["run_id"].as_str().expect("run id").to_string()
    }

    /// The run as the API shows it now.
    pub async fn run(&self, run_id: &str) -> serde_json::Value {
        ats_tests::api_host::send(self.op(reqwest::Method::GET, &format!("/v1/runs/{run_id}")))
            .await
            .1
    }

    /// Polls a run until it ends (30 s at most); panics with the host's log otherwise.
    pub async fn wait_run(&self, run_id: &str) -> serde_json::Value {
        let mut run = serde_json::Value::Null;
        for _ in 0..600 {
            run = self.run(run_id).await;
            if !matches!(run["state"].as_str(), Some("queued" | "running")) {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("run {run_id} did not finish: {run}\n{}", self.log_text());
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
