//! The Tigris connector against the fake Salesforce org: the generic conformance kit and seed
//! scenario, and the Salesforce/Tigris specifics (token reuse, one new token on
//! `INVALID_SESSION_ID`, `nextRecordsUrl` paging, the duplicate rule, typed Salesforce errors,
//! the `Tigris__Sollicitatie__c` intake, undeclared operations).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance::{self, SAMPLE_PDF};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::salesforce::TigrisFake;
use ats_tests::fakes::salesforce::store::text;
use ats_tests::harness::{Harness, page, with};
use ats_tests::salesforce_checks;
use std::collections::HashSet;

async fn harness() -> Harness<TigrisFake> {
    Harness::start(TigrisFake::start().await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = TigrisFake::start().await;
    conformance::run_kit(&fake).await;
    let report = conformance::seed_scenario(&fake).await;
    assert!(report.unsupported.is_empty(), "{:?}", report.unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_serves_many_calls() {
    let h = harness().await;
    h.fake.seed_jobs(2, "2025-01-01T00:00:00Z");
    for _ in 0..3 {
        assert_eq!(h.jobs(page(Some(10), None, None)).await.items.len(), 2);
    }
    assert_eq!(h.fake.grants(), 1, "the token was not reused");
    assert_eq!(h.fake.requests_to("POST", "/services/oauth2/token"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_session_costs_one_new_token_and_the_call_is_retried() {
    let h = harness().await;
    h.fake.seed_jobs(2, "2025-01-01T00:00:00Z");
    h.jobs(page(Some(10), None, None)).await;
    h.fake.expire_tokens();
    assert_eq!(h.jobs(page(Some(10), None, None)).await.items.len(), 2);
    assert_eq!(h.fake.grants(), 2);
    // First call, the rejected call and its retry.
    assert_eq!(h.fake.faults().requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_twice_is_unauthorized_after_exactly_one_new_grant() {
    let h = harness().await;
    h.fake.issue_dead_tokens(true);
    let result = h
        .call(Invocation::ListJobs(PageRequest { page_token: None, since: None, limit: None }))
        .await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");
    assert_eq!(h.fake.grants(), 2, "expected the first grant and exactly one refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_page_through_next_records_url_cursors() {
    let h = harness().await;
    h.fake.set_batch_size(3);
    let seeded: HashSet<String> = h.fake.seed_jobs(8, "2025-01-01T00:00:00Z").into_iter().collect();
    let mut listed = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = h.jobs(page(Some(200), token, None)).await;
        pages += 1;
        assert!(page.items.len() <= 3, "a batch larger than the org's batch size");
        listed.extend(page.items.into_iter().map(|job| job.id));
        match page.next_page_token {
            Some(next) => {
                assert!(
                    next.starts_with("/services/data/v60.0/query/"),
                    "token {next} is not a cursor"
                );
                token = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(listed.len(), 8);
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), seeded);
    assert_eq!(h.fake.queries().len(), 1, "later pages must follow the cursor, not re-query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_vacancy_is_closed_and_fields_are_mapped() {
    let h = harness().await;
    let ids = h.fake.seed_jobs(2, "2025-01-01T00:00:00Z");
    h.fake.touch_job(&ids[1], "Monteur (offline)", "2025-02-01T00:00:00Z");
    h.fake.set_offline(&ids[1], "2025-02-02T00:00:00Z");
    let page = h.jobs(page(Some(10), None, None)).await;
    let by_id = |id: &str| {
        page.items.iter().find(|j| j.id == id).cloned().unwrap_or_else(|| panic!("{id} not listed"))
    };
    let open = by_id(&ids[0]);
    assert_eq!(open.status, JobStatus::Open);
    assert_eq!(open.location.as_ref().and_then(Location::display).as_deref(), Some("Utrecht"));
    assert!(
        open.custom_fields.iter().any(|f| f.name == "Tigris__Geplaatst__c" && f.value == "true")
    );
    let closed = by_id(&ids[1]);
    assert_eq!(closed.status, JobStatus::Closed);
    assert_eq!(closed.title, "Monteur (offline)");
    assert_eq!(closed.updated_at.as_deref(), Some("2025-02-02T00:00:00+00:00"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_rule_block_updates_the_matched_contact() {
    let h = harness().await;
    // Entered by a recruiter with a stray blank: exact SOQL misses it, the rule matches it.
    let existing = h.fake.seed_contact("Anna", "Vries", " anna@tigris.example", "");
    let result = h.upsert("anna@tigris.example", "+31612345678").await;
    assert_eq!(result.outcome, UpsertOutcome::Matched);
    assert_eq!(result.candidate_id, existing);
    assert_eq!(h.fake.requests_to("POST", "sobjects/Contact"), 1, "the insert was not tried");
    let contacts = h.fake.records("Contact");
    assert_eq!(contacts.len(), 1, "the duplicate rule was bypassed");
    assert_eq!(text(&contacts[0], "LastName"), "de Vries");
    assert_eq!(text(&contacts[0], "MobilePhone"), "+31612345678");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_lands_as_an_intake_record() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("piet@tigris.example", "+31687654321").await.candidate_id;
    let input = ApplicationInput {
        candidate_id: candidate.clone(),
        job_id: job.clone(),
        stage_id: None,
        source: Some("Sourcy".into()),
        answers: vec![Answer {
            question: "Rijbewijs?".into(),
            answer: "Ja, B".into(),
            ..Default::default()
        }],
    };
    let Output::Application(application) = h.ok(Invocation::CreateApplication(input)).await else {
        panic!("not an application")
    };
    assert_eq!(
        (application.job_id.as_str(), application.candidate_id.as_str()),
        (job.as_str(), candidate.as_str())
    );
    let intakes = h.fake.records("Tigris__Sollicitatie__c");
    assert_eq!(intakes.len(), 1);
    let intake = &intakes[0];
    assert_eq!(text(intake, "Id"), application.id);
    assert_eq!(text(intake, "Tigris__Voornaam_kandidaat__c"), "Anna");
    assert_eq!(text(intake, "Tigris__Achternaam_kandidaat__c"), "de Vries");
    assert_eq!(text(intake, "Tigris__Email__c"), "piet@tigris.example");
    assert_eq!(text(intake, "Tigris__Telefoonnummer__c"), "+31687654321");
    assert_eq!(text(intake, "Tigris__Extern_vacature_ID__c"), job);
    assert!(text(intake, "Tigris__Opmerking__c").contains("Rijbewijs?: Ja, B"));
    assert!(text(intake, "Tigris__UTM_url__c").contains("utm_source=Sourcy"));

    let cv = AttachmentInput {
        target: Target::Application(application.id.clone()),
        filename: "cv.pdf".into(),
        content_type: "application/pdf".into(),
        kind: AttachmentKind::Cv,
        content: SAMPLE_PDF.to_vec(),
    };
    let Output::Receipt(receipt) = h.ok(Invocation::AddAttachment(cv)).await else {
        panic!("no receipt")
    };
    let version = receipt.remote_id.unwrap_or_default();
    assert_eq!(h.fake.file(&version).as_deref(), Some(SAMPLE_PDF));
    let versions = h.fake.records("ContentVersion");
    assert_eq!(text(&versions[0], "FirstPublishLocationId"), application.id);
    assert_eq!(text(&versions[0], "PathOnClient"), "cv.pdf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_to_an_unknown_vacancy_is_not_found() {
    let h = harness().await;
    let candidate = h.upsert("kees@tigris.example", "+31611111111").await.candidate_id;
    let input = ApplicationInput {
        candidate_id: candidate,
        job_id: "a0V000000009999AAA".into(),
        stage_id: None,
        source: None,
        answers: vec![],
    };
    let result = h.call(Invocation::CreateApplication(input)).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::NotFound(_)))), "{result:?}");
    assert!(h.fake.records("Tigris__Sollicitatie__c").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_error_codes_map_to_typed_errors() {
    let h = harness().await;
    h.jobs(page(Some(10), None, None)).await;
    let cases = [
        (403, "REQUEST_LIMIT_EXCEEDED", "rate-limited"),
        (400, "MALFORMED_QUERY", "invalid-input"),
        (403, "INSUFFICIENT_ACCESS_OR_READONLY", "forbidden"),
        (500, "UNKNOWN_EXCEPTION", "transient"),
    ];
    for (status, code, kind) in cases {
        h.fake.inject_error(status, code, "injected");
        let result = h
            .call(Invocation::ListJobs(PageRequest { page_token: None, since: None, limit: None }))
            .await;
        match result {
            Err(error) => assert_eq!(error.kind(), kind, "{code}: {error}"),
            Ok(_) => panic!("{code} was answered as a success"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_is_checked_before_any_request() {
    let h = harness().await;
    let old = with(h.fake.config(), "api-version", "30.0");
    let result = h
        .call_with(
            &old,
            Invocation::ListJobs(PageRequest { page_token: None, since: None, limit: None }),
        )
        .await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{result:?}");
    let injected = with(h.fake.config(), "candidate-object", "Contact WHERE Id != null");
    let lookup = Invocation::FindCandidates {
        lookup: CandidateLookup::Email("a@b.c".into()),
        page: PageRequest { page_token: None, since: None, limit: None },
    };
    let result = h.call_with(&injected, lookup).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{result:?}");
    assert_eq!(h.fake.grants(), 0, "a request was sent with an invalid config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmapped_and_undeclared_operations_answer_unsupported_without_a_request() {
    let h = harness().await;
    salesforce_checks::unmapped_operations_answer_unsupported_without_a_request(
        &h,
        "a0S000000000001AAA",
    )
    .await;
}
