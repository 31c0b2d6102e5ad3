//! Loading, validation, the artifact cache, the watched directory and hot swap.

use ats_host::runtime::cache::CompileOrigin;
use ats_host::runtime::registry::{DEFAULT_KEPT_VERSIONS, Installed, Phase};
use ats_host::runtime::state::MemoryStateStore;
use ats_host::runtime::watcher::DirectoryWatcher;
use ats_host::runtime::{Invocation, LoadError, Output, Registry, Runtime, call::first_page};
use ats_host::store::{SledStore, Store};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::{context, guests, read, runtime, test_limits};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

async fn echo_title(runtime: &Runtime, registry: &Registry) -> Result<String, String> {
    let connector = registry.active("echo").ok_or("echo not loaded")?;
    match runtime.call(&connector, &context("swap", &[]), Invocation::ListJobs(first_page())).await
    {
        Ok(Output::Jobs(page)) => Ok(page.items[0].title.clone()),
        other => Err(format!("{other:?}")),
    }
}

#[tokio::test]
async fn garbage_core_modules_and_other_worlds_are_rejected_with_clear_messages() {
    let runtime = runtime(test_limits());
    let garbage = runtime.load(b"this is not wasm at all".to_vec(), "garbage.wasm").await;
    assert!(matches!(garbage, Err(LoadError::NotWasm { .. })));

    // The smallest valid core module: magic + version 1.
    let core = runtime.load(b"\0asm\x01\0\0\0".to_vec(), "core.wasm").await;
    let message = core.expect_err("core module rejected").to_string();
    assert!(message.starts_with("core.wasm: is a core WebAssembly module"), "{message}");
    assert!(message.contains("wasm32-wasip2"), "says how to fix it: {message}");

    let other = runtime.load(read(guests::OTHER_WORLD), "other-world.wasm").await;
    let message = other.expect_err("other world rejected").to_string();
    assert!(
        message.contains("does not implement an `ats:connector` contract this host serves"),
        "{message}"
    );

    // A component of a contract version this host does not know names it and what is served.
    let future = wat::parse_str(
        r#"(component (instance $i) (export "ats:connector/connector@9.0.0" (instance $i)))"#,
    )
    .expect("test component");
    let message = runtime.load(future, "future.wasm").await.expect_err("unknown").to_string();
    assert!(message.contains("implements contract 9.0.0"), "{message}");
    assert!(message.contains("it serves 0.1.0"), "{message}");

    let truncated = read(guests::ECHO_V1)[..4096].to_vec();
    let message =
        runtime.load(truncated, "truncated.wasm").await.expect_err("truncated").to_string();
    assert!(message.starts_with("truncated.wasm: is not a valid component"), "{message}");
}

#[tokio::test]
async fn compiled_artifacts_are_cached_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let make = || {
        Runtime::new(
            test_limits(),
            Arc::new(MemoryStateStore::default()),
            Some(dir.path().join("compiled")),
        )
    };
    let first = make().expect("runtime").load(read(guests::ECHO_V1), "echo").await.expect("loads");
    assert_eq!(first.compile_origin, CompileOrigin::Compiled);
    let second_runtime = make().expect("runtime");
    let second = second_runtime.load(read(guests::ECHO_V1), "echo").await.expect("loads again");
    assert_eq!(second.compile_origin, CompileOrigin::Cached);
    assert_eq!(echo_title_of(&second_runtime, &second).await, "echo 1.0.0");
    assert_eq!(
        (second.contract, second.info().contract),
        ("0.2.0", "0.2.0"),
        "the contract version is known"
    );

    // A corrupt cache entry is recompiled, not trusted.
    for entry in std::fs::read_dir(dir.path().join("compiled")).expect("cache dir") {
        std::fs::write(entry.expect("entry").path(), b"corrupt").expect("overwrite");
    }
    let third =
        make().expect("runtime").load(read(guests::ECHO_V1), "echo").await.expect("recompiles");
    assert_eq!(third.compile_origin, CompileOrigin::Compiled);
}

