//! The Carerix connector against its fake: the generic conformance kit and seed scenario, and
//! the Carerix specifics (a token from the tenant's own token URL, reused and renewed once
//! on 401, the configurable scope, typed-date qualifiers with escaped values, publications
//! as the target of an apply, CRMatch stages, the CV data-node tag, GraphQL errors, webhooks).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance::{self, SAMPLE_PDF};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::carerix::{CarerixFake, WRAPPER_SCOPE};
use ats_tests::harness::{Harness, page, with};

mod contract_0_2;

async fn harness() -> Harness<CarerixFake> {
    Harness::start(CarerixFake::start().await).await
}

fn error_of(result: Result<Output, CallError>) -> AtsError {
    match result {
        Err(CallError::Connector(error)) => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = CarerixFake::start().await;
    conformance::run_kit(&fake).await;
    let report = conformance::seed_scenario(&fake).await;
    assert!(report.unsupported.is_empty(), "{:?}", report.unsupported);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_from_the_tenant_realm_serves_many_calls() {
    let h = harness().await;
    h.fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    for _ in 0..3 {
        assert_eq!(h.jobs(page(Some(10), None, None)).await.items.len(), 3);
    }
    h.stages().await;
    assert_eq!(h.fake.grants(), 1, "the token was not reused");

    let other_realm = h.fake.token_url().replace("acme-staffing", "someone-else");
    let config = with(h.fake.config(), "token-url", &other_realm);
    let refused = h.call_with(&config, Invocation::ListJobs(page(None, None, None))).await;
    assert!(matches!(error_of(refused), AtsError::NotFound(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_twice_is_unauthorized_after_exactly_one_new_grant() {
    let h = harness().await;
    h.fake.issue_dead_tokens(true);
    let error = error_of(h.call(Invocation::ListJobs(page(None, None, None))).await);
    assert!(matches!(error, AtsError::Unauthorized(_)), "{error:?}");
    assert_eq!(h.fake.grants(), 2, "expected the first grant and exactly one renewal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scope_is_configurable_for_tenants_on_the_wrapper_schema() {
    let h = harness().await;
    h.fake.require_scope(WRAPPER_SCOPE);
    let error = error_of(h.call(Invocation::ListJobs(page(None, None, None))).await);
    assert!(matches!(error, AtsError::Forbidden(_)), "{error:?}");
    let config = with(h.fake.config(), "scope", WRAPPER_SCOPE);
    let listed = h.call_with(&config, Invocation::ListJobs(page(None, None, None))).await;
    assert!(matches!(listed, Ok(Output::Jobs(_))), "{listed:?}");

    let config = with(h.fake.config(), "scope", "urn:cx/unknown");
    let error = error_of(h.call_with(&config, Invocation::ListJobs(page(None, None, None))).await);
    let AtsError::Unauthorized(message) = error else { panic!("{error:?}") };
    assert!(message.contains("invalid_scope") && message.contains("scope"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_reads_use_a_typed_date_qualifier() {
    let h = harness().await;
    let jobs = h.fake.seed_jobs(5, "2025-01-01T00:00:00Z");
    h.fake.touch_job(&jobs[2], "Planner (changed)", "2026-03-01T12:00:00Z");
    let changed = h.jobs(page(Some(10), None, Some("2026-03-01T10:00:00+01:00"))).await;
    let titles: Vec<&str> = changed.items.iter().map(|j| j.title.as_str()).collect();
    assert_eq!(titles, ["Planner (changed)"]);
    assert_eq!(changed.items[0].updated_at.as_deref(), Some("2026-03-01T12:00:00+00:00"));
    assert!(
        h.fake.documents().iter().any(
            |d| d.contains(r"modificationDate >= (NSCalendarDate) '2026-03-01 10:00:00 +0100'")
        ),
        "the since filter is not a typed qualifier: {:?}",
        h.fake.documents()
    );

    let candidate = h.upsert("watch@carerix.example", "+31612340001").await.candidate_id;
    h.ok(match h.apply(&candidate, &jobs[0], None).await {
        Ok(Output::Application(a)) => Invocation::MoveApplication {
            application_id: a.id,
            stage_id: h.stages().await[2].id.clone(),
        },
        other => panic!("{other:?}"),
    })
    .await;
    let recent = h.applications(page(Some(10), None, Some("2025-06-01T00:00:00Z"))).await;
    assert_eq!(recent.items.len(), 1);
    assert_eq!(recent.items[0].candidate_id, candidate);
    let none = h.applications(page(Some(10), None, Some("2999-01-01T00:00:00Z"))).await;
    assert!(none.items.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_is_zero_based_and_stops_on_a_stuck_server() {
    let h = harness().await;
    h.fake.seed_jobs(250, "2025-01-01T00:00:00Z");
    let first = h.jobs(page(Some(100), None, None)).await;
    assert_eq!(first.items[0].title, "Vacancy 1");
    let mut pages = 0;
    let mut token = Some("page:0".to_string());
    h.fake.faults().set_repeat_page_token(true);
    while let Some(next) = token {
        pages += 1;
        assert!(pages <= 3, "kept paging a server that answers page 0 forever");
        token = h.jobs(page(Some(100), Some(next), None)).await.next_page_token;
    }
    assert_eq!(pages, 3, "250 records in pages of 100");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qualifier_values_are_escaped() {
    let h = harness().await;
    let email = r"o'hara\ops@carerix.example";
    let created = h.upsert(email, "+31612340002").await;
    assert_eq!(created.outcome, UpsertOutcome::Created);
    let again = h.upsert(email, "+31612340003").await;
    assert_eq!((again.outcome, again.candidate_id), (UpsertOutcome::Matched, created.candidate_id));
    let found = h
        .ok(Invocation::FindCandidates {
            lookup: CandidateLookup::Email("x' OR emailAddress like '*".into()),
            page: page(None, None, None),
        })
        .await;
    let Output::Candidates(found) = found else { panic!("{found:?}") };
    assert!(found.items.is_empty(), "an injected qualifier matched {:?}", found.items);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_and_deleted_vacancies_map_to_statuses() {
    let h = harness().await;
    let jobs = h.fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    h.fake.set_vacancy_status(&jobs[1], "VacancyClosedTag", "2025-02-01T00:00:00Z");
    h.fake.delete_vacancy(&jobs[2], "2025-02-01T00:00:00Z");
    let config = with(h.fake.config(), "closed-vacancy-tags", "VacancyClosedTag, ArchivedTag");
    let Ok(Output::Jobs(listed)) =
        h.call_with(&config, Invocation::ListJobs(page(None, None, None))).await
    else {
        panic!("list-jobs failed")
    };
    let statuses: Vec<JobStatus> = listed.items.iter().map(|j| j.status).collect();
    assert_eq!(statuses, [JobStatus::Open, JobStatus::Closed, JobStatus::Archived]);
    assert!(listed.items.iter().all(|j| j.raw.contains("toStatusNode") && j.code.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_go_to_the_publication_once_and_a_second_apply_is_a_conflict() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let stages = h.stages().await;
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names[..2], ["New", "Screening"]);
    let candidate = h.upsert("apply@carerix.example", "+31612340004").await.candidate_id;
    let Ok(Output::Application(first)) = h.apply(&candidate, &job, Some(&stages[1].id)).await
    else {
        panic!("create-application failed")
    };
    assert_eq!(first.stage_id.as_deref(), Some(stages[1].id.as_str()));
    assert_eq!(first.stage_name.as_deref(), Some("Screening"));
    assert_eq!(first.source.as_deref(), Some("Sourcy"));
    // Carerix would add a second match (the fake does, as nothing says an apply looks for
    // one): the connector refuses, naming the match that exists.
    let error = error_of(h.apply(&candidate, &job, None).await);
    let AtsError::Conflict(message) = error else { panic!("{error:?}") };
    assert!(message.contains(&first.id), "the conflict does not name the match: {message}");
    let matches = h.fake.matches_of(&candidate);
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0]["motivation"], "Start date?: 1 March");
    assert!(matches[0]["toPublication"].is_string(), "the match is not on the publication");

    let unpublished = h.fake.add_unpublished_vacancy("Not on the website");
    let error = error_of(h.apply(&candidate, &unpublished, None).await);
    let AtsError::InvalidInput(message) = error else { panic!("{error:?}") };
    assert!(message.contains("publication"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cv_is_typed_with_the_cv_tag_and_tags_are_not_doubled() {
    let h = harness().await;
    let candidate = h.upsert("files@carerix.example", "+31612340005").await.candidate_id;
    for (kind, filename) in [(AttachmentKind::Cv, "cv.pdf"), (AttachmentKind::Report, "report.pdf")]
    {
        h.ok(Invocation::AddAttachment(AttachmentInput {
            target: Target::Candidate(candidate.clone()),
            filename: filename.into(),
            content_type: "application/pdf".into(),
            kind,
            content: SAMPLE_PDF.to_vec(),
        }))
        .await;
    }
    let files = h.fake.attachments_of(&candidate);
    assert_eq!(files.len(), 2);
    assert_eq!(files[0], ("cv.pdf".into(), Some("CVTag".into()), SAMPLE_PDF.to_vec()));
    assert_eq!(files[1].1, None, "only a CV carries the CV type tag");

    let tag = |tag: &str| {
        Invocation::AddTag(TagInput {
            target: Target::Candidate(candidate.clone()),
            tag: tag.into(),
        })
    };
    h.ok(tag("Sourcy")).await;
    let Output::Receipt(receipt) = h.ok(tag("sourcy")).await else { panic!("not a receipt") };
    assert!(receipt.remark.is_some_and(|r| r.contains("already")));
    h.ok(tag("Python")).await;
    let stored = h.fake.candidates().into_iter().find(|c| c.id == candidate).expect("stored");
    assert_eq!(stored.tags, ["Sourcy", "Python"]);
    let bad = error_of(h.call(tag("a,b")).await);
    assert!(matches!(bad, AtsError::InvalidInput(_)), "{bad:?}");

    for body in ["First message", "Second message"] {
        h.ok(Invocation::AddNote(NoteInput {
            target: Target::Candidate(candidate.clone()),
            body: body.into(),
        }))
        .await;
    }
    let stored = h.fake.candidates().into_iter().find(|c| c.id == candidate).expect("stored");
    assert_eq!(stored.notes, ["First message\n\nSecond message"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_errors_map_to_typed_errors() {
    let h = harness().await;
    let config = with(h.fake.config(), "stage-query", "crStageThingPage");
    let error = error_of(
        h.call_with(&config, Invocation::ListStages { job_id: None, page: page(None, None, None) })
            .await,
    );
    let AtsError::InvalidInput(message) = error else { panic!("{error:?}") };
    assert!(message.contains("crStageThingPage"), "{message}");

    let candidate = h.upsert("errors@carerix.example", "+31612340006").await.candidate_id;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    let missing_stage = h
        .call(Invocation::MoveApplication {
            application_id: application.id,
            stage_id: "999".into(),
        })
        .await;
    assert!(matches!(error_of(missing_stage), AtsError::NotFound(_)));
    let missing = h.call(Invocation::GetCandidate { candidate_id: "4242".into() }).await;
    assert!(matches!(error_of(missing), AtsError::NotFound(_)));
    let not_an_id = h.call(Invocation::GetCandidate { candidate_id: "1) { x".into() }).await;
    assert!(matches!(error_of(not_an_id), AtsError::InvalidInput(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_is_checked_before_any_request_and_notes_can_be_turned_off() {
    let h = harness().await;
    let without: Vec<_> =
        h.fake.config().into_iter().filter(|(name, _)| name != "token-url").collect();
    let error = error_of(h.call_with(&without, Invocation::ListJobs(page(None, None, None))).await);
    let AtsError::InvalidInput(message) = error else { panic!("{error:?}") };
    assert!(message.contains("token-url"), "{message}");
    let bad_size = with(h.fake.config(), "max-page-size", "lots");
    let error =
        error_of(h.call_with(&bad_size, Invocation::ListJobs(page(None, None, None))).await);
    assert!(
        matches!(error, AtsError::InvalidInput(ref m) if m.contains("max-page-size")),
        "{error:?}"
    );
    assert_eq!((h.fake.grants(), h.fake.documents().len()), (0, 0));

    let no_notes = with(h.fake.config(), "note-field", "none");
    let note =
        Invocation::AddNote(NoteInput { target: Target::Candidate("1".into()), body: "x".into() });
    assert!(matches!(error_of(h.call_with(&no_notes, note).await), AtsError::Unsupported(_)));
}

fn webhook(body: &str) -> Invocation {
    Invocation::ParseWebhook(WebhookRequest { headers: vec![], body: body.as_bytes().to_vec() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_events_become_change_events() {
    let h = harness().await;
    let event = |kind: &str, id: &str, fields: &str| {
        format!(
            r#"{{"id":"e1","time":"2026-03-01 10:00:00 +0000","type":"{kind}","applicationId":"a","webhookId":"w","tenant":"acme","data":{{"entityId":{id},"changedFields":[{fields}]}}}}"#
        )
    };
    let cases = [
        (
            event("crmatch:updated", "70001", r#""Stage""#),
            Some((ChangeKind::ApplicationStageChanged, "70001")),
        ),
        (
            event("CRMatch:updated", "\"70001\"", r#""notes""#),
            Some((ChangeKind::ApplicationChanged, "70001")),
        ),
        (event("cremployee:created", "50001", ""), Some((ChangeKind::CandidateChanged, "50001"))),
        (event("CRVacancy:deleted", "101", ""), Some((ChangeKind::JobDeleted, "101"))),
        (event("CRPublication:created", "30001", ""), Some((ChangeKind::JobChanged, "30001"))),
        (event("CRCompany:updated", "9", ""), None),
    ];
    for (body, expected) in cases {
        let Output::Webhook(WebhookOutcome { events, .. }) = h.ok(webhook(&body)).await else {
            panic!("not events")
        };
        let got: Vec<(ChangeKind, &str)> =
            events.iter().map(|e| (e.kind, e.remote_id.as_str())).collect();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>(), "{body}");
    }
    let batch =
        format!("[{},{}]", event("crmatch:created", "1", ""), event("cremployee:updated", "2", ""));
    let Output::Webhook(WebhookOutcome { events, .. }) = h.ok(webhook(&batch)).await else {
        panic!("not events")
    };
    assert_eq!(events.len(), 2);
    assert!(matches!(error_of(h.call(webhook("{}")).await), AtsError::InvalidInput(_)));
    assert!(matches!(error_of(h.call(webhook("not json")).await), AtsError::InvalidInput(_)));
}
