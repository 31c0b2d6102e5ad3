//! RT-05: the host is killed (SIGKILL) at random points of a 5,000-job sync and restarted;
//! the final state equals a clean run and no event is duplicated.
//!
//! The sync runs in a child process: this test binary itself, re-executed to run only
//! `sync::crash::child_runs_one_sync` with the data directory and the sandbox URL in the
//! environment. The sandbox ATS lives in the parent, so it survives the kills.

use ats_host::store::{RunState, SecretBox, SledStore, Store, SyncKind};
use ats_tests::sync_rig::{
    self, events_of, jobs_of, open_host, open_host_with, start_sandbox, test_sync_config,
};
use rand::Rng;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const DIR_VAR: &str = "ATS_CRASH_CHILD_DIR";
const URL_VAR: &str = "ATS_CRASH_CHILD_URL";

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
    let host = open_host_with(Path::new(&dir), &url, test_sync_config(), limits).await;
    let run = host.sync.run_and_wait(sync_rig::CONNECTION, SyncKind::Jobs).await.expect("run");
    assert_eq!(run.state, RunState::Success, "{run:?}");
    host.store.flush().await.expect("flush");
}

fn spawn_child(dir: &Path, url: &str) -> std::process::Child {
    Command::new(crate::process::test_binary())
        .args(["sync::crash::child_runs_one_sync", "--exact", "--test-threads=1"])
        .env(DIR_VAR, dir)
        .env(URL_VAR, url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child host")
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

fn open_store(dir: &Path) -> SledStore {
    SledStore::open(&dir.join("store"), SecretBox::open(dir, None).expect("key"))
        .expect("store opens after the kill")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt05_killed_at_random_points_then_restarted_equals_a_clean_run() {
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
    // The kills are about the sync, not about compiling connectors: the child starts with
    // the compiled artifacts of the clean run, so each start reaches the sync quickly even
    // on a loaded machine.
    let compiled = dir.path().join("compiled");
    std::fs::create_dir_all(&compiled).expect("compiled dir");
    for entry in std::fs::read_dir(clean_dir.path().join("compiled")).expect("clean cache") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), compiled.join(entry.file_name())).expect("copy artifact");
    }
    let mut kills_mid_pass = 0;
    let mut finished = false;
    for attempt in 0..60 {
        let mut child = spawn_child(dir.path(), &url);
        if attempt < 40 {
            let wait = rand::rng().random_range(150..900);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if child.try_wait().expect("poll child").is_none() {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                let store = open_store(dir.path());
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

    let store = open_store(dir.path());
    let (jobs, events) = snapshot(&store).await;
    assert_eq!(jobs, expected.0, "the final records equal a clean run");
    let unique: HashSet<&(String, String)> = events.iter().collect();
    assert_eq!(unique.len(), events.len(), "no duplicate events");
    let mut sorted_events = events.clone();
    sorted_events.sort();
    let mut expected_events = expected.1.clone();
    expected_events.sort();
    assert_eq!(sorted_events, expected_events, "the same events as a clean run");
}
