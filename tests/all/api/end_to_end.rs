//! The product path end to end over HTTP, against the sandbox ATS: create a connection,
//! sync now, read jobs, push a candidate twice with one Idempotency-Key, move a stage and
//! receive the signed webhook; tenant isolation; write errors.

use super::receiver::Receiver;
use ats_host::webhooks::signing;
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::{KEY, start_sandbox};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

pub(super) async fn wait_run(host: &ApiHost, key: &str, run_id: &str) -> Value {
    for _ in 0..500 {
        let (_, run) = send(host.with_key(key, Method::GET, &format!("/v1/runs/{run_id}"))).await;
        if !matches!(run["state"].as_str(), Some("queued" | "running")) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("run {run_id} did not end");
}

/// Starts a sync of `kind` on `connection` with `key` (expecting 202) and waits for the run
/// to end; returns the finished run.
pub(crate) async fn sync_and_wait(
    host: &ApiHost,
    key: &str,
    connection: &str,
    kind: &str,
) -> Value {
    let (status, started) = send(
        host.with_key(key, Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({ "kind": kind })),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    wait_run(host, key, started["run_id"].as_str().expect("run id")).await
}

/// Creates tenant `tenant`, a tenant key, and a sandbox connection; returns (key, connection id).
pub(super) async fn connect(host: &ApiHost, tenant: &str, sandbox_url: &str) -> (String, String) {
    let (status, body) =
        send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": tenant, "name": tenant})))
            .await;
    assert_eq!(status, 201, "{body}");
    let key = host.tenant_key(tenant).await;
    let (status, body) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": tenant, "connector_id": "sandbox", "name": "Sandbox",
        "config": {"base-url": sandbox_url}, "secrets": {"api-key": KEY},
        "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body.get("secrets").is_none() && !body.to_string().contains(KEY),
        "secrets are never returned"
    );
    (key, body["id"].as_str().expect("id").to_string())
}

#[tokio::test]
async fn connect_sync_read_push_twice_move_and_receive_the_signed_webhook() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    let receiver = Receiver::start().await;
    let (status, sub) = send(
        host.with_key(&key, Method::POST, "/v1/webhooks")
            .json(&json!({"url": receiver.url, "event_types": ["application.stage_changed"]})),
    )
    .await;
    assert_eq!(status, 201, "{sub}");
    let secret = sub["secret"].as_str().expect("secret").to_string();

    let (status, check) =
        send(host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/check")))
            .await;
    assert_eq!((status, check["status"].as_str()), (200, Some("ok")), "{check}");

    let run = sync_and_wait(&host, &key, &connection, "jobs").await;
    assert_eq!(run["state"], "success", "{run}");
    let (_, jobs) = send(host.with_key(
        &key,
        Method::GET,
        &format!("/v1/jobs?connection_id={connection}&limit=5"),
    ))
    .await;
    assert_eq!(jobs["data"].as_array().map(Vec::len), Some(5));
    let cursor = jobs["next_cursor"].as_str().expect("a next page");
    let (_, rest) = send(host.with_key(
        &key,
        Method::GET,
        &format!("/v1/jobs?connection_id={connection}&cursor={cursor}&limit=100"),
    ))
    .await;
    assert_eq!(
        rest["data"].as_array().map(Vec::len),
        Some(sandbox.jobs().len() - 5),
        "cursor paging covers the rest"
    );
    assert!(rest["next_cursor"].is_null(), "the last page has no cursor: {rest}");
    // A page that holds exactly the rest is the last page too.
    let exact = sandbox.jobs().len();
    let (_, all) = send(host.with_key(
        &key,
        Method::GET,
        &format!("/v1/jobs?connection_id={connection}&limit={exact}"),
    ))
    .await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(exact));
    assert!(all["next_cursor"].is_null(), "a full last page has no cursor: {all}");
    let job_id = jobs["data"][0]["remote_id"].as_str().expect("job").to_string();

    let cv = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 CV of Ada");
    let push = json!({
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"]},
        "job_id": job_id, "source": "AI sourcer",
        "answers": [{"question": "Notice period?", "answer": "1 month"}],
        "cv": {"filename": "cv.pdf", "content_type": "application/pdf", "content_base64": cv},
        "note": "Hi Ada, thanks for your interest", "tags": ["sourced"],
    });
    let path = format!("/v1/connections/{connection}/candidates");
    let first = host
        .with_key(&key, Method::POST, &path)
        .header("idempotency-key", "push-1")
        .json(&push)
        .send()
        .await
        .expect("push");
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    assert_eq!(first["complete"], true, "{first}");
    let second = host
        .with_key(&key, Method::POST, &path)
        .header("idempotency-key", "push-1")
        .json(&push)
        .send()
        .await
        .expect("push again");
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.expect("json");
    assert_eq!(first, second, "the retry returns the first answer");
    let candidates = sandbox.candidates();
    let ada: Vec<&Value> =
        candidates.iter().filter(|c| c.to_string().contains("ada@example.com")).collect();
    assert_eq!(ada.len(), 1, "one candidate");
    let applications: Vec<Value> = sandbox
        .applications()
        .into_iter()
        .filter(|a| a["candidate_id"] == first["candidate_id"])
        .collect();
    assert_eq!(applications.len(), 1, "one application");
    let notes: usize = sandbox
        .candidates()
        .iter()
        .chain(sandbox.applications().iter())
        .map(|r| r["notes"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(notes, 1, "one note");
    assert_eq!(ada[0]["attachments"].as_array().map(Vec::len), Some(1), "one CV");
    // The same key with another body is refused.
    let mut other = push.clone();
    other["note"] = json!("different");
    let (status, problem) = send(
        host.with_key(&key, Method::POST, &path).header("idempotency-key", "push-1").json(&other),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["fields"][0]["field"], "Idempotency-Key");

    // Applications watch: the pushed application is seen, then a recruiter-like move.
    sync_and_wait(&host, &key, &connection, "applications").await;
    let application_id = first["application_id"].as_str().expect("application").to_string();
    let (status, moved) = send(
        host.with_key(
            &key,
            Method::POST,
            &format!("/v1/connections/{connection}/applications/{application_id}/move"),
        )
        .header("idempotency-key", "move-1")
        .json(&json!({"stage_id": "stage-3"})),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    sync_and_wait(&host, &key, &connection, "applications").await;
    let got = receiver.wait_for(1).await;
    let delivery = got
        .iter()
        .find(|r| String::from_utf8_lossy(&r.body).contains(&application_id))
        .expect("the move's webhook");
    let header = |name: &str| delivery.headers[name].to_str().expect("ascii").to_string();
    let timestamp: i64 = header("webhook-timestamp").parse().expect("timestamp");
    assert!(signing::verify(
        &secret,
        &header("webhook-id"),
        timestamp,
        &delivery.body,
        &header("webhook-signature")
    ));
    let body: Value = serde_json::from_slice(&delivery.body).expect("json");
    assert_eq!(body["type"], "application.stage_changed");
    assert_eq!(body["data"]["stage_id"], "stage-3");
    let (_, events) = send(host.with_key(&key, Method::GET, "/v1/events?limit=1000")).await;
    assert!(
        events["data"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["type"] == "application.stage_changed")
    );
}

#[tokio::test]
async fn a_tenant_key_cannot_reach_another_tenants_objects() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (acme_key, acme_connection) = connect(&host, "acme", &url).await;
    let (globex_key, _) = connect(&host, "globex", &url).await;
    let (_, started) = send(host.with_key(
        &acme_key,
        Method::POST,
        &format!("/v1/connections/{acme_connection}/sync"),
    ))
    .await;
    let run_id = started["run_id"].as_str().expect("run").to_string();
    wait_run(&host, &acme_key, &run_id).await;
    let job = "job-1";
    let none = json!(null);
    let (status, subscription) = send(
        host.with_key(&acme_key, Method::POST, "/v1/webhooks")
            .json(&json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"]})),
    )
    .await;
    assert_eq!(status, 201, "{subscription}");
    let subscription = subscription["id"].as_str().expect("subscription id").to_string();
    let cv = json!({"filename": "cv.pdf", "content_type": "application/pdf", "content_base64": "JVBERi0x"});
    for (method, path, body) in [
        (Method::GET, format!("/v1/webhooks/{subscription}"), none.clone()),
        (Method::DELETE, format!("/v1/webhooks/{subscription}"), none.clone()),
        (Method::POST, format!("/v1/webhooks/{subscription}/enable"), none.clone()),
        (
            Method::PUT,
            format!("/v1/connections/{acme_connection}/schedules"),
            json!({"jobs_every_secs": 3600, "applications_every_secs": 300, "enabled": true}),
        ),
        (Method::GET, format!("/v1/applications?connection_id={acme_connection}"), none.clone()),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/candidates"),
            json!({"candidate": {"first_name": "A", "last_name": "B", "emails": ["a@b.example"]}}),
        ),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/tags"),
            json!({"tag": "x", "target": {"candidate_id": "cand-1"}}),
        ),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/attachments"),
            json!({"target": {"candidate_id": "cand-1"}, "kind": "report", "file": cv}),
        ),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/applications/app-1/reject"),
            json!({"reason": "x"}),
        ),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/applications/app-1/result"),
            json!({"score": 1.0}),
        ),
        (Method::GET, format!("/v1/connections/{acme_connection}"), none.clone()),
        (Method::PATCH, format!("/v1/connections/{acme_connection}"), json!({"name": "mine now"})),
        (Method::DELETE, format!("/v1/connections/{acme_connection}"), none.clone()),
        (Method::POST, format!("/v1/connections/{acme_connection}/sync"), json!({"kind": "jobs"})),
        (Method::POST, format!("/v1/connections/{acme_connection}/check"), none.clone()),
        (Method::GET, format!("/v1/connections/{acme_connection}/stages"), none.clone()),
        (Method::GET, format!("/v1/connections/{acme_connection}/schedules"), none.clone()),
        (Method::GET, format!("/v1/connections/{acme_connection}/jobs/{job}"), none.clone()),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/jobs/{job}/flags"),
            json!({"active": true}),
        ),
        (Method::GET, format!("/v1/runs/{run_id}"), none.clone()),
        (Method::GET, format!("/v1/jobs?connection_id={acme_connection}"), none.clone()),
        (Method::GET, format!("/v1/runs?connection_id={acme_connection}"), none.clone()),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/notes"),
            json!({"body": "x", "target": {"candidate_id": "cand-1"}}),
        ),
        (
            Method::POST,
            format!("/v1/connections/{acme_connection}/applications/app-1/move"),
            json!({"stage_id": "stage-2"}),
        ),
    ] {
        let mut request = host.with_key(&globex_key, method.clone(), &path);
        if !body.is_null() {
            request = request.json(&body);
        }
        let (status, answer) = send(request).await;
        assert_eq!(status, 404, "{method} {path} → {status} {answer}");
        assert!(!answer.to_string().contains("acme"), "no hint of the other tenant: {answer}");
    }
    let (_, own) = send(host.with_key(&globex_key, Method::GET, "/v1/jobs")).await;
    assert!(own["data"].as_array().expect("list").is_empty(), "globex sees none of acme's jobs");
    let (_, runs) = send(host.with_key(&globex_key, Method::GET, "/v1/runs")).await;
    assert!(runs["data"].as_array().expect("list").is_empty());
    let (_, events) = send(host.with_key(&globex_key, Method::GET, "/v1/events")).await;
    assert!(events["data"].as_array().expect("list").is_empty());
    let (status, _) =
        send(host.with_key(&acme_key, Method::GET, &format!("/v1/connections/{acme_connection}")))
            .await;
    assert_eq!(status, 200, "the owner still sees it");
}