async fn echo_title_of(
    runtime: &Runtime,
    connector: &ats_host::runtime::LoadedConnector,
) -> String {
    match runtime.call(connector, &context("c", &[]), Invocation::ListJobs(first_page())).await {
        Ok(Output::Jobs(page)) => page.items[0].title.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bad_file_in_the_watched_directory_leaves_the_serving_version_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = runtime(test_limits());
    let registry = Arc::new(Registry::default());
    let file = dir.path().join("echo.wasm");
    std::fs::write(&file, read(guests::ECHO_V1)).expect("write v1");
    let mut watcher = DirectoryWatcher::new(dir.path(), runtime.clone(), registry.clone());
    let report = watcher.load_all().await;
    assert_eq!(report.loaded.len(), 1, "{report:?}");

    for (name, bytes) in [
        ("garbage", b"garbage".to_vec()),
        ("core module", b"\0asm\x01\0\0\0".to_vec()),
        ("other world", read(guests::OTHER_WORLD)),
    ] {
        std::fs::write(&file, &bytes).expect("overwrite");
        watcher.poll().await; // sees the change
        let report = watcher.poll().await; // the file has settled: load it
        assert_eq!(report.rejected.len(), 1, "{name}: {report:?}");
        let message = report.rejected[0].1.to_string();
        assert!(message.contains("echo.wasm"), "{name}: the message names the file: {message}");
        assert_eq!(echo_title(&runtime, &registry).await.as_deref(), Ok("echo 1.0.0"), "{name}");
    }

    std::fs::write(&file, read(guests::ECHO_V2)).expect("write v2");
    watcher.poll().await;
    let report = watcher.poll().await;
    assert_eq!(report.loaded.len(), 1, "{report:?}");
    assert_eq!(echo_title(&runtime, &registry).await.as_deref(), Ok("echo 2.0.0"));

    // Both versions are kept: roll back, then activate by version.
    assert_eq!(
        registry.rollback("echo").await.expect("rollback").manifest.connector_version,
        "1.0.0"
    );
    assert_eq!(echo_title(&runtime, &registry).await.as_deref(), Ok("echo 1.0.0"));
    registry.activate("echo", "2.0.0").await.expect("activate");
    assert_eq!(echo_title(&runtime, &registry).await.as_deref(), Ok("echo 2.0.0"));
    let error = registry.activate("echo", "9.9.9").await.expect_err("unknown version").to_string();
    assert!(error.contains("1.0.0") && error.contains("2.0.0"), "lists what is loaded: {error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_swap_under_load_fails_no_call_and_new_calls_see_the_new_version() {
    let runtime = runtime(test_limits());
    let registry = Arc::new(Registry::default());
    registry
        .install(runtime.load(read(guests::ECHO_V1), "echo-v1").await.expect("v1"))
        .await
        .expect("installs");
    let v2 = runtime.load(read(guests::ECHO_V2), "echo-v2").await.expect("v2");

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let (v1_calls, v2_calls) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (runtime, registry, stop, failures) =
                (runtime.clone(), registry.clone(), stop.clone(), failures.clone());
            let (v1_calls, v2_calls) = (v1_calls.clone(), v2_calls.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match echo_title(&runtime, &registry).await.as_deref() {
                        Ok("echo 1.0.0") => v1_calls.fetch_add(1, Ordering::Relaxed),
                        Ok("echo 2.0.0") => v2_calls.fetch_add(1, Ordering::Relaxed),
                        _ => failures.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();

    while v1_calls.load(Ordering::Relaxed) < 200 {
        tokio::task::yield_now().await;
    }
    registry.install(v2).await.expect("installs");
    // Every call that starts after the swap sees the new version.
    assert_eq!(echo_title(&runtime, &registry).await.as_deref(), Ok("echo 2.0.0"));
    let seen = v2_calls.load(Ordering::Relaxed);
    while v2_calls.load(Ordering::Relaxed) < seen + 200 {
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("caller task");
    }
    assert_eq!(failures.load(Ordering::Relaxed), 0, "no call failed during the swap");
    assert!(v1_calls.load(Ordering::Relaxed) >= 200 && v2_calls.load(Ordering::Relaxed) >= 200);
}

/// A restart (a new registry on the same store) restores the saved active build and the
/// order rollback walks, whatever order the files load in; loaded bytes change nothing.
#[tokio::test]
async fn a_restart_restores_the_saved_active_build_and_history_in_any_load_order() {
    let runtime = runtime(test_limits());
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary().expect("store"));
    let v1 = runtime.load(read(guests::ECHO_V1), "echo-v1").await.expect("v1");
    let v2 = runtime.load(read(guests::ECHO_V2), "echo-v2").await.expect("v2");
    let before =
        Registry::with_store(DEFAULT_KEPT_VERSIONS, store.clone()).await.expect("registry");
    before.install(v1.clone()).await.expect("v1");
    before.install(v2.clone()).await.expect("v2");
    assert_eq!(
        before.rollback("echo").await.expect("rollback").manifest.connector_version,
        "1.0.0"
    );
    assert_eq!(before.install(v2.clone()).await, Ok(Installed::AlreadyLoaded));
    assert_eq!(version_of(&before), "1.0.0", "installing loaded bytes changes nothing");

    // The restart: v2's file happens to load first.
    let after = Registry::with_store(DEFAULT_KEPT_VERSIONS, store.clone()).await.expect("registry");
    assert_eq!(
        after.install_in(v2.clone(), Phase::Start).await,
        Ok(Installed::Restored { active: false })
    );
    assert_eq!(version_of(&after), "2.0.0", "the only build loaded so far serves");
    assert_eq!(
        after.install_in(v1.clone(), Phase::Start).await,
        Ok(Installed::Restored { active: true })
    );
    assert_eq!(version_of(&after), "1.0.0", "the saved active build is active again");
    let listed: Vec<String> = after.list()[0].versions.iter().map(|v| v.version.clone()).collect();
    assert_eq!(listed, ["1.0.0", "2.0.0"], "kept in the saved order, not the load order");
    let error = after.rollback("echo").await.expect_err("v1 is the oldest");
    assert!(error.to_string().contains("no earlier version"), "{error}");
    after.activate("echo", "2.0.0").await.expect("activate");

    // Another restart sees the activation.
    let again = Registry::with_store(DEFAULT_KEPT_VERSIONS, store.clone()).await.expect("registry");
    again.install_in(v1.clone(), Phase::Start).await.expect("v1");
    again.install_in(v2, Phase::Start).await.expect("v2");
    assert_eq!(version_of(&again), "2.0.0");

    // A build never seen (v2's file replaced by a rebuild while the host was down) becomes
    // active at start, as if installed while running.
    let rebuilt = ats_tests::with_custom_section(read(guests::ECHO_V2), "rebuilt");
    let rebuilt = runtime.load(rebuilt, "echo-v2-rebuilt").await.expect("rebuilt");
    let last = Registry::with_store(DEFAULT_KEPT_VERSIONS, store).await.expect("registry");
    last.install_in(v1, Phase::Start).await.expect("v1");
    let installed = last.install_in(rebuilt.clone(), Phase::Start).await.expect("rebuilt");
    assert_eq!(installed, Installed::Activated { replaced: Some("1.0.0".into()) });
    assert_eq!(last.active("echo").map(|c| c.sha256.clone()), Some(rebuilt.sha256.clone()));
}

/// Versions over the kept limit are evicted oldest first, except builds a connection is
/// pinned to: a pin still resolves after newer versions (and a restart) arrive.
#[tokio::test]
async fn pinned_builds_are_never_evicted() {
    let host = ApiHost::start().await;
    let (status, body) =
        send(host.op(Method::POST, "/v1/connectors").body(read(guests::ECHO_V1))).await;
    assert_eq!(status, 201, "{body}");
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let (status, body) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "echo", "pinned_version": "1.0.0",
    })))
    .await;
    assert_eq!(status, 201, "{body}");

    // A registry that keeps one version, on the same store (so with the same pins).
    let runtime = runtime(test_limits());
    let one = Registry::with_store(1, host.store.clone()).await.expect("registry");
    one.install(runtime.load(read(guests::ECHO_V1), "v1").await.expect("v1")).await.expect("v1");
    one.install(runtime.load(read(guests::ECHO_V2), "v2").await.expect("v2")).await.expect("v2");
    assert_eq!(version_of(&one), "2.0.0");
    assert!(one.version("echo", "1.0.0").is_ok(), "the pinned build is kept");
    let kept: Vec<String> = one.list()[0].versions.iter().map(|v| v.version.clone()).collect();
    assert_eq!(kept, ["1.0.0", "2.0.0"]);
}

