//! What an operator watches: `/metrics` in Prometheus text format after real work, and the
//! tracing spans that tag a run's and a connector call's logs with tenant, connection and
//! connector version.

use super::end_to_end::{connect, sync_and_wait};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::log_capture;
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_sync_shows_in_metrics_and_its_logs_carry_tenant_connection_and_version() {
    log_capture::install();
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "observed", &url).await;
    let run = sync_and_wait(&host, &key, &connection, "jobs").await;
    assert_eq!(run["state"], "success", "{run}");
    let run_id = run["id"].as_str().expect("run id").to_string();

    let response = host.http.get(host.url("/metrics")).send().await.expect("metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    for series in [
        "ats_sync_runs_total{kind=\"jobs\",state=\"success\"}",
        "ats_connector_call_seconds_bucket{le=\"+Inf\",connector=\"sandbox\",operation=\"list-jobs\"}",
        "ats_connector_calls_total{connector=\"sandbox\",operation=\"list-jobs\",outcome=\"ok\"}",
        "ats_egress_requests_total{connector=\"sandbox\",status=\"200\"}",
        "ats_api_requests_total{status=\"2xx\"}",
    ] {
        assert!(text.contains(series), "{series} missing from /metrics:\n{text}");
    }
    assert!(text.contains("# TYPE ats_connector_call_seconds histogram"), "{text}");

    let logs = log_capture::captured();
    let ended = logs
        .lines()
        .find(|line| line.contains("sync run ended") && line.contains(&run_id))
        .unwrap_or_else(|| panic!("no end-of-run log for {run_id}:\n{logs}"));
    for field in ["tenant=observed", &format!("connection={connection}"), "connector=", "version="]
    {
        assert!(ended.contains(field), "run span lacks {field}: {ended}");
    }
    let call = logs
        .lines()
        .find(|line| line.contains("connector_call{") && line.contains(&connection))
        .unwrap_or_else(|| panic!("no connector call span for {connection}:\n{logs}"));
    assert!(call.contains("tenant=observed") && call.contains("version="), "{call}");
}

/// The value of one series in `/metrics` (0 when absent).
async fn series(host: &ApiHost, name: &str) -> f64 {
    let text = host.http.get(host.url("/metrics")).send().await.expect("metrics");
    let text = text.text().await.expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[tokio::test]
async fn webhook_deliveries_and_rate_limit_waits_show_in_metrics() {
    // One call a second per connection: a jobs sync (stages, then jobs) waits at least once.
    let sync = ats_host::sync::SyncConfig {
        calls_per_second: 1.0,
        ..ats_host::sync::SyncConfig::default()
    };
    let host = ApiHost::start_with(sync).await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "metered", &url).await;
    let receiver = super::receiver::Receiver::start().await;
    let (status, body) = send(
        host.with_key(&key, Method::POST, "/v1/webhooks")
            .json(&json!({"url": receiver.url, "event_types": ["job.created"]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let delivered = "ats_webhook_deliveries_total{outcome=\"delivered\"}";
    let waits = "ats_rate_limit_waits_total{connector=\"sandbox\"}";
    let (delivered_before, waits_before) =
        (series(&host, delivered).await, series(&host, waits).await);
    let run = sync_and_wait(&host, &key, &connection, "jobs").await;
    assert_eq!(run["state"], "success", "{run}");
    receiver.wait_for(12).await;
    // The counter is bumped right after the receiver answers: give it a moment.
    let mut after = series(&host, delivered).await;
    for _ in 0..50 {
        if after >= delivered_before + 12.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        after = series(&host, delivered).await;
    }
    assert!(after >= delivered_before + 12.0, "{delivered}: {delivered_before} → {after}");
    let waited = series(&host, waits).await;
    assert!(waited >= waits_before + 1.0, "{waits}: {waits_before} → {waited}");
}
