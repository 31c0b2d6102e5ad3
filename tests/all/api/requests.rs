//! Request handling one path at a time: each 4xx answer carries a message that says what is
//! wrong (and, for body and query errors, the field); schedules, event paging and sync-now
//! coalescing over HTTP.

use super::end_to_end::{connect, sync_and_wait, wait_run};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Sends `request` and checks the status, the problem+json shape and that `detail`
/// contains `says`.
async fn expect_problem(request: reqwest::RequestBuilder, status: u16, says: &str) -> Value {
    let response = request.send().await.expect("send");
    let got = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(says), "`{detail}` does not say `{says}`");
    body
}

#[tokio::test]
async fn tenant_key_and_connection_errors_say_what_is_wrong() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;

    let again = host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}));
    expect_problem(again, 409, "tenant `acme` exists").await;
    let bad_id = host.op(Method::POST, "/v1/tenants").json(&json!({"id": "no spaces"}));
    let body = expect_problem(bad_id, 422, "is not a tenant id").await;
    assert_eq!(body["fields"][0]["field"], "tenant");
    let unknown_key = host.op(Method::DELETE, "/v1/tenants/acme/keys/key_nope");
    expect_problem(unknown_key, 404, "key_nope").await;

    let private = host.with_key(&key, Method::POST, "/v1/connections").json(&json!({
        "connector_id": "sandbox", "config": {"base-url": url}, "secrets": {"api-key": "k"},
        "allow_private_networks": true,
    }));
    expect_problem(private, 422, "only the operator key").await;
    let foreign = host.with_key(&key, Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "globex", "connector_id": "sandbox", "config": {"base-url": url},
    }));
    expect_problem(foreign, 422, "of its own tenant").await;
    let no_tenant =
        host.op(Method::POST, "/v1/connections").json(&json!({"connector_id": "sandbox"}));
    expect_problem(no_tenant, 422, "required with the operator key").await;

    let path = format!("/v1/connections/{connection}");
    let pin = host.op(Method::PATCH, &path).json(&json!({"pinned_version": "9.9.9"}));
    let body = expect_problem(pin, 422, "9.9.9").await;
    assert_eq!(body["fields"][0]["field"], "pinned_version");
    let status = host.op(Method::PATCH, &path).json(&json!({"status": "asleep"}));
    expect_problem(status, 422, "`asleep` is not `active` or `paused`").await;
    let (paused, _) = send(host.op(Method::PATCH, &path).json(&json!({"status": "paused"}))).await;
    assert_eq!(paused, 200);
    let write = host
        .with_key(&key, Method::POST, &format!("{path}/notes"))
        .json(&json!({"target": {"candidate_id": "cand-1"}, "body": "x"}));
    expect_problem(write, 409, "is paused").await;
    let (resumed, _) = send(host.op(Method::PATCH, &path).json(&json!({"status": "active"}))).await;
    assert_eq!(resumed, 200);
    let kind = host.op(Method::POST, &format!("{path}/sync")).json(&json!({"kind": "everything"}));
    expect_problem(kind, 422, "`everything` is not `jobs` or `applications`").await;
    let flags = host.op(Method::POST, &format!("{path}/jobs/job-1/flags")).json(&json!({}));
    expect_problem(flags, 422, "give `active` and/or `frozen`").await;
    let rollback = host.op(Method::POST, "/v1/connectors/sandbox/rollback");
    expect_problem(rollback, 409, "").await;
    let events = host.op(Method::GET, "/v1/events?after=yesterday");
    expect_problem(events, 422, "is not an event cursor").await;
    let deliveries = host.op(Method::GET, "/v1/webhook-deliveries?status=lost");
    expect_problem(deliveries, 422, "lost").await;

    let long_key = "k".repeat(300);
    let note = host
        .with_key(&key, Method::POST, &format!("{path}/notes"))
        .header("idempotency-key", long_key)
        .json(&json!({"target": {"candidate_id": "cand-1"}, "body": "x"}));
    expect_problem(note, 422, "1-255 visible ASCII characters").await;
}

