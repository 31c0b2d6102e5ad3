//! The connector-authoring kit as an author uses it, each command a process of its own:
//! `connector test` (the conformance kit against any connector, here the sandbox manifest
//! against the bundled sandbox ATS, and against one the test starts), `--read-only`, a
//! broken connector failing with the check that caught it, and `connector new` (a manifest
//! and a Rust crate that build and pass the kit as generated).

use crate::cli::{ats_host_process, first_json};
use ats_tests::sync_rig::{KEY, start_sandbox};

const EXAMPLE: &str = "../sdk/declarative/examples/sandbox.toml";

fn example_path() -> String {
    format!("{}/{EXAMPLE}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_test_runs_every_check_against_the_sandbox_and_reports_each() {
    let (ok, stdout) =
        ats_host_process(&["connector", "test", &example_path(), "--sandbox", "--json"], None)
            .await;
    assert!(ok, "{stdout}");
    let report = first_json(&stdout);
    let results = report["results"].as_array().expect("results");
    let verdict = |operation: &str| {
        results
            .iter()
            .filter(|r| r["operation"] == operation)
            .map(|r| r["verdict"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    for operation in [
        "check",
        "list-jobs",
        "list-stages",
        "list-applications",
        "get-application",
        "get-candidate",
        "find-candidates",
        "upsert-candidate",
        "create-application",
        "move-application",
        "add-note",
        "add-tag",
        "remove-tag",
        "add-attachment",
        "write-result",
        "reject-application",
    ] {
        let verdicts = verdict(operation);
        assert!(
            !verdicts.is_empty() && verdicts.iter().all(|v| v == "passed"),
            "{operation}: {report}"
        );
    }
    assert_eq!(verdict("register-webhook"), ["not-declared"], "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_writes_nothing_to_the_ats_it_is_pointed_at() {
    let (url, sandbox) = start_sandbox().await;
    let (candidates, applications) = (sandbox.candidates().len(), sandbox.applications().len());
    let config = format!("api-key={KEY}");
    let (ok, stdout) = ats_host_process(
        &[
            "connector",
            "test",
            &example_path(),
            "--base-url",
            &url,
            "--config",
            &config,
            "--allow-private-networks",
            "--read-only",
        ],
        None,
    )
    .await;
    assert!(ok, "{stdout}");
    assert!(stdout.contains("read-only"), "{stdout}");
    assert!(
        stdout.contains("pass  list-jobs") && stdout.contains("skip  upsert-candidate"),
        "{stdout}"
    );
    assert_eq!(sandbox.candidates().len(), candidates, "no candidate written");
    assert_eq!(sandbox.applications().len(), applications, "no application written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_connector_fails_with_the_check_that_caught_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The cursor goes out in a parameter the ATS does not know: page 2 is refused.
    let broken = std::fs::read_to_string(example_path())
        .expect("example")
        .replacen("param = \"cursor\"", "param = \"kursor\"", 1)
        .replacen("[connector]\nid = \"sandbox-declarative\"", "[connector]\nid = \"broken\"", 1);
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, broken).expect("write");
    let (url, sandbox) = start_sandbox().await;
    sandbox.seed_jobs(150, "2026-01-01T00:00:00Z");
    let config = format!("api-key={KEY}");
    let path = file.to_str().expect("utf-8");
    let args = [
        "connector",
        "test",
        path,
        "--base-url",
        &url,
        "--config",
        &config,
        "--allow-private-networks",
    ];
    let (ok, stdout) = ats_host_process(&args, None).await;
    assert!(!ok, "a failing check fails the command: {stdout}");
    let line = stdout.lines().find(|l| l.contains("FAIL")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains("list-jobs") && line.contains("page 2") && line.contains("kursor"),
        "{stdout}"
    );

    let error = crate::cli::author(&["test", path]).await.expect_err("config missing");
    assert!(
        error.to_string().contains("--config") && error.to_string().contains("base-url"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_the_manifest_declares_is_reported_as_known_and_one_that_closed_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example = std::fs::read_to_string(example_path()).expect("example");
    let gap = "\n[gaps]\njob_since_filter = \"this ATS lists every job on each read\"\n";
    // Without its `since` parameter the jobs read is a full read: the declared gap is true.
    let without_since = example.replacen(
        "incremental = { param = \"updated_since\", format = \"rfc3339\" }\n",
        "",
        1,
    );
    assert_ne!(without_since, example, "the example reads jobs incrementally");
    let true_gap = dir.path().join("true-gap.toml");
    std::fs::write(&true_gap, format!("{without_since}{gap}")).expect("write");
    let (ok, stdout) = ats_host_process(
        &["connector", "test", true_gap.to_str().expect("utf-8"), "--sandbox"],
        None,
    )
    .await;
    assert!(ok, "a known gap does not fail the kit: {stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("since returns only changed jobs"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("gap ") && line.contains("lists every job on each read"), "{line}");
    assert!(stdout.contains("1 known gaps"), "{stdout}");

    // The same gap declared on a manifest that reads incrementally: the check passes, so the
    // declaration is out of date and the kit fails, saying what to remove.
    let stale_gap = dir.path().join("stale-gap.toml");
    std::fs::write(&stale_gap, format!("{example}{gap}")).expect("write");
    let (ok, stdout) = ats_host_process(
        &["connector", "test", stale_gap.to_str().expect("utf-8"), "--sandbox"],
        None,
    )
    .await;
    assert!(!ok, "{stdout}");
    let line = stdout.lines().find(|l| l.contains("FAIL")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("job_since_filter") && line.contains("remove the gap"), "{line}");
}

/// The shared target directory of the guest components (`target/wasm-guests`, see
/// `host/guest-build`): a scaffolded crate built there reuses the compiled dependencies.
fn guest_target_dir() -> std::path::PathBuf {
    let exe = crate::process::test_binary();
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    // <target>/<profile>/deps/all-<hash>
    let target = exe.ancestors().nth(3).expect("the test binary sits in <target>/<profile>/deps");
    target.join("wasm-guests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_new_scaffolds_a_manifest_and_a_rust_crate_that_pass_the_kit_as_generated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest_dir = dir.path().join("acme-manifest");
    let rust_dir = dir.path().join("acme-rust");
    let (manifest_path, rust_path) =
        (manifest_dir.to_str().expect("utf-8"), rust_dir.to_str().expect("utf-8"));
    crate::cli::author(&["new", "acme-manifest", "--manifest", "--dir", manifest_path])
        .await
        .expect("manifest scaffold");
    crate::cli::author(&["new", "acme-rust", "--dir", rust_path]).await.expect("rust scaffold");
    let again = crate::cli::author(&["new", "acme-rust", "--dir", rust_path]).await;
    assert!(again.is_err_and(|e| e.to_string().contains("exists already")), "nothing overwritten");
    let bad = crate::cli::author(&["new", "Acme ATS"]).await.expect_err("a bad id");
    assert!(bad.to_string().contains("lowercase"), "{bad}");

    let manifest = manifest_dir.join("connector.toml");
    let (ok, stdout) = ats_host_process(
        &["connector", "test", manifest.to_str().expect("utf-8"), "--sandbox"],
        None,
    )
    .await;
    assert!(ok && stdout.contains("connector acme-manifest 0.1.0"), "{stdout}");

    let target = guest_target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(&rust_dir)
        .args(["build", "--target", "wasm32-wasip2", "--profile", "guest", "--target-dir"])
        .arg(&target);
    for var in ["CARGO_TARGET_DIR", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
        build.env_remove(var);
    }
    let built = build.output().expect("cargo runs");
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let wasm = target.join("wasm32-wasip2/guest/acme_rust.wasm");
    let (ok, stdout) =
        ats_host_process(&["connector", "test", wasm.to_str().expect("utf-8"), "--sandbox"], None)
            .await;
    assert!(ok && stdout.contains("connector acme-rust 0.1.0"), "{stdout}");
    assert!(stdout.contains("pass  upsert-candidate"), "{stdout}");
}

/// The escape hatch: `examples/hybrid-connector` reads through its manifest (`reads.toml`,
/// run by the SDK's `declarative` feature) and upserts in code; it passes the kit like any
/// connector, the manifest's `unsupported` operation answered by the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_connector_reusing_a_manifests_reads_passes_the_kit() {
    let target = guest_target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(&workspace)
        .args(["build", "-p", "hybrid-connector", "--target", "wasm32-wasip2"])
        .args(["--profile", "guest", "--target-dir"])
        .arg(&target);
    for var in ["CARGO_TARGET_DIR", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
        build.env_remove(var);
    }
    let built = build.output().expect("cargo runs");
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let wasm = target.join("wasm32-wasip2/guest/hybrid_connector.wasm");
    let (ok, stdout) = ats_host_process(
        &["connector", "test", wasm.to_str().expect("utf-8"), "--sandbox", "--json"],
        None,
    )
    .await;
    assert!(ok, "{stdout}");
    let report = first_json(&stdout);
    let verdicts = |operation: &str| -> Vec<String> {
        report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["operation"] == operation)
            .map(|r| r["verdict"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    for declared in ["check", "list-jobs", "list-stages", "upsert-candidate"] {
        assert!(verdicts(declared).iter().all(|v| v == "passed"), "{declared}: {report}");
    }
    // No application to start from (the manifest leaves applications out): skipped, not failed.
    assert_eq!(verdicts("find-candidates"), ["skipped"], "{report}");
    assert_eq!(verdicts("list-applications"), ["not-declared"], "{report}");
}
