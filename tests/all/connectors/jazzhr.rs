//! The JazzHR manifest connector against the fake JazzHR: the generic conformance kit (every
//! check; those JazzHR's known gaps make fail are expected to fail for exactly that reason),
//! the seed scenario, and JazzHR's specifics (`?apikey=`, pages as `/page/{n}` path segments
//! followed to the empty page, applicants created with the intake job).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Limits, Output};
use ats_tests::conformance::{self, Kit};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::jazzhr::JazzHrFake;
use ats_tests::harness::{Harness, context_for, page, with};
use futures::FutureExt;
use std::collections::HashSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

async fn harness() -> Harness<JazzHrFake> {
    let fake = JazzHrFake::start().await;
    Harness::start(fake).await
}

/// Runs a kit check that must fail on a known JazzHR gap, and checks it fails for that
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

/// No lookup by e-mail or phone: a second push creates a second applicant.
const NO_DEDUPE: &str = "must match";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = JazzHrFake::start().await;
    let intake = fake.seed_jobs(1, "2024-01-01T00:00:00Z").remove(0);
    let config = with(fake.config(), "intake-job-id", &intake);
    authors_kit_fails_only_on_the_second_push(&config).await;

    let kit = Kit::new(&fake).await;
    conformance::unsupported_operations_answer_unsupported(&kit).await;
    conformance::supported_operations_round_trip(&kit).await;
    conformance::newer_operations_round_trip(&kit).await;
    conformance::paging_returns_every_job_once(&kit).await;
    // JazzHR jobs have no change filter (research §11): `since` returns every job.
    fails_on_known_gap(
        conformance::incremental_since_returns_only_changed_jobs(&kit),
        "older jobs were returned",
    )
    .await;
    fails_on_known_gap(conformance::upsert_twice_keeps_one_candidate(&kit), NO_DEDUPE).await;
    conformance::rate_limits_carry_the_retry_after(&kit).await;
    conformance::expired_session_reauthenticates_exactly_once(&kit).await;
    conformance::server_errors_are_transient(&kit).await;
    conformance::bad_credentials_are_unauthorized(&kit).await;
    conformance::secrets_never_leak(&kit);

    fails_on_known_gap(conformance::seed_scenario(&fake), NO_DEDUPE).await;
}

async fn authors_kit_fails_only_on_the_second_push(config: &[(String, String)]) {
    let runtime =
        ats_tests::runtime(Limits { call_timeout: Duration::from_secs(20), ..Limits::default() });
    let connector = ats_tests::bundled_connector(&runtime, "jazzhr").await;
    let options = ats_host::kit::KitOptions { max_pages: 50, ..Default::default() };
    let report = ats_host::kit::run(&runtime, &connector, &context_for(config), options).await;
    let failed: Vec<(&str, &str)> =
        report.failures().map(|f| (f.operation, f.detail.as_str())).collect();
    assert_eq!(failed.len(), 1, "{}", ats_host::kit::render(&report));
    assert_eq!(failed[0].0, "upsert-candidate");
    assert!(failed[0].1.contains("the same person again gave Created"), "{}", failed[0].1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_through_the_host() {
    crate::api::through_the_host::works_through_the_host(&JazzHrFake::start().await, "jazzhr")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_goes_in_the_query_and_a_wrong_one_is_unauthorized() {
    let h = harness().await;
    h.fake.seed_jobs(1, "2025-01-01T00:00:00Z");
    assert_eq!(h.jobs(page(Some(10), None, None)).await.items.len(), 1);
    let wrong = with(h.fake.config(), "api-key", "jz-0000000000000000000000");
    let result = h.call_with(&wrong, ats_tests::list_jobs()).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");
    let key = h.fake.secrets().remove(0);
    let error = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(!error.contains(&key) && !error.contains("jz-0000000000000000000000"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_path_segments_followed_to_the_empty_page() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let ids: HashSet<String> =
        (0..150).map(|n| h.fake.apply(&format!("Ann{n}"), &job, "2025-03-01")).collect();
    let (mut listed, mut token, mut pages) = (HashSet::new(), None, 0);
    loop {
        let page = h.applications(page(Some(100), token, None)).await;
        pages += 1;
        listed.extend(page.items.iter().map(|a| a.id.clone()));
        assert!(page.items.iter().all(|a| a.job_id == job && a.candidate_id == a.id));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, ids);
    assert!(pages >= 2, "{pages}");
    let paths: Vec<String> =
        h.fake.requests().into_iter().filter(|r| r.starts_with("GET /applicants/")).collect();
    assert_eq!(
        paths,
        ["GET /applicants/page/1", "GET /applicants/page/2", "GET /applicants/page/3"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_candidate_is_created_on_the_intake_job_and_reads_back() {
    let fake = JazzHrFake::start().await;
    let intake = fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let config = with(fake.config(), "intake-job-id", &intake);
    let h = Harness::start(fake).await;
    let input = CandidateInput {
        first_name: "Anna".into(),
        last_name: "de Vries".into(),
        emails: vec!["anna@jazz.example".into()],
        phones: vec!["+31611111111".into()],
        ..Default::default()
    };
    let Ok(Output::Upserted(created)) =
        h.call_with(&config, Invocation::UpsertCandidate(input)).await
    else {
        panic!("upsert failed")
    };
    assert_eq!(created.outcome, UpsertOutcome::Created);
    let stored = h.fake.applicant(&created.candidate_id).expect("stored");
    assert_eq!(
        (stored.email.as_str(), stored.job.as_str()),
        ("anna@jazz.example", intake.as_str())
    );
    let Output::Candidate(read) =
        h.ok(Invocation::GetCandidate { candidate_id: created.candidate_id.clone() }).await
    else {
        panic!("not a candidate")
    };
    assert_eq!(
        (read.last_name.as_str(), read.phones.clone()),
        ("de Vries", vec!["+31611111111".to_string()])
    );
    let missing = h.call(Invocation::GetCandidate { candidate_id: "prospect_0".into() }).await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");
}
