//! Rate budgets that are fair and never hang a request: waiters are served in order
//! (writes before sync pages), a write that gets no turn within its deadline answers 429
//! with `Retry-After`, and a connection's budget is set over the API and used at once by
//! its syncs and writes.

use super::end_to_end::{connect, wait_run};
use ats_host::sync::SyncConfig;
use ats_host::sync::budget::{Limit, RateBudgets};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn budget_path(connection: &str) -> String {
    format!("/v1/connections/{connection}/rate-budget")
}

async fn set_budget(host: &ApiHost, key: &str, connection: &str, calls: u32, per_secs: u32) {
    let (status, body) = send(
        host.with_key(key, Method::PUT, &budget_path(connection))
            .json(&json!({"calls": calls, "per_secs": per_secs})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

fn push_body(email: &str) -> Value {
    json!({"candidate": {"first_name": "Ada", "last_name": "Lovelace", "emails": [email]}})
}

/// Waits (bounded) until `check` holds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn waiters_on_a_connection_budget_are_served_first_in_first_out() {
    let budgets =
        Arc::new(RateBudgets::with_default(Limit { calls: 1, per: Duration::from_millis(20) }));
    budgets.acquire("conn", "x").await;
    let served = Arc::new(AtomicUsize::new(0));
    let mut waiters = Vec::new();
    for arrived in 1..=8 {
        let (b, served_too) = (budgets.clone(), served.clone());
        waiters.push(tokio::spawn(async move {
            b.acquire("conn", "x").await;
            served_too.fetch_add(1, Ordering::SeqCst);
            Instant::now()
        }));
        // Queued (or already served) before the next one arrives.
        until("the waiter is queued", || {
            budgets.status("conn").waiting_syncs + served.load(Ordering::SeqCst) >= arrived
        })
        .await;
    }
    let mut times = Vec::new();
    for waiter in waiters {
        times.push(waiter.await.expect("join"));
    }
    assert!(times.windows(2).all(|w| w[0] < w[1]), "not served in arrival order: {times:?}");
}

#[tokio::test]
async fn a_push_waiting_behind_a_long_sync_is_served_before_the_sync_pages() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    sandbox.seed_jobs(2_000, "2026-11-20T10:00:00Z");
    let (key, connection) = connect(&host, "queued", &url).await;
    set_budget(&host, &key, &connection, 2, 1).await;
    let (status, run) = send(
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": "jobs"})),
    )
    .await;
    assert_eq!(status, 202, "{run}");
    // More sync-class calls (pages, live reads) queue up behind the running sync.
    let served = Arc::new(AtomicUsize::new(0));
    for _ in 0..6 {
        let (sync, connection, served) = (host.sync.clone(), connection.clone(), served.clone());
        tokio::spawn(async move {
            sync.budgets.acquire(&connection, "sandbox").await;
            served.fetch_add(1, Ordering::SeqCst);
        });
    }
    until("six sync-class calls wait", || host.sync.budgets.status(&connection).waiting_syncs >= 6)
        .await;
    let (status, pushed) = send(
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/candidates"))
            .json(&push_body("queued@example.com")),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    // Two calls a second: in the window the push got its turn, at most one sync-class call
    // (taking the window's other call) went too; six were queued before it.
    let before = served.load(Ordering::SeqCst);
    assert!(before <= 2, "{before} sync-class calls were served before the push");
    let status = host.sync.budgets.status(&connection);
    assert!(status.waiting_syncs >= 4, "the sync pages still wait: {status:?}");
}

#[tokio::test]
async fn a_write_that_gets_no_turn_in_time_answers_429_with_retry_after_and_writes_nothing() {
    let sync =
        SyncConfig { write_budget_wait: Duration::from_millis(300), ..SyncConfig::default() };
    let host = ApiHost::start_with(sync).await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "hurried", &url).await;
    set_budget(&host, &key, &connection, 1, 3600).await;
    let path = format!("/v1/connections/{connection}/candidates");
    let (status, first) =
        send(host.with_key(&key, Method::POST, &path).json(&push_body("first@example.com"))).await;
    assert_eq!(status, 201, "the budget's one call: {first}");
    let candidates = sandbox.candidates().len();

    let refused = host
        .with_key(&key, Method::POST, &path)
        .header("idempotency-key", "second")
        .json(&push_body("second@example.com"))
        .send()
        .await
        .expect("push");
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((3590..=3600).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    let problem: Value = refused.json().await.expect("problem");
    assert_eq!(problem["status"], 429, "{problem}");
    assert_eq!(problem["title"], "rate budget exhausted", "{problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("rate-budget")), "{problem}");
    assert_eq!(sandbox.candidates().len(), candidates, "nothing was written");

    // Back to the host default: the same Idempotency-Key runs now (it was not kept).
    let (status, body) = send(host.with_key(&key, Method::DELETE, &budget_path(&connection))).await;
    assert_eq!((status, body["source"].as_str()), (200, Some("host default")), "{body}");
    let (status, second) = send(
        host.with_key(&key, Method::POST, &path)
            .header("idempotency-key", "second")
            .json(&push_body("second@example.com")),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(sandbox.candidates().len(), candidates + 1);
}

#[tokio::test]
async fn a_connection_budget_is_set_over_the_api_validated_and_stored() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "limited", &url).await;
    let path = budget_path(&connection);

    let (status, body) = send(host.with_key(&key, Method::GET, &path)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "host default", "{body}");
    assert!(body["rate_budget"].is_null(), "{body}");
    assert_eq!(
        (body["effective"]["calls"].as_u64(), body["effective"]["per_ms"].as_u64()),
        (Some(10), Some(1000))
    );

    // Greenhouse: 50 calls per 10 s.
    let (status, body) =
        send(host.with_key(&key, Method::PUT, &path).json(&json!({"calls": 50, "per_secs": 10})))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "connection");
    assert_eq!(body["rate_budget"], json!({"calls": 50, "per_secs": 10}));
    assert_eq!(body["effective"]["per_ms"], 10_000);
    let (_, shown) =
        send(host.with_key(&key, Method::GET, &format!("/v1/connections/{connection}"))).await;
    assert_eq!(shown["rate_budget"], json!({"calls": 50, "per_secs": 10}), "{shown}");
    let stored = host.store.connection(&connection).await.expect("store").expect("connection");
    assert_eq!(stored.rate_budget.map(|b| (b.calls, b.per_secs)), Some((50, 10)));
    let limit = host.sync.budgets.status(&connection).limit;
    assert_eq!((limit.calls, limit.per), (50, Duration::from_secs(10)), "in force at once");

    for (bad, field, says) in [
        (json!({"calls": 0, "per_secs": 10}), "calls", "1..=10000"),
        (json!({"calls": 10_001, "per_secs": 10}), "calls", "1..=10000"),
        (json!({"calls": 10, "per_secs": 0}), "per_secs", "1..=3600"),
        (json!({"calls": 10, "per_secs": 3601}), "per_secs", "1..=3600"),
        (json!({"calls": -1, "per_secs": 10}), "calls", ""),
        (json!({"calls": 10}), "per_secs", ""),
        (json!({"calls": 10, "per_secs": 1, "burst": 20}), "burst", ""),
    ] {
        let (status, problem) = send(host.with_key(&key, Method::PUT, &path).json(&bad)).await;
        assert_eq!(status, 422, "{bad}: {problem}");
        assert_eq!(problem["fields"][0]["field"], field, "{bad}: {problem}");
        let text = problem["fields"][0]["problem"].as_str().unwrap_or_default();
        assert!(text.contains(says), "{bad}: {problem}");
    }
    let unchanged = host.sync.budgets.status(&connection).limit;
    assert_eq!(unchanged.calls, 50, "a refused value changes nothing");

    let other = host.tenant_key("someone-else").await;
    let (status, _) = send(host.with_key(&other, Method::GET, &path)).await;
    assert_eq!(status, 404, "another tenant does not see it");
    let (status, _) =
        send(host.with_key(&other, Method::PUT, &path).json(&json!({"calls": 1, "per_secs": 1})))
            .await;
    assert_eq!(status, 404);

    let (status, body) = send(host.with_key(&key, Method::DELETE, &path)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "host default");
    let stored = host.store.connection(&connection).await.expect("store").expect("connection");
    assert_eq!(stored.rate_budget, None);
    assert_eq!(host.sync.budgets.status(&connection).limit.calls, 10);
}

#[tokio::test]
async fn a_sync_waits_on_its_connection_budget_and_raising_it_lets_the_sync_go_on() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "throttled", &url).await;
    set_budget(&host, &key, &connection, 1, 3600).await;
    let (status, run) = send(
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": "jobs"})),
    )
    .await;
    assert_eq!(status, 202, "{run}");
    until("the sync waits for the connection's budget", || {
        host.sync.budgets.status(&connection).waiting_syncs == 1
    })
    .await;
    set_budget(&host, &key, &connection, 10_000, 1).await;
    let run = wait_run(&host, &key, run["run_id"].as_str().expect("run id")).await;
    assert_eq!(run["state"], "success", "{run}");
}

