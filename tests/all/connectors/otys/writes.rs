//! Writes: the three status levels and moves, the client-side duplicate procedure rule,
//! matching by phone, multipart uploads (also after an expired session), documents on
//! applications and results as documents.

use super::{applied, harness, page};
use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance::SAMPLE_PDF;
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::otys::OtysFake;
use ats_tests::harness::{Harness, with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_status_levels_form_one_pipeline_and_a_move_sets_one_level() {
    let h = harness().await;
    let stages = h.stages().await;
    let ids: Vec<&str> = stages.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1_101", "1_102", "1_103", "1_104", "2_201", "2_202", "3_301", "3_302"]);
    assert!(stages.iter().enumerate().all(|(i, s)| s.position as usize == i));
    assert_eq!(stages[0].name, "Applied");

    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("levels@otys.example", "+31611111111").await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    // Without a stage, each level gets its "joined via website" status.
    assert_eq!(application.stage_id.as_deref(), Some("1_101"));

    h.ok(Invocation::MoveApplication {
        application_id: application.id.clone(),
        stage_id: "2_202".into(),
    })
    .await;
    let Output::Applications(listed) = h.ok(Invocation::ListApplications(page(None, None))).await
    else {
        panic!("not applications")
    };
    let moved = listed.items.iter().find(|a| a.id == application.id).expect("listed");
    assert_eq!(moved.stage_id.as_deref(), Some("1_101"), "level 1 must not change");
    assert!(
        moved.custom_fields.iter().any(|f| f.name == "procedure-status-2" && f.value == "2_202"),
        "{:?}",
        moved.custom_fields
    );
    assert_eq!(moved.source.as_deref(), Some("Sourcy"));

    let bad = h
        .call(Invocation::MoveApplication {
            application_id: application.id,
            stage_id: "4_1".into(),
        })
        .await;
    assert!(matches!(bad, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_application_to_the_same_vacancy_is_a_conflict() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("twice@otys.example", "+31622222222").await.candidate_id;
    h.apply(&candidate, &job, Some("1_102")).await.expect("first application");
    let second = h.apply(&candidate, &job, None).await;
    assert!(matches!(second, Err(CallError::Connector(AtsError::Conflict(_)))), "{second:?}");
    assert_eq!(h.fake.procedures_for(&candidate, &job), 1);
    let landed = h.fake.candidates().into_iter().find(|c| c.id == candidate).expect("candidate");
    assert_eq!(landed.applications[0].stage_id.as_deref(), Some("1_102"));
    assert!(landed.applications[0].answers_text.contains("Start date?: 1 March"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_by_phone_and_a_match_by_phone_keeps_one_candidate() {
    let h = harness().await;
    let first = h.upsert("phone@otys.example", "+31 6 3333 3333").await;
    assert_eq!(first.outcome, UpsertOutcome::Created);
    let lookup = CandidateLookup::Phone("+31633333333".into());
    let Output::Candidates(found) =
        h.ok(Invocation::FindCandidates { lookup, page: page(Some(10), None) }).await
    else {
        panic!("not candidates")
    };
    assert_eq!(
        found.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [first.candidate_id.as_str()]
    );
    let again = h.upsert("other@otys.example", "+31633333333").await;
    assert_eq!((again.outcome, again.candidate_id), (UpsertOutcome::Matched, first.candidate_id));
    assert_eq!(h.fake.candidates().len(), 1);
}

fn attachment(target: Target, kind: AttachmentKind, content: Vec<u8>) -> Invocation {
    Invocation::AddAttachment(AttachmentInput {
        target,
        filename: "anna-cv.pdf".into(),
        content_type: "application/pdf".into(),
        kind,
        content,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_upload_multipart_then_link_with_the_document_type() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("files@otys.example", "+31644444444").await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    h.ok(attachment(Target::Candidate(candidate.clone()), AttachmentKind::Cv, SAMPLE_PDF.to_vec()))
        .await;
    h.ok(attachment(
        Target::Application(application.id),
        AttachmentKind::Report,
        b"report".to_vec(),
    ))
    .await;
    assert_eq!(h.fake.calls_of("fileService.php"), 2);
    assert_eq!(h.fake.document_types(&candidate), [1, 201]);
    let landed = h.fake.candidates().into_iter().find(|c| c.id == candidate).expect("candidate");
    assert_eq!(
        landed.attachments,
        [
            ("anna-cv.pdf".to_string(), SAMPLE_PDF.to_vec()),
            ("anna-cv.pdf".to_string(), b"report".to_vec())
        ]
    );

    let too_big = vec![b'x'; 8 * 1024 * 1024 + 1];
    let refused =
        h.call(attachment(Target::Candidate(candidate), AttachmentKind::Cv, too_big)).await;
    assert!(matches!(refused, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{refused:?}");
    assert_eq!(h.fake.uploaded_files(), 2, "an oversized file must not be uploaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_after_the_session_expired_logs_in_again() {
    let h = harness().await;
    let candidate = h.upsert("expired-upload@otys.example", "+31655555555").await.candidate_id;
    h.fake.expire_sessions();
    h.ok(attachment(Target::Candidate(candidate), AttachmentKind::Cv, SAMPLE_PDF.to_vec())).await;
    assert_eq!(h.fake.calls_of("loginByUid"), 2);
    assert_eq!(h.fake.uploaded_files(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_on_an_application_carry_the_vacancys_internal_id() {
    let h = harness().await;
    assert!(h.connector.manifest.application_attachments);
    let (job, candidate, application) =
        applied(&h, "application-doc@otys.example", "+31677777777").await;
    let Output::Receipt(receipt) = h
        .ok(attachment(
            Target::Application(application.clone()),
            AttachmentKind::Other,
            b"memo".to_vec(),
        ))
        .await
    else {
        panic!("not a receipt")
    };
    h.ok(attachment(Target::Candidate(candidate.clone()), AttachmentKind::Cv, SAMPLE_PDF.to_vec()))
        .await;
    let documents = h.fake.documents();
    assert_eq!(documents.len(), 2);
    assert_eq!(receipt.remote_id.as_deref(), Some(documents[0].uid.as_str()));
    assert!(receipt.remark.as_deref().is_some_and(|r| r.contains("internalId")), "{receipt:?}");
    assert_eq!(documents[0].candidate, candidate);
    assert_eq!(documents[0].application_uid, Some(h.fake.internal_id(&job)));
    assert_eq!((documents[0].type_id, documents[0].content.as_slice()), (Some(201), &b"memo"[..]));
    assert_eq!(documents[1].application_uid, None, "a candidate document has no applicationUid");
    assert_eq!(calls_of_detail(&h), 1);

    let missing = h
        .call(attachment(Target::Application("999999".into()), AttachmentKind::Cv, b"x".to_vec()))
        .await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");
    assert_eq!(h.fake.uploaded_files(), 2, "nothing is uploaded for an unknown procedure");

    let candidate_only = with(h.fake.config(), "application-document-link", "none");
    let invocation =
        attachment(Target::Application(application), AttachmentKind::Other, b"memo 2".to_vec());
    h.call_with(&candidate_only, invocation).await.expect("attached to the candidate");
    let last = h.fake.documents().pop().expect("a document");
    assert_eq!((last.candidate, last.application_uid), (candidate, None));
}

fn calls_of_detail(h: &Harness<OtysFake>) -> usize {
    h.fake.calls_of("Otys.Services.VacancyService.getDetail")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_lands_as_a_document_on_the_application() {
    let h = harness().await;
    let manifest = &h.connector.manifest;
    assert!(manifest.operations.contains(&Operation::WriteResult));
    assert_eq!(manifest.result_modes, [ResultMode::Attachment]);
    let (job, candidate, application) = applied(&h, "result@otys.example", "+31688888888").await;
    let link = "https://assess.example/r/42";
    let result = ResultInput {
        application_id: application.clone(),
        score: Some(87.5),
        link: Some(link.into()),
        summary: Some("Strong match".into()),
        sub_results: vec![SubResult { label: "SQL".into(), score: 4.0, max_score: Some(5.0) }],
        ..Default::default()
    };
    let Output::Receipt(receipt) = h.ok(Invocation::WriteResult(result.clone())).await else {
        panic!("not a receipt")
    };
    let document = h.fake.documents().pop().expect("a document");
    assert_eq!(receipt.remote_id.as_deref(), Some(document.uid.as_str()));
    assert_eq!(document.filename, format!("result-{application}.txt"));
    assert_eq!(document.subject, format!("Result completed, score 87.5 / 100, {link}"));
    assert_eq!(
        (document.type_id, document.application_uid),
        (Some(201), Some(h.fake.internal_id(&job)))
    );
    let text = String::from_utf8_lossy(&document.content).into_owned();
    for part in [
        "Result: completed",
        "Score: 87.5 / 100",
        &format!("Link: {link}"),
        "Strong match",
        "- SQL: 4 / 5",
    ] {
        assert!(text.contains(part), "`{part}` missing from {text}");
    }
    let landed = h.fake.candidates().into_iter().find(|c| c.id == candidate).expect("candidate");
    assert!(landed.applications[0].result_text.contains(link), "{landed:?}");

    // With a report file, the file is the document and the subject carries the headline.
    let with_report = ResultInput {
        status: ResultStatus::Cancelled,
        score: None,
        report: Some(ReportFile {
            filename: "report.pdf".into(),
            content_type: "application/pdf".into(),
            content: SAMPLE_PDF.to_vec(),
        }),
        ..result
    };
    h.ok(Invocation::WriteResult(with_report)).await;
    let report = h.fake.documents().pop().expect("a document");
    assert_eq!((report.filename.as_str(), report.content.as_slice()), ("report.pdf", SAMPLE_PDF));
    assert_eq!(report.subject, format!("Result cancelled, {link}"));

    let missing = h
        .call(Invocation::WriteResult(ResultInput {
            application_id: "999999".into(),
            ..Default::default()
        }))
        .await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");
}
