//! The BambooHR manifest connector against the fake BambooHR: the generic conformance kit
//! (every check; the incremental one expected to fail on BambooHR's known gap), the seed
//! scenario,
//! and BambooHR's specifics (Basic `key:x` and the subdomain in the path, `page` +
//! `paginationComplete`, no `newSince` as a change cursor, status-id writes).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Limits};
use ats_tests::conformance::{self, Kit};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::bamboohr::{BambooHrFake, REJECTED_STATUS};
use ats_tests::harness::{Harness, context_for, page, with};
use futures::FutureExt;
use std::collections::HashSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

async fn harness() -> Harness<BambooHrFake> {
    Harness::start(BambooHrFake::start().await).await
}

/// Runs a kit check that must fail on a known BambooHR gap, and checks it fails for that
/// reason (a check that starts passing, or fails otherwise, fails the test).
async fn fails_on_known_gap<T>(check: impl Future<Output = T>, gap: &str) {
    let Err(panic) = AssertUnwindSafe(check).catch_unwind().await else {
        panic!("expected the known gap `{gap}`, but the check passed: update the test and README");
    };
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains(gap), "expected the known gap `{gap}`, got: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = BambooHrFake::start().await;
    // The authors' kit first, on a fresh fake: BambooHR answers every job in one page, which
    // that kit refuses once the checks below have seeded over 1,000 jobs.
    authors_kit_passes(&fake).await;

    let kit = Kit::new(&fake).await;
    conformance::unsupported_operations_answer_unsupported(&kit).await;
    conformance::supported_operations_round_trip(&kit).await;
    conformance::newer_operations_round_trip(&kit).await;
    conformance::paging_returns_every_job_once(&kit).await;
    // BambooHR jobs have no change filter (research §10): `since` returns every job.
    fails_on_known_gap(
        conformance::incremental_since_returns_only_changed_jobs(&kit),
        "older jobs were returned",
    )
    .await;
    conformance::upsert_twice_keeps_one_candidate(&kit).await;
    conformance::rate_limits_carry_the_retry_after(&kit).await;
    conformance::expired_session_reauthenticates_exactly_once(&kit).await;
    conformance::server_errors_are_transient(&kit).await;
    conformance::bad_credentials_are_unauthorized(&kit).await;
    conformance::secrets_never_leak(&kit);

    let report = conformance::seed_scenario(&fake).await;
    assert_eq!(
        report.unsupported,
        vec!["create-application", "add-attachment", "add-tag", "add-note"]
    );
}

async fn authors_kit_passes(fake: &BambooHrFake) {
    let runtime =
        ats_tests::runtime(Limits { call_timeout: Duration::from_secs(20), ..Limits::default() });
    let connector = ats_tests::bundled_connector(&runtime, "bamboohr").await;
    let context = context_for(&fake.config());
    let options = ats_host::kit::KitOptions { max_pages: 50, ..Default::default() };
    let report = ats_host::kit::run(&runtime, &connector, &context, options).await;
    assert!(report.passed(), "{}", ats_host::kit::render(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_through_the_host() {
    crate::api::through_the_host::works_through_the_host(&BambooHrFake::start().await, "bamboohr")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_key_and_subdomain_are_checked() {
    let h = harness().await;
    assert!(!h.jobs(page(Some(10), None, None)).await.items.is_empty());
    let wrong_key = with(h.fake.config(), "api-key", "bhr-0000000000000000000000");
    let result = h.call_with(&wrong_key, ats_tests::list_jobs()).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");
    let wrong_company = with(h.fake.config(), "subdomain", "globex");
    let result = h.call_with(&wrong_company, ats_tests::list_jobs()).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::NotFound(_)))), "{result:?}");
    let missing = h.fake.config().into_iter().filter(|(k, _)| k != "subdomain").collect::<Vec<_>>();
    let result = h.call_with(&missing, ats_tests::list_jobs()).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_page_until_pagination_complete_and_ignore_new_since() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let old = ats_host::time::parse_ms("2025-02-01T00:00:00Z").expect("date");
    let ids: HashSet<String> =
        (0..60).map(|n| h.fake.apply("Ann", &format!("ann{n}@bhr.example"), &job, old)).collect();
    let (mut listed, mut token, mut pages) = (HashSet::new(), None, 0);
    loop {
        // A `since` after every submission: a `newSince` would hide them all (F3).
        let page = h.applications(page(Some(100), token, Some("2026-01-01T00:00:00Z"))).await;
        pages += 1;
        listed.extend(page.items.into_iter().map(|a| a.id));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!((pages, listed), (3, ids));
    let requests: Vec<String> =
        h.fake.requests().into_iter().filter(|r| r.starts_with("GET applications [")).collect();
    assert_eq!(requests.len(), 3, "{requests:?}");
    for (n, request) in requests.iter().enumerate() {
        assert!(request.contains(&format!("(\"page\", \"{}\")", n + 1)), "{request}");
        assert!(!request.contains("newSince"), "{request}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_moves_and_rejections_land_on_the_application() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let application = h.fake.apply("Bea", "bea@bhr.example", &job, ats_host::time::now_ms());
    let stages = h.stages().await;
    let interviewed = stages.iter().find(|s| s.name == "Interviewed").expect("stage").id.clone();
    h.ok(Invocation::MoveApplication {
        application_id: application.clone(),
        stage_id: interviewed.clone(),
    })
    .await;
    assert_eq!(h.fake.application(&application).expect("stored").status.to_string(), interviewed);
    let read = match h.ok(Invocation::GetApplication { application_id: application.clone() }).await
    {
        ats_host::runtime::Output::Application(a) => a,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (read.job_id.as_str(), read.stage_name.as_deref()),
        (job.as_str(), Some("Interviewed"))
    );

    // Comments exist on applications, but the operation cannot be declared (README).
    let note =
        NoteInput { target: Target::Application(application.clone()), body: "Score 87/100".into() };
    let result = h.call(Invocation::AddNote(note)).await;
    assert!(result.as_ref().is_err_and(|e| e.kind() == "unsupported"), "{result:?}");
    let reject = RejectInput {
        application_id: application.clone(),
        reason: "Not a fit".into(),
        reason_id: None,
    };
    h.ok(Invocation::RejectApplication(reject)).await;
    let stored = h.fake.application(&application).expect("stored");
    assert_eq!(stored.status, REJECTED_STATUS);
    assert_eq!(read.candidate_id, stored.applicant.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_candidate_is_filed_under_the_intake_job_once() {
    let h = harness().await;
    let first = h.upsert("cor@bhr.example", "+31633333333").await;
    let again = h.upsert("cor@bhr.example", "+31633333333").await;
    assert_eq!((first.outcome, again.outcome), (UpsertOutcome::Created, UpsertOutcome::Matched));
    assert_eq!(first.candidate_id, again.candidate_id);
    let stored: Vec<_> =
        h.fake.candidates().into_iter().filter(|c| c.emails == ["cor@bhr.example"]).collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].applications.len(), 1);
    assert_eq!(stored[0].applications[0].job_id, h.fake.intake_job());
    assert_eq!(stored[0].phones, vec!["+31633333333".to_string()]);
    assert_eq!(stored[0].tags, vec!["Sourcy".to_string()]);
}
