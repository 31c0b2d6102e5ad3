//! A manifest connector through the whole host: the example manifest for the sandbox ATS
//! (`sdk/declarative/examples/sandbox.toml`) packed into the generic component, uploaded over
//! HTTP like any connector, then a connection syncs jobs and applications, pushes a
//! candidate with a note and tags, and moves an application — with the same results as the
//! hand-written Rust connector of the same ATS. A bad manifest is refused at pack with its
//! lines.

use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::{KEY, start_sandbox};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const EXAMPLE: &str = include_str!("../../../sdk/declarative/examples/sandbox.toml");

async fn connection(host: &ApiHost, tenant: &str, connector: &str, url: &str) -> String {
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": tenant}))).await;
    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": tenant, "connector_id": connector, "config": {"base-url": url},
        "secrets": {"api-key": KEY}, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_string()
}

/// Syncs `kind` and returns the run.
async fn sync(host: &ApiHost, connection: &str, kind: &str) -> Value {
    crate::api::end_to_end::sync_and_wait(host, &host.operator_key, connection, kind).await
}

/// The stored jobs of a connection: remote id → (title, status).
async fn jobs(host: &ApiHost, connection: &str) -> BTreeMap<String, (String, String)> {
    let (_, page) =
        send(host.op(Method::GET, &format!("/v1/jobs?connection_id={connection}&limit=500"))).await;
    page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| {
            let text = |k: &str| j[k].as_str().unwrap_or_default().to_string();
            (text("remote_id"), (text("title"), text("status")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_packed_sandbox_manifest_syncs_pushes_and_moves_like_the_rust_connector() {
    let wasm = ats_host::declarative::pack("sandbox.toml", EXAMPLE).expect("the example packs");
    let host = ApiHost::start().await;
    let (status, uploaded) = send(host.op(Method::POST, "/v1/connectors").body(wasm)).await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(uploaded["active"]["id"], "sandbox-declarative", "{uploaded}");

    let (url, sandbox) = start_sandbox().await;
    let declared = connection(&host, "acme", "sandbox-declarative", &url).await;
    let coded = connection(&host, "acme", "sandbox", &url).await;
    let (_, checked) =
        send(host.op(Method::POST, &format!("/v1/connections/{declared}/check"))).await;
    assert_eq!(checked["status"], "ok", "{checked}");
    for kind in ["jobs", "applications"] {
        for id in [&declared, &coded] {
            let run = sync(&host, id, kind).await;
            assert_eq!(run["state"], "success", "{kind} on {id}: {run}");
        }
    }
    let (by_manifest, by_code) = (jobs(&host, &declared).await, jobs(&host, &coded).await);
    assert_eq!(by_manifest.len(), sandbox.jobs().len());
    assert_eq!(by_manifest, by_code, "the same jobs, titles and statuses as the Rust connector");
    let count = |page: &Value| page["data"].as_array().map_or(0, Vec::len);
    let (_, applications) =
        send(host.op(Method::GET, &format!("/v1/applications?connection_id={declared}&limit=500")))
            .await;
    assert_eq!(count(&applications), sandbox.applications().len(), "{applications}");

    let push = json!({
        "candidate": {"first_name": "Mani", "last_name": "Fest", "emails": ["mani@example.org"]},
        "job_id": "job-3", "note": "Found through the manifest connector", "tags": ["declarative"],
    });
    let (status, pushed) =
        send(host.op(Method::POST, &format!("/v1/connections/{declared}/candidates")).json(&push))
            .await;
    assert_eq!((status, pushed["complete"].as_bool()), (201, Some(true)), "{pushed}");
    let candidate = sandbox
        .candidates()
        .into_iter()
        .find(|c| c["emails"].to_string().contains("mani@example.org"))
        .expect("the candidate is in the ATS");
    assert!(candidate["tags"].to_string().contains("declarative"), "{candidate}");
    let application_id = pushed["application_id"].as_str().expect("an application").to_string();
    let application = |id: &str| {
        sandbox.applications().into_iter().find(|a| a["id"] == id).expect("the application")
    };
    assert!(
        application(&application_id)["notes"].to_string().contains("manifest connector"),
        "{}",
        application(&application_id)
    );
    let (status, moved) = send(
        host.op(
            Method::POST,
            &format!("/v1/connections/{declared}/applications/{application_id}/move"),
        )
        .json(&json!({"stage_id": "stage-3"})),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(application(&application_id)["stage_id"], "stage-3");
}

/// A component whose packed manifest is wrong (changed after `pack`) is refused at load
/// with the manifest's problem and line; so is one whose compiled form is not its text's,
/// and the unpacked template.
#[tokio::test]
async fn a_bad_packed_manifest_or_the_bare_template_is_refused_at_load() {
    let mut wasm = ats_host::declarative::pack("sandbox.toml", EXAMPLE).expect("packs");
    let (from, to) = (b"method = \"GET\"", b"method = \"GOT\"");
    let at = wasm.windows(from.len()).position(|w| w == from).expect("the manifest is in it");
    wasm[at..at + to.len()].copy_from_slice(to);
    let host = ApiHost::start().await;
    let (status, refused) = send(host.op(Method::POST, "/v1/connectors").body(wasm)).await;
    assert_eq!(status, 422, "{refused}");
    let detail = refused["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("GOT") && detail.contains("line "), "{refused}");

    // The compiled form changed, the text not: refused too (calls run the compiled form).
    let mut wasm = ats_host::declarative::pack("sandbox.toml", EXAMPLE).expect("packs");
    let (from, to) = (b"\"method\":\"GET\"", b"\"method\":\"PUT\"");
    let at = wasm.windows(from.len()).rposition(|w| w == from).expect("the compiled form is in it");
    wasm[at..at + to.len()].copy_from_slice(to);
    let (status, refused) = send(host.op(Method::POST, "/v1/connectors").body(wasm)).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["detail"].as_str().unwrap_or_default().contains("compiled form"), "{refused}");

    let template = ats_host::declarative::template().expect("bundled").to_vec();
    let (status, refused) = send(host.op(Method::POST, "/v1/connectors").body(template)).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["detail"].as_str().unwrap_or_default().contains("connector pack"), "{refused}");
}

#[test]
fn a_bad_manifest_is_refused_at_pack_with_every_problem_and_its_line() {
    let bad = EXAMPLE.replacen("method = \"GET\"", "method = \"FETCH\"", 1).replacen(
        "[operations.list-jobs]",
        "[operations.list-jobz]\n[operations.list-jobs]",
        1,
    );
    let error = ats_host::declarative::pack("bad.toml", &bad).expect_err("refused").to_string();
    assert!(error.starts_with("bad.toml:"), "{error}");
    assert!(error.contains("list-jobz") && error.contains("FETCH"), "both problems: {error}");
    assert!(error.contains("line "), "with lines: {error}");
}

/// The manifest's `[webhook]` through the host: a signed delivery on the connection's
/// inbound URL becomes a change event and a sync; an unsigned or tampered one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_on_a_manifest_connection_triggers_a_sync_and_a_forged_one_is_refused() {
    use hmac::{Hmac, Mac};
    let wasm = ats_host::declarative::pack("sandbox.toml", EXAMPLE).expect("the example packs");
    let host = ApiHost::start().await;
    let (status, uploaded) = send(host.op(Method::POST, "/v1/connectors").body(wasm)).await;
    assert_eq!(status, 201, "{uploaded}");
    let (url, sandbox) = start_sandbox().await;
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "hooks"}))).await;
    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "hooks", "connector_id": "sandbox-declarative", "config": {"base-url": url},
        "secrets": {"api-key": KEY, "webhook-secret": "whsec-123"}, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    let connection = created["id"].as_str().expect("id").to_string();
    let inbound = created["inbound_webhook_path"].as_str().expect("inbound path").to_string();
    assert_eq!(sync(&host, &connection, "applications").await["state"], "success");

    sandbox.move_application("app-1", "stage-3");
    let body = json!({"event": "application.moved", "id": "app-1"}).to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"whsec-123").expect("key");
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let post = |signature: Option<&str>, body: &str| {
        let mut request = host
            .http
            .post(host.url(&inbound))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(signature) = signature {
            request = request.header("X-Signature", signature);
        }
        request.send()
    };
    let forged = post(Some(&signature), &body.replace("app-1", "app-2")).await.expect("answers");
    assert!(forged.status().is_client_error(), "a tampered body is refused: {}", forged.status());
    let unsigned = post(None, &body).await.expect("answers");
    assert!(unsigned.status().is_client_error(), "an unsigned one too: {}", unsigned.status());

    let accepted = post(Some(&signature), &body).await.expect("answers");
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await.expect("json");
    assert_eq!(accepted["changes"], 1, "{accepted}");
    assert_eq!(accepted["runs"][0]["kind"], "applications", "{accepted}");
}
