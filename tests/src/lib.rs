//! Test support: paths of the purpose-built guest components, runtimes with test limits,
//! and small loopback servers. Everything listens on 127.0.0.1 only.

use ats_host::runtime::state::MemoryStateStore;
use ats_host::runtime::{CallContext, Field, Limits, LoadedConnector, Runtime};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub mod api_host;
pub mod conformance;
pub mod fakes;
pub mod harness;
pub mod log_capture;
pub mod postgres;
pub mod salesforce_checks;
pub mod sync_rig;

/// Paths of the test guests built by `build.rs` (`MISBEHAVE`, `ECHO_V1`, `ECHO_V2`, `OTHER_WORLD`).
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// Limits small enough that misbehaviour is caught quickly in tests.
pub fn test_limits() -> Limits {
    Limits {
        call_timeout: Duration::from_millis(1500),
        memory_bytes: 32 << 20,
        max_output_bytes: 256 << 10,
        pooling_instances: 64,
        ..Limits::default()
    }
}

/// The compiled-artifact cache the test runtimes share (keyed by wasm sha256 + engine
/// hash, so entries of other builds are simply not found): the suite compiles each guest
/// once instead of once per test, which keeps a 2-core CI machine free for the tests that
/// measure something under load.
pub fn shared_artifact_cache() -> std::path::PathBuf {
    // Under the build's own target directory, so `cargo clean` removes it with the rest.
    std::path::Path::new(env!("OUT_DIR")).join("compiled-artifacts")
}

/// A runtime with `limits`, an in-memory state store and the shared artifact cache.
pub fn runtime(limits: Limits) -> Arc<Runtime> {
    Arc::new(
        Runtime::new(limits, Arc::new(MemoryStateStore::default()), Some(shared_artifact_cache()))
            .expect("runtime starts"),
    )
}

/// The same component with other bytes: a custom section named `name` appended (the
/// manifest, and so the connector id and version, stay the same).
pub fn with_custom_section(mut wasm: Vec<u8>, name: &str) -> Vec<u8> {
    let payload = b"other bytes, same component";
    let size = 1 + name.len() + payload.len();
    assert!(size < 128 && !name.is_empty(), "one-byte LEB128 sizes only");
    wasm.push(0);
    wasm.push(size as u8);
    wasm.push(name.len() as u8);
    wasm.extend_from_slice(name.as_bytes());
    wasm.extend_from_slice(payload);
    wasm
}

pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path.as_ref())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.as_ref().display()))
}

/// Loads a guest component file; panics with the load error.
pub async fn load(runtime: &Runtime, path: &str) -> Arc<LoadedConnector> {
    match runtime.load(read(path), path).await {
        Ok(connector) => connector,
        Err(e) => panic!("{e}"),
    }
}

/// The wasm of a connector bundled into the host, by cargo package name
/// (e.g. `connector-otys`) or manifest directory (e.g. `greenhouse`, packed).
pub fn bundled_wasm(package: &str) -> Vec<u8> {
    match ats_host::bundled::component(package) {
        Some(Ok(wasm)) => wasm,
        Some(Err(problem)) => panic!("{problem}"),
        None => panic!(
            "connector `{package}` is not bundled (is it a cdylib under connectors/ or a connectors/manifests/{package}/connector.toml?)"
        ),
    }
}

/// Loads a bundled connector into `runtime`; panics with the load error.
pub async fn bundled_connector(runtime: &Runtime, package: &str) -> Arc<LoadedConnector> {
    match runtime.load(bundled_wasm(package), package).await {
        Ok(connector) => connector,
        Err(e) => panic!("{e}"),
    }
}

/// `list-jobs`, first page: the call the test guests answer.
pub fn list_jobs() -> ats_host::runtime::Invocation {
    ats_host::runtime::Invocation::ListJobs(ats_host::runtime::call::first_page())
}

/// The title of the first job of a `list-jobs` answer (what the test guests report in).
pub fn title(output: ats_host::runtime::Output) -> String {
    match output {
        ats_host::runtime::Output::Jobs(page) => {
            page.items.into_iter().next().map(|j| j.title).unwrap_or_default()
        }
        other => panic!("expected jobs, got {other:?}"),
    }
}

/// A call context with `key=value` config pairs.
pub fn context(connection: &str, pairs: &[(&str, &str)]) -> CallContext {
    CallContext::new(
        connection,
        pairs.iter().map(|(k, v)| Field { name: (*k).into(), value: (*v).into() }).collect(),
    )
}

/// Serves `app` on 127.0.0.1 with a free port.
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener =
        tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A server whose `/slow` answers after a minute, `/pause` after half a second and `/ok` at
/// once.
pub async fn slow_server() -> SocketAddr {
    use axum::routing::get;
    serve(
        axum::Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "finally"
                }),
            )
            .route(
                "/pause",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    "paused"
                }),
            )
            .route("/ok", get(|| async { "ok" })),
    )
    .await
}

/// Fails the test instead of hanging when a limit does not fire.
pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 30 s: the limit did not fire"))
}
