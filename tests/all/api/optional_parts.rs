//! The host never fails a sync for what a connector does not do: a Tigris connection whose
//! operator mapped no pipeline (no `stage-object`) syncs its jobs `success` with the stages
//! recorded as a skipped part, a connector that does not declare `list-applications` has no
//! applications watch, and a stage query that fails costs the run `partial`, never its jobs.

use ats_tests::api_host::{ApiHost, send};
use ats_tests::fakes::salesforce::{TigrisFake, unmapped};
use ats_tests::fakes::{FakeAts, config_and_secrets};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Creates a Tigris connection with `config` (secrets from the fake) and returns its id.
async fn tigris_connection(
    host: &ApiHost,
    fake: &TigrisFake,
    config: Vec<(String, String)>,
) -> String {
    let (_, secrets) = config_and_secrets(fake);
    let secret_names: Vec<&String> = secrets.iter().map(|(name, _)| name).collect();
    let config: BTreeMap<String, String> =
        config.into_iter().filter(|(name, _)| !secret_names.contains(&name)).collect();
    let secrets: BTreeMap<String, String> = secrets.into_iter().collect();
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let (status, body) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "tigris", "config": config, "secrets": secrets,
        "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_string()
}

async fn sync(host: &ApiHost, connection: &str, kind: &str) -> (u16, Value) {
    send(
        host.op(Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": kind})),
    )
    .await
}

async fn sync_and_wait(host: &ApiHost, connection: &str) -> Value {
    let (status, started) = sync(host, connection, "jobs").await;
    assert_eq!(status, 202, "{started}");
    super::end_to_end::wait_run(host, &host.operator_key, started["run_id"].as_str().expect("id"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmapped_pipeline_is_a_skipped_part_and_undeclared_watches_are_not_scheduled() {
    let host = ApiHost::start().await;
    let fake = TigrisFake::start().await;
    fake.seed_jobs(3, "2026-11-20T10:00:00Z");
    let connection = tigris_connection(&host, &fake, unmapped(fake.config())).await;

    let (_, shown) = send(host.op(Method::GET, &format!("/v1/connections/{connection}"))).await;
    assert!(shown["next_sync_at"].get("jobs").is_some(), "{shown}");
    assert!(shown["next_sync_at"].get("applications").is_some(), "Tigris reads intakes: {shown}");

    // A connector that does not declare `list-applications` gets no watch, and a sync of
    // applications is refused naming the operation.
    let (sandbox_url, _sandbox) = ats_tests::sync_rig::start_sandbox().await;
    let (status, minimal) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "minimal",
        "config": {"base-url": sandbox_url}, "secrets": {"api-key": ats_tests::sync_rig::KEY},
        "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{minimal}");
    let minimal = minimal["id"].as_str().expect("id");
    let (_, shown) = send(host.op(Method::GET, &format!("/v1/connections/{minimal}"))).await;
    assert!(shown["next_sync_at"].get("applications").is_none(), "no watch: {shown}");
    let (status, refused) = sync(&host, minimal, "applications").await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["detail"].as_str().unwrap_or("").contains("list-applications"), "{refused}");

    let run = sync_and_wait(&host, &connection).await;
    assert_eq!(run["state"], "success", "{run}");
    assert_eq!(run["counts"]["created"], 3, "{run}");
    assert_eq!(run["parts"][0]["part"], "stages", "{run}");
    assert_eq!(run["parts"][0]["outcome"], "skipped", "{run}");
    assert!(run["parts"][0]["reason"].as_str().unwrap_or("").contains("stage-object"), "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_stage_query_makes_the_run_partial_and_keeps_the_jobs() {
    let host = ApiHost::start().await;
    let fake = TigrisFake::start().await;
    fake.seed_jobs(3, "2026-11-20T10:00:00Z");
    let mut config = unmapped(fake.config());
    config.push(("stage-object".into(), "No_Such_Object__c".into()));
    let connection = tigris_connection(&host, &fake, config).await;
    let run = sync_and_wait(&host, &connection).await;
    assert_eq!(run["state"], "partial", "{run}");
    assert_eq!(run["counts"]["created"], 3, "the jobs were synced: {run}");
    assert_eq!(run["parts"][0]["outcome"], "failed", "{run}");
    assert!(run["error"].as_str().unwrap_or("").starts_with("stages failed"), "{run}");
    let (_, jobs) =
        send(host.op(Method::GET, &format!("/v1/jobs?connection_id={connection}"))).await;
    assert_eq!(jobs["data"].as_array().map(Vec::len), Some(3), "{jobs}");
}