fn version_of(registry: &Registry) -> String {
    registry.active("echo").map(|c| c.manifest.connector_version.clone()).unwrap_or_default()
}

/// The brief's case end to end: a real host process uploads two versions, rolls back, is
/// stopped, and a new process on the same data dir serves the rolled-back version while a
/// connection pinned to the newer one still gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_host_process_keeps_the_rolled_back_version_and_the_pins() {
    use crate::process::HostProcess;
    let dir = tempfile::tempdir().expect("temp dir");
    let host = HostProcess::start(dir.path(), &["--no-bundled"]).await;
    for wasm in [read(guests::ECHO_V1), read(guests::ECHO_V2)] {
        let (status, body) = send(host.op(Method::POST, "/v1/connectors").body(wasm)).await;
        assert_eq!(status, 201, "{body}");
    }
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let no_schedule =
        json!({"jobs_every_secs": 86_400, "applications_every_secs": 86_400, "enabled": false});
    let (status, pinned) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "echo", "pinned_version": "2.0.0", "schedules": no_schedule,
    })))
    .await;
    assert_eq!(status, 201, "{pinned}");
    let pinned = pinned["id"].as_str().expect("id").to_string();
    let (status, body) = send(host.op(Method::POST, "/v1/connectors/echo/rollback")).await;
    assert_eq!((status, body["active"]["version"].as_str()), (200, Some("1.0.0")), "{body}");
    // Uploading bytes that are loaded changes nothing, not even the active version.
    let (status, body) =
        send(host.op(Method::POST, "/v1/connectors").body(read(guests::ECHO_V2))).await;
    assert_eq!((status, body["changed"].as_bool()), (200, Some(false)), "{body}");
    assert_eq!(body["active"]["version"], "1.0.0", "{body}");
    let took = host.terminate(Duration::from_secs(30)).await;
    println!("the first host stopped {} ms after SIGTERM", took.as_millis());

    let host = HostProcess::start(dir.path(), &["--no-bundled"]).await;
    let (status, echo) = send(host.op(Method::GET, "/v1/connectors/echo")).await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo["active"]["version"], "1.0.0", "the rolled-back version is active: {echo}");
    let kept: Vec<&str> = echo["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(kept, ["1.0.0", "2.0.0"], "{echo}");
    // The pin resolves to its build: a sync of the pinned connection runs echo 2.0.0.
    let (status, started) = send(
        host.op(Method::POST, &format!("/v1/connections/{pinned}/sync"))
            .json(&json!({"kind": "jobs"})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let run_id = started["run_id"].as_str().expect("run id").to_string();
    let mut run = serde_json::Value::Null;
    for _ in 0..400 {
        run = send(host.op(Method::GET, &format!("/v1/runs/{run_id}"))).await.1;
        if !matches!(run["state"].as_str(), Some("queued" | "running")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(run["state"], "success", "{run}\n{}", host.log_text());
    let (_, jobs) = send(host.op(Method::GET, &format!("/v1/jobs?connection_id={pinned}"))).await;
    assert_eq!(jobs["data"][0]["title"], "echo 2.0.0", "{jobs}");
    host.terminate(Duration::from_secs(30)).await;
}
