//! The host on PostgreSQL as an operator runs it: `ats-host serve --store postgres://…`
//! as a process of its own, against a throwaway cluster the test starts. Everything the
//! host keeps (tenants, connections and their sealed secrets, synced records, runs,
//! events, keys, the write journal) lives in the database: a host started on a fresh data
//! directory with the same database and secret key carries on where the first stopped.

use crate::process::{HostProcess, sandbox_only};
use ats_tests::api_host::send;
use ats_tests::postgres::PgCluster;
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// 32 bytes, base64: the secret key every node of one database shares.
const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const OPERATOR_KEY: &str = "ats_op_postgres_test_operator_key_0123456789";

async fn start_node(dir: &std::path::Path, url: &str) -> HostProcess {
    std::fs::write(dir.join("operator.key"), OPERATOR_KEY).expect("operator key file");
    let mut args = sandbox_only(dir, "[sync]\ncalls_per_second = 1000.0\n");
    args.extend(["--store".into(), url.to_string(), "--secret-key".into(), SECRET_KEY.into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    HostProcess::start(dir, &args).await
}

async fn sync_jobs(host: &HostProcess, connection: &str) -> Value {
    let (status, started) = send(
        host.op(Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": "jobs"})),
    )
    .await;
    assert!(status == 202 || status == 200, "{started}");
    let run_id = started["run_id"].as_str().expect("run id").to_string();
    for _ in 0..400 {
        let (_, run) = send(host.op(Method::GET, &format!("/v1/runs/{run_id}"))).await;
        if !matches!(run["state"].as_str(), Some("queued" | "running")) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run did not end:\n{}", host.log_text());
}

async fn job_count(host: &HostProcess, connection: &str) -> usize {
    let (status, jobs) =
        send(host.op(Method::GET, &format!("/v1/jobs?connection_id={connection}&limit=100"))).await;
    assert_eq!(status, 200, "{jobs}");
    jobs["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_on_postgres_syncs_pushes_and_a_new_node_on_a_fresh_data_dir_carries_on() {
    let cluster = PgCluster::start();
    let (sandbox_url, _sandbox) = start_sandbox().await;
    let first_dir = tempfile::tempdir().expect("temp dir");
    let first = start_node(first_dir.path(), &cluster.url).await;
    assert!(first.log_text().contains("applied a PostgreSQL migration"), "{}", first.log_text());

    let connection = first.sandbox_connection("acme", &sandbox_url).await;
    let run = sync_jobs(&first, &connection).await;
    assert_eq!(run["state"], "success", "{run}\n{}", first.log_text());
    let synced = job_count(&first, &connection).await;
    assert!(synced >= 12, "the sandbox seeds 12 jobs, {synced} listed");
    let (status, key) =
        send(first.op(Method::POST, "/v1/tenants/acme/keys").json(&json!({"label": "sourcer"})))
            .await;
    assert_eq!(status, 201, "{key}");
    let tenant_key = key["key"].as_str().expect("the new key").to_string();
    let push = json!({"candidate": {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"]}});
    let pushed = send(
        first
            .op(Method::POST, &format!("/v1/connections/{connection}/candidates"))
            .header("Idempotency-Key", "push-ada-1")
            .json(&push),
    )
    .await;
    assert!(pushed.0 == 201 || pushed.0 == 200, "{}", pushed.1);

    // A second node on the same database is refused with what to do, while the first runs.
    let second_dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(second_dir.path().join("operator.key"), OPERATOR_KEY).expect("key file");
    let mut args = sandbox_only(second_dir.path(), "");
    args.extend(["--store".into(), cluster.url.clone(), "--secret-key".into(), SECRET_KEY.into()]);
    args.extend(["--listen".into(), "127.0.0.1:0".into()]);
    let mut argv = vec!["serve".to_string(), "--data-dir".into()];
    argv.push(second_dir.path().to_str().expect("utf-8").into());
    argv.extend(args);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let refused = crate::process::ats_host(&argv).output().expect("run a second node");
    let said = String::from_utf8_lossy(&refused.stderr).into_owned()
        + &String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success(), "a second node started:\n{said}");
    assert!(said.contains("another ats-host node is running"), "{said}");

    first.terminate(Duration::from_secs(30)).await;

    // A node on a fresh data directory: the state is the database's.
    let third_dir = tempfile::tempdir().expect("temp dir");
    let third = start_node(third_dir.path(), &cluster.url).await;
    assert!(!third.log_text().contains("applied a PostgreSQL migration"), "migrated twice");
    assert_eq!(job_count(&third, &connection).await, synced, "the synced jobs are there");
    let (status, _) = send(
        reqwest::Client::new()
            .get(format!("{}/v1/connections/{connection}", third.base))
            .bearer_auth(&tenant_key),
    )
    .await;
    assert_eq!(status, 200, "the tenant key minted on the first node works on this one");
    let again = sync_jobs(&third, &connection).await;
    assert_eq!(again["state"], "success", "the sealed secrets open: {again}\n{}", third.log_text());
    let replay = send(
        third
            .op(Method::POST, &format!("/v1/connections/{connection}/candidates"))
            .header("Idempotency-Key", "push-ada-1")
            .json(&push),
    )
    .await;
    assert_eq!(replay.1, pushed.1, "the journal replays the push the first node made");
    let (_, events) = send(third.op(Method::GET, "/v1/events?limit=1000")).await;
    let events = events["data"].as_array().cloned().unwrap_or_default();
    assert!(events.iter().any(|e| e["type"] == "job.created"), "the event log is there");
    third.terminate(Duration::from_secs(30)).await;
}
