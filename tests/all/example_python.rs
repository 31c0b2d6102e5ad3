//! The Python example connector (`examples/python-connector/app.py`, built with
//! componentize-py by `tests/build.rs`) against the sandbox ATS: the manifest, `check`,
//! paging without repeats, incremental reads, upsert dedupe by e-mail then phone, typed
//! errors; and through the whole host: uploaded over HTTP, a connection syncs its jobs.

use ats_host::model::{
    AtsError, CandidateInput, CandidateLookup, JobStatus, NoteInput, Operation, RateLimit, Target,
    UpsertOutcome,
};
use ats_host::runtime::{
    CallContext, CallError, Invocation, LoadedConnector, Output, Runtime, call::first_page,
};
use ats_host::sandbox_ats::{self, SandboxHandle};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::{context, guests, read, runtime, test_limits};
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// One test compiles the component (seconds, in a debug build); the others wait and then
/// find it in the shared artifact cache.
static FIRST_LOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn load(runtime: &Runtime) -> Arc<LoadedConnector> {
    let _first = FIRST_LOAD.lock().await;
    let loaded = runtime.load(read(guests::PYTHON_CONNECTOR), guests::PYTHON_CONNECTOR).await;
    match loaded {
        Ok(connector) => {
            eprintln!(
                "python connector: {} bytes, {:?} in {:?}",
                connector.size_bytes, connector.compile_origin, connector.load_time
            );
            connector
        }
        Err(error) => panic!("{error}"),
    }
}

async fn setup(api_key: &str) -> (Arc<Runtime>, Arc<LoadedConnector>, CallContext, SandboxHandle) {
    let (addr, sandbox) =
        sandbox_ats::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), sandbox_ats::DEMO_API_KEY)
            .await
            .expect("sandbox ATS starts");
    let runtime = runtime(test_limits());
    let connector = load(&runtime).await;
    let base = format!("http://{addr}");
    let mut ctx = context("python-example", &[("base-url", &base), ("api-key", api_key)]);
    ctx.allow_private_networks = true;
    (runtime, connector, ctx, sandbox)
}

