//! Outbound webhooks: signed deliveries, retries, dead letter, replay, 410 disables.

use super::receiver::Receiver;
use ats_host::time::now_ms;
use ats_host::webhooks::{OutboundEvent, signing};
use ats_tests::api_host::{ApiHost, send};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

async fn subscribe(host: &ApiHost, tenant: &str, url: &str, types: Value) -> (String, String) {
    let (status, body) = send(
        host.op(Method::POST, "/v1/webhooks")
            .json(&json!({"url": url, "event_types": types, "tenant_id": tenant})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().expect("secret shown at creation").to_string();
    assert!(secret.starts_with("whsec_"));
    (body["id"].as_str().expect("id").to_string(), secret)
}

fn event(tenant: &str, id: &str, kind: &str) -> OutboundEvent {
    OutboundEvent {
        id: id.into(),
        tenant_id: tenant.into(),
        event_type: kind.into(),
        data: json!({"application_id": "a1", "stage": "interview"}),
        occurred_at: now_ms(),
    }
}

async fn wait_status(host: &ApiHost, status: &str, count: usize) -> Vec<Value> {
    for _ in 0..500 {
        let (_, body) =
            send(host.op(Method::GET, &format!("/v1/webhook-deliveries?status={status}"))).await;
        let found = body["data"].as_array().cloned().unwrap_or_default();
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no {count} deliveries reached {status}");
}

#[tokio::test]
async fn deliveries_are_signed_filtered_and_carry_a_stable_id() {
    let host = ApiHost::start().await;
    let receiver = Receiver::start().await;
    let (_, secret) = subscribe(&host, "acme", &receiver.url, json!(["application.*"])).await;
    host.webhooks.offer(&event("acme", "ev1", "application.stage_changed")).await.expect("offer");
    host.webhooks.offer(&event("acme", "ev2", "job.created")).await.expect("filtered out");
    host.webhooks.offer(&event("other", "ev3", "application.created")).await.expect("other tenant");
    // Offering the same event again (e.g. after a crash) does not deliver twice.
    host.webhooks.offer(&event("acme", "ev1", "application.stage_changed")).await.expect("again");
    let got = receiver.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "only the matching event of this tenant, once");
    let delivery = &got[0];
    let header = |name: &str| delivery.headers[name].to_str().expect("ascii").to_string();
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let timestamp: i64 = timestamp.parse().expect("unix seconds");
    assert!(signing::verify(&secret, &id, timestamp, &delivery.body, &header("webhook-signature")));
    assert!(!signing::verify(&secret, &id, timestamp, b"tampered", &header("webhook-signature")));
    let body: Value = serde_json::from_slice(&delivery.body).expect("json body");
    assert_eq!(body["type"], "application.stage_changed");
    assert_eq!(body["data"]["stage"], "interview");
}

#[tokio::test]
async fn receiver_down_retries_then_dead_letters_and_replay_delivers_once_with_the_same_id() {
    let host = ApiHost::start().await;
    let receiver = Receiver::start().await;
    subscribe(&host, "acme", &receiver.url, json!([])).await;
    receiver.answer(503);
    host.webhooks.offer(&event("acme", "ev-down", "job.updated")).await.expect("offer");
    let dead = wait_status(&host, "dead-letter", 1).await;
    let attempts = receiver.received();
    assert_eq!(attempts.len(), 4, "max_attempts attempts, then dead letter");
    let ids: Vec<_> = attempts.iter().map(|r| r.headers["webhook-id"].clone()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "the delivery id is stable across retries");
    assert_eq!(dead[0]["attempts"], 4);
    assert_eq!(dead[0]["last_status_code"], 503);

    receiver.answer(200);
    let id = dead[0]["id"].as_str().expect("id");
    let (status, body) =
        send(host.op(Method::POST, &format!("/v1/webhook-deliveries/{id}/replay"))).await;
    assert_eq!(status, 202, "{body}");
    wait_status(&host, "delivered", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = receiver.received();
    assert_eq!(all.len(), 5, "the replay delivered exactly once");
    assert_eq!(all[4].headers["webhook-id"], ids[0]);
    // A delivered delivery cannot be replayed.
    let (status, body) =
        send(host.op(Method::POST, &format!("/v1/webhook-deliveries/{id}/replay"))).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().expect("detail").contains("only dead-letter"));
}

#[tokio::test]
async fn gone_disables_the_subscription() {
    let host = ApiHost::start().await;
    let receiver = Receiver::start().await;
    let (id, _) = subscribe(&host, "acme", &receiver.url, json!([])).await;
    receiver.answer(410);
    host.webhooks.offer(&event("acme", "ev-gone", "job.closed")).await.expect("offer");
    wait_status(&host, "cancelled", 1).await;
    let (_, sub) = send(host.op(Method::GET, &format!("/v1/webhooks/{id}"))).await;
    assert_eq!(sub["enabled"], false);
    assert!(sub["disabled_reason"].as_str().expect("reason").contains("410"));
    assert!(sub.get("secret").is_none(), "the secret is never shown again");
    host.webhooks.offer(&event("acme", "ev-after", "job.closed")).await.expect("offer");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "a disabled subscription gets nothing");
}

#[tokio::test]
async fn subscription_input_errors_say_what_is_wrong() {
    let host = ApiHost::start().await;
    let cases = [
        (json!({"url": "not a url", "tenant_id": "acme"}), "url"),
        (json!({"url": "ftp://example.com/x", "tenant_id": "acme"}), "url"),
        (json!({"url": "https://example.com/x"}), "tenant_id"),
        (
            json!({"url": "https://example.com/x", "tenant_id": "acme", "event_types": ["a b"]}),
            "event_types",
        ),
        (json!({"url": "https://example.com/x", "tenant_id": "acme", "colour": "red"}), "colour"),
    ];
    for (body, field) in cases {
        let (status, problem) = send(host.op(Method::POST, "/v1/webhooks").json(&body)).await;
        assert_eq!(status, 422, "{body} → {problem}");
        assert_eq!(problem["fields"][0]["field"], field, "{problem}");
    }
}

#[tokio::test]
async fn a_rate_limited_receiver_is_retried_and_an_unreachable_one_is_dead_lettered() {
    let host = ApiHost::start().await;
    let receiver = Receiver::start().await;
    subscribe(&host, "acme", &receiver.url, json!(["*"])).await;
    receiver.answer(429);
    host.webhooks.offer(&event("acme", "ev-429", "job.created")).await.expect("offer");
    receiver.wait_for(2).await;
    receiver.answer(200);
    let delivered = wait_status(&host, "delivered", 1).await;
    let attempts = receiver.received();
    assert!(attempts.len() >= 3, "429, then at least one more 429, then 200");
    let ids: std::collections::HashSet<_> =
        attempts.iter().map(|a| a.headers["webhook-id"].clone()).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    assert_eq!(delivered[0]["attempts"].as_u64(), Some(attempts.len() as u64));

    // Nothing listens on this port: connection refused on every attempt.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = listener.local_addr().expect("addr");
    drop(listener);
    subscribe(&host, "beta", &format!("http://{closed}/hook"), json!(["*"])).await;
    host.webhooks.offer(&event("beta", "ev-down", "job.created")).await.expect("offer");
    let dead = wait_status(&host, "dead-letter", 1).await;
    let down = dead.iter().find(|d| d["event_id"] == "ev-down").expect("dead-lettered");
    assert_eq!(down["attempts"], 4, "the fast test policy makes 4 attempts: {down}");
    assert!(down["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{down}");
}