#[tokio::test]
async fn schedules_are_read_and_updated_within_range() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    let path = format!("/v1/connections/{connection}/schedules");
    let (status, current) = send(host.with_key(&key, Method::GET, &path)).await;
    assert_eq!(status, 200, "{current}");
    assert_eq!(current["schedules"]["jobs_every_secs"], 3 * 3600, "jobs every 3 h by default");
    assert_eq!(current["schedules"]["applications_every_secs"], 300, "applications every 5 min");
    let daily = json!({"jobs_every_secs": 86_400, "applications_every_secs": 600, "enabled": true});
    let (status, updated) = send(host.with_key(&key, Method::PUT, &path).json(&daily)).await;
    assert_eq!((status, updated["schedules"]["jobs_every_secs"].as_u64()), (200, Some(86_400)));
    let (_, read_back) = send(host.with_key(&key, Method::GET, &path)).await;
    assert_eq!(read_back["schedules"]["applications_every_secs"], 600);
    let too_often = json!({"jobs_every_secs": 5, "applications_every_secs": 600, "enabled": true});
    let body = expect_problem(
        host.with_key(&key, Method::PUT, &path).json(&too_often),
        422,
        "5 is out of range",
    )
    .await;
    assert_eq!(body["fields"][0]["field"], "jobs_every_secs");
}

#[tokio::test]
async fn sync_now_twice_is_one_run_and_events_page_with_their_cursor() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    sandbox.set_delay(Duration::from_millis(300));
    let sync = || {
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": "jobs"}))
    };
    let (_, first) = send(sync()).await;
    let (_, second) = send(sync()).await;
    assert_eq!(first["run_id"], second["run_id"], "the second sync now joined the first");
    let run_id = first["run_id"].as_str().expect("run id");
    let (_, running) = send(host.with_key(&key, Method::GET, &format!("/v1/runs/{run_id}"))).await;
    assert!(matches!(running["state"].as_str(), Some("queued" | "running")), "{running}");
    assert!(running.get("progress").is_some(), "a run shows its progress: {running}");
    sandbox.set_delay(Duration::ZERO);
    let run = wait_run(&host, &key, run_id).await;
    assert_eq!(run["state"], "success", "{run}");

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..20 {
        let path = match &after {
            Some(cursor) => format!("/v1/events?limit=5&after={cursor}"),
            None => "/v1/events?limit=5".to_string(),
        };
        let (_, page) = send(host.with_key(&key, Method::GET, &path)).await;
        let items = page["data"].as_array().cloned().unwrap_or_default();
        seen.extend(items.iter().map(|e| (e["id"].to_string(), e["type"].to_string())));
        match page["next_cursor"].as_str() {
            Some(next) if !items.is_empty() => after = Some(next.to_string()),
            _ => break,
        }
    }
    let created = seen.iter().filter(|(_, kind)| kind == "\"job.created\"").count();
    assert_eq!(created, 12, "every job.created event, once: {seen:?}");
    let unique: std::collections::HashSet<_> = seen.iter().map(|(id, _)| id).collect();
    assert_eq!(unique.len(), seen.len(), "no event on two pages");
}

#[tokio::test]
async fn stages_page_in_pipeline_order_and_filter_by_updated_after() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    sync_and_wait(&host, &key, &connection, "jobs").await;
    let path = format!("/v1/connections/{connection}/stages");
    let (_, all) = send(host.with_key(&key, Method::GET, &path)).await;
    let names = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(names(&all), ["Applied", "Screening", "Interview", "Offer", "Hired"]);
    let (_, first) = send(host.with_key(&key, Method::GET, &format!("{path}?limit=2"))).await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, rest) =
        send(host.with_key(&key, Method::GET, &format!("{path}?limit=10&cursor={cursor}"))).await;
    assert_eq!(names(&first).len() + names(&rest).len(), 5);
    assert_eq!(names(&rest)[0], "Interview");
    assert!(rest["next_cursor"].is_null(), "{rest}");
    let later = ats_host::time::now_ms();
    let (_, none) =
        send(host.with_key(&key, Method::GET, &format!("{path}?updated_after={later}"))).await;
    assert!(names(&none).is_empty(), "no stage changed since: {none}");
    let body = expect_problem(
        host.with_key(&key, Method::GET, &format!("{path}?cursor=bm9wZQ")),
        422,
        "cursor",
    )
    .await;
    assert_eq!(body["fields"][0]["field"], "cursor");
}
