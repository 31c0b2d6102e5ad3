//! Incremental correctness and paging guards: RT-06, RT-07, RT-10, RT-11.

use ats_host::store::{RunState, SyncKind};
use ats_tests::sync_rig::{SyncRig, test_sync_config};
use std::collections::HashSet;
use std::time::Duration;

#[tokio::test]
async fn rt06_equal_timestamps_across_page_boundaries_lose_nothing() {
    let rig = SyncRig::start().await;
    let ids = rig.sandbox.seed_jobs(1_000, "2026-11-20T10:00:00Z");
    let run = rig.run(SyncKind::Jobs).await;
    assert_eq!(run.state, RunState::Success, "{run:?}");
    let stored: HashSet<String> = rig.jobs().await.into_iter().map(|j| j.remote_id).collect();
    for id in &ids {
        assert!(stored.contains(id), "job {id} lost");
    }
    // The next (incremental) run sees the same second again and creates nothing twice.
    let again = rig.run(SyncKind::Jobs).await;
    assert_eq!(again.state, RunState::Success);
    assert_eq!(again.counts.created, 0, "{again:?}");
    let created = rig.events_of_type("job.created").await;
    let subjects: HashSet<&str> = created.iter().map(|e| e.subject_id.as_str()).collect();
    assert_eq!(subjects.len(), created.len(), "no duplicate job.created events");

    // The same in an incremental pass: 170 new jobs share one second after the watermark,
    // across pages of 50; `since` must not lose the ones past a page boundary.
    let later = rig.sandbox.seed_jobs(170, "2026-11-25T10:00:00Z");
    let incremental = rig.run(SyncKind::Jobs).await;
    assert_eq!(incremental.state, RunState::Success, "{incremental:?}");
    assert!(!incremental.full_scan, "the third run is incremental: {incremental:?}");
    assert!(incremental.progress.pages >= 4, "170 records in pages of 50: {incremental:?}");
    let stored: HashSet<String> = rig.jobs().await.into_iter().map(|j| j.remote_id).collect();
    let lost: Vec<&String> = later.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "an incremental pass lost {} jobs: {lost:?}", lost.len());
    assert_eq!(incremental.counts.created, 170, "{incremental:?}");
}

#[tokio::test]
async fn rt07_a_record_changed_during_a_run_is_picked_up_by_the_next_run() {
    let rig = SyncRig::start().await;
    let ids = rig.sandbox.seed_jobs(300, "2026-11-20T10:00:00Z");
    rig.sandbox.set_delay(Duration::from_millis(15));
    let engine = rig.host.sync.clone();
    let running = tokio::spawn(async move {
        engine.run_and_wait(ats_tests::sync_rig::CONNECTION, SyncKind::Jobs).await
    });
    tokio::time::sleep(Duration::from_millis(60)).await;
    // The recruiter edits the first job (already read) while the run pages on.
    rig.sandbox.upsert_job(&ids[0], "Edited mid-run", "open", "2026-11-21T08:00:00Z");
    let run = running.await.expect("join").expect("run");
    assert_eq!(run.state, RunState::Success);
    rig.sandbox.set_delay(Duration::ZERO);
    let next = rig.run(SyncKind::Jobs).await;
    assert_eq!(next.state, RunState::Success);
    assert_eq!(rig.job(&ids[0]).await.title, "Edited mid-run");
}

#[tokio::test]
async fn rt10_a_repeated_page_token_ends_the_run_partial_instead_of_looping() {
    let rig = SyncRig::start().await;
    rig.sandbox.seed_jobs(200, "2026-11-20T10:00:00Z");
    rig.sandbox.repeat_cursor(true);
    let run = rig.run(SyncKind::Jobs).await;
    assert_eq!(run.state, RunState::Partial, "{run:?}");
    assert!(run.error.as_deref().unwrap_or_default().contains("page token"), "{run:?}");
    assert!(run.progress.pages < 10, "the guard stopped the loop early: {run:?}");
    rig.sandbox.repeat_cursor(false);
    let fixed = rig.run(SyncKind::Jobs).await;
    assert_eq!(fixed.state, RunState::Success, "{fixed:?}");
    assert_eq!(rig.jobs().await.len(), 212, "12 seeded at start + 200");
}

#[tokio::test]
async fn rt10_a_page_cap_ends_the_run_partial_and_the_next_run_continues() {
    let config = ats_host::sync::SyncConfig { max_pages_per_run: 3, ..test_sync_config() };
    let rig = SyncRig::start_with(config).await;
    rig.sandbox.seed_jobs(400, "2026-11-20T10:00:00Z");
    let first = rig.run(SyncKind::Jobs).await;
    assert_eq!(first.state, RunState::Partial, "{first:?}");
    assert_eq!(first.progress.pages, 3);
    let mut runs = 1;
    loop {
        let run = rig.run(SyncKind::Jobs).await;
        runs += 1;
        if run.state == RunState::Success {
            break;
        }
        assert_eq!(run.state, RunState::Partial);
        assert!(runs < 10, "runs never finished the pass");
    }
    assert_eq!(rig.jobs().await.len(), 412);
    assert_eq!(
        rig.events_of_type("job.created").await.len(),
        412,
        "resuming creates each job once"
    );
}

#[tokio::test]
async fn rt11_a_hanging_ats_cannot_stall_the_run() {
    let rig = SyncRig::start().await;
    rig.sandbox.set_delay(Duration::from_secs(120));
    let started = std::time::Instant::now();
    let run = rig.run(SyncKind::Jobs).await;
    assert_eq!(run.state, RunState::Failed, "{run:?}");
    assert!(run.error.as_deref().unwrap_or_default().contains("time limit"), "{run:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "bounded by the call deadline and retries"
    );
}
