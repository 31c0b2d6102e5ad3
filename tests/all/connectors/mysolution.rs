//! The MySolution connector against the fake Salesforce org: the generic conformance kit and
//! seed scenario, and the MySolution specifics (published jobs from Apex `job/Get` filtered
//! and paged client-side, applications through Apex `job/Apply`, raw Apex errors, token
//! reuse and one refresh on `INVALID_SESSION_ID`, undeclared operations).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance;
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::salesforce::MySolutionFake;
use ats_tests::fakes::salesforce::store::text;
use ats_tests::harness::{Harness, page};
use ats_tests::salesforce_checks;
use std::collections::HashSet;

async fn harness() -> Harness<MySolutionFake> {
    Harness::start(MySolutionFake::start().await).await
}

async fn all_job_ids(h: &Harness<MySolutionFake>, limit: u32, since: Option<&str>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = None;
    for _ in 0..100 {
        let found = h.jobs(page(Some(limit), token, since)).await;
        ids.extend(found.items.into_iter().map(|job| job.id));
        match found.next_page_token {
            Some(next) => token = Some(next),
            None => return ids,
        }
    }
    panic!("more than 100 pages")
}

async fn upsert(h: &Harness<MySolutionFake>, email: &str, phone: &str) -> UpsertResult {
    let input = CandidateInput {
        first_name: "Sanne".into(),
        last_name: "Bakker".into(),
        emails: vec![email.into()],
        phones: vec![phone.into()],
        source: None,
        custom_fields: vec![],
        ..Default::default()
    };
    match h.ok(Invocation::UpsertCandidate(input)).await {
        Output::Upserted(result) => result,
        other => panic!("upsert returned {other:?}"),
    }
}

async fn apply(
    h: &Harness<MySolutionFake>,
    candidate: &str,
    job: &str,
) -> Result<Output, CallError> {
    h.call(Invocation::CreateApplication(ApplicationInput {
        candidate_id: candidate.into(),
        job_id: job.into(),
        stage_id: None,
        source: Some("Sourcy".into()),
        answers: vec![Answer {
            question: "Beschikbaar per?".into(),
            answer: "1 maart".into(),
            ..Default::default()
        }],
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = MySolutionFake::start().await;
    conformance::run_kit(&fake).await;
    let report = conformance::seed_scenario(&fake).await;
    assert!(report.unsupported.is_empty(), "{:?}", report.unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_published_jobs_are_listed_and_since_is_applied_client_side() {
    let h = harness().await;
    let old = h.fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    let new = h.fake.seed_jobs(2, "2025-06-01T00:00:00Z");
    h.fake.unpublish(&old[0], "2025-07-01T00:00:00Z");
    let all: HashSet<String> = all_job_ids(&h, 100, None).await.into_iter().collect();
    let expected: HashSet<String> = old[1..].iter().chain(&new).cloned().collect();
    assert_eq!(all, expected, "an unpublished job was listed, or a published one lost");
    let changed: HashSet<String> =
        all_job_ids(&h, 100, Some("2025-06-01T00:00:00Z")).await.into_iter().collect();
    assert_eq!(changed, new.iter().cloned().collect::<HashSet<_>>());
    let page = h.jobs(page(Some(10), None, Some("2025-06-01T00:00:00Z"))).await;
    assert!(page.items.iter().all(|job| job.status == JobStatus::Open
        && job.location.as_ref().and_then(Location::display).as_deref() == Some("Amsterdam")));
    assert!(page.items.iter().all(|job| job.title.starts_with("Vacature ")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_paged_client_side_in_a_stable_order() {
    let h = harness().await;
    let seeded: HashSet<String> = h.fake.seed_jobs(7, "2025-01-01T00:00:00Z").into_iter().collect();
    let listed = all_job_ids(&h, 3, None).await;
    assert_eq!(listed.len(), 7, "a job was listed twice or lost: {listed:?}");
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), seeded);
    assert_eq!(h.fake.requests_to("GET", "apexrest/msf/api/job/Get"), 3, "one Get per page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_goes_through_apply_with_the_candidate_fields() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = upsert(&h, "sanne@mysolution.example", "+31622222222").await.candidate_id;
    let Ok(Output::Application(application)) = apply(&h, &candidate, &job).await else {
        panic!("apply failed")
    };
    let applications = h.fake.records("msf__Job_Application__c");
    assert_eq!(applications.len(), 1);
    let stored = &applications[0];
    assert_eq!(text(stored, "Id"), application.id);
    assert_eq!(text(stored, "msf__Job__c"), job);
    assert_eq!(
        text(stored, "msf__Contact__c"),
        candidate,
        "Apply did not reach the same candidate"
    );
    assert!(text(stored, "msf__Motivation__c").contains("Beschikbaar per?: 1 maart"));
    assert_eq!(text(stored, "msf__Utm_Source__c"), "Sourcy");
    assert_eq!(h.fake.records("Contact").len(), 1, "Apply duplicated the candidate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_to_an_unpublished_job_is_a_remote_apex_error_not_transient() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    h.fake.unpublish(&job, "2025-02-01T00:00:00Z");
    let candidate = upsert(&h, "joost@mysolution.example", "+31633333333").await.candidate_id;
    match apply(&h, &candidate, &job).await {
        Err(CallError::Connector(AtsError::Remote(failure))) => {
            assert!(failure.body_excerpt.contains("APEX_ERROR"), "{failure:?}");
        }
        other => panic!("expected a remote Apex error, got {other:?}"),
    }
    assert!(h.fake.records("msf__Job_Application__c").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_reused_and_refreshed_once_on_the_apex_routes() {
    let h = harness().await;
    h.fake.seed_jobs(2, "2025-01-01T00:00:00Z");
    h.jobs(page(Some(10), None, None)).await;
    h.jobs(page(Some(10), None, None)).await;
    assert_eq!(h.fake.grants(), 1, "the token was not reused");
    h.fake.expire_tokens();
    assert_eq!(h.jobs(page(Some(10), None, None)).await.items.len(), 2);
    assert_eq!(h.fake.grants(), 2);
    // Two calls, the rejected call and its retry.
    assert_eq!(h.fake.faults().requests(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_limit_answer_is_rate_limited() {
    let h = harness().await;
    h.jobs(page(Some(10), None, None)).await;
    h.fake.inject_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    let result = h
        .call(Invocation::ListJobs(PageRequest { page_token: None, since: None, limit: None }))
        .await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::RateLimited(_)))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmapped_and_undeclared_operations_answer_unsupported_without_a_request() {
    let h = harness().await;
    salesforce_checks::unmapped_operations_answer_unsupported_without_a_request(
        &h,
        "a0A000000000001AAA",
    )
    .await;
    // The application object is not public either: reading applications needs it mapped.
    let unmapped = ats_tests::fakes::salesforce::unmapped(h.fake.config());
    for invocation in [
        Invocation::ListApplications(PageRequest::first()),
        Invocation::GetApplication { application_id: "a0A000000000001AAA".into() },
    ] {
        match h.call_with(&unmapped, invocation).await {
            Err(CallError::Connector(AtsError::Unsupported(message))) => {
                assert!(message.contains("application-object"), "{message}");
                assert!(message.contains("application-candidate-field"), "{message}");
            }
            other => panic!("expected unsupported, got {other:?}"),
        }
    }
    assert_eq!(h.fake.faults().requests(), 0, "no request was made");
}
