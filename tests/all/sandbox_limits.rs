//! Misbehaving guests are stopped by the sandbox with a typed error, and the host and other
//! calls carry on.

use ats_host::runtime::{AllocatorChoice, CallError, Invocation, Limits};
use ats_tests::{
    context, guests, list_jobs, load, runtime, slow_server, test_limits, title, within,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_times_out_while_other_calls_keep_working() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;

    let spinning = {
        let (runtime, guest) = (runtime.clone(), guest.clone());
        tokio::spawn(async move {
            runtime.call(&guest, &context("a", &[("behaviour", "loop")]), list_jobs()).await
        })
    };
    // While one instance spins, another call on the same connector answers.
    let ok = within("a normal call", runtime.call(&guest, &context("b", &[]), list_jobs())).await;
    assert_eq!(title(ok.expect("normal call succeeds")), "ok");

    let result = within("the looping call", spinning).await.expect("task joins");
    assert!(matches!(result, Err(CallError::Timeout { .. })), "{result:?}");
    assert_eq!(result.expect_err("timeout").kind(), "timeout");

    let after = runtime.call(&guest, &context("a", &[]), list_jobs()).await;
    assert_eq!(title(after.expect("the host survived")), "ok");
}

#[tokio::test]
async fn memory_bomb_is_stopped_at_the_limit() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let result = within(
        "memory bomb",
        runtime.call(&guest, &context("a", &[("behaviour", "memory-bomb")]), list_jobs()),
    )
    .await;
    match result {
        Err(CallError::MemoryLimit { limit }) => assert_eq!(limit, 32 << 20),
        other => panic!("expected the memory limit, got {other:?}"),
    }
    assert!(runtime.call(&guest, &context("a", &[]), list_jobs()).await.is_ok());
}

#[tokio::test]
async fn guest_blocked_in_a_slow_host_request_hits_the_wall_clock_timeout() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let server = slow_server().await;
    let url = format!("http://127.0.0.1:{}/slow", server.port());
    let mut ctx = context("a", &[("behaviour", "fetch"), ("url", &url)]);
    ctx.allow_private_networks = true;
    let result = within("slow request", runtime.call(&guest, &ctx, list_jobs())).await;
    assert!(matches!(result, Err(CallError::Timeout { .. })), "{result:?}");
}

#[tokio::test]
async fn panic_is_a_typed_trap_with_the_guest_message_and_the_host_survives() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let result = runtime.call(&guest, &context("a", &[("behaviour", "panic")]), list_jobs()).await;
    match result {
        Err(CallError::Trap { message }) => {
            assert!(
                message.contains("panics on purpose"),
                "the panic message is reported: {message}"
            )
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(runtime.call(&guest, &context("a", &[]), list_jobs()).await.is_ok());
}

#[tokio::test]
async fn oversized_output_is_refused_at_the_cap() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let ctx = context("a", &[("behaviour", "big-output"), ("size", "1048576")]);
    match runtime.call(&guest, &ctx, list_jobs()).await {
        Err(CallError::OutputTooLarge { size, limit }) => {
            assert_eq!(limit, 256 << 10);
            assert!(size > 1 << 20);
        }
        other => panic!("expected the output cap, got {other:?}"),
    }
    let small = context("a", &[("behaviour", "big-output"), ("size", "1000")]);
    assert_eq!(
        title(runtime.call(&guest, &small, list_jobs()).await.expect("small output")).len(),
        1000
    );
}

/// A result whose strings all point at the same guest bytes: copying it would cost the host
/// `size × count` bytes although the guest holds `size`. The copy stops at the transfer
/// fuel, long before the JSON size check could see the result.
#[tokio::test]
async fn repeated_strings_in_a_result_stop_the_copy_at_the_transfer_limit() {
    let limits = Limits { max_request_body_bytes: 64 << 10, ..test_limits() };
    let fuel = limits.transfer_fuel();
    assert_eq!(fuel, 2 * (256 << 10), "twice the output cap, the largest transfer here");
    let runtime = runtime(limits);
    let guest = load(&runtime, guests::MISBEHAVE).await;
    // 64 × 1 MiB = 64 MiB to copy out of a guest holding 1 MiB of it.
    let aliased = context("a", &[("behaviour", "alias-raw"), ("size", "1048576"), ("count", "64")]);
    let error = runtime.call(&guest, &aliased, list_jobs()).await.expect_err("the copy is refused");
    match &error {
        CallError::TransferTooLarge { limit } => assert_eq!(*limit, fuel as u64),
        other => panic!("expected the transfer limit, got {other:?}"),
    }
    assert_eq!(error.kind(), "output-too-large");
    assert!(error.to_string().contains("max_output_bytes"), "says what to do: {error}");
    // Under the limit, the same shape passes the copy and meets the JSON cap as before.
    let small = context("a", &[("behaviour", "alias-raw"), ("size", "1000"), ("count", "4")]);
    let page = runtime.call(&guest, &small, list_jobs()).await.expect("a small aliased page");
    match page {
        ats_host::runtime::Output::Jobs(page) => {
            assert_eq!(page.items.len(), 4);
            assert!(page.items.iter().all(|job| job.raw.len() == 1000));
        }
        other => panic!("expected jobs, got {other:?}"),
    }
}

