//! Loading, validation, the artifact cache, the watched directory and hot swap.

use ats_host::runtime::cache::CompileOrigin;
use ats_host::runtime::state::MemoryStateStore;
use ats_host::runtime::watcher::DirectoryWatcher;
use ats_host::runtime::{Invocation, LoadError, Output, Registry, Runtime, call::first_page};
use ats_tests::{context, guests, read, runtime, test_limits};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
    assert_eq!(registry.rollback("echo").expect("rollback").manifest.connector_version, "1.0.0");
    assert_eq!(echo_title(&runtime, &registry).await.as_deref(), Ok("echo 1.0.0"));
    registry.activate("echo", "2.0.0").expect("activate");
    assert_eq!(echo_title(&runtime, &registry).await.as_deref(), Ok("echo 2.0.0"));
    let error = registry.activate("echo", "9.9.9").expect_err("unknown version").to_string();
    assert!(error.contains("1.0.0") && error.contains("2.0.0"), "lists what is loaded: {error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_swap_under_load_fails_no_call_and_new_calls_see_the_new_version() {
    let runtime = runtime(test_limits());
    let registry = Arc::new(Registry::default());
    registry
        .install(runtime.load(read(guests::ECHO_V1), "echo-v1").await.expect("v1"))
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
    registry.install(v2).expect("installs");
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
