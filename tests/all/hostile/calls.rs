//! Hostile calls on the runtime: headers, memories, the pool, recursion, state, logs and
//! oversized errors. Each ends as a typed failure of that call, and the host carries on.

use ats_host::model::AtsError;
use ats_host::runtime::state::{MemoryStateStore, StateStore};
use ats_host::runtime::{AllocatorChoice, CallError, Limits, LoadError, Output, Runtime};
use ats_tests::{
    context, guests, load, runtime, shared_artifact_cache, slow_server, test_limits, within,
};
use ats_tests::{list_jobs, title};
use std::sync::Arc;
use std::time::Duration;

/// `headers`: 30,000 distinct header names once made the `http` crate panic inside the
/// host. Now the request is refused `invalid-request` before anything is built.
#[tokio::test]
async fn headers_over_the_cap_are_an_invalid_request_and_the_host_survives() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let server = slow_server().await;
    let url = format!("http://127.0.0.1:{}/ok", server.port());
    for (count, expect_ok) in [("30000", false), ("101", false), ("50", true)] {
        let mut ctx = context("a", &[("behaviour", "headers"), ("url", &url), ("count", count)]);
        ctx.allow_private_networks = true;
        let result = within("headers", runtime.call(&guest, &ctx, list_jobs())).await;
        if expect_ok {
            assert_eq!(title(result.expect("50 headers pass")), "status 200");
            continue;
        }
        match result {
            Err(CallError::Connector(AtsError::InvalidInput(message))) => {
                assert!(message.contains("max_request_headers"), "{message}")
            }
            other => panic!("{count} headers: expected invalid input, got {other:?}"),
        }
    }
}

/// `memories`: a component with sixteen memories (in one module, or one each in sixteen
/// modules) is refused at load, naming the limit, with either allocator.
#[tokio::test]
async fn memories_a_component_with_many_memories_is_refused_at_load() {
    let mut one_module = String::from("(component (core module $m");
    for _ in 0..16 {
        one_module.push_str(" (memory 1)");
    }
    one_module.push_str(") (core instance (instantiate $m)))");
    let mut many_modules = String::from("(component");
    for i in 0..16 {
        many_modules.push_str(&format!(
            " (core module $m{i} (memory 1)) (core instance (instantiate $m{i}))"
        ));
    }
    many_modules.push(')');
    for allocator in [AllocatorChoice::Pooling, AllocatorChoice::OnDemand] {
        let runtime = runtime(Limits { allocator, ..test_limits() });
        for text in [&one_module, &many_modules] {
            let wasm = wat::parse_str(text).expect("the test component parses");
            let error = runtime.load(wasm, "sixteen-memories.wasm").await.expect_err("refused");
            assert!(matches!(error, LoadError::Resources { .. }), "{allocator:?}: {error}");
            let message = error.to_string();
            assert!(message.contains("16"), "{allocator:?}: {message}");
            assert!(message.contains("limits.max_memories_per_component"), "{message}");
        }
    }
}

