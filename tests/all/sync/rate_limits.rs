//! Rate limits: RT-01 (short waits inline, long waits end the run `partial` with its
//! checkpoint), RT-03 (one budget per connection).

use ats_host::store::{RunState, SyncKind};
use ats_tests::sync_rig::{CONNECTION, SyncRig};
use std::time::{Duration, Instant};

#[tokio::test]
async fn rt01_a_short_retry_after_is_waited_out_inside_the_run() {
    let rig = SyncRig::start().await;
    rig.sandbox.seed_jobs(120, "2026-11-20T10:00:00Z");
    rig.sandbox.rate_limit_next(1, 1);
    let started = Instant::now();
    let run = rig.run(SyncKind::Jobs).await;
    assert_eq!(run.state, RunState::Success, "{run:?}");
    assert!(started.elapsed() >= Duration::from_millis(900), "waited for Retry-After");
    assert_eq!(rig.jobs().await.len(), 132);
}

#[tokio::test]
async fn rt01_a_long_retry_after_ends_the_run_partial_and_keeps_the_checkpoint() {
    let rig = SyncRig::start().await;
    rig.sandbox.seed_jobs(300, "2026-11-20T10:00:00Z");
    // Let the first pages through, then answer 429 with an hour's Retry-After.
    let engine = rig.host.sync.clone();
    let before = rig.sandbox.request_count();
    rig.sandbox.set_delay(Duration::from_millis(30));
    let running =
        tokio::spawn(async move { engine.run_and_wait(CONNECTION, SyncKind::Jobs).await });
    // Stages, then the tags, rejection reasons and users, then the first job pages.
    while rig.sandbox.request_count() < before + 7 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    rig.sandbox.rate_limit_next(1, 3600);
    let run = running.await.expect("join").expect("run");
    assert_eq!(run.state, RunState::Partial, "{run:?}");
    assert!(run.error.as_deref().unwrap_or_default().contains("retry after 3600s"), "{run:?}");
    let checkpoint =
        rig.host.store.checkpoint(CONNECTION, SyncKind::Jobs).await.expect("checkpoint");
    assert!(checkpoint.page_token.is_some(), "the pass position is kept: {checkpoint:?}");
    let stored = rig.jobs().await.len();
    assert!(stored > 0 && stored < 312, "{stored} jobs stored before the limit");
    // During the cool-down nothing is sent; the next run ends partial at once.
    let requests = rig.sandbox.request_count();
    let blocked = rig.run(SyncKind::Jobs).await;
    assert_eq!(blocked.state, RunState::Partial);
    assert_eq!(rig.sandbox.request_count(), requests, "no request during the cool-down");
}

#[tokio::test]
async fn rt03_writes_and_syncs_share_one_budget_per_connection() {
    let config = ats_host::sync::SyncConfig {
        calls_per_second: 20.0,
        ..ats_tests::sync_rig::test_sync_config()
    };
    let rig = SyncRig::start_with(config).await;
    let budgets = &rig.host.sync.budgets;
    // Exhaust the budget as a burst of writes would.
    for _ in 0..20 {
        budgets.acquire(CONNECTION, "sandbox").await;
    }
    let started = Instant::now();
    let run = rig.run(SyncKind::Jobs).await;
    assert_eq!(run.state, RunState::Success);
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "the sync waited for the shared budget"
    );
}
