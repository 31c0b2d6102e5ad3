//! Job lifecycle: RT-12 (deletions only after a complete full scan), RT-13 (closed → archived
//! once, reopened → restored), and the seed semantics (new jobs inactive, frozen jobs keep
//! their fields).

use ats_host::store::RecordFilter;
use ats_host::store::{JobFlags, RunState, SyncKind};
use ats_host::sync::SyncConfig;
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::carerix::CarerixFake;
use ats_tests::fakes::otys::OtysFake;
use ats_tests::sync_rig::{CONNECTION, SyncRig, TENANT, test_sync_config};
use std::time::Duration;

fn full_scan_every_run() -> SyncConfig {
    SyncConfig { full_scan_every: Duration::ZERO, ..test_sync_config() }
}

#[tokio::test]
async fn rt12_a_deleted_job_is_archived_only_after_a_complete_full_scan() {
    let rig = SyncRig::start_with(full_scan_every_run()).await;
    let ids = rig.sandbox.seed_jobs(150, "2026-11-20T10:00:00Z");
    assert_eq!(rig.run(SyncKind::Jobs).await.state, RunState::Success);
    rig.sandbox.delete_job(&ids[10]);
    // A scan that fails half-way deletes nothing.
    rig.sandbox.seed_jobs(0, "2026-11-20T10:00:00Z");
    let engine = rig.host.sync.clone();
    rig.sandbox.set_delay(Duration::from_millis(20));
    let before = rig.sandbox.request_count();
    let running =
        tokio::spawn(async move { engine.run_and_wait(CONNECTION, SyncKind::Jobs).await });
    while rig.sandbox.request_count() < before + 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    rig.sandbox.fail_next(50, 503);
    let failed = running.await.expect("join").expect("run");
    assert_eq!(failed.state, RunState::Failed, "{failed:?}");
    assert!(!rig.job(&ids[10]).await.archived, "an incomplete scan must not delete");
    assert!(rig.events_of_type("job.deleted").await.is_empty());
    rig.sandbox.set_delay(Duration::ZERO);
    rig.sandbox.fail_next(0, 503);
    let complete = rig.run(SyncKind::Jobs).await;
    assert_eq!(complete.state, RunState::Success, "{complete:?}");
    assert!(rig.job(&ids[10]).await.archived);
    let deleted = rig.events_of_type("job.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].subject_id, ids[10]);
    assert!(!rig.job(&ids[11]).await.archived, "jobs still in the ATS stay");
}

#[tokio::test]
async fn rt13_a_closed_job_is_archived_once_and_a_reopened_one_restored_not_duplicated() {
    let rig = SyncRig::start().await;
    assert_eq!(rig.run(SyncKind::Jobs).await.state, RunState::Success);
    let id = "job-1";
    rig.sandbox.upsert_job(id, "Backend Developer (Rust)", "closed", "2030-01-01T10:00:00Z");
    rig.run(SyncKind::Jobs).await;
    rig.run(SyncKind::Jobs).await;
    assert!(rig.job(id).await.archived);
    assert_eq!(rig.events_of_type("job.closed").await.len(), 1, "closed once, even over two syncs");
    rig.sandbox.upsert_job(id, "Backend Developer (Rust)", "open", "2030-01-02T10:00:00Z");
    rig.run(SyncKind::Jobs).await;
    let job = rig.job(id).await;
    assert!(!job.archived);
    assert_eq!(rig.events_of_type("job.reopened").await.len(), 1);
    let copies = rig.jobs().await.into_iter().filter(|j| j.remote_id == id).count();
    assert_eq!(copies, 1, "restored, not duplicated");
}

#[tokio::test]
async fn new_jobs_start_inactive_and_frozen_jobs_keep_their_fields() {
    let rig = SyncRig::start().await;
    rig.run(SyncKind::Jobs).await;
    let job = rig.job("job-2").await;
    assert!(!job.active, "newly synced jobs start inactive");
    let flags = JobFlags { active: Some(true), frozen: Some(true) };
    rig.host.store.set_job_flags(&job.connection_id, "job-2", flags).await.expect("store");
    rig.sandbox.upsert_job("job-2", "Renamed in the ATS", "open", "2030-01-01T10:00:00Z");
    rig.sandbox.upsert_job("job-3", "Also renamed", "open", "2030-01-01T10:00:00Z");
    rig.run(SyncKind::Jobs).await;
    let kept = rig.job("job-2").await;
    assert_eq!(kept.title, job.title, "a frozen job is not overwritten");
    assert!(kept.active);
    assert_eq!(rig.job("job-3").await.title, "Also renamed", "other jobs update");
    assert_eq!(rig.events_of_type("job.updated").await.len(), 1);
    // Closing a frozen job in the ATS still archives it.
    rig.sandbox.upsert_job("job-2", "Renamed in the ATS", "closed", "2030-01-02T10:00:00Z");
    rig.run(SyncKind::Jobs).await;
    assert!(rig.job("job-2").await.archived);
}

/// An agency serving clients on different systems: one tenant, three ATSs (the sandbox,
/// Carerix over GraphQL, OTYS over JSON-RPC), each synced through its own connector; the
/// records and events of each connection stay apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenant_with_several_ats_keeps_each_connections_records_apart() {
    let rig = SyncRig::start().await;
    let carerix = CarerixFake::start().await;
    let otys = OtysFake::start().await;
    let carerix_jobs = carerix.seed_jobs(3, "2025-01-01T00:00:00Z");
    let otys_jobs = otys.seed_jobs(5, "2025-01-01T00:00:00Z");
    rig.connect_fake("conn_carerix", &carerix).await;
    rig.connect_fake("conn_otys", &otys).await;
    for connection in [CONNECTION, "conn_carerix", "conn_otys"] {
        let run = rig.host.sync.run_and_wait(connection, SyncKind::Jobs).await.expect("run");
        assert_eq!(run.state, RunState::Success, "{connection}: {run:?}");
    }
    let remote_ids = async |connection: &str| -> Vec<String> {
        let filter = RecordFilter {
            connection_id: Some(connection.into()),
            limit: usize::MAX,
            ..RecordFilter::default()
        };
        let mut ids: Vec<String> = rig
            .host
            .store
            .jobs(&filter)
            .await
            .expect("store")
            .into_iter()
            .map(|j| {
                assert_eq!(j.tenant_id, TENANT);
                j.remote_id
            })
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(remote_ids("conn_carerix").await, sorted(carerix_jobs));
    assert_eq!(remote_ids("conn_otys").await, sorted(otys_jobs));
    assert_eq!(remote_ids(CONNECTION).await.len(), 12, "the sandbox seeds 12 jobs");
    let created = async |connection: &str| {
        rig.events_of_type("job.created")
            .await
            .iter()
            .filter(|e| e.connection_id == connection)
            .count()
    };
    assert_eq!(
        (created("conn_carerix").await, created("conn_otys").await, created(CONNECTION).await),
        (3, 5, 12)
    );

    carerix.touch_job(
        &remote_ids("conn_carerix").await[0],
        "Changed in Carerix",
        "2026-03-01T10:00:00Z",
    );
    let run = rig.host.sync.run_and_wait("conn_carerix", SyncKind::Jobs).await.expect("run");
    assert_eq!(run.counts.updated, 1, "{run:?}");
    let updated: Vec<String> =
        rig.events_of_type("job.updated").await.into_iter().map(|e| e.connection_id).collect();
    assert_eq!(updated, ["conn_carerix"]);
}
