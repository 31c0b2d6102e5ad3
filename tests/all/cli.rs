//! The operator CLI against a running host: the same commands an operator types, parsed by
//! clap and executed in-process against the API.

use ats_host::cli::{Cli, execute};
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::{KEY, start_sandbox};
use clap::Parser;
use reqwest::Method;

async fn ats_host(host: &ApiHost, args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["ats-host"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--url", &host.base, "--key", &host.operator_key]);
    let cli = Cli::try_parse_from(argv).map_err(|e| anyhow::anyhow!("{e}"))?;
    execute(cli.command).await
}

#[tokio::test]
async fn operator_commands_create_check_sync_list_and_delete() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    send(host.op(Method::POST, "/v1/tenants").json(&serde_json::json!({"id": "acme"}))).await;
    let base_url = format!("base-url={url}");
    let secret = format!("api-key={KEY}");
    ats_host(
        &host,
        &[
            "connection",
            "create",
            "--tenant",
            "acme",
            "--connector",
            "sandbox",
            "--config",
            &base_url,
            "--secret",
            &secret,
            "--allow-private-networks",
        ],
    )
    .await
    .expect("connection create");
    let (_, list) = send(host.op(Method::GET, "/v1/connections")).await;
    let id = list["data"][0]["id"].as_str().expect("created").to_string();
    ats_host(&host, &["connection", "check", &id]).await.expect("check ok");
    ats_host(&host, &["connection", "pin", &id, "1.0.0"]).await.expect("pin a loaded version");
    let (_, pinned) = send(host.op(Method::GET, &format!("/v1/connections/{id}"))).await;
    assert_eq!(pinned["pinned_version"], "1.0.0", "{pinned}");
    let error = ats_host(&host, &["connection", "pin", &id, "9.9.9"]).await.expect_err("unknown");
    assert!(error.to_string().contains("pinned_version"), "{error}");
    ats_host(&host, &["connection", "pin", &id, "--unpin"]).await.expect("unpin");
    let (_, unpinned) = send(host.op(Method::GET, &format!("/v1/connections/{id}"))).await;
    assert!(unpinned["pinned_version"].is_null(), "{unpinned}");
    ats_host(&host, &["sync", "now", &id]).await.expect("sync now waits for a successful run");
    let (_, jobs) = send(host.op(Method::GET, &format!("/v1/jobs?connection_id={id}"))).await;
    assert_eq!(jobs["data"].as_array().map(Vec::len), Some(12), "the sync ran");
    for args in [
        vec!["connection", "list"],
        vec!["connector", "list"],
        vec!["runs", "--status", "success"],
        vec!["events", "tail"],
        vec!["webhook", "list"],
        vec!["webhook", "deliveries", "--status", "dead-letter"],
    ] {
        ats_host(&host, &args).await.unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    let error =
        ats_host(&host, &["webhook", "replay", "dlv_nope"]).await.expect_err("unknown delivery");
    assert!(error.to_string().contains("404"), "{error}");
    let error = ats_host(
        &host,
        &[
            "connection",
            "create",
            "--tenant",
            "acme",
            "--connector",
            "sandbox",
            "--config",
            "no-equals-sign",
        ],
    )
    .await
    .expect_err("bad pair");
    assert!(error.to_string().contains("NAME=VALUE"), "{error}");
    ats_host(&host, &["connection", "delete", &id]).await.expect("delete");
    let (status, _) = send(host.op(Method::GET, &format!("/v1/connections/{id}"))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_failing_check_and_a_wrong_key_are_errors_with_the_reason() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    send(host.op(Method::POST, "/v1/tenants").json(&serde_json::json!({"id": "acme"}))).await;
    let (_, created) = send(host.op(Method::POST, "/v1/connections").json(&serde_json::json!({
        "tenant_id": "acme", "connector_id": "sandbox", "config": {"base-url": url}, "secrets": {"api-key": KEY}, "allow_private_networks": true,
    })))
    .await;
    let id = created["id"].as_str().expect("id");
    sandbox.set_api_key("rotated");
    let error = ats_host(&host, &["connection", "check", id]).await.expect_err("unauthorized");
    assert!(error.to_string().contains("unauthorized"), "{error}");
    let cli = Cli::try_parse_from([
        "ats-host",
        "connection",
        "list",
        "--url",
        &host.base,
        "--key",
        "ats_tn_wrong",
    ])
    .expect("parse");
    let error = execute(cli.command).await.expect_err("401");
    assert!(error.to_string().contains("401"), "{error}");
}

pub(crate) async fn author(args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["ats-host", "connector"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| anyhow::anyhow!("{e}"))?;
    execute(cli.command).await
}

#[tokio::test]
async fn connector_inspect_and_call_work_on_one_file_and_name_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = dir.path().join("minimal.wasm");
    std::fs::write(&wasm, ats_tests::bundled_wasm("minimal-connector")).expect("write wasm");
    let wasm = wasm.to_str().expect("utf-8 path");
    author(&["inspect", wasm]).await.expect("inspect a good component");

    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"not a component").expect("write garbage");
    let garbage = garbage.to_str().expect("utf-8 path");
    let error = author(&["inspect", garbage]).await.expect_err("garbage is rejected");
    assert!(error.to_string().contains("garbage.wasm"), "the file is not named: {error}");
    let error = author(&["inspect", "/nonexistent/x.wasm"]).await.expect_err("missing file");
    assert!(error.to_string().contains("cannot read /nonexistent/x.wasm"), "{error}");

    let (url, _sandbox) = start_sandbox().await;
    let base_url = format!("base-url={url}");
    let key = format!("api-key={KEY}");
    let config = ["--config", &base_url, "--config", &key, "--allow-private-networks"];
    let call = |operation: &'static str, extra: &'static [&'static str]| {
        let mut args = vec!["call", wasm, operation];
        args.extend_from_slice(&config);
        args.extend_from_slice(extra);
        args
    };
    author(&call("list-jobs", &[])).await.expect("list-jobs");
    author(&call("list-jobs", &["--input", r#"{"limit": 2, "page-token": null}"#]))
        .await
        .expect("list-jobs with kebab-case input");
    author(&call("describe", &[])).await.expect("describe");

    let error = author(&call("list-everything", &[])).await.expect_err("unknown operation");
    assert!(error.to_string().contains("unknown operation `list-everything`"), "{error}");
    assert!(error.to_string().contains("list-jobs"), "the known operations are not listed");
    let error = author(&call("list-jobs", &["--input", "{limit"])).await.expect_err("bad JSON");
    assert!(error.to_string().contains("--input is not valid JSON"), "{error}");
    let error =
        author(&call("get-candidate", &["--input", r#"{"x": 1}"#])).await.expect_err("bad shape");
    assert!(error.to_string().contains("does not match the input of `get-candidate`"), "{error}");

    let mut private_denied = vec!["call", wasm, "list-jobs", "--config", &base_url];
    private_denied.extend_from_slice(&["--config", &key]);
    let error = author(&private_denied).await.expect_err("loopback is denied by default");
    assert!(error.to_string().contains("list-jobs failed"), "{error}");
}

#[test]
fn serve_help_documents_every_flag_its_variable_and_the_config_file() {
    let error = Cli::try_parse_from(["ats-host", "serve", "--help"]).expect_err("help is shown");
    assert_eq!(error.kind(), clap::error::ErrorKind::DisplayHelp);
    let help = error.render().to_string();
    for needle in [
        "--config",
        "--listen",
        "ATS_LISTEN",
        "--data-dir",
        "ATS_DATA_DIR",
        "--connectors-dir",
        "--call-timeout-ms",
        "--memory-mb",
        "--allocator",
        "--demo",
        "CONFIG FILE",
        "[limits]",
        "[sync]",
        "[webhooks]",
    ] {
        assert!(help.contains(needle), "`serve --help` does not mention {needle}:\n{help}");
    }
}

#[tokio::test]
async fn connector_upload_and_rollback_change_the_active_version() {
    let host = ApiHost::start().await;
    for guest in [ats_tests::guests::ECHO_V1, ats_tests::guests::ECHO_V2] {
        ats_host(&host, &["connector", "upload", guest]).await.expect("upload");
    }
    let active = |host: &ApiHost| {
        let request = host.op(Method::GET, "/v1/connectors/echo");
        async move { send(request).await.1["active"]["version"].as_str().map(str::to_string) }
    };
    assert_eq!(active(&host).await.as_deref(), Some("2.0.0"));
    ats_host(&host, &["connector", "rollback", "echo"]).await.expect("rollback");
    assert_eq!(active(&host).await.as_deref(), Some("1.0.0"));
    let error = ats_host(&host, &["connector", "upload", "/nonexistent.wasm"])
        .await
        .expect_err("a missing file");
    assert!(error.to_string().contains("cannot read /nonexistent.wasm"), "{error}");
    let garbage = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(garbage.path(), b"not wasm").expect("write");
    let path = garbage.path().to_str().expect("utf-8 path");
    let error = ats_host(&host, &["connector", "upload", path]).await.expect_err("garbage");
    assert!(error.to_string().contains("422"), "{error}");
}

/// `ats-host ARGS` as a process of its own, with `stdin` as its standard input; returns its
/// exit status and standard output.
pub(crate) async fn ats_host_process(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (input, output) = (dir.path().join("stdin"), dir.path().join("stdout"));
    std::fs::write(&input, stdin.unwrap_or_default()).expect("write stdin");
    let mut child = crate::process::ats_host(args)
        .stdin(std::fs::File::open(&input).expect("stdin file"))
        .stdout(std::fs::File::create(&output).expect("stdout file"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn ats-host");
    let status = crate::process::wait_exit(&mut child, std::time::Duration::from_secs(120))
        .await
        .expect("ats-host ends");
    (status.success(), std::fs::read_to_string(&output).unwrap_or_default())
}

/// The first JSON object a command printed (the test harness prints around it).
pub(crate) fn first_json(stdout: &str) -> serde_json::Value {
    let start = stdout.find('{').unwrap_or_else(|| panic!("no JSON in: {stdout}"));
    serde_json::Deserializer::from_str(&stdout[start..])
        .into_iter::<serde_json::Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no JSON object in: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_and_key_commands_create_and_list_over_the_api() {
    let host = ApiHost::start().await;
    ats_host(&host, &["tenant", "create", "acme", "--name", "Acme Recruiting"])
        .await
        .expect("tenant create");
    ats_host(&host, &["tenant", "list"]).await.expect("tenant list");
    let (_, tenants) = send(host.op(Method::GET, "/v1/tenants")).await;
    assert_eq!(tenants["data"][0]["id"], "acme", "{tenants}");
    assert_eq!(tenants["data"][0]["name"], "Acme Recruiting", "{tenants}");
    let error = ats_host(&host, &["tenant", "create", "acme"]).await.expect_err("exists");
    assert!(error.to_string().contains("409"), "{error}");
    let error = ats_host(&host, &["tenant", "create", "not a tenant"]).await.expect_err("bad id");
    assert!(error.to_string().contains("is not a tenant id"), "{error}");

    // The key is printed once, on stdout: a script can capture it.
    let args = ["key", "create", "--tenant", "acme", "--label", "sourcing product"];
    let mut argv = args.to_vec();
    argv.extend_from_slice(&["--url", &host.base, "--key", &host.operator_key]);
    let (ok, stdout) = ats_host_process(&argv, None).await;
    assert!(ok, "{stdout}");
    let key = stdout
        .split_whitespace()
        .find(|word| word.starts_with("ats_"))
        .unwrap_or_else(|| panic!("no key printed: {stdout}"));
    let (status, me) = send(host.with_key(key, Method::GET, "/v1/me")).await;
    assert_eq!((status, me["tenant_id"].as_str()), (200, Some("acme")), "{me}");
    ats_host(&host, &["key", "list", "--tenant", "acme"]).await.expect("key list");
    let (_, keys) = send(host.op(Method::GET, "/v1/tenants/acme/keys")).await;
    assert_eq!(keys["data"][0]["label"], "sourcing product", "{keys}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_call_takes_wit_names_from_a_file_or_stdin_so_a_real_cv_fits() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = dir.path().join("sandbox.wasm");
    std::fs::write(&wasm, ats_tests::bundled_wasm("connector-sandbox")).expect("write wasm");
    let wasm = wasm.to_str().expect("utf-8 path");
    let (url, sandbox) = start_sandbox().await;
    let base_url = format!("base-url={url}");
    let key = format!("api-key={KEY}");
    let call = |operation: &'static str, input: String| {
        let mut args = vec!["call".to_string(), wasm.to_string(), operation.to_string()];
        for extra in ["--config", &base_url, "--config", &key, "--allow-private-networks"] {
            args.push(extra.to_string());
        }
        args.extend(["--input".to_string(), input]);
        args
    };
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        author(&args).await
    };

    // Kebab-case field names, from a file.
    let candidate = dir.path().join("candidate.json");
    std::fs::write(
        &candidate,
        r#"{"first-name": "Ada", "last-name": "Lovelace", "emails": ["ada@example.com"],
            "phones": [], "source": "cli", "custom-fields": []}"#,
    )
    .expect("write input");
    let at_file = format!("@{}", candidate.display());
    run(call("upsert-candidate", at_file)).await.expect("upsert-candidate from @file");
    let ada = sandbox
        .candidates()
        .into_iter()
        .find(|c| c["emails"][0] == "ada@example.com")
        .expect("the candidate reached the ATS");
    let id = ada["id"].as_str().expect("id").to_string();

    // A 300 KiB CV: far over what one command-line argument may hold, fine from a file;
    // the variant (`candidate`, `cv`) in kebab-case and the bytes as base64.
    let cv: Vec<u8> = (0..300 * 1024).map(|i| (i % 251) as u8).collect();
    let attachment = dir.path().join("cv.json");
    std::fs::write(
        &attachment,
        serde_json::json!({
            "target": {"candidate": id}, "filename": "ada.pdf", "content-type": "application/pdf",
            "kind": "cv", "content": base64::engine::general_purpose::STANDARD.encode(&cv),
        })
        .to_string(),
    )
    .expect("write input");
    run(call("add-attachment", format!("@{}", attachment.display())))
        .await
        .expect("add-attachment from @file");
    let stored = sandbox.candidates().into_iter().find(|c| c["id"] == id.as_str()).expect("ada");
    assert_eq!(stored["attachments"][0]["size"], cv.len(), "{}", stored["attachments"]);
    assert_eq!(stored["attachments"][0]["kind"], "cv");

    // From stdin (`-`), in a process of its own: `{"email": ...}` for the `Email` variant.
    let args = call("find-candidates", "-".into());
    let mut argv: Vec<&str> = vec!["connector"];
    argv.extend(args.iter().map(String::as_str));
    let (ok, stdout) =
        ats_host_process(&argv, Some(r#"{"lookup": {"email": "ada@example.com"}}"#)).await;
    assert!(ok, "{stdout}");
    let page = first_json(&stdout);
    assert_eq!(page["candidates"]["items"][0]["id"].as_str(), Some(id.as_str()), "{page}");

    let error = run(call("find-candidates", r#"{"lookup": {"fax": "1"}}"#.into()))
        .await
        .expect_err("no such variant");
    let message = error.to_string();
    assert!(message.contains("input.lookup") && message.contains("fax"), "{message}");
    let error =
        run(call("find-candidates", "@/nonexistent/input.json".into())).await.expect_err("no file");
    assert!(error.to_string().contains("cannot read the --input file"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automation_commands_create_from_a_file_list_enable_and_show_firings() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    send(host.op(Method::POST, "/v1/tenants").json(&serde_json::json!({"id": "acme"}))).await;
    let (status, created) =
        send(host.op(Method::POST, "/v1/connections").json(&serde_json::json!({
            "tenant_id": "acme", "connector_id": "sandbox", "config": {"base-url": url},
            "secrets": {"api-key": KEY}, "allow_private_networks": true,
        })))
        .await;
    assert_eq!(status, 201, "{created}");
    let connection = created["id"].as_str().expect("id").to_string();
    for kind in ["jobs", "applications"] {
        ats_host(&host, &["sync", "now", &connection, "--kind", kind]).await.expect("sync");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("automation.json");
    let body = serde_json::json!({
        "name": "Note on Screening",
        "scope": {"kind": "connection", "connection_id": connection},
        "trigger": {"type": "stage-entered", "stage": {"stage_id": "stage-2"}},
        "actions": [{"type": "add-note", "template": "Welcome to screening, {{candidate.first_name}}"}],
    });
    std::fs::write(&file, body.to_string()).expect("write");
    let path = file.to_str().expect("utf-8 path");
    ats_host(&host, &["automation", "create", "--file", path, "--tenant", "acme"])
        .await
        .expect("automation create");
    let (_, list) = send(host.op(Method::GET, "/v1/automations")).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["data"][0]["name"], "Note on Screening", "{list}");
    let id = list["data"][0]["id"].as_str().expect("id").to_string();
    for args in [
        vec!["automation", "list"],
        vec!["automation", "list", "--enabled", "false", "--json"],
        vec!["automation", "dry-run", &id],
    ] {
        ats_host(&host, &args).await.unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    let before = sandbox.applications();
    assert!(
        before.iter().all(|a| !a["notes"].to_string().contains("Welcome")),
        "a dry run writes nothing"
    );

    // Enabling with --backfill fires for the applications already in stage-2 (two).
    ats_host(&host, &["automation", "enable", &id, "--backfill"]).await.expect("enable");
    let mut done = 0;
    for _ in 0..500 {
        let (_, firings) =
            send(host.op(Method::GET, &format!("/v1/firings?automation_id={id}&status=done")))
                .await;
        done = firings["data"].as_array().map_or(0, Vec::len);
        if done == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(done, 2, "both applications in stage-2 were fired for");
    let welcomed = sandbox
        .applications()
        .iter()
        .filter(|a| a["notes"].to_string().contains("Welcome to screening"))
        .count();
    assert_eq!(welcomed, 2);
    for args in [
        vec!["automation", "firings", &id],
        vec!["automation", "firings", "--status", "failed"],
        vec!["order", "list", "--state", "result-posted"],
        vec!["automation", "disable", &id],
    ] {
        ats_host(&host, &args).await.unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    let (_, shown) = send(host.op(Method::GET, &format!("/v1/automations/{id}"))).await;
    assert_eq!(shown["enabled"], false, "{shown}");

    // From standard input (`--file -`), in a process of its own.
    let mut piped = body.clone();
    piped["name"] = serde_json::json!("From stdin");
    let (ok, stdout) = ats_host_process(
        &[
            "automation",
            "create",
            "--file",
            "-",
            "--tenant",
            "acme",
            "--url",
            &host.base,
            "--key",
            &host.operator_key,
        ],
        Some(&piped.to_string()),
    )
    .await;
    assert!(ok, "{stdout}");
    let (_, list) = send(host.op(Method::GET, "/v1/automations")).await;
    let names: Vec<&str> =
        list["data"].as_array().into_iter().flatten().filter_map(|a| a["name"].as_str()).collect();
    assert!(names.contains(&"From stdin"), "{list}");

    // What is wrong is named: not JSON, no tenant, an unknown automation.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").expect("write");
    let error = ats_host(&host, &["automation", "create", "--file", bad.to_str().expect("path")])
        .await
        .expect_err("not JSON");
    assert!(error.to_string().contains("is not JSON"), "{error}");
    let error =
        ats_host(&host, &["automation", "create", "--file", path]).await.expect_err("no tenant");
    assert!(error.to_string().contains("tenant_id"), "{error}");
    let error = ats_host(&host, &["automation", "enable", "aut_nope"]).await.expect_err("unknown");
    assert!(error.to_string().contains("404"), "{error}");
}