#[tokio::test]
async fn log_floods_and_stderr_are_capped_not_fatal() {
    ats_tests::log_capture::install();
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let budget = test_limits().max_log_bytes_per_call;
    let connection = format!("log-flood-{}", std::process::id());
    let flood = context(&connection, &[("behaviour", "log-flood"), ("count", "5000")]);
    assert_eq!(title(runtime.call(&guest, &flood, list_jobs()).await.expect("flood")), "flooded");
    let logs = ats_tests::log_capture::captured();
    let ours: Vec<&str> = logs.lines().filter(|l| l.contains(&connection)).collect();
    let kept = ours.iter().filter(|l| l.contains(&"y".repeat(1024))).count();
    assert!(kept > 0, "no guest log line reached the host log");
    assert!(kept <= budget / 1024, "{kept} lines of 1 KiB kept, over the {budget}-byte cap");
    let dropped = 5000 * 1024 - kept * 1024;
    assert!(
        ours.iter().any(|l| l.contains("dropped") && l.contains(&dropped.to_string())),
        "the dropped byte count ({dropped}) was not reported"
    );

    let connection = format!("stderr-{}", std::process::id());
    let stderr = context(&connection, &[("behaviour", "stderr")]);
    assert_eq!(
        title(runtime.call(&guest, &stderr, list_jobs()).await.expect("stderr")),
        "wrote stderr"
    );
    let logs = ats_tests::log_capture::captured();
    assert!(
        logs.lines()
            .any(|l| l.contains(&connection) && l.contains("a line on stderr from the guest")),
        "guest stderr was not forwarded to the host log"
    );
}

/// The pooling allocator reserves address space up front; where that is limited (`ulimit
/// -v`), `auto` falls back to on-demand allocation and calls still work. The check runs in
/// a child process (this test binary, re-executed under `ulimit -v`).
#[tokio::test]
async fn auto_allocator_falls_back_to_on_demand_when_address_space_is_limited() {
    const CHILD_VAR: &str = "ATS_ALLOCATOR_FALLBACK_CHILD";
    if std::env::var(CHILD_VAR).is_ok() {
        let runtime = runtime(Limits { allocator: AllocatorChoice::Auto, ..test_limits() });
        assert_eq!(runtime.allocator(), ats_host::runtime::AllocatorKind::OnDemand);
        let guest = load(&runtime, guests::MISBEHAVE).await;
        runtime.call(&guest, &context("a", &[]), list_jobs()).await.expect("call on on-demand");
        return;
    }
    // Not `/proc/self/exe`: bash execs it, where it names bash itself.
    let exe = std::env::current_exe().expect("test binary");
    let output = std::process::Command::new("bash")
        .arg("-c")
        // 8 GiB of address space: enough for the process, far from what 64 pooled instances
        // reserve (several GiB each).
        .arg("ulimit -v 8388608 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "sandbox_limits::auto_allocator_falls_back_to_on_demand_when_address_space_is_limited",
            "--exact",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .output()
        .expect("run the child under ulimit -v");
    assert!(
        output.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"), "the child ran no test");
}

#[tokio::test]
async fn state_is_kept_per_connection_across_fresh_instances() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let count = |connection: &'static str| {
        let (runtime, guest) = (runtime.clone(), guest.clone());
        async move {
            title(
                runtime
                    .call(&guest, &context(connection, &[("behaviour", "count")]), list_jobs())
                    .await
                    .expect("count"),
            )
        }
    };
    assert_eq!(count("a").await, "1");
    assert_eq!(count("a").await, "2");
    assert_eq!(count("b").await, "1");
}

#[tokio::test]
async fn undeclared_operations_are_refused_without_calling_the_guest() {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let result = runtime
        .call(&guest, &context("a", &[]), Invocation::GetCandidate { candidate_id: "1".into() })
        .await;
    assert!(matches!(result, Err(CallError::NotDeclared { .. })), "{result:?}");
    assert_eq!(result.expect_err("refused").kind(), "unsupported");
}

#[tokio::test]
async fn on_demand_and_pooling_allocators_run_the_same_guest() {
    for allocator in [AllocatorChoice::OnDemand, AllocatorChoice::Pooling] {
        let runtime = runtime(Limits { allocator, ..test_limits() });
        let guest = load(&runtime, guests::MISBEHAVE).await;
        let memory =
            runtime.call(&guest, &context("a", &[("behaviour", "memory-bomb")]), list_jobs()).await;
        assert!(matches!(memory, Err(CallError::MemoryLimit { .. })), "{allocator:?}: {memory:?}");
        assert!(
            runtime.call(&guest, &context("a", &[]), list_jobs()).await.is_ok(),
            "{allocator:?}"
        );
    }
}

/// Every WASI handle a guest keeps is host memory the linear-memory cap does not see; a
/// call holds at most `max_handles_per_call` of them, and one that wants more fails typed.
#[tokio::test]
async fn a_guest_hoarding_resource_handles_is_stopped_at_the_handle_limit() {
    // 5,000 handles: over this limit, well under wasmtime's own default of 100,000.
    let limits = Limits { max_handles_per_call: 500, ..test_limits() };
    let runtime = runtime(limits);
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let flood = context("a", &[("behaviour", "handle-flood"), ("count", "5000")]);
    let error = runtime.call(&guest, &flood, list_jobs()).await.expect_err("the flood is stopped");
    assert!(matches!(error, CallError::TooManyHandles { limit: 500 }), "{error:?}");
    assert_eq!(error.kind(), "handle-limit");
    assert!(error.to_string().contains("drop the handles"), "says what to do: {error}");
    // Under the limit the same guest works, and the host carries on.
    let few = context("a", &[("behaviour", "handle-flood"), ("count", "100")]);
    assert_eq!(
        title(runtime.call(&guest, &few, list_jobs()).await.expect("100 handles")),
        "flooded handles"
    );
}