#[tokio::test]
async fn describes_checks_pages_without_repeats_and_reads_incrementally() {
    let (runtime, connector, ctx, _sandbox) = setup(sandbox_ats::DEMO_API_KEY).await;
    let manifest = &connector.manifest;
    assert_eq!(
        (manifest.id.as_str(), manifest.ats_name.as_str()),
        ("python-minimal", "Sandbox ATS")
    );
    assert_eq!(connector.contract, "0.2.0");
    for operation in [
        Operation::Check,
        Operation::ListJobs,
        Operation::ListStages,
        Operation::FindCandidates,
        Operation::UpsertCandidate,
    ] {
        assert!(manifest.operations.contains(&operation), "{operation:?} is declared");
    }
    assert_eq!(manifest.egress_hosts, ["{base-url}"]);
    let secret: Vec<(&str, bool)> =
        manifest.config_fields.iter().map(|f| (f.name.as_str(), f.secret)).collect();
    assert_eq!(secret, [("base-url", false), ("api-key", true)]);

    match runtime.call(&connector, &ctx, Invocation::Check).await {
        Ok(Output::Account(account)) => assert_eq!(account.display_name, "Sandbox Recruiting B.V."),
        other => panic!("{other:?}"),
    }

    let mut page = first_page();
    page.limit = Some(5);
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let result = runtime.call(&connector, &ctx, Invocation::ListJobs(page.clone())).await;
        let Ok(Output::Jobs(result)) = result else { panic!("list-jobs failed: {result:?}") };
        pages += 1;
        ids.extend(result.items.iter().map(|j| j.id.clone()));
        assert!(result.items.iter().all(|j| !j.raw.is_empty() && j.updated_at.is_some()));
        match result.next_page_token {
            Some(token) => page.page_token = Some(token),
            None => break,
        }
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len(), pages), (12, 12, 3), "{ids:?}");

    let mut since = first_page();
    since.since = Some("2026-11-10T00:00:00Z".into());
    let result = runtime.call(&connector, &ctx, Invocation::ListJobs(since)).await;
    let Ok(Output::Jobs(recent)) = result else { panic!("incremental list-jobs: {result:?}") };
    let closed = recent.items.iter().find(|j| j.id == "job-12").map(|j| j.status);
    assert_eq!(closed, Some(JobStatus::Closed));
    let recent: Vec<String> = recent.items.into_iter().map(|j| j.id).collect();
    assert_eq!(recent, ["job-10", "job-11", "job-12"]);

    let stages = runtime
        .call(
            &connector,
            &ctx,
            Invocation::ListStages { job_id: Some("job-1".into()), page: first_page() },
        )
        .await;
    match stages {
        Ok(Output::Stages(page)) => {
            let names: Vec<&str> = page.items.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["Applied", "Screening", "Interview", "Offer", "Hired"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn upserts_twice_to_one_candidate_by_email_then_by_phone() {
    let (runtime, connector, ctx, sandbox) = setup(sandbox_ats::DEMO_API_KEY).await;
    let upsert = |input: CandidateInput| {
        let (runtime, connector, ctx) = (runtime.clone(), connector.clone(), ctx.clone());
        async move {
            match runtime.call(&connector, &ctx, Invocation::UpsertCandidate(input)).await {
                Ok(Output::Upserted(result)) => (result.candidate_id, result.outcome),
                other => panic!("{other:?}"),
            }
        }
    };
    let input = CandidateInput {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        emails: vec!["ada+jobs@example.com".into()],
        phones: vec![],
        source: Some("tests".into()),
        ..Default::default()
    };
    let (first, outcome) = upsert(input.clone()).await;
    assert_eq!(outcome, UpsertOutcome::Created);
    assert_eq!(upsert(input).await, (first.clone(), UpsertOutcome::Matched), "`+` survives");

    // No e-mail: the phone finds the seeded candidate (same digits, other formatting).
    let by_phone = CandidateInput {
        first_name: "Daan".into(),
        last_name: "Jansen".into(),
        phones: vec!["+31 6 1234 5671".into()],
        ..Default::default()
    };
    assert_eq!(upsert(by_phone).await, ("cand-2".to_string(), UpsertOutcome::Matched));
    let adas = sandbox.candidates().iter().filter(|c| c["last_name"] == "Lovelace").count();
    assert_eq!(adas, 1, "one candidate in the ATS");

    let lookup = CandidateLookup::Email("ADA+jobs@example.com".into());
    let found = runtime
        .call(&connector, &ctx, Invocation::FindCandidates { lookup, page: first_page() })
        .await;
    match found {
        Ok(Output::Candidates(page)) => {
            let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(ids, [first.as_str()]);
            assert_eq!(page.items[0].emails, ["ada+jobs@example.com"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn answers_typed_errors_and_refuses_an_undeclared_operation() {
    let (runtime, connector, ctx, _) = setup("wrong-key").await;
    let result = runtime.call(&connector, &ctx, Invocation::ListJobs(first_page())).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");
    let result = runtime.call(&connector, &ctx, Invocation::Check).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Unauthorized(_)))), "{result:?}");

    let (runtime, connector, ctx, sandbox) = setup(sandbox_ats::DEMO_API_KEY).await;
    sandbox.rate_limit_next(1, 7);
    let result = runtime.call(&connector, &ctx, Invocation::ListJobs(first_page())).await;
    assert!(
        matches!(
            &result,
            Err(CallError::Connector(AtsError::RateLimited(RateLimit {
                retry_after_seconds: Some(7),
                ..
            })))
        ),
        "{result:?}"
    );
    sandbox.fail_next(1, 502);
    let result = runtime.call(&connector, &ctx, Invocation::Check).await;
    assert!(matches!(result, Err(CallError::Connector(AtsError::Transient(_)))), "{result:?}");
    let missing = runtime
        .call(
            &connector,
            &ctx,
            Invocation::ListStages { job_id: Some("nope".into()), page: first_page() },
        )
        .await;
    assert!(matches!(missing, Err(CallError::Connector(AtsError::NotFound(_)))), "{missing:?}");

    // Not in the manifest: the host answers `unsupported` without entering the guest (whose
    // own export answers `ats-error::unsupported` as well).
    let note = NoteInput { target: Target::Candidate("cand-1".into()), body: "hi".into() };
    let result = runtime.call(&connector, &ctx, Invocation::AddNote(note)).await;
    match result {
        Err(error @ CallError::NotDeclared { .. }) => assert_eq!(error.kind(), "unsupported"),
        other => panic!("expected unsupported, got {other:?}"),
    }
    assert!(sandbox.candidates()[0]["notes"].as_array().is_some_and(Vec::is_empty));
}

/// The app's own logic under the host's CPython with the imports faked
/// (`examples/python-connector/test_app.py`): every undeclared export answers `unsupported`
/// (the host never lets a call reach them), every status and transport failure maps onto its
/// `ats-error`, `Retry-After` as an HTTP-date included.
#[test]
fn the_apps_python_unit_tests_pass_under_cpython() {
    let output = std::process::Command::new(guests::PYTHON)
        .args(["-B", "test_app.py"])
        .current_dir(guests::PYTHON_CONNECTOR_SRC)
        .env("PYTHONPATH", guests::PYTHON_BINDINGS)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("the Python of componentize-py's virtual environment runs");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && report.contains("OK"), "{report}");
}

/// Through the whole host: uploaded over HTTP like any connector, a connection to the sandbox
/// ATS checks and syncs every job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_over_http_a_connection_syncs_its_jobs() {
    let wasm = read(guests::PYTHON_CONNECTOR);
    // Compiled once into the shared artifact cache; the host gets the artifact in its own
    // cache (`DATA_DIR/compiled`, the same engine settings), so the upload does not compile
    // the component again.
    let sha256 = load(&runtime(test_limits())).await.sha256.clone();
    let host = ApiHost::start().await;
    share_artifact(&sha256, &host.data_dir.path().join("compiled"));
    let (status, uploaded) = send(host.op(Method::POST, "/v1/connectors").body(wasm)).await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(uploaded["active"]["id"], "python-minimal", "{uploaded}");

    let (url, sandbox) = ats_tests::sync_rig::start_sandbox().await;
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "py"}))).await;
    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "py", "connector_id": "python-minimal", "config": {"base-url": url},
        "secrets": {"api-key": ats_tests::sync_rig::KEY}, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    let connection = created["id"].as_str().expect("id").to_string();
    let (_, checked) =
        send(host.op(Method::POST, &format!("/v1/connections/{connection}/check"))).await;
    assert_eq!(checked["status"], "ok", "{checked}");

    let run =
        crate::api::end_to_end::sync_and_wait(&host, &host.operator_key, &connection, "jobs").await;
    assert_eq!(run["state"], "success", "{run}");
    let (_, page) =
        send(host.op(Method::GET, &format!("/v1/jobs?connection_id={connection}&limit=500"))).await;
    let mut stored: Vec<&str> = page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|j| j["remote_id"].as_str())
        .collect();
    stored.sort_unstable();
    let mut remote: Vec<String> =
        sandbox.jobs().iter().filter_map(|j| j["id"].as_str().map(str::to_string)).collect();
    remote.sort_unstable();
    assert_eq!(stored, remote, "every job of the ATS is stored, once");
}

/// Copies the compiled artifacts of `sha256` from the shared test cache to `cache`.
fn share_artifact(sha256: &str, cache: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(ats_tests::shared_artifact_cache()) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(sha256) && std::fs::create_dir_all(cache).is_ok() {
            let _ = std::fs::copy(entry.path(), cache.join(name));
        }
    }
}
