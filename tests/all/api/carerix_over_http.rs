//! The product path over HTTP with a real connector: Carerix (GraphQL) against its fake.
//! Config checked against the connector's declared fields, a connection check, a jobs sync,
//! unified reads with `updated_after` and job flags, runs filtered and paged, a candidate
//! pushed in parts, and a result written back as a note because Carerix has no result field.

use super::end_to_end::sync_and_wait;
use ats_tests::api_host::{ApiHost, send};
use ats_tests::fakes::carerix::CarerixFake;
use ats_tests::fakes::{FakeAts, config_and_secrets};
use reqwest::Method;
use serde_json::{Value, json};

pub(super) fn config_of(fake: &CarerixFake) -> (Value, Value) {
    let (config, secrets) = config_and_secrets(fake);
    let object = |pairs: Vec<(String, String)>| {
        Value::Object(pairs.into_iter().map(|(name, value)| (name, json!(value))).collect())
    };
    (object(config), object(secrets))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carerix_connection_syncs_reads_pushes_and_writes_results_as_notes() {
    let host = ApiHost::start().await;
    let fake = CarerixFake::start().await;
    let jobs = fake.seed_jobs(3, "2025-01-01T00:00:00Z");
    send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "agency"}))).await;
    let (config, secrets) = config_of(&fake);

    let mut incomplete = config.clone();
    incomplete.as_object_mut().expect("object").remove("token-url");
    incomplete["colour"] = json!("blue");
    let (status, problem) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "agency", "connector_id": "carerix", "config": incomplete,
        "secrets": secrets, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(fields.iter().any(|f| f.contains("token-url")), "{problem}");
    assert!(fields.iter().any(|f| f.contains("colour")), "{problem}");

    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "agency", "connector_id": "carerix", "name": "Agency Carerix",
        "config": config, "secrets": secrets, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(!created.to_string().contains(&fake.secrets()[0]), "the client secret came back");
    let id = created["id"].as_str().expect("id").to_string();
    let (_, check) = send(host.op(Method::POST, &format!("/v1/connections/{id}/check"))).await;
    assert_eq!(check["status"], "ok", "{check}");

    let run = sync_and_wait(&host, &host.operator_key, &id, "jobs").await;
    assert_eq!(
        (run["state"].as_str(), run["counts"]["created"].as_u64()),
        (Some("success"), Some(3))
    );
    assert!(run["duration_ms"].as_i64().is_some_and(|ms| ms >= 0), "a run has a duration: {run}");
    let (_, listed) = send(host.op(Method::GET, &format!("/v1/jobs?connection_id={id}"))).await;
    let listed = listed["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|j| j["active"] == false), "new jobs start inactive");

    let (status, flagged) = send(
        host.op(Method::POST, &format!("/v1/connections/{id}/jobs/{}/flags", jobs[0]))
            .json(&json!({"active": true})),
    )
    .await;
    assert_eq!((status, flagged["active"].as_bool()), (200, Some(true)), "{flagged}");
    let before_change = ats_host::time::now_ms();
    fake.touch_job(&jobs[1], "Renamed in Carerix", "2026-03-01T10:00:00Z");
    let run = sync_and_wait(&host, &host.operator_key, &id, "jobs").await;
    assert_eq!(run["counts"]["updated"], 1, "{run}");
    let (_, changed) = send(
        host.op(Method::GET, &format!("/v1/jobs?connection_id={id}&updated_after={before_change}")),
    )
    .await;
    let titles: Vec<&str> = changed["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|j| j["title"].as_str())
        .collect();
    assert_eq!(titles, ["Renamed in Carerix"], "{changed}");
    let (_, still) =
        send(host.op(Method::GET, &format!("/v1/connections/{id}/jobs/{}", jobs[0]))).await;
    assert_eq!(still["active"], true, "the sync kept the customer's flag: {still}");

    let (_, runs) =
        send(host.op(Method::GET, &format!("/v1/runs?connection_id={id}&status=success&limit=1")))
            .await;
    assert_eq!(runs["data"].as_array().map(Vec::len), Some(1), "{runs}");
    let cursor = runs["next_cursor"].as_str().expect("a second page");
    let (_, older) = send(host.op(
        Method::GET,
        &format!("/v1/runs?connection_id={id}&status=success&limit=1&cursor={cursor}"),
    ))
    .await;
    assert_ne!(older["data"][0]["id"], runs["data"][0]["id"], "the cursor moves on");
    let (_, failed) =
        send(host.op(Method::GET, &format!("/v1/runs?connection_id={id}&status=failed"))).await;
    assert_eq!(failed["data"].as_array().map(Vec::len), Some(0));

    let push = json!({
        "candidate": {"first_name": "Jane", "last_name": "Jansen", "emails": ["jane@agency.example"], "phones": ["+31611112222"]},
        "job_id": jobs[0], "source": "Sourcy",
        "answers": [{"question": "Willing to relocate?", "answer": "Yes"}],
        "note": "Hi Jane, interested in a call?", "tags": ["Sourcy"],
    });
    let (status, pushed) =
        send(host.op(Method::POST, &format!("/v1/connections/{id}/candidates")).json(&push)).await;
    assert_eq!((status, pushed["complete"].as_bool()), (201, Some(true)), "{pushed}");
    let application = pushed["application_id"].as_str().expect("application").to_string();
    let (status, result) = send(
        host.op(Method::POST, &format!("/v1/connections/{id}/applications/{application}/result"))
            .json(&json!({"score": 87.5, "link": "https://assess.example/r/1", "summary": "Strong SQL"})),
    )
    .await;
    assert_eq!((status, result["fallback"].as_str()), (200, Some("note")), "{result}");
    assert!(result["detail"].as_str().is_some_and(|d| d.contains("no result field")), "{result}");
    let jane = fake
        .candidates()
        .into_iter()
        .find(|c| c.emails.contains(&"jane@agency.example".to_string()))
        .expect("Jane landed in Carerix");
    let notes = jane.notes.join("\n");
    assert!(
        notes.contains("Hi Jane") && notes.contains("Score: 87.5") && notes.contains("Strong SQL"),
        "{notes}"
    );
    assert_eq!(jane.applications.len(), 1);
    assert!(jane.applications[0].answers_text.contains("Yes"));

    let (status, problem) = send(
        host.op(Method::POST, &format!("/v1/connections/{id}/candidates"))
            .json(&json!({"candidate": {"first_name": "A", "last_name": "B", "emails": ["a@b.example"]}, "answers": [{"question": "q", "answer": "a"}]})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["fields"][0]["field"], "answers", "{problem}");
}
