//! SIGTERM (what orchestrators send) stops a real host process as gracefully as Ctrl-C: a
//! request in flight finishes, the running sync stops at a checkpoint and is recorded as
//! cancelled, the process exits within its bound, and a restarted host resumes the sync
//! without losing or duplicating a record or an event.

use crate::process::{HostProcess, sandbox_only};
use ats_host::store::{RecordFilter, RunFilter, RunState, SecretBox, SledStore, Store, SyncKind};
use ats_tests::api_host::send;
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

/// The documented bound (10 s drain + 5 s to stop tasks) and time for the flush.
const EXIT_BOUND: Duration = Duration::from_secs(20);

fn open_store(dir: &Path) -> SledStore {
    SledStore::open(&dir.join("store"), SecretBox::open(dir, None).expect("secret key"))
        .expect("the store opens after the host stopped")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_sync_drains_checkpoints_exits_and_a_restart_resumes_without_loss() {
    let (url, sandbox) = start_sandbox().await;
    sandbox.seed_jobs(300, "2026-11-20T10:00:00Z");
    let total = sandbox.jobs().len();
    let dir = tempfile::tempdir().expect("temp dir");
    let args = sandbox_only(dir.path(), "[sync]\npage_size = 20\ncalls_per_second = 1000.0\n");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let host = HostProcess::start(dir.path(), &args).await;
    let connection = host.sandbox_connection("acme", &url).await;

    // A slow ATS: every request waits, so the sync is mid-pass when the signal comes.
    sandbox.set_delay(Duration::from_millis(600));
    let run_id = host.start_sync(&connection, "jobs").await;
    for _ in 0..600 {
        let run = host.run(&run_id).await;
        if run["progress"]["pages"].as_u64().unwrap_or(0) >= 2 {
            break;
        }
        let state = run["state"].as_str().unwrap_or_default();
        assert!(matches!(state, "queued" | "running"), "{run}\n{}", host.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A request in flight when the signal comes (the ATS answers it after 600 ms).
    let check = tokio::spawn(send(
        host.op(Method::POST, &format!("/v1/connections/{connection}/check")).json(&json!({})),
    ));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let log = host.log.clone();
    let took = host.terminate(EXIT_BOUND).await;
    println!("the host exited {} ms after SIGTERM", took.as_millis());
    let (status, checked) = check.await.expect("the check request task");
    assert_eq!((status, checked["status"].as_str()), (200, Some("ok")), "finished: {checked}");
    let log = std::fs::read_to_string(log).unwrap_or_default();
    assert!(log.contains("signal=SIGTERM") || log.contains("SIGTERM"), "{log}");

    let (stored_before, page_token) = {
        let store = open_store(dir.path());
        let run = store.run(&run_id).await.expect("store").expect("the run");
        assert_eq!(run.state, RunState::Cancelled, "{run:?}");
        assert!(run.error.as_deref().unwrap_or_default().contains("SIGTERM"), "{run:?}");
        let checkpoint = store.checkpoint(&connection, SyncKind::Jobs).await.expect("checkpoint");
        (jobs(&store, &connection).await.len(), checkpoint.page_token)
    };
    assert!(page_token.is_some(), "stopped mid-pass at a checkpoint");
    assert!(stored_before > 0 && stored_before < total, "{stored_before} of {total} stored");

    // The restart resumes from the checkpoint and finishes.
    sandbox.set_delay(Duration::ZERO);
    let host = HostProcess::start(dir.path(), &args).await;
    let run_id = host.start_sync(&connection, "jobs").await;
    let mut run = Value::Null;
    for _ in 0..1200 {
        run = host.run(&run_id).await;
        if !matches!(run["state"].as_str(), Some("queued" | "running")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(run["state"], "success", "{run}\n{}", host.log_text());
    let seen = run["counts"]["seen"].as_u64().unwrap_or(u64::MAX);
    assert!(seen < total as u64, "resumed, not started over: saw {seen} of {total}");
    host.terminate(EXIT_BOUND).await;

    let store = open_store(dir.path());
    let stored: HashSet<String> =
        jobs(&store, &connection).await.into_iter().map(|j| j.remote_id).collect();
    let in_ats: HashSet<String> =
        sandbox.jobs().iter().filter_map(|j| j["id"].as_str().map(str::to_string)).collect();
    assert_eq!(stored, in_ats, "every job of the ATS is stored");
    let created: Vec<String> = store
        .events(None, None, usize::MAX)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.event_type == "job.created")
        .map(|e| e.subject_id)
        .collect();
    let unique: HashSet<&String> = created.iter().collect();
    assert_eq!((created.len(), unique.len()), (total, total), "one job.created per job");
    let filter = RunFilter { limit: usize::MAX, ..RunFilter::default() };
    let unfinished =
        store.runs(&filter).await.expect("runs").into_iter().filter(|r| !r.state.is_finished());
    assert_eq!(unfinished.count(), 0, "no run is left running");
}

async fn jobs(store: &dyn Store, connection: &str) -> Vec<ats_host::store::StoredJob> {
    let filter = RecordFilter {
        connection_id: Some(connection.to_string()),
        limit: usize::MAX,
        ..RecordFilter::default()
    };
    store.jobs(&filter).await.expect("jobs")
}