/// Many journaled pushes at once (each part made durable before the next) all answer, and
/// promptly: the journal's flushes must not stall one another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_idempotent_pushes_all_answer() {
    let host = Arc::new(ApiHost::start().await);
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    set_budget(&host, &key, &connection, 10_000, 1).await;
    let pushes = (0..64).map(|i| {
        let (host, key, connection) = (host.clone(), key.clone(), connection.clone());
        tokio::spawn(async move {
            let push = json!({"candidate": {"first_name": "P", "last_name": format!("{i}"),
                              "emails": [format!("p{i}@example.org")]},
                              "job_id": "job-1", "note": "hello", "tags": ["a", "b"]});
            send(
                host.with_key(
                    &key,
                    Method::POST,
                    &format!("/v1/connections/{connection}/candidates"),
                )
                .header("idempotency-key", format!("push-{i}"))
                .json(&push),
            )
            .await
        })
    });
    let answered =
        tokio::time::timeout(Duration::from_secs(120), futures::future::join_all(pushes))
            .await
            .expect("every push answered within 120 s");
    for answer in answered {
        let (status, body) = answer.expect("the push task");
        assert_eq!((status, body["complete"].as_bool()), (201, Some(true)), "{body}");
    }
    let pushed = sandbox.candidates().iter().filter(|c| c["last_name"] != "").count();
    assert!(pushed >= 64, "{pushed}");
}
