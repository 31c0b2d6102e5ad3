//! The Ashby manifest connector (`connectors/manifests/ashby`) against the fake Ashby: the
//! conformance kit check by check (its known gaps asserted exactly), the seed scenario and
//! the host drive up to their known gaps, and Ashby specifics: every call a POST with a JSON
//! body, the cursor in the body followed while `moreDataAvailable`, business errors in a
//! 200 body mapped by `[[errors]] body_contains`, webhooks created and deleted.

use super::greenhouse::panic_of;
use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance;
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::ashby::AshbyFake;
use ats_tests::harness::{Harness, page, with};
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = AshbyFake::start().await;
    conformance::run_kit(&fake).await;

    // Known gap: application.create takes no screening answers.
    let message = panic_of(async {
        conformance::seed_scenario(&fake).await;
    })
    .await;
    assert!(message.contains("seed-scenario: answer `Yes, to Utrecht` missing"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_through_the_host() {
    // Ashby keeps notes on candidates: the host puts the push note there.
    let fake = AshbyFake::start().await;
    crate::api::through_the_host::works_through_the_host(&fake, "ashby").await;
    let pushed = crate::api::through_the_host::pushed_with_its_note(&fake, "ashby");
    assert_eq!(pushed.applications.len(), 1, "{pushed:?}");
    assert!(pushed.attachments.iter().any(|(name, _)| name == "cv.pdf"), "{pushed:?}");
}

async fn harness() -> Harness<AshbyFake> {
    Harness::start(AshbyFake::start().await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cursor_travels_in_the_body_while_more_data_is_available() {
    let h = harness().await;
    let seeded: HashSet<String> =
        h.fake.seed_jobs(250, "2025-01-01T00:00:00Z").into_iter().collect();
    let (mut listed, mut token, mut pages) = (Vec::new(), None, 0);
    loop {
        let page = h.jobs(page(Some(100), token, None)).await;
        pages += 1;
        listed.extend(page.items.into_iter().map(|j| j.id));
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!((pages, listed.len()), (3, 250));
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), seeded);
    let bodies: Vec<_> = h.fake.requests().into_iter().filter(|(e, _)| e == "job.list").collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0].1["limit"], 100);
    assert!(bodies[0].1["cursor"].is_null(), "{:?}", bodies[0]);
    assert!(bodies[1].1["cursor"].is_string() && bodies[2].1["cursor"].is_string());
    assert_ne!(bodies[1].1["cursor"], bodies[2].1["cursor"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_in_a_200_body_are_typed_and_a_wrong_key_is_unauthorized() {
    let h = harness().await;
    let result = h.call(Invocation::GetApplication { application_id: "nope".into() }).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::NotFound(_)))), "{result:?}");
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("anna@ashby.example", "+31612345678").await.candidate_id;
    let result = h.apply(&candidate, &job, Some("not-a-stage-of-this-plan")).await;
    match result {
        Err(CallError::Connector(AtsError::InvalidInput(message))) => {
            assert!(message.contains("invalid_interview_stage"), "{message}")
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    let bad = with(h.fake.config(), "api-key", "not-the-key-at-all");
    let result = h.call_with(&bad, Invocation::ListJobs(page(Some(10), None, None))).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_lands_with_note_file_and_a_moved_application() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("piet@ashby.example", "+31687654321").await.candidate_id;
    let stages = match h
        .ok(Invocation::ListStages { job_id: Some(job.clone()), page: page(None, None, None) })
        .await
    {
        Output::Stages(page) => page.items,
        other => panic!("{other:?}"),
    };
    assert_eq!(stages.len(), 6);
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, Some(&stages[0].id)).await
    else {
        panic!("no application")
    };
    h.ok(Invocation::MoveApplication {
        application_id: application.id.clone(),
        stage_id: stages[2].id.clone(),
    })
    .await;
    let note = NoteInput { target: Target::Candidate(candidate.clone()), body: "Hi Piet".into() };
    h.ok(Invocation::AddNote(note)).await;
    let cv = conformance::attachment(Target::Candidate(candidate.clone()), AttachmentKind::Cv);
    h.ok(Invocation::AddAttachment(cv)).await;
    let stored = h.fake.candidates().into_iter().find(|c| c.id == candidate).expect("candidate");
    assert_eq!((stored.first_name.as_str(), stored.last_name.as_str()), ("Anna", "de Vries"));
    assert_eq!(stored.phones, vec!["+31687654321".to_string()]);
    assert_eq!(stored.notes, vec!["Hi Piet".to_string()]);
    assert_eq!(stored.attachments, vec![("cv.pdf".to_string(), conformance::SAMPLE_PDF.to_vec())]);
    assert_eq!(stored.applications[0].stage_id.as_deref(), Some(stages[2].id.as_str()));
    let create =
        h.fake.requests().into_iter().find(|(e, _)| e == "candidate.create").expect("create");
    assert_eq!(create.1["name"], "Anna de Vries");
    assert_eq!(create.1["email"], "piet@ashby.example");
}
