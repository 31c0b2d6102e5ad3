//! RT-05: the host is killed (SIGKILL) at random points of a 5,000-job sync and restarted;
//! the final state equals a clean run and no event is duplicated. On sled and on
//! PostgreSQL (where a restarted node takes over the killed run once its lease runs out).
//!
//! The sync runs in a child process: this test binary itself, re-executed to run only
//! `sync::crash::child_runs_one_sync` with the data directory and the sandbox URL in the
//! environment. The sandbox ATS lives in the parent, so it survives the kills.

use ats_host::store::backend::StoreLocation;
use ats_host::store::{PgStore, RunState, SecretBox, SledStore, Store, SyncKind};
use ats_tests::postgres::PgCluster;
use ats_tests::sync_rig::{
    self, events_of, jobs_of, open_host, open_host_on, start_sandbox, test_sync_config,
};
use rand::Rng;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const DIR_VAR: &str = "ATS_CRASH_CHILD_DIR";
const URL_VAR: &str = "ATS_CRASH_CHILD_URL";
/// The child's store: a PostgreSQL URL, or unset for sled in the data dir.
const STORE_VAR: &str = "ATS_CRASH_CHILD_STORE";
/// A killed run's claim runs out this fast on PostgreSQL, so a restart soon takes it over.
const CHILD_RUN_LEASE: Duration = Duration::from_millis(600);

/// The child: runs one jobs sync on the given data dir (resuming from its checkpoint).
/// Does nothing when run as a normal test.
#[tokio::test]
async fn child_runs_one_sync() {
    let (Ok(dir), Ok(url)) = (std::env::var(DIR_VAR), std::env::var(URL_VAR)) else { return };
    // This test is about kills, not call limits: a child host's calls get time enough even
    // when the rest of the suite keeps both cores busy.
    let limits = ats_host::runtime::Limits {
        call_timeout: Duration::from_secs(30),
        ..ats_tests::test_limits()
    };
    let store = match std::env::var(STORE_VAR) {
        Ok(pg) => StoreLocation::Postgres(pg),
        Err(_) => StoreLocation::Embedded,
    };
    let config = ats_host::sync::SyncConfig { run_lease: CHILD_RUN_LEASE, ..test_sync_config() };
    let host = open_host_on(Path::new(&dir), &url, config, limits, store).await;
    let run = host.sync.run_and_wait(sync_rig::CONNECTION, SyncKind::Jobs).await.expect("run");
    assert_eq!(run.state, RunState::Success, "{run:?}");
    host.store.flush().await.expect("flush");
}

fn spawn_child(dir: &Path, url: &str, store: Option<&str>) -> std::process::Child {
    let mut command = Command::new(crate::process::test_binary());
    command
        .args(["sync::crash::child_runs_one_sync", "--exact", "--test-threads=1"])
        .env(DIR_VAR, dir)
        .env(URL_VAR, url)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(store) = store {
        command.env(STORE_VAR, store);
    }
    command.spawn().expect("spawn the child host")
}

/// remote id → (title, status, archived).
type JobStates = BTreeMap<String, (String, String, bool)>;

/// The stored jobs and the events as (type, subject).
async fn snapshot(store: &dyn Store) -> (JobStates, Vec<(String, String)>) {
    let jobs = jobs_of(store)
        .await
        .into_iter()
        .map(|j| (j.remote_id, (j.title, j.status, j.archived)))
        .collect();
    let events = events_of(store).await.into_iter().map(|e| (e.event_type, e.subject_id)).collect();
    (jobs, events)
}

async fn open_store(dir: &Path, pg: Option<&str>) -> Arc<dyn Store> {
    let key = SecretBox::open(dir, None).expect("key");
    match pg {
        Some(url) => Arc::new(PgStore::connect(url, key).await.expect("the database opens")),
        None => {
            Arc::new(SledStore::open(&dir.join("store"), key).expect("store opens after the kill"))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt05_killed_at_random_points_then_restarted_equals_a_clean_run() {
    killed_at_random_points_then_restarted_equals_a_clean_run(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt05_on_postgres_killed_at_random_points_then_restarted_equals_a_clean_run() {
    let cluster = PgCluster::start();
    killed_at_random_points_then_restarted_equals_a_clean_run(Some(&cluster.url)).await;
}

async fn killed_at_random_points_then_restarted_equals_a_clean_run(pg: Option<&str>) {
    let (url, sandbox) = start_sandbox().await;
    sandbox.seed_jobs(5_000, "2026-11-20T10:00:00Z");

    // The reference: a clean run in this process.
    let clean_dir = tempfile::tempdir().expect("dir");
    let clean = open_host(clean_dir.path(), &url, test_sync_config()).await;
    let run = clean.sync.run_and_wait(sync_rig::CONNECTION, SyncKind::Jobs).await.expect("run");
    assert_eq!(run.state, RunState::Success);
    let expected = snapshot(clean.store.as_ref()).await;
    drop(clean);

    // A pass that takes a while (5 ms more per page): kills land mid-pass after the store
    // wrote a checkpoint, even when the machine is fast or a restart resumes near the end.
    sandbox.set_delay(Duration::from_millis(5));
    let dir = tempfile::tempdir().expect("dir");
    // The kills are about the sync, not about compiling connectors: the child uses the
    // compiled artifacts the clean run left in the shared cache, so each start reaches the
    // sync quickly even on a loaded machine.
    let mut kills_mid_pass = 0;
    let mut finished = false;
    for attempt in 0..60 {
        let mut child = spawn_child(dir.path(), &url, pg);
        if attempt < 40 {
            let wait = rand::rng().random_range(150..900);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if child.try_wait().expect("poll child").is_none() {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                let store = open_store(dir.path(), pg).await;
                if store
                    .checkpoint(sync_rig::CONNECTION, SyncKind::Jobs)
                    .await
                    .expect("checkpoint")
                    .page_token
                    .is_some()
                {
                    kills_mid_pass += 1;
                }
                continue;
            }
        }
        // Poll, never block: the sandbox ATS the child talks to runs on this test's runtime.
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll child") {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        if status.success() {
            finished = true;
            break;
        }
    }
    assert!(finished, "a restarted host finished the sync");
    assert!(
        kills_mid_pass >= 2,
        "the test killed the host in the middle of the pass only {kills_mid_pass} times"
    );

    let store = open_store(dir.path(), pg).await;
    let (jobs, events) = snapshot(store.as_ref()).await;
    assert_eq!(jobs, expected.0, "the final records equal a clean run");
    let unique: HashSet<&(String, String)> = events.iter().collect();
    assert_eq!(unique.len(), events.len(), "no duplicate events");
    let mut sorted_events = events.clone();
    sorted_events.sort();
    let mut expected_events = expected.1.clone();
    expected_events.sort();
    assert_eq!(sorted_events, expected_events, "the same events as a clean run");
}