/// `memories`: idle RSS after 499 calls that each touched 4 MiB and held it at the same
/// time (each waits on a slow request), so 499 pool slots were in use at once. Run in a
/// child process (this binary re-executed) so other tests do not disturb the measurement.
#[tokio::test]
async fn memories_pooled_slots_do_not_stay_resident_after_calls() {
    const CHILD_VAR: &str = "ATS_IDLE_RSS_CHILD";
    if std::env::var(CHILD_VAR).is_ok() {
        let limits = Limits {
            allocator: ats_host::runtime::AllocatorChoice::Pooling,
            memory_bytes: 64 << 20,
            pooling_instances: 1000,
            max_concurrent_calls_per_connector: 1000,
            call_timeout: Duration::from_secs(30),
            ..Limits::default()
        };
        let runtime = runtime(limits);
        let guest = load(&runtime, guests::MISBEHAVE).await;
        let server = slow_server().await;
        let url = format!("http://127.0.0.1:{}/pause", server.port());
        let before = rss_mib();
        let calls = (0..499).map(|i| {
            let (runtime, guest, url) = (runtime.clone(), guest.clone(), url.clone());
            tokio::spawn(async move {
                let mut ctx =
                    context(&format!("c{i}"), &[("behaviour", "hold"), ("mb", "4"), ("url", &url)]);
                ctx.allow_private_networks = true;
                runtime.call(&guest, &ctx, list_jobs()).await
            })
        });
        for call in futures::future::join_all(calls).await {
            assert_eq!(title(call.expect("joins").expect("call")), "held");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        println!("IDLE_RSS_MIB before={before} after={} peak={}", rss_mib(), status_mib("VmHWM:"));
        return;
    }
    let output = std::process::Command::new(crate::process::test_binary())
        .args([
            "hostile::calls::memories_pooled_slots_do_not_stay_resident_after_calls",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let line = stdout.lines().find(|l| l.contains("IDLE_RSS_MIB")).expect("child measured");
    let number = |key: &str| -> u64 {
        line.split_whitespace()
            .find_map(|part| part.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    let grown = number("after=").saturating_sub(number("before="));
    println!(
        "idle RSS grew by {grown} MiB after 499 concurrent calls of 4 MiB (peak RSS {} MiB)",
        number("peak=")
    );
    // 499 slots × 4 MiB kept resident was 2 GiB before the fix (4.1 GB with 1,000 slots).
    assert!(grown < 400, "idle RSS grew by {grown} MiB");
}

fn rss_mib() -> u64 {
    status_mib("VmRSS:")
}

/// A `/proc/self/status` memory line (`VmRSS:`, `VmHWM:`) in MiB.
fn status_mib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// `pool`: one connector holding its slots is answered `busy` (naming it) and a different
/// connector keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_one_connector_cannot_take_the_slots_of_another() {
    let runtime = runtime(Limits {
        max_concurrent_calls_per_connector: 2,
        call_queue_timeout: Duration::from_millis(300),
        call_timeout: Duration::from_secs(3),
        ..test_limits()
    });
    let hostile = load(&runtime, guests::MISBEHAVE).await;
    let victim = load(&runtime, guests::ECHO_V1).await;
    let server = slow_server().await;
    let url = format!("http://127.0.0.1:{}/slow", server.port());
    let holders: Vec<_> = (0..2)
        .map(|i| {
            let (runtime, guest, url) = (runtime.clone(), hostile.clone(), url.clone());
            tokio::spawn(async move {
                let mut ctx =
                    context(&format!("hold-{i}"), &[("behaviour", "fetch"), ("url", &url)]);
                ctx.allow_private_networks = true;
                runtime.call(&guest, &ctx, list_jobs()).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let third = runtime.call(&hostile, &context("third", &[]), list_jobs()).await;
    match &third {
        Err(error @ CallError::Busy { connector, message }) => {
            assert_eq!(connector, "misbehave");
            assert_eq!(error.kind(), "busy");
            assert!(message.contains("max_concurrent_calls_per_connector"), "{message}");
        }
        other => panic!("expected busy, got {other:?}"),
    }
    let other = runtime.call(&victim, &context("victim", &[]), list_jobs()).await;
    assert_eq!(title(other.expect("another connector is not starved")), "echo 1.0.0");
    for holder in holders {
        let result = within("holder", holder).await.expect("joins");
        assert!(matches!(result, Err(CallError::Timeout { .. })), "{result:?}");
    }
    let after = runtime.call(&hostile, &context("third", &[]), list_jobs()).await;
    assert_eq!(title(after.expect("slots are released")), "ok");
}

/// Stack overflow is reported as such, not as an out-of-bounds memory access.
#[tokio::test]
async fn recursion_is_reported_as_a_stack_overflow() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let result = within(
        "recursion",
        runtime.call(&guest, &context("a", &[("behaviour", "recurse")]), list_jobs()),
    )
    .await;
    match result {
        Err(error @ CallError::StackOverflow { .. }) => {
            assert_eq!(error.kind(), "stack-overflow");
            assert!(error.to_string().contains("stack"), "{error}");
        }
        other => panic!("expected a stack overflow, got {other:?}"),
    }
}

/// `state_quota`: a connector that stores without end fails `state-full` at the quota,
/// and its connection's state stays within it.
#[tokio::test]
async fn state_quota_caps_entries_and_bytes_per_connection() {
    let store = Arc::new(MemoryStateStore::default());
    let limits = Limits {
        max_state_entries_per_connection: 40,
        max_state_bytes_per_connection: 1 << 20,
        call_timeout: Duration::from_secs(10),
        ..test_limits()
    };
    let runtime = Arc::new(
        Runtime::new(limits, store.clone(), Some(shared_artifact_cache())).expect("runtime"),
    );
    let guest = load(&runtime, guests::MISBEHAVE).await;
    for (connection, size, what) in [("by-bytes", "60000", "bytes"), ("by-count", "10", "entries")]
    {
        let ctx = context(connection, &[("behaviour", "state-flood"), ("size", size)]);
        let result = within("state flood", runtime.call(&guest, &ctx, list_jobs())).await;
        // Contract 0.2: the refusal is the guest's `state.set` error, which this guest
        // returns as its answer (0.1.0 guests, whose `set` cannot fail, trap: see
        // `contract::v0_1_state_set_on_a_full_quota_fails_the_call`).
        match &result {
            Err(CallError::Connector(AtsError::InvalidInput(message))) => {
                assert!(message.contains(connection), "{message}");
                assert!(message.contains("limits.max_state_"), "{message}");
            }
            other => panic!("{what}: expected the refused set, got {other:?}"),
        }
        let usage = store.usage(connection, "").await;
        assert!(usage.entries <= 40 && usage.bytes <= 1 << 20, "{what}: {usage:?}");
    }
    assert_eq!(
        title(
            runtime
                .call(&guest, &context("fresh", &[("behaviour", "count")]), list_jobs())
                .await
                .expect("count")
        ),
        "1",
        "another connection still stores"
    );
}

/// `log_forge`: a newline in a guest message cannot start a line of its own.
#[tokio::test]
async fn log_forge_guest_text_is_escaped() {
    ats_tests::log_capture::install();
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let connection = format!("forge-{}", std::process::id());
    let ctx = context(&connection, &[("behaviour", "log-forge")]);
    assert_eq!(title(runtime.call(&guest, &ctx, list_jobs()).await.expect("logs")), "logged");
    let logs = ats_tests::log_capture::captured();
    assert!(
        logs.lines()
            .any(|l| l.contains(&connection) && l.contains("innocent\\nERROR connector=victim")),
        "the message was not logged escaped on one line"
    );
    assert!(
        !logs.lines().any(|l| l.trim_start().starts_with("ERROR connector=victim")),
        "a guest forged a log line"
    );
}

/// `error_cap`: a megabyte error message and `raw` field are cut, with their size noted.
#[tokio::test]
async fn error_cap_bounds_error_messages_and_raw_fields() {
    let runtime = runtime(Limits { max_raw_bytes: 64 << 10, ..test_limits() });
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let ctx = context("a", &[("behaviour", "big-error"), ("size", "1048576")]);
    let error = runtime.call(&guest, &ctx, list_jobs()).await.expect_err("fails");
    let message = error.to_string();
    assert!(message.len() < 4200, "{} bytes", message.len());
    assert!(message.contains("bytes cut"), "the cut is noted");
    let ctx = context("a", &[("behaviour", "big-raw"), ("size", "200000")]);
    match runtime.call(&guest, &ctx, list_jobs()).await.expect("a page") {
        Output::Jobs(page) => {
            let raw = &page.items[0].raw;
            assert!(raw.len() < 200 && raw.contains("\"_truncated\":true"), "{raw}");
            assert_eq!(page.items[0].title, "big raw", "the record itself is kept");
        }
        other => panic!("expected jobs, got {other:?}"),
    }
}