#[tokio::test]
async fn connection_and_write_input_errors_name_the_fields() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let (status, body) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "sandbox", "config": {"colour": "red", "api-key": "x"}, "secrets": {},
    })))
    .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(fields.contains(&"config.base-url"), "missing required: {fields:?}");
    assert!(fields.contains(&"config.colour"), "unknown: {fields:?}");
    assert!(fields.contains(&"config.api-key"), "secret under config: {fields:?}");
    let (status, body) = send(
        host.op(Method::POST, "/v1/connections")
            .json(&json!({"tenant_id": "acme", "connector_id": "nope"})),
    )
    .await;
    assert_eq!(
        (status, body["fields"][0]["field"].as_str()),
        (422, Some("connector_id")),
        "{body}"
    );
    let (status, body) = send(
        host.op(Method::POST, "/v1/connections")
            .json(&json!({"tenant_id": "ghost", "connector_id": "sandbox"})),
    )
    .await;
    assert_eq!((status, body["fields"][0]["field"].as_str()), (422, Some("tenant_id")), "{body}");
    let (status, body) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "sandbox", "config": {"base-url": url}, "secrets": {"api-key": KEY},
        "schedules": {"jobs_every_secs": 5},
    })))
    .await;
    assert_eq!(
        (status, body["fields"][0]["field"].as_str()),
        (422, Some("schedules.jobs_every_secs")),
        "{body}"
    );
    let (_, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "sandbox", "config": {"base-url": url}, "secrets": {"api-key": KEY}, "allow_private_networks": true,
    })))
    .await;
    let id = created["id"].as_str().expect("id");
    let push = format!("/v1/connections/{id}/candidates");
    for (body, field) in [
        (json!({"candidate": {"first_name": "A", "last_name": "B"}}), "candidate.emails"),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B", "emails": ["nope"]}}),
            "candidate.emails",
        ),
        (
            json!({"candidate": {"first_name": "", "last_name": "B", "emails": ["a@b.c"]}}),
            "candidate.first_name",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B", "emails": ["a@b.c"]}, "cv": {"filename": "x.pdf", "content_base64": "!!!"}}),
            "cv.content_base64",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B", "emails": ["a@b.c"]}, "stage_id": "stage-2"}),
            "stage_id",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B", "emails": ["a@b.c"]}, "colour": 1}),
            "colour",
        ),
    ] {
        let (status, problem) = send(host.op(Method::POST, &push).json(&body)).await;
        assert_eq!(status, 422, "{body} → {problem}");
        assert_eq!(problem["fields"][0]["field"], field, "{problem}");
    }
    let (status, problem) = send(
        host.op(Method::POST, &format!("/v1/connections/{id}/notes"))
            .json(&json!({"target": {}, "body": "x"})),
    )
    .await;
    assert_eq!(
        (status, problem["fields"][0]["field"].as_str()),
        (422, Some("target")),
        "{problem}"
    );
    let (status, problem) = send(
        host.op(Method::POST, &format!("/v1/connections/{id}/applications/nope/move"))
            .json(&json!({"stage_id": "stage-2"})),
    )
    .await;
    assert_eq!(status, 404, "{problem}");
    assert!(problem["title"].as_str().expect("title").contains("in the ATS"), "{problem}");
    let (status, problem) = send(
        host.op(Method::POST, &format!("/v1/connections/{id}/sync"))
            .json(&json!({"kind": "everything"})),
    )
    .await;
    assert_eq!((status, problem["fields"][0]["field"].as_str()), (422, Some("kind")), "{problem}");
}
