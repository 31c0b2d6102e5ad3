//! The OTYS connector against its fake: the generic conformance kit and seed scenario, and
//! the OTYS protocol specifics (session reuse, one re-login on an expired session, errors
//! inside HTTP 200 bodies, the 200-row cap, three status levels, the client-side duplicate
//! procedure rule, multipart uploads, webhooks).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance::{self, SAMPLE_PDF};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::otys::OtysFake;
use ats_tests::harness::{Harness, context_for};

async fn harness() -> Harness<OtysFake> {
    Harness::start(OtysFake::start().await).await
}

fn page(limit: Option<u32>, token: Option<String>) -> PageRequest {
    PageRequest { page_token: token, since: None, limit }
}

fn first_jobs_page() -> Invocation {
    Invocation::ListJobs(page(Some(10), None))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_and_seed_scenario() {
    let fake = OtysFake::start().await;
    conformance::run_kit(&fake).await;
    let report = conformance::seed_scenario(&fake).await;
    assert_eq!(report.unsupported, vec!["add-tag", "add-note"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_login_serves_many_calls_and_is_sent_as_the_first_param() {
    let h = harness().await;
    h.fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    for _ in 0..3 {
        h.ok(first_jobs_page()).await;
    }
    h.stages().await;
    assert_eq!(h.fake.calls_of("loginByUid"), 1, "the session was not reused");
    assert_eq!(h.fake.calls_of("Otys.Services.VacancyService.getListEx"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_costs_one_login_and_the_call_is_retried() {
    let h = harness().await;
    h.fake.seed_jobs(2, "2025-01-01T00:00:00Z");
    h.ok(first_jobs_page()).await;
    h.fake.expire_sessions();
    let Output::Jobs(jobs) = h.ok(first_jobs_page()).await else { panic!("not jobs") };
    assert_eq!(jobs.items.len(), 2);
    assert_eq!(h.fake.calls_of("loginByUid"), 2);
    // First call, the rejected retry-worthy call, and its retry.
    assert_eq!(h.fake.calls_of("Otys.Services.VacancyService.getListEx"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_rejected_twice_is_unauthorized_after_exactly_one_relogin() {
    let h = harness().await;
    h.ok(first_jobs_page()).await;
    h.fake.inject_error(-32000, "Access denied; please login again");
    h.fake.inject_error(-32000, "Access denied; please login again");
    let result = h.call(first_jobs_page()).await;
    assert!(
        matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))),
        "got {result:?}"
    );
    assert_eq!(h.fake.calls_of("loginByUid"), 2, "expected exactly one re-login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_inside_http_200_map_to_typed_errors() {
    let h = harness().await;
    let missing = h.call(Invocation::GetCandidate { candidate_id: "999999".into() }).await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");

    h.fake.inject_error(-32602, "Invalid params: unknown candidate field `x`");
    let invalid = h.call(first_jobs_page()).await;
    assert!(matches!(invalid, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{invalid:?}");

    h.fake.inject_error(4711, "Something broke in OWS");
    match h.call(first_jobs_page()).await {
        Err(CallError::Connector(AtsError::Remote(failure))) => {
            assert!(failure.body_excerpt.contains("Something broke in OWS"), "{failure:?}");
        }
        other => panic!("an unknown OTYS error gave {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_api_key_is_unauthorized_without_echoing_the_key() {
    let h = harness().await;
    let context = context_for(&h.fake.bad_credentials_config());
    let result = h.runtime.call(&h.connector, &context, first_jobs_page()).await;
    match result {
        Err(error @ CallError::Connector(AtsError::Unauthorized(_))) => {
            assert!(!error.to_string().contains("otys-revoked-key-0000"), "{error}");
        }
        other => panic!("bad key gave {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_capped_at_200_rows_and_still_cover_every_job() {
    let h = harness().await;
    let seeded = h.fake.seed_jobs(450, "2025-01-01T00:00:00Z");
    let mut token = None;
    let mut listed = Vec::new();
    loop {
        let Output::Jobs(jobs) = h.ok(Invocation::ListJobs(page(Some(500), token))).await else {
            panic!("not jobs")
        };
        assert!(jobs.items.len() <= 200, "a page of {} rows", jobs.items.len());
        listed.extend(jobs.items.into_iter().map(|job| job.id));
        match jobs.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(listed.len(), 450);
    assert!(seeded.iter().all(|id| listed.contains(id)));
}

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

fn webhook(body: &str) -> Invocation {
    Invocation::ParseWebhook(WebhookRequest { headers: vec![], body: body.as_bytes().to_vec() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_service_calls_become_change_events() {
    let h = harness().await;
    let cases = [
        (
            r#"{"request":{"method":"Otys.Services.VacancyService.update","args":["s","42",{"title":"x"}]}}"#,
            Some((ChangeKind::JobChanged, "42")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.VacancyService.delete","args":["s",42]}}"#,
            Some((ChangeKind::JobDeleted, "42")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.CandidateService.updateEx","args":["s","7",{}]}}"#,
            Some((ChangeKind::CandidateChanged, "7")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.ProcedureService.update","args":["s","9",{"ProcedureStatus1":{"uid":"1_102"}}]}}"#,
            Some((ChangeKind::ApplicationStageChanged, "9")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.ProcedureService.update","args":["s","9",{"UtmTags":{}}]}}"#,
            Some((ChangeKind::ApplicationChanged, "9")),
        ),
        (r#"{"request":{"method":"Otys.Services.CsmService.setValue","args":["s","SE1"]}}"#, None),
    ];
    for (body, expected) in cases {
        let Output::Events(events) = h.ok(webhook(body)).await else { panic!("not events") };
        let got: Vec<(ChangeKind, &str)> =
            events.iter().map(|e| (e.kind, e.remote_id.as_str())).collect();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>(), "{body}");
    }
    let bad = h.call(webhook("not json")).await;
    assert!(matches!(bad, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_are_listed_incrementally_on_their_modification_time() {
    let h = harness().await;
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert("since@otys.example", "+31666666666").await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    let since = |since: &str| {
        Invocation::ListApplications(PageRequest {
            page_token: None,
            since: Some(since.into()),
            limit: Some(50),
        })
    };
    let Output::Applications(recent) = h.ok(since("2000-01-01T00:00:00Z")).await else {
        panic!("not applications")
    };
    assert_eq!(recent.items.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [application.id]);
    let Output::Applications(future) = h.ok(since("2999-01-01T00:00:00Z")).await else {
        panic!("not applications")
    };
    assert!(future.items.is_empty(), "{:?}", future.items);
}

/// Raw JSON-RPC against the fake: it rejects what OWS rejects, in OWS's shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_rejects_what_ows_rejects() {
    let fake = OtysFake::start().await;
    let url = format!("{}/jservice.php", fake.base_url());
    let client = reqwest::Client::new();
    let rpc = |method: &str, params: serde_json::Value| {
        let body =
            serde_json::json!({ "jsonrpc": "2.0", "method": method, "params": params, "id": 1 });
        let request = client.post(&url).json(&body);
        async move {
            let response = request.send().await.expect("fake answers");
            assert_eq!(response.status(), 200, "OWS answers errors in HTTP 200");
            response.json::<serde_json::Value>().await.expect("JSON body")
        }
    };
    let message = |answer: &serde_json::Value| {
        answer["error"]["message"].as_str().unwrap_or_default().to_string()
    };
    let list = serde_json::json!({ "what": { "uid": 1 }, "limit": 500, "offset": 0 });

    let get = client.get(&url).send().await.expect("fake answers");
    assert_eq!(get.status(), 405, "jservice.php takes POST only");
    let no_session = rpc("Otys.Services.VacancyService.getListEx", serde_json::json!([list])).await;
    assert_eq!(message(&no_session), "Access denied; please login first");
    let bad_key = rpc("loginByUid", serde_json::json!(["not-the-key"])).await;
    assert!(bad_key.get("result").is_none() && bad_key.get("error").is_some());

    let key = fake.secrets().remove(0);
    let session = rpc("loginByUid", serde_json::json!([key])).await["result"]
        .as_str()
        .expect("a session id")
        .to_string();
    fake.seed_jobs(250, "2025-01-01T00:00:00Z");
    let capped =
        rpc("Otys.Services.VacancyService.getListEx", serde_json::json!([session, list])).await;
    assert_eq!(capped["result"]["listOutput"].as_array().map(Vec::len), Some(200));
    let unknown_option = rpc(
        "Otys.Services.VacancyService.getListEx",
        serde_json::json!([session, { "what": { "uid": 1 }, "page": 2 }]),
    )
    .await;
    assert_eq!(unknown_option["error"]["code"], -32602);
    let unknown_method =
        rpc("Otys.Services.NoteService.add", serde_json::json!([session, {}])).await;
    assert_eq!(unknown_method["error"]["code"], -32601);
    let unknown_field = rpc(
        "Otys.Services.CandidateService.add",
        serde_json::json!([session, { "Person": { "firstName": "A", "shoeSize": 44 } }]),
    )
    .await;
    assert!(message(&unknown_field).contains("shoeSize"), "{unknown_field}");
    fake.expire_sessions();
    let expired =
        rpc("Otys.Services.VacancyService.getListEx", serde_json::json!([session, list])).await;
    assert_eq!(message(&expired), "Access denied; please login again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remote_utc_offset_setting_shifts_since_and_labels_timestamps() {
    let h = harness().await;
    // The fake stores "2026-03-01 10:00:00": at +01:00 that is 09:00 UTC.
    let job = h.fake.seed_jobs(1, "2026-03-01T10:00:00Z").remove(0);
    let mut config = h.fake.config();
    config.push(("remote-utc-offset".into(), "+01:00".into()));
    let context = context_for(&config);
    let since = |since: &str| {
        Invocation::ListJobs(PageRequest {
            page_token: None,
            since: Some(since.into()),
            limit: Some(10),
        })
    };
    let Ok(Output::Jobs(included)) =
        h.runtime.call(&h.connector, &context, since("2026-03-01T09:00:00Z")).await
    else {
        panic!("list-jobs failed")
    };
    let listed: Vec<(&str, Option<&str>)> =
        included.items.iter().map(|j| (j.id.as_str(), j.updated_at.as_deref())).collect();
    assert_eq!(listed, [(job.as_str(), Some("2026-03-01T10:00:00+01:00"))]);
    let Ok(Output::Jobs(excluded)) =
        h.runtime.call(&h.connector, &context, since("2026-03-01T09:00:01Z")).await
    else {
        panic!("list-jobs failed")
    };
    assert!(excluded.items.is_empty(), "{:?}", excluded.items);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_against_a_stuck_server_stops_at_the_total_count() {
    let h = harness().await;
    h.fake.seed_jobs(25, "2025-01-01T00:00:00Z");
    h.fake.faults().set_repeat_page_token(true);
    let mut token = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 3, "paging did not stop at totalCount");
        let Output::Jobs(jobs) = h.ok(Invocation::ListJobs(page(Some(10), token))).await else {
            panic!("not jobs")
        };
        match jobs.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
}
