//! The OTYS connector against its fake: the generic conformance kit and seed scenario, and
//! the OTYS protocol specifics (session reuse, one re-login on an expired session, errors
//! inside HTTP 200 bodies, `excludeLimitCheck` above 200 rows, three status levels, the
//! client-side duplicate procedure rule, multipart uploads, documents on applications,
//! results as documents, vacancy texts and locations, webhooks and their subscriptions,
//! `check`, users).

use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::conformance::{self, SAMPLE_PDF};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::otys::{CLIENT_NAME, OtysFake};
use ats_tests::harness::{Harness, context_for, with};

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

const VACANCY_LIST: &str = "Otys.Services.VacancyService.getListEx";

/// Every job id over all pages of `limit` rows, with the config `config`.
async fn all_job_ids(
    h: &Harness<OtysFake>,
    config: &[(String, String)],
    limit: u32,
) -> Vec<String> {
    let mut token = None;
    let mut listed = Vec::new();
    loop {
        let invocation = Invocation::ListJobs(page(Some(limit), token));
        let Ok(Output::Jobs(jobs)) = h.call_with(config, invocation).await else {
            panic!("list-jobs failed")
        };
        listed.extend(jobs.items.into_iter().map(|job| job.id));
        match jobs.next_page_token {
            Some(next) => token = Some(next),
            None => return listed,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_sizes_above_200_send_exclude_limit_check() {
    let h = harness().await;
    let seeded = h.fake.seed_jobs(450, "2025-01-01T00:00:00Z");
    // 500 rows in one call, as the official plugin asks: with excludeLimitCheck.
    let listed = all_job_ids(&h, &h.fake.config(), 500).await;
    assert_eq!(listed.len(), 450);
    assert!(seeded.iter().all(|id| listed.contains(id)));
    assert_eq!(h.fake.list_limits(VACANCY_LIST), [(500, true)]);
    // Up to 200 rows: no excludeLimitCheck.
    let listed = all_job_ids(&h, &h.fake.config(), 200).await;
    assert_eq!(listed.len(), 450);
    assert_eq!(h.fake.list_limits(VACANCY_LIST)[1..], [(200, false), (200, false), (200, false)]);
    // `max-page-size` caps the page; `limit-check-rows` moves the threshold.
    let capped = with(h.fake.config(), "max-page-size", "200");
    assert_eq!(all_job_ids(&h, &capped, 500).await.len(), 450);
    assert!(h.fake.list_limits(VACANCY_LIST)[4..].iter().all(|call| *call == (200, false)));
    let lower = with(h.fake.config(), "limit-check-rows", "100");
    all_job_ids(&h, &lower, 150).await;
    assert_eq!(h.fake.list_limits(VACANCY_LIST).last(), Some(&(150, true)));
    // The candidate search sends it too.
    let lookup = CandidateLookup::Email("nobody@otys.example".into());
    h.ok(Invocation::FindCandidates { lookup, page: page(Some(300), None) }).await;
    assert_eq!(h.fake.list_limits("Otys.Services.CandidateService.getListEx"), [(300, true)]);
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
        let Output::Webhook(WebhookOutcome { events, .. }) = h.ok(webhook(body)).await else {
            panic!("not events")
        };
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
    let over = rpc(VACANCY_LIST, serde_json::json!([session, list])).await;
    assert_eq!(over["error"]["code"], -32602, "a limit above 200 needs excludeLimitCheck");
    assert!(message(&over).contains("excludeLimitCheck"), "{over}");
    let unchecked =
        serde_json::json!({ "what": { "uid": 1 }, "limit": 500, "excludeLimitCheck": true });
    let all = rpc(VACANCY_LIST, serde_json::json!([session, unchecked])).await;
    assert_eq!(all["result"]["listOutput"].as_array().map(Vec::len), Some(250));
    let extra_field = serde_json::json!({ "what": { "uid": 1, "extraInfo1": 1 }, "limit": 10 });
    let unknown_what = rpc(VACANCY_LIST, serde_json::json!([session, extra_field])).await;
    assert!(message(&unknown_what).contains("extraInfo1"), "{unknown_what}");
    let check = rpc("check", serde_json::json!([session])).await;
    assert_eq!(check["result"]["client"], CLIENT_NAME);
    let document = serde_json::json!({ "candidateUid": "1", "fileUid": "x", "typeId": 201,
        "applicationUid": "no-such-vacancy" });
    let bad_application =
        rpc("Otys.Services.AttachedDocumentsService.add", serde_json::json!([session, document]))
            .await;
    assert!(message(&bad_application).contains("Application"), "{bad_application}");
    let prefixed = serde_json::json!({ "serviceCall": "Otys.Services.VacancyService.update",
        "webhookUrl": "https://host.example/in", "klantGlobal": true });
    let bad_hook =
        rpc("Otys.Services.WebhooksService.add", serde_json::json!([session, prefixed])).await;
    assert_eq!(bad_hook["error"]["code"], -32602, "{bad_hook}");
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

async fn job_page(config: &[(String, String)], h: &Harness<OtysFake>) -> Vec<Job> {
    match h.call_with(config, Invocation::ListJobs(page(Some(50), None))).await {
        Ok(Output::Jobs(jobs)) => jobs.items,
        other => panic!("list-jobs gave {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_carry_the_vacancy_texts_and_a_structured_location() {
    let h = harness().await;
    let ids = h.fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    // No location parts, a lower-case country code; no texts at all.
    h.fake.set_vacancy_fields(
        &ids[1],
        serde_json::json!({ "location": "Remote (NL)", "locationCity": null,
            "locationState": null, "locationPostcode": null, "locationCountryCode": "nl",
            "textField_summary": null, "textField_description": null,
            "textField_requirements": null }),
    );
    // A country OTYS writes as a name is not an ISO code.
    h.fake.set_vacancy_fields(&ids[2], serde_json::json!({ "locationCountryCode": "Nederland" }));
    let jobs = job_page(&h.fake.config(), &h).await;
    let job = |id: &str| jobs.iter().find(|j| j.id == id).expect("listed");

    let first = job(&ids[0]);
    assert_eq!(
        first.description.as_deref(),
        Some(
            "<h3>About Vacancy 1</h3>\n<p>Join us as Vacancy 1.</p>\n\
             <h3>Functieomschrijving</h3>\n<p>You build data pipelines.</p>\n\
             <h3>Functie-eisen</h3>\n<ul><li>SQL</li></ul>"
        ),
        "empty, null and unconfigured text fields are left out"
    );
    assert_eq!(
        first.location,
        Some(Location {
            text: Some("Utrecht".into()),
            city: Some("Utrecht".into()),
            region: Some("Utrecht".into()),
            country: Some("NL".into()),
            postal_code: Some("3511 AB".into()),
            remote: None,
        })
    );
    let second = job(&ids[1]);
    assert_eq!(second.description, None);
    assert_eq!(
        second.location,
        Some(Location {
            text: Some("Remote (NL)".into()),
            country: Some("NL".into()),
            ..Location::default()
        })
    );
    assert_eq!(job(&ids[2]).location.as_ref().and_then(|l| l.country.clone()), None);

    let extra = with(h.fake.config(), "description-fields", "textField_extra1");
    let jobs = job_page(&extra, &h).await;
    let first = jobs.iter().find(|j| j.id == ids[0]).expect("listed");
    assert_eq!(first.description.as_deref(), Some("<h3>Intern</h3>\n<p>Internal remark</p>"));
    let unknown = with(h.fake.config(), "description-fields", "extraInfo1");
    let refused = h.call_with(&unknown, Invocation::ListJobs(page(Some(5), None))).await;
    assert!(matches!(refused, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{refused:?}");
    assert_eq!(h.fake.calls_of(VACANCY_LIST), 2, "an unknown text field is never requested");
}

/// A job, a candidate and an application on it: (job, candidate, application).
async fn applied(h: &Harness<OtysFake>, email: &str, phone: &str) -> (String, String, String) {
    let job = h.fake.seed_jobs(1, "2025-01-01T00:00:00Z").remove(0);
    let candidate = h.upsert(email, phone).await.candidate_id;
    let Ok(Output::Application(application)) = h.apply(&candidate, &job, None).await else {
        panic!("create-application failed")
    };
    (job, candidate, application.id)
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

fn subscription(url: &str, kinds: Vec<ChangeKind>) -> Invocation {
    Invocation::RegisterWebhook(WebhookSubscription {
        url: url.into(),
        secret: Some("not-used-by-otys".into()),
        kinds,
    })
}

fn receipt_of(output: Output) -> WriteReceipt {
    match output {
        Output::Receipt(receipt) => receipt,
        other => panic!("not a receipt: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_subscribed_per_service_call_and_unsubscribed_together() {
    let h = harness().await;
    let url = "https://host.example/v1/inbound/otys-1";
    let all = receipt_of(h.ok(subscription(url, vec![])).await);
    let remote_id = all.remote_id.clone().expect("a remote id");
    let live = h.fake.webhook_subscriptions();
    let calls: Vec<&str> = live.iter().map(|(_, call, _, _)| call.as_str()).collect();
    assert_eq!(
        calls,
        [
            "VacancyService.update",
            "VacancyService.updateEx",
            "VacancyService.delete",
            "CandidateService.update",
            "CandidateService.updateEx",
            "ProcedureService.update"
        ]
    );
    assert!(live.iter().all(|(_, _, target, global)| target == url && *global), "{live:?}");
    let uids: Vec<String> = h.fake.webhooks().into_iter().map(|(uid, _)| uid).collect();
    assert_eq!(remote_id, uids.join(","));
    assert!(all.remark.as_deref().is_some_and(|r| r.contains("does not sign")), "{all:?}");

    // Registering again reuses the live subscriptions.
    let again = receipt_of(h.ok(subscription(url, vec![])).await);
    assert_eq!(again.remote_id.as_deref(), Some(remote_id.as_str()));
    assert_eq!(h.fake.webhooks().len(), 6);

    // Only the calls of the kinds asked for.
    let other = "https://host.example/v1/inbound/otys-2";
    let jobs = receipt_of(h.ok(subscription(other, vec![ChangeKind::JobChanged])).await);
    let stages =
        receipt_of(h.ok(subscription(other, vec![ChangeKind::ApplicationStageChanged])).await);
    let of = |receipt: &WriteReceipt| -> Vec<String> {
        let uids: Vec<&str> = receipt.remote_id.as_deref().unwrap_or("").split(',').collect();
        let live = h.fake.webhook_subscriptions();
        uids.iter()
            .filter_map(|uid| {
                live.iter().find(|(u, ..)| u == uid).map(|(_, call, ..)| call.clone())
            })
            .collect()
    };
    assert_eq!(of(&jobs), ["VacancyService.update", "VacancyService.updateEx"]);
    assert_eq!(of(&stages), ["ProcedureService.update"]);

    let gone =
        receipt_of(h.ok(Invocation::UnregisterWebhook { remote_id: remote_id.clone() }).await);
    assert!(gone.remark.as_deref().is_some_and(|r| r.starts_with("6 ")), "{gone:?}");
    assert!(h.fake.webhooks().iter().all(|(_, target)| target == other), "{:?}", h.fake.webhooks());
    assert_eq!(h.fake.webhooks().len(), 3);
    let twice = receipt_of(h.ok(Invocation::UnregisterWebhook { remote_id }).await);
    assert!(twice.remark.as_deref().is_some_and(|r| r.contains("6 already gone")), "{twice:?}");

    let bad = h.call(subscription("ftp://host.example/x", vec![])).await;
    assert!(matches!(bad, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_client_and_a_bad_key_is_unauthorized() {
    let h = harness().await;
    let Output::Account(account) = h.ok(Invocation::Check).await else { panic!("not an account") };
    assert_eq!(account.display_name, CLIENT_NAME);
    assert_eq!((h.fake.calls_of("loginByUid"), h.fake.calls_of("check")), (1, 1));
    let bad = h.call_with(&h.fake.bad_credentials_config(), Invocation::Check).await;
    assert!(matches!(bad, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_application_names_its_stage_and_candidates_carry_their_source() {
    let h = harness().await;
    let (job, candidate, application) = applied(&h, "get@otys.example", "+31699999999").await;
    let get = || Invocation::GetApplication { application_id: application.clone() };
    let Output::Application(got) = h.ok(get()).await else { panic!("not an application") };
    assert_eq!(
        (got.candidate_id.as_str(), got.job_id.as_str()),
        (candidate.as_str(), job.as_str())
    );
    assert_eq!(
        (got.stage_id.as_deref(), got.stage_name.as_deref()),
        (Some("1_101"), Some("Applied"))
    );
    assert_eq!(got.source.as_deref(), Some("Sourcy"));
    h.ok(Invocation::MoveApplication {
        application_id: application.clone(),
        stage_id: "1_103".into(),
    })
    .await;
    let Output::Application(moved) = h.ok(get()).await else { panic!("not an application") };
    assert_eq!(moved.stage_name.as_deref(), Some("Interview"));
    let listed = h.applications(ats_tests::harness::page(None, None, None)).await;
    assert_eq!(listed.items[0].stage_name.as_deref(), Some("Interview"));
    let missing = h.call(Invocation::GetApplication { application_id: "999999".into() }).await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");

    let Output::Candidate(read) = h.ok(Invocation::GetCandidate { candidate_id: candidate }).await
    else {
        panic!("not a candidate")
    };
    assert_eq!(read.source.as_deref(), Some("Sourcy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_with_their_infix_and_blocked_state() {
    let h = harness().await;
    let Output::Users(first) = h.ok(Invocation::ListUsers(page(Some(2), None))).await else {
        panic!("not users")
    };
    let Output::Users(rest) =
        h.ok(Invocation::ListUsers(page(Some(2), first.next_page_token.clone()))).await
    else {
        panic!("not users")
    };
    assert_eq!(rest.next_page_token, None);
    let users: Vec<User> = first.items.into_iter().chain(rest.items).collect();
    assert_eq!(
        users,
        [
            User {
                id: "11".into(),
                first_name: "Eva".into(),
                last_name: "de Boer".into(),
                email: Some("eva@otys.example".into()),
                active: true
            },
            User {
                id: "12".into(),
                first_name: "Tom".into(),
                last_name: "Jansen".into(),
                email: Some("tom@otys.example".into()),
                active: false
            },
            User {
                id: "13".into(),
                first_name: "Sara".into(),
                last_name: "Visser".into(),
                email: None,
                active: true
            },
        ]
    );
}
