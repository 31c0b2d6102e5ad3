//! The host on PostgreSQL as an operator runs it: `ats-host serve --store postgres://…`
//! as a process of its own, against a throwaway cluster the test starts. Everything the
//! host keeps (tenants, connections and their sealed secrets, synced records, runs,
//! events, keys, the write journal) lives in the database: a host started on a fresh data
//! directory with the same database and secret key carries on where the first stopped.

use crate::api::receiver::Receiver;
use crate::process::{HostProcess, sandbox_only};
use ats_tests::api_host::send;
use ats_tests::postgres::PgCluster;
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// 32 bytes, base64: the secret key every node of one database shares.
pub(crate) const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
pub(crate) const OPERATOR_KEY: &str = "ats_op_postgres_test_operator_key_0123456789";

/// A node on the database at `url` with the sandbox connector only, the shared secret and
/// operator keys, `config` as its config file and `extra` arguments.
pub(crate) async fn start_on(
    dir: &std::path::Path,
    url: &str,
    config: &str,
    extra: &[&str],
) -> HostProcess {
    std::fs::write(dir.join("operator.key"), OPERATOR_KEY).expect("operator key file");
    let mut args = sandbox_only(dir, config);
    args.extend(["--store".into(), url.to_string(), "--secret-key".into(), SECRET_KEY.into()]);
    args.extend(extra.iter().map(|arg| arg.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    HostProcess::start(dir, &args).await
}

async fn start_node(dir: &std::path::Path, url: &str) -> HostProcess {
    start_on(dir, url, "[sync]\ncalls_per_second = 1000.0\n", &[]).await
}

async fn sync_jobs(host: &HostProcess, connection: &str) -> Value {
    let run_id = host.start_sync(connection, "jobs").await;
    host.wait_run(&run_id).await
}

async fn job_count(host: &HostProcess, connection: &str) -> usize {
    let (status, jobs) =
        send(host.op(Method::GET, &format!("/v1/jobs?connection_id={connection}&limit=100"))).await;
    assert_eq!(status, 200, "{jobs}");
    jobs["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_on_postgres_syncs_pushes_and_other_nodes_on_fresh_data_dirs_carry_on() {
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

    // A second node on the same database serves the same state while the first runs.
    let second_dir = tempfile::tempdir().expect("temp dir");
    let second = start_node(second_dir.path(), &cluster.url).await;
    assert_eq!(job_count(&second, &connection).await, synced, "one state for every node");
    second.terminate(Duration::from_secs(30)).await;

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

/// A node whose scheduler runs, with short leases so a dead node's run is taken over fast.
async fn start_scheduling_node(dir: &std::path::Path, url: &str) -> HostProcess {
    let config = "[sync]\ncalls_per_second = 1000.0\npage_size = 20\nfirst_run_jitter = 1500\nrun_lease = 2000\nscheduler_tick = 100\n";
    start_on(dir, url, config, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_run_each_of_300_connections_first_slots_once_and_take_over_a_killed_nodes_run()
{
    let cluster = PgCluster::start();
    let (small_url, _small) = start_sandbox().await;
    let (sandbox_url, sandbox) = start_sandbox().await;
    sandbox.seed_jobs(288, "2026-11-20T10:00:00Z");
    let total = sandbox.jobs().len();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let node_a = start_scheduling_node(dirs[0].path(), &cluster.url).await;

    // 300 connections (jobs and applications schedules), made on node A before the other
    // nodes start: all three schedule each one's first slots within the jitter, and the
    // database lets one node run each slot.
    let _ = send(node_a.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    for _ in 0..300 {
        let (status, created) = send(node_a.op(Method::POST, "/v1/connections").json(&json!({
            "tenant_id": "acme", "connector_id": "sandbox", "config": {"base-url": small_url},
            "secrets": {"api-key": ats_tests::sync_rig::KEY}, "allow_private_networks": true,
            "schedules": {"jobs_every_secs": 3600, "applications_every_secs": 3600, "enabled": true},
        })))
        .await;
        assert_eq!(status, 201, "{created}");
    }
    let node_b = start_scheduling_node(dirs[1].path(), &cluster.url).await;
    let node_c = start_scheduling_node(dirs[2].path(), &cluster.url).await;
    let db = cluster.client().await;
    // Runs that started, per node and per slot (a slot claimed just after another node ran
    // it ends unstarted).
    let started = async || -> Vec<(String, String, i64)> {
        db.query(
            "SELECT connection_id, kind, count(*) FROM ats.runs
             WHERE doc->>'started_at' IS NOT NULL AND doc->>'trigger' = 'schedule'
             GROUP BY 1, 2",
            &[],
        )
        .await
        .expect("count runs")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
    };
    for _ in 0..600 {
        let finished: i64 = db
            .query_one(
                "SELECT count(*) FROM ats.runs WHERE state = 'success' AND doc->>'trigger' = 'schedule'",
                &[],
            )
            .await
            .expect("count")
            .get(0);
        if finished >= 600 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past every node's first-run jitter: a slot run twice would show now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let slots = started().await;
    assert_eq!(slots.len(), 600, "every first slot of 300 connections ran");
    let twice: Vec<_> = slots.iter().filter(|(_, _, runs)| *runs != 1).collect();
    assert!(
        twice.is_empty(),
        "slots run more than once: {twice:?}\nA:\n{}\nB:\n{}\nC:\n{}",
        node_a.log_text(),
        node_b.log_text(),
        node_c.log_text()
    );
    let nodes: i64 = db
        .query_one("SELECT count(DISTINCT doc->>'node') FROM ats.runs", &[])
        .await
        .expect("count nodes")
        .get(0);
    assert!(nodes >= 2, "the work was shared ({nodes} node ran every slot)");
    node_c.terminate(Duration::from_secs(30)).await;

    // Node A runs a slow sync and is killed mid-run; node B joins the run while A's lease
    // holds, then takes the slot over and resumes from the checkpoint: nothing lost, no
    // record created twice.
    let connection = &node_a.sandbox_connection("acme", &sandbox_url).await;
    sandbox.set_delay(Duration::from_millis(250));
    let run_a = node_a.start_sync(connection, "jobs").await;
    for _ in 0..400 {
        if node_a.run(&run_a).await["progress"]["pages"].as_u64().unwrap_or(0) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut node_a = node_a;
    node_a.child.kill().expect("kill -9 node A");
    let _ = node_a.child.wait();
    let joined = node_b.start_sync(connection, "jobs").await;
    assert_eq!(joined, run_a, "A's lease still holds: B joins its run");
    sandbox.set_delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let run_b = node_b.start_sync(connection, "jobs").await;
    assert_ne!(run_b, run_a, "the lease ran out: B runs the slot");
    let finished = node_b.wait_run(&run_b).await;
    assert_eq!(finished["state"], "success", "{finished}\n{}", node_b.log_text());
    let dead = node_b.run(&run_a).await;
    assert_eq!(dead["state"], "cancelled", "the dead node's run is ended: {dead}");
    assert_eq!(job_count_all(&node_b, connection).await, total, "every job, once");
    let mut created = 0;
    let mut after = String::new();
    loop {
        let path = format!("/v1/events?limit=500&after={after}");
        let (status, page) = send(node_b.op(Method::GET, path.trim_end_matches("&after="))).await;
        assert_eq!(status, 200, "{page}");
        let events = page["data"].as_array().cloned().unwrap_or_default();
        created += events
            .iter()
            .filter(|e| e["type"] == "job.created" && e["connection_id"] == connection.as_str())
            .count();
        match (events.is_empty(), page["next_cursor"].as_str()) {
            (false, Some(next)) => after = next.to_string(),
            _ => break,
        }
    }
    assert_eq!(created, total, "each job created once across both nodes");
    node_b.terminate(Duration::from_secs(30)).await;
}

async fn job_count_all(host: &HostProcess, connection: &str) -> usize {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(after) => format!("/v1/jobs?connection_id={connection}&limit=100&cursor={after}"),
            None => format!("/v1/jobs?connection_id={connection}&limit=100"),
        };
        let (status, page) = send(host.op(Method::GET, &path)).await;
        assert_eq!(status, 200, "{page}");
        count += page["data"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return count,
        }
    }
}

/// The active version of connector `id` as a node lists it.
async fn active_version(host: &HostProcess, id: &str) -> Option<String> {
    let (_, listing) = send(host.op(Method::GET, "/v1/connectors")).await;
    listing["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == id)
        .and_then(|c| c["active"]["version"].as_str().map(str::to_string))
}

/// Polls node `host` until connector `id` is active at `version` (10 s at most).
async fn until_active(host: &HostProcess, id: &str, version: &str) {
    for _ in 0..200 {
        if active_version(host, id).await.as_deref() == Some(version) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "`{id}` {version} is not active on the other node ({:?}):\n{}",
        active_version(host, id).await,
        host.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_activation_and_rollback_on_one_node_serve_on_the_other() {
    let cluster = PgCluster::start();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let node_a = start_node(dir_a.path(), &cluster.url).await;
    let node_b = start_node(dir_b.path(), &cluster.url).await;
    assert_eq!(active_version(&node_b, "echo").await, None);

    for (wasm, version) in
        [(ats_tests::guests::ECHO_V1, "1.0.0"), (ats_tests::guests::ECHO_V2, "2.0.0")]
    {
        let (status, body) =
            send(node_a.op(Method::POST, "/v1/connectors").body(ats_tests::read(wasm))).await;
        assert!(status == 201 || status == 200, "{status} {body}");
        until_active(&node_b, "echo", version).await;
    }
    let (status, body) = send(node_a.op(Method::POST, "/v1/connectors/echo/rollback")).await;
    assert_eq!(status, 200, "{body}");
    until_active(&node_b, "echo", "1.0.0").await;
    let (status, body) = send(
        node_b.op(Method::POST, "/v1/connectors/echo/activate").json(&json!({"version": "2.0.0"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    until_active(&node_a, "echo", "2.0.0").await;
    node_a.terminate(Duration::from_secs(30)).await;
    node_b.terminate(Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_survive_a_killed_node_once_each() {
    let cluster = PgCluster::start();
    let (sandbox_url, sandbox) = start_sandbox().await;
    sandbox.seed_jobs(188, "2026-11-20T10:00:00Z");
    let receiver = Receiver::start().await;
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().expect("dir")).collect();
    let start = async |dir: &std::path::Path| {
        let config = "[sync]\ncalls_per_second = 1000.0\npage_size = 20\nrun_lease = 2000\n[webhooks]\ntimeout = 1000\n";
        start_on(dir, &cluster.url, config, &["--webhooks-allow-private-networks"]).await
    };
    let mut node_a = start(dirs[0].path()).await;
    let node_b = start(dirs[1].path()).await;
    let connection = node_a.sandbox_connection("acme", &sandbox_url).await;
    let (status, created) = send(node_a.op(Method::POST, "/v1/webhooks").json(&json!({
        "url": receiver.url, "event_types": ["job.created"], "tenant_id": "acme",
    })))
    .await;
    assert_eq!(status, 201, "{created}");

    // Node A syncs slowly and dies mid-run, with deliveries made and others pending.
    sandbox.set_delay(Duration::from_millis(250));
    let run_a = node_a.start_sync(&connection, "jobs").await;
    for _ in 0..400 {
        if node_a.run(&run_a).await["progress"]["pages"].as_u64().unwrap_or(0) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    node_a.child.kill().expect("kill -9 node A");
    let _ = node_a.child.wait();
    sandbox.set_delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let run_b = node_b.start_sync(&connection, "jobs").await;
    assert_eq!(node_b.wait_run(&run_b).await["state"], "success", "{}", node_b.log_text());

    // One delivery per job.created event, every one delivered; the receiver saw each
    // (a send cut off by the kill may be repeated: receivers dedupe on webhook-id).
    let db = cluster.client().await;
    let events: i64 = db
        .query_one("SELECT count(*) FROM ats.events WHERE doc->>'type' = 'job.created'", &[])
        .await
        .expect("count events")
        .get(0);
    assert_eq!(events, 200, "every job created once across both nodes");
    // Deliveries node A claimed before it died come due again after their lease (2 x the
    // 1 s attempt timeout + 5 s).
    let mut delivered = 0;
    for _ in 0..300 {
        delivered = db
            .query_one(
                "SELECT count(*) FROM ats.webhook_deliveries WHERE status = 'delivered'",
                &[],
            )
            .await
            .expect("count deliveries")
            .get::<_, i64>(0);
        if delivered >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows: i64 = db
        .query_one("SELECT count(*) FROM ats.webhook_deliveries", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!((rows, delivered), (events, events), "{}", node_b.log_text());
    let seen: std::collections::HashSet<String> = receiver
        .received()
        .iter()
        .filter_map(|delivery| delivery.headers.get("webhook-id")?.to_str().ok().map(String::from))
        .collect();
    assert_eq!(seen.len() as i64, events, "the receiver got every delivery");
    node_b.terminate(Duration::from_secs(30)).await;
}
