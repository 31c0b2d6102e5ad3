//! The Recruitee manifest connector against its fake: the conformance kit (without the
//! incremental check: Recruitee cannot filter offers by change time), the seed scenario (its
//! one known gap: a placement has nowhere to keep screening answers), through the host, and
//! Recruitee specifics (bearer token, `query` search by phone, multipart attachment fields,
//! company errors).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance::{self, SAMPLE_PDF};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::recruitee::RecruiteeFake;
use ats_tests::harness::{Harness, page, with};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = Arc::new(RecruiteeFake::start().await);
    conformance::run_kit(&*fake).await;
    // The seed scenario runs to its answers check, which must fail and nothing before it.
    let message = conformance::panic_message(async {
        conformance::seed_scenario(&*fake).await;
    })
    .await
    .expect("screening answers cannot land on a Recruitee placement");
    assert!(message.contains("answer `Yes, to Utrecht` missing"), "another failure: {message}");
}

/// The host's drive. Recruitee keeps notes on candidates only: the host puts the push note
/// (and the result note) there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_through_the_host() {
    let fake = RecruiteeFake::start().await;
    crate::api::through_the_host::works_through_the_host(&fake, "recruitee").await;
    crate::api::through_the_host::pushed_with_its_note(&fake, "recruitee");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_page_by_offset_and_since_is_not_a_filter() {
    let h = Harness::start(RecruiteeFake::start().await).await;
    let old = h.fake.seed_jobs(150, "2025-01-01T00:00:00Z");
    h.fake.touch_job(&old[0], "Renamed", "2026-04-01T10:00:00Z");
    let first = h.jobs(page(None, None, None)).await;
    assert_eq!(first.items.len(), 100, "limit is sent");
    let token = first.next_page_token.expect("a full page asks for more");
    let second = h.jobs(page(None, Some(token), None)).await;
    assert_eq!(second.items.len(), 50, "offset advances by the records returned");
    assert!(second.next_page_token.is_none(), "a short page ends the list");
    // Known gap: no change filter on offers, so `since` returns every offer.
    let since = h.jobs(page(None, None, Some("2026-04-01T10:00:00Z"))).await;
    assert_eq!(since.items.len(), 100);
    let renamed = since.items.iter().find(|j| j.id == old[0]).expect("listed");
    assert_eq!(renamed.title, "Renamed");
    assert_eq!(renamed.status, JobStatus::Open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_search_finds_the_candidate_and_the_cv_goes_in_the_form() {
    let h = Harness::start(RecruiteeFake::start().await).await;
    let first = h.upsert("anna@recruitee.example", "+31 6 1234 5678").await;
    assert_eq!(first.outcome, UpsertOutcome::Created);
    let again = h.upsert("other@recruitee.example", "+31 6 1234 5678").await;
    assert_eq!(
        (again.outcome, again.candidate_id.as_str()),
        (UpsertOutcome::Matched, first.candidate_id.as_str())
    );
    let cv = AttachmentInput {
        target: Target::Candidate(first.candidate_id.clone()),
        filename: "cv.pdf".into(),
        content_type: "application/pdf".into(),
        kind: AttachmentKind::Cv,
        content: SAMPLE_PDF.to_vec(),
    };
    let Output::Receipt(receipt) = h.ok(Invocation::AddAttachment(cv)).await else {
        panic!("no receipt")
    };
    assert!(receipt.remote_id.is_some());
    assert_eq!(h.fake.orphan_attachments(), 0, "the candidate id must travel in the form");
    let stored =
        h.fake.candidates().into_iter().find(|c| c.id == first.candidate_id).expect("stored");
    assert_eq!(stored.attachments, vec![("cv.pdf".to_string(), SAMPLE_PDF.to_vec())]);
    assert_eq!(
        stored.emails,
        vec!["anna@recruitee.example".to_string()],
        "the update kept the e-mails"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_and_token_errors_are_typed() {
    let h = Harness::start(RecruiteeFake::start().await).await;
    let jobs = || Invocation::ListJobs(page(None, None, None));
    let invalid = h.call_with(&with(h.fake.config(), "company-id", "acme"), jobs()).await;
    assert!(matches!(invalid, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{invalid:?}");
    let unknown = h.call_with(&with(h.fake.config(), "company-id", "1"), jobs()).await;
    assert!(matches!(unknown, Err(CallError::Connector(AtsError::NotFound(_)))), "{unknown:?}");
    let revoked = h.call_with(&h.fake.bad_credentials_config(), jobs()).await;
    assert!(matches!(revoked, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{revoked:?}");
}
