//! The OTYS protocol: one session reused and sent as the first param, one re-login on an
//! expired session, errors inside HTTP 200 bodies, a bad API key, `check`, paging against a
//! stuck server, and raw JSON-RPC showing the fake rejects what OWS rejects.

use super::{VACANCY_LIST, harness, page};
use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::fakes::FakeAts;
use ats_tests::fakes::otys::{CLIENT_NAME, OtysFake};
use ats_tests::harness::context_for;

fn first_jobs_page() -> Invocation {
    Invocation::ListJobs(page(Some(10), None))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_client_and_a_bad_key_is_unauthorized() {
    let h = harness().await;
    let Output::Account(account) = h.ok(Invocation::Check).await else { panic!("not an account") };
    assert_eq!(account.display_name, CLIENT_NAME);
    assert_eq!((h.fake.calls_of("loginByUid"), h.fake.calls_of("check")), (1, 1));
    let bad = h.call_with(&h.fake.bad_credentials_config(), Invocation::Check).await;
    assert!(matches!(bad, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{bad:?}");
}
