//! Hostile files: connector files read bounded, and the compiled cache kept bounded (a
//! rejected component leaves no artifact behind).

use ats_host::runtime::loader::{LoadError, read_component_file};
use ats_host::runtime::state::MemoryStateStore;
use ats_host::runtime::watcher::DirectoryWatcher;
use ats_host::runtime::{Registry, Runtime, limits::Limits};
use ats_tests::{guests, read, test_limits};
use std::sync::Arc;

/// A 2 GB sparse file is refused from its size, without being read into memory.
#[tokio::test]
async fn files_are_size_checked_before_they_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.wasm");
    std::fs::File::create(&path).and_then(|f| f.set_len(2 << 30)).expect("sparse file");
    match read_component_file(&path, 50 << 20).await {
        Err(LoadError::TooLarge { size, limit, .. }) => {
            assert_eq!((size, limit), (2 << 30, 50 << 20));
        }
        other => panic!("expected too large, got {:?}", other.map(|b| b.len())),
    }
    let small = dir.path().join("small.wasm");
    std::fs::write(&small, b"\0asm").expect("write");
    assert_eq!(read_component_file(&small, 10).await.expect("reads").len(), 4);
}

fn cache_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
                .collect()
        })
        .unwrap_or_default()
}

/// A component rejected after compiling leaves nothing in the cache; accepted ones stay,
/// and the cache evicts the least recently used beyond its bound.
#[tokio::test]
async fn the_compiled_cache_keeps_no_rejected_component_and_stays_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = |max_bytes: u64| {
        Runtime::new(
            Limits { max_compiled_cache_bytes: max_bytes, ..test_limits() },
            Arc::new(MemoryStateStore::default()),
            Some(dir.path().to_path_buf()),
        )
        .expect("runtime")
    };
    let roomy = runtime(1 << 30);
    let rejected = roomy.load(read(guests::OTHER_WORLD), "other-world.wasm").await;
    assert!(rejected.is_err(), "the other world is rejected");
    assert!(cache_files(dir.path()).is_empty(), "a rejected component stayed in the cache");
    roomy.load(read(guests::ECHO_V1), "echo-v1").await.expect("loads");
    assert_eq!(cache_files(dir.path()).len(), 1);

    // A bound of one and a half artifacts: loading a second evicts the older one.
    let one: u64 =
        cache_files(dir.path()).iter().map(|p| p.metadata().map_or(0, |m| m.len())).sum();
    let tight = runtime(one * 3 / 2);
    std::thread::sleep(std::time::Duration::from_millis(20));
    tight.load(read(guests::ECHO_V2), "echo-v2").await.expect("loads");
    let left = cache_files(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
}

/// `manifest_size`: connector files load side by side at start, each `describe()` within
/// its own deadline: two files that hang in `describe()` are rejected at that deadline, and
/// a good file beside them is loaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_size_hanging_describes_end_at_their_deadline_and_hold_up_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hang = read(guests::HANG_DESCRIBE);
    std::fs::write(dir.path().join("a-hang.wasm"), &hang).expect("write");
    std::fs::write(dir.path().join("b-hang.wasm"), ats_tests::with_custom_section(hang, "copy"))
        .expect("write");
    std::fs::write(dir.path().join("c-echo.wasm"), read(guests::ECHO_V1)).expect("write");
    let limits = Limits {
        describe_timeout: std::time::Duration::from_secs(1),
        call_timeout: std::time::Duration::from_secs(60),
        ..test_limits()
    };
    let runtime = Arc::new(
        Runtime::new(
            limits,
            Arc::new(MemoryStateStore::default()),
            Some(ats_tests::shared_artifact_cache()),
        )
        .expect("runtime"),
    );
    let registry = Arc::new(Registry::default());
    let mut watcher = DirectoryWatcher::new(dir.path(), runtime, registry.clone());
    let started = std::time::Instant::now();
    let report = ats_tests::within("the start-up scan", watcher.load_all()).await;
    println!(
        "three files (two hanging in describe) loaded in {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(report.loaded.len(), 1, "{report:?}");
    assert_eq!(report.rejected.len(), 2, "{report:?}");
    for (_, error) in &report.rejected {
        let message = error.to_string();
        assert!(message.contains("describe() failed"), "{message}");
        assert!(
            message.contains("time limit of 1000ms"),
            "the describe deadline applies: {message}"
        );
    }
    assert!(registry.active("echo").is_some());
}
