//! Hostile connectors and tenants through the whole host over HTTP: spinning guests and the
//! API's responsiveness, a private-network grant and a tenant-edited base URL, connector
//! state removed with its connection, capped run errors, uploads that reuse a version
//! string, and a panic in a sync run.

use ats_host::runtime::{CallContext, CallError, Invocation, LoadedConnector, Output};
use ats_host::store::{Store, SyncKind};
use ats_host::sync::{SyncEngine, Transport};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::{self, KEY, start_sandbox};
use ats_tests::{guests, read, test_limits};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Loads the misbehaving guest into the host and creates tenant `tenant` with a connection
/// to it whose `behaviour` is `behaviour`; returns (tenant key, connection id).
async fn misbehaving_connection(host: &ApiHost, tenant: &str, config: Value) -> (String, String) {
    let guest = host.runtime.load(read(guests::MISBEHAVE), "misbehave").await.expect("loads");
    host.registry.install(guest).await.expect("installs");
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": tenant}))).await;
    let key = host.tenant_key(tenant).await;
    let (status, body) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": tenant, "connector_id": "misbehave", "config": config,
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    (key, body["id"].as_str().expect("id").to_string())
}

async fn wait_run(host: &ApiHost, run_id: &str) -> Value {
    for _ in 0..1000 {
        let (_, run) = send(host.op(Method::GET, &format!("/v1/runs/{run_id}"))).await;
        if !matches!(run["state"].as_str(), Some("queued" | "running")) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("run {run_id} did not end");
}

async fn sync_jobs(host: &ApiHost, connection: &str) -> Value {
    let (status, started) = send(
        host.op(Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": "jobs"})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    wait_run(host, started["run_id"].as_str().expect("run id")).await
}

/// `spin_api`: as many spinning guests as cores (started by connection checks, which a
/// tenant key may trigger) leave `/health` answering in well under a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_api_spinning_guests_leave_the_api_responsive() {
    let limits =
        ats_host::runtime::Limits { call_timeout: Duration::from_secs(6), ..test_limits() };
    let host = Arc::new(ApiHost::start_with_limits(limits, sync_rig::test_sync_config()).await);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut checks = Vec::new();
    for i in 0..cores {
        let (key, connection) =
            misbehaving_connection(&host, &format!("spin{i}"), json!({"behaviour": "loop"})).await;
        let host = host.clone();
        checks.push(tokio::spawn(async move {
            send(host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/check")))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        let (status, _) = send(host.http.get(host.url("/health"))).await;
        assert_eq!(status, 200);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("slowest /health while {cores} guests spin: {} ms", slowest.as_millis());
    assert!(slowest < Duration::from_secs(1), "/health took {} ms", slowest.as_millis());
    for check in checks {
        let (status, body) = check.await.expect("joins");
        assert_eq!((status, body["status"].as_str()), (200, Some("unreachable")), "{body}");
        assert!(body["detail"].as_str().unwrap_or("").contains("time limit"), "{body}");
    }
}

/// Tenant `acme`, a tenant key, and a sandbox connection the operator let reach private
/// networks (the sandbox ATS is on loopback); returns (the sandbox, the key, the id).
async fn granted_sandbox_connection(
    host: &ApiHost,
) -> (ats_host::sandbox_ats::SandboxHandle, String, String) {
    let (sandbox_url, sandbox) = start_sandbox().await;
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let key = host.tenant_key("acme").await;
    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "sandbox", "config": {"base-url": sandbox_url},
        "secrets": {"api-key": KEY}, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    (sandbox, key, created["id"].as_str().expect("id").to_string())
}

/// `private_grant`: a tenant who points a granted connection at the host's own API loses
/// the grant, and what a private address answered is not shown to tenant keys.
#[tokio::test]
async fn private_grant_is_bound_to_the_approved_hosts() {
    let host = ApiHost::start().await;
    let (_sandbox, key, id) = granted_sandbox_connection(&host).await;
    let id = id.as_str();
    let check = format!("/v1/connections/{id}/check");
    let (_, ok) = send(host.with_key(&key, Method::POST, &check)).await;
    assert_eq!(ok["status"], "ok", "{ok}");

    // The tenant re-points the base URL at the host's own API.
    let (status, patched) = send(
        host.with_key(&key, Method::PATCH, &format!("/v1/connections/{id}"))
            .json(&json!({"config": {"base-url": host.base}})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["allow_private_networks"], false, "the grant is revoked: {patched}");
    let (_, denied) = send(host.with_key(&key, Method::POST, &check)).await;
    assert_eq!(denied["status"], "denied", "{denied}");
    assert!(denied["detail"].as_str().unwrap_or("").contains("private"), "{denied}");

    // A tenant cannot grant it back; the operator can, and then the tenant sees only the
    // outcome of what a private address answered, not its body.
    let (status, refused) = send(
        host.with_key(&key, Method::PATCH, &format!("/v1/connections/{id}"))
            .json(&json!({"allow_private_networks": true})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let (status, _) = send(
        host.op(Method::PATCH, &format!("/v1/connections/{id}"))
            .json(&json!({"allow_private_networks": true})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, tenant_view) = send(host.with_key(&key, Method::POST, &check)).await;
    let detail = tenant_view["detail"].as_str().unwrap_or("");
    assert!(detail.contains("operator only"), "{tenant_view}");
    assert!(!detail.contains("401") && !detail.contains("problem"), "{tenant_view}");
    let (_, operator_view) = send(host.op(Method::POST, &check)).await;
    assert_ne!(operator_view["detail"], tenant_view["detail"], "{operator_view}");
}

/// `private_grant`: a grant stored before grants were bound (none recorded) is bound to the
/// config it has, so a tenant's edit revokes it all the same.
#[tokio::test]
async fn private_grant_recorded_before_binding_is_revoked_by_an_edit() {
    let host = ApiHost::start().await;
    let (_sandbox, key, id) = granted_sandbox_connection(&host).await;
    let id = id.as_str();
    let mut legacy = host.store.connection(id).await.expect("store").expect("connection");
    legacy.private_grant.clear();
    host.store.put_connection(&legacy, None).await.expect("store");
    let (status, patched) = send(
        host.with_key(&key, Method::PATCH, &format!("/v1/connections/{id}"))
            .json(&json!({"config": {"base-url": host.base}})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["allow_private_networks"], false, "{patched}");
}

/// `state_quota`: deleting a connection deletes the state its connector kept.
#[tokio::test]
async fn state_quota_state_goes_with_its_connection() {
    let host = ApiHost::start().await;
    let (_, connection) =
        misbehaving_connection(&host, "acme", json!({"behaviour": "count"})).await;
    let run = sync_jobs(&host, &connection).await;
    assert_eq!(run["state"], "success", "{run}");
    let state = host.runtime.state_store().clone();
    let entries = async || state.usage(&connection, "").await.entries;
    assert_eq!(entries().await, 1, "the connector stored its counter");
    let (status, _) = send(host.op(Method::DELETE, &format!("/v1/connections/{connection}"))).await;
    assert_eq!(status, 204);
    assert_eq!(entries().await, 0, "the state outlived its connection");
}

/// `error_cap`: a megabyte error is stored and served as at most 4 KiB, its size noted.
#[tokio::test]
async fn error_cap_run_errors_are_stored_cut() {
    let host = ApiHost::start().await;
    let (_, connection) =
        misbehaving_connection(&host, "acme", json!({"behaviour": "big-error", "size": "200000"}))
            .await;
    let run = sync_jobs(&host, &connection).await;
    let error = run["error"].as_str().expect("an error");
    assert!(error.len() <= 4200, "{} bytes stored", error.len());
    assert!(error.contains("bytes cut"), "{error}");
}

/// `pin_hash`: an upload with a version string already loaded and other bytes is refused,
/// and a pin records the content hash it follows.
#[tokio::test]
async fn pin_hash_a_version_string_names_one_build() {
    let host = ApiHost::start().await;
    let upload = |wasm: Vec<u8>| {
        host.op(Method::POST, "/v1/connectors")
            .header("content-type", "application/wasm")
            .body(wasm)
    };
    let original = read(guests::ECHO_V1);
    let (status, first) = send(upload(original.clone())).await;
    assert_eq!(status, 201, "{first}");
    let sha = first["active"]["sha256"].as_str().expect("sha").to_string();
    assert_eq!(first["active"]["contract"], "0.2.0", "listed with its contract version");
    let (status, again) = send(upload(original)).await;
    assert_eq!(status, 200, "the same bytes change nothing: {again}");
    let (status, refused) =
        send(upload(ats_tests::with_custom_section(read(guests::ECHO_V1), "rebuilt"))).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["detail"].as_str().unwrap_or("").contains("already loaded with other bytes"));

    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let (status, pinned) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "echo", "pinned_version": "1.0.0",
    })))
    .await;
    assert_eq!(status, 201, "{pinned}");
    assert_eq!(pinned["pinned_sha256"], json!(sha), "{pinned}");
}

/// A transport whose every call panics, standing in for a bug anywhere under a sync run.
struct Panicking;

impl Transport for Panicking {
    fn call<'a>(
        &'a self,
        _connector: &'a LoadedConnector,
        _context: &'a CallContext,
        _invocation: Invocation,
    ) -> futures::future::BoxFuture<'a, Result<Output, CallError>> {
        Box::pin(async { panic!("a bug under the sync run") })
    }
}

/// `panics`: a panic during a sync fails that run with the reason; the slot is cleared, so
/// the next sync of the connection starts a run of its own instead of joining a dead one.
#[tokio::test]
async fn panics_in_a_sync_run_fail_the_run_and_free_its_slot() {
    let rig = sync_rig::SyncRig::start().await;
    let store: Arc<dyn Store> = rig.host.store.clone();
    let engine = SyncEngine::with_transport(
        store,
        Arc::new(Panicking),
        rig.host.state.registry.clone(),
        sync_rig::test_sync_config(),
    );
    let first = engine.run_and_wait(sync_rig::CONNECTION, SyncKind::Jobs).await.expect("run");
    assert_eq!(first.state.as_str(), "failed");
    let error = first.error.clone().unwrap_or_default();
    assert!(error.contains("a bug under the sync run"), "{error}");
    let (second, coalesced) = engine
        .sync_now(sync_rig::CONNECTION, SyncKind::Jobs, ats_host::store::Trigger::Manual)
        .await
        .expect("starts");
    assert!(!coalesced && second != first.id, "the dead run still held the slot");
    let stored = rig.host.store.run(&first.id).await.expect("store").expect("run");
    assert_eq!(stored.state.as_str(), "failed");
}
