//! Inbound webhooks from the ATS: the secret per-connection URL, the connector's
//! `parse-webhook`, the sync it triggers, and one event per change even when the same change
//! is later seen by a poll.

use super::end_to_end::{connect, sync_and_wait, wait_run};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};

async fn stage_changes(host: &ApiHost, key: &str, application: &str) -> usize {
    let (_, events) = send(host.with_key(key, Method::GET, "/v1/events?limit=1000")).await;
    events["data"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| {
                    e["type"] == "application.stage_changed"
                        && e.to_string().contains(&format!("\"{application}\""))
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn an_ats_webhook_triggers_a_sync_and_the_stage_change_is_one_event() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    assert_eq!(sync_and_wait(&host, &key, &connection, "applications").await["state"], "success");

    let (_, view) =
        send(host.with_key(&key, Method::GET, &format!("/v1/connections/{connection}"))).await;
    let path = view["inbound_webhook_path"].as_str().expect("inbound path").to_string();
    assert!(path.starts_with(&format!("/v1/inbound/{connection}/")), "{path}");

    sandbox.move_application("app-1", "stage-3");
    let response = host
        .http
        .post(host.url(&path))
        .json(&json!({"event": "application.moved", "id": "app-1"}))
        .send()
        .await
        .expect("post webhook");
    assert_eq!(response.status(), 202, "the ATS needs no API key, the path is the secret");
    let accepted: Value = response.json().await.expect("json");
    assert_eq!(accepted["changes"], 1, "{accepted}");
    assert_eq!(accepted["runs"][0]["kind"], "applications", "{accepted}");
    let run_id = accepted["runs"][0]["run_id"].as_str().expect("run id");
    let run = wait_run(&host, &key, run_id).await;
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(stage_changes(&host, &key, "app-1").await, 1);

    // The next poll sees the same change: still one event.
    assert_eq!(sync_and_wait(&host, &key, &connection, "applications").await["state"], "success");
    assert_eq!(stage_changes(&host, &key, "app-1").await, 1, "a change is one event");
}

#[tokio::test]
async fn a_wrong_token_is_not_found_and_a_garbled_body_is_a_bad_request() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    let (_, view) =
        send(host.with_key(&key, Method::GET, &format!("/v1/connections/{connection}"))).await;
    let path = view["inbound_webhook_path"].as_str().expect("inbound path").to_string();

    let wrong = format!("/v1/inbound/{connection}/{}", "0".repeat(40));
    let (status, body) =
        send(host.http.post(host.url(&wrong)).json(&json!({"event": "job.updated"}))).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = send(
        host.http
            .post(host.url("/v1/inbound/conn_nope/abc"))
            .json(&json!({"event": "job.updated"})),
    )
    .await;
    assert_eq!(status, 404, "an unknown connection looks like a wrong token: {body}");

    let (status, body) = send(host.http.post(host.url(&path)).body("not json")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap_or("").contains("not JSON"), "{body}");
}
