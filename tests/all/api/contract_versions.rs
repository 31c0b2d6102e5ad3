//! A connector built against the frozen contract 0.1.0 keeps working on a host whose newest
//! contract is 0.2.0: uploaded over HTTP, listed with its contract version, its jobs synced
//! by the scheduler's runner, a candidate pushed with an application, a note and answers,
//! a result written (its score sent on 0.1.0's 0..100 scale), and every operation 0.1.0
//! lacks answering `unsupported` without a call into the guest.

use ats_host::model::{AtsError, PageRequest};
use ats_host::runtime::{CallError, Invocation};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::{context, guests, read};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_built_on_contract_0_1_syncs_and_takes_pushes_on_a_0_2_host() {
    assert_eq!(ats_host::runtime::contract::newest().name(), "0.2.0");
    let host = ApiHost::start().await;
    let (status, uploaded) = send(
        host.op(Method::POST, "/v1/connectors")
            .header("content-type", "application/wasm")
            .body(read(guests::CONTRACT_V0_1)),
    )
    .await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(uploaded["active"]["contract"], "0.1.0", "{uploaded}");
    let (_, listed) = send(host.op(Method::GET, "/v1/connectors")).await;
    let legacy = listed["data"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["id"] == "legacy"))
        .unwrap_or_else(|| panic!("legacy is listed: {listed}"));
    assert_eq!(legacy["active"]["contract"], "0.1.0", "{legacy}");
    let sandbox = listed["data"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["id"] == "sandbox"))
        .unwrap_or_else(|| panic!("sandbox is listed: {listed}"));
    assert_eq!(sandbox["active"]["contract"], "0.2.0", "bundled connectors are on 0.2.0");

    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let (status, created) = send(
        host.op(Method::POST, "/v1/connections")
            .json(&json!({"tenant_id": "acme", "connector_id": "legacy", "config": {}})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let connection = created["id"].as_str().expect("id").to_string();

    let (status, started) = send(
        host.op(Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": "jobs"})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let run = super::end_to_end::wait_run(
        &host,
        &host.operator_key,
        started["run_id"].as_str().expect("run id"),
    )
    .await;
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(run["counts"]["created"], 3, "{run}");
    let (_, jobs) =
        send(host.op(Method::GET, &format!("/v1/jobs?connection_id={connection}"))).await;
    let items = jobs["data"].as_array().expect("data");
    assert_eq!(items.len(), 3, "{jobs}");
    assert!(items.iter().any(|j| j["location"] == "City 1"), "0.1.0 free-text location: {jobs}");

    let (status, pushed) = send(
        host.op(Method::POST, &format!("/v1/connections/{connection}/candidates")).json(&json!({
            "candidate": {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"],
                          "company": "Analytical Engines", "links": [{"kind": "github", "url": "https://github.com/ada"}]},
            "job_id": "legacy-job-1",
            "source": "AI sourcer",
            "answers": [{"question_id": "q1", "question": "Notice period?", "answer": "1 month"}],
            "note": "Hi Ada",
            "tags": ["sourced"],
        })),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    let application = pushed["application_id"].as_str().expect("an application").to_string();
    let part = |name: &str| {
        pushed["parts"]
            .as_array()
            .and_then(|parts| parts.iter().find(|p| p["part"] == name).cloned())
            .unwrap_or_else(|| panic!("part {name}: {pushed}"))
    };
    assert_eq!(part("application")["status"], "done", "{pushed}");
    assert_eq!(part("note")["status"], "done", "{pushed}");
    assert_eq!(part("tag:sourced")["status"], "unsupported", "{pushed}");

    let (status, result) = send(
        host.op(
            Method::POST,
            &format!("/v1/connections/{connection}/applications/{application}/result"),
        )
        .json(&json!({"score": 42, "max_score": 50, "link": "https://assess.example/r/1"})),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["remote_id"], "score-84", "42 of 50 reaches 0.1.0 as 84 of 100: {result}");

    // Operations 0.1.0 does not have answer `unsupported` without a call.
    let connector = host.registry.active("legacy").expect("legacy is active");
    let ctx = context("legacy-direct", &[]);
    for invocation in [
        Invocation::Check,
        Invocation::ListTags(PageRequest::first()),
        Invocation::GetApplication { application_id: application.clone() },
    ] {
        match host.runtime.call(&connector, &ctx, invocation).await {
            Err(CallError::Connector(AtsError::Unsupported(message))) => {
                assert!(message.contains("contract 0.1.0"), "{message}");
                assert!(message.contains("0.2.0"), "{message}");
            }
            other => panic!("expected unsupported, got {other:?}"),
        }
    }

    // 0.1.0's `state.set` cannot answer an error: a full quota fails the call, typed.
    let flood = context("legacy-flood", &[("flood", "1")]);
    match host.runtime.call(&connector, &flood, ats_tests::list_jobs()).await {
        Err(error @ CallError::StateFull(_)) => assert_eq!(error.kind(), "state-full"),
        other => panic!("expected state-full, got {other:?}"),
    }
}

/// `connector inspect FILE` names the contract version a component implements.
#[tokio::test]
async fn connector_inspect_shows_the_contract_version() {
    let legacy = ats_host::cli::connector::inspect(std::path::Path::new(guests::CONTRACT_V0_1))
        .await
        .expect("inspect the 0.1.0 guest");
    assert_eq!(legacy["contract"], "0.1.0", "{legacy}");
    assert_eq!(legacy["manifest"]["result_modes"], json!([]), "{legacy}");
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = dir.path().join("sandbox.wasm");
    std::fs::write(&sandbox, ats_tests::bundled_wasm("connector-sandbox")).expect("write");
    let current = ats_host::cli::connector::inspect(&sandbox).await.expect("inspect sandbox");
    assert_eq!(current["contract"], "0.2.0", "{current}");
}
