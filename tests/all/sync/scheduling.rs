//! Scheduling and run states: RT-15 (sync now during a run is coalesced, never two runs of
//! one sync), RT-16 (partial is not success), RT-19 (revoked credentials → needs-reauth,
//! schedules paused, no retry storm), RT-04 (failures back the schedule off).

use ats_host::store::{ConnectionStatus, RunFilter, RunState, SyncKind};
use ats_tests::sync_rig::{CONNECTION, SyncRig};
use std::time::Duration;

#[tokio::test]
async fn rt15_sync_now_during_a_running_sync_joins_it() {
    let rig = SyncRig::start().await;
    rig.sandbox.seed_jobs(200, "2026-11-20T10:00:00Z");
    rig.sandbox.set_delay(Duration::from_millis(20));
    let (first, coalesced) = rig
        .host
        .sync
        .sync_now(CONNECTION, SyncKind::Jobs, ats_host::store::Trigger::Schedule)
        .await
        .expect("start");
    assert!(!coalesced);
    let mut joined = Vec::new();
    for _ in 0..5 {
        joined.push(
            rig.host
                .sync
                .sync_now(CONNECTION, SyncKind::Jobs, ats_host::store::Trigger::Manual)
                .await
                .expect("sync now"),
        );
    }
    assert!(joined.iter().all(|(id, coalesced)| *id == first && *coalesced), "{joined:?}");
    // The other sync of the same connection is independent.
    let (apps, coalesced) = rig
        .host
        .sync
        .sync_now(CONNECTION, SyncKind::Applications, ats_host::store::Trigger::Manual)
        .await
        .expect("apps");
    assert!(!coalesced);
    assert_ne!(apps, first);
    let run = rig.host.sync.wait(&first).await.expect("wait");
    assert_eq!(run.state, RunState::Success);
    rig.host.sync.wait(&apps).await.expect("wait");
    let runs =
        rig.host.store.runs(&RunFilter { limit: 100, ..RunFilter::default() }).await.expect("runs");
    assert_eq!(
        runs.iter().filter(|r| r.kind == SyncKind::Jobs).count(),
        1,
        "one jobs run, not six"
    );
}

#[tokio::test]
async fn rt16_a_partial_run_is_recorded_as_partial_not_success() {
    let config = ats_host::sync::SyncConfig {
        max_pages_per_run: 1,
        ..ats_tests::sync_rig::test_sync_config()
    };
    let rig = SyncRig::start_with(config).await;
    rig.sandbox.seed_jobs(100, "2026-11-20T10:00:00Z");
    let run = rig.run(SyncKind::Jobs).await;
    assert_eq!(run.state, RunState::Partial);
    let stored = rig.host.store.run(&run.id).await.expect("store").expect("run");
    assert_eq!(stored.state, RunState::Partial);
    let successes = rig
        .host
        .store
        .runs(&RunFilter { state: Some(RunState::Success), limit: 10, ..RunFilter::default() })
        .await
        .expect("runs");
    assert!(successes.is_empty());
}

#[tokio::test]
async fn rt19_revoked_credentials_mark_the_connection_and_pause_its_schedules() {
    let rig = SyncRig::start().await;
    rig.host.sync.schedule(&rig.connection().await).await;
    assert_eq!(rig.host.sync.next_due(CONNECTION).len(), 2, "both syncs scheduled");
    rig.sandbox.set_api_key("rotated-by-the-customer");
    let before = rig.sandbox.request_count();
    let run = rig.run(SyncKind::Jobs).await;
    assert_eq!(run.state, RunState::Failed);
    assert!(run.error.as_deref().unwrap_or_default().starts_with("unauthorized"), "{run:?}");
    assert!(rig.sandbox.request_count() - before <= 2, "no retry storm on 401");
    let connection = rig.connection().await;
    assert_eq!(connection.status, ConnectionStatus::NeedsReauth);
    assert!(
        connection.status_detail.as_deref().unwrap_or_default().contains("update the connection")
    );
    assert!(rig.host.sync.next_due(CONNECTION).is_empty(), "schedules paused");
    // A transient failure is not mistaken for revocation.
    let rig2 = SyncRig::start().await;
    rig2.sandbox.fail_next(2, 503);
    let ok = rig2.run(SyncKind::Jobs).await;
    assert_eq!(ok.state, RunState::Success, "{ok:?}");
    assert_eq!(rig2.connection().await.status, ConnectionStatus::Active);
}

#[tokio::test]
async fn rt04_repeated_failures_back_the_schedule_off() {
    let rig = SyncRig::start().await;
    rig.sandbox.fail_next(1_000, 500);
    let mut connection = rig.connection().await;
    connection.schedules.jobs_every_secs = 600;
    rig.host.store.put_connection(&connection, None).await.expect("store");
    for _ in 0..3 {
        assert_eq!(rig.run(SyncKind::Jobs).await.state, RunState::Failed);
    }
    let due = rig.host.sync.next_due(CONNECTION);
    let jobs_due =
        due.iter().find(|(k, _)| *k == SyncKind::Jobs).map(|(_, at)| *at).expect("scheduled");
    let wait = jobs_due - ats_host::time::now_ms();
    assert!(wait > 600_000 * 4, "after 3 failures the 10-minute sync waits 8x: {wait} ms");
}
