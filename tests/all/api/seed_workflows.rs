//! The seed products' workflows end to end through HTTP against the sandbox ATS. Coderbyte:
//! a candidate entering the mapped "Assessment" stage (seen by an inbound webhook and again
//! by a poll) is invited once; the posted result (qualified, no cheating) writes a note with
//! the report link, tags "assessed" and moves the application to the mapped "Review" stage;
//! `any` and `all` condition groups decide differently on the same result. JobMojito:
//! backfill, score bands, write-result modes, reject with a reason. FactoryFix / Leadline:
//! a shortlisted candidate pushed to the customer's second ATS. Robin: a push with the
//! connection's defaults and the first message as a note.

use super::end_to_end::{connect, sync_and_wait, wait_run};
use super::receiver::Receiver;
use ats_tests::api_host::{ApiHost, send};
use ats_tests::fakes::FakeAts;
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

async fn create(host: &ApiHost, key: &str, body: Value) -> String {
    let (status, created) =
        send(host.with_key(key, Method::POST, "/v1/automations").json(&body)).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_string()
}

/// Waits until automation `id` has `count` firings, none pending; returns them.
async fn settled(host: &ApiHost, key: &str, id: &str, count: usize) -> Vec<Value> {
    let mut last = Value::Null;
    for _ in 0..500 {
        let (_, page) =
            send(host.with_key(key, Method::GET, &format!("/v1/firings?automation_id={id}"))).await;
        let firings = page["data"].as_array().cloned().unwrap_or_default();
        if firings.len() >= count && firings.iter().all(|f| f["status"] != "pending") {
            return firings;
        }
        last = page;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("expected {count} settled firings of {id}, have: {last:#}");
}

/// A tenant with a synced sandbox connection and a receiver of its `automation.invite`
/// webhooks.
async fn synced_with_invite_receiver(
    host: &ApiHost,
    tenant: &str,
    url: &str,
) -> (String, String, Receiver) {
    let (key, connection) = connect(host, tenant, url).await;
    for kind in ["jobs", "applications"] {
        assert_eq!(sync_and_wait(host, &key, &connection, kind).await["state"], "success");
    }
    let receiver = Receiver::start().await;
    let (status, _) = send(
        host.with_key(&key, Method::POST, "/v1/webhooks")
            .json(&json!({"url": receiver.url, "event_types": ["automation.invite"]})),
    )
    .await;
    assert_eq!(status, 201);
    (key, connection, receiver)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coderbyte_invites_once_and_writes_the_result_back() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection, receiver) = synced_with_invite_receiver(&host, "coderbyte", &url).await;
    let (status, mapped) = send(
        host.with_key(&key, Method::PUT, &format!("/v1/connections/{connection}/stage-mappings"))
            .json(&json!({"stages": {"Assessment": "stage-4", "Review": "stage-3"}})),
    )
    .await;
    assert_eq!(status, 200, "{mapped}");
    let scope = json!({"kind": "connection", "connection_id": connection});
    let invite = create(
        &host,
        &key,
        json!({"name": "Invite", "enabled": true, "scope": scope,
               "jobs": {"kind": "listed", "job_ids": ["job-1"]},
               "trigger": {"type": "stage-entered", "stage": {"mapped": "Assessment"}},
               "actions": [{"type": "send-invite", "package_id": "coderbyte-js"}]}),
    )
    .await;
    let qualified = json!([
        {"path": "result.attributes.qualified", "type": "boolean", "op": "is-true"},
        {"path": "result.attributes.cheating", "type": "boolean", "op": "is-false"}
    ]);
    let write_back = create(
        &host,
        &key,
        json!({"name": "Write back", "enabled": true, "scope": scope,
               "trigger": {"type": "result-submitted"},
               "conditions": {"all": qualified},
               "actions": [
                   {"type": "add-note", "template": "Coderbyte {{result.score}}/{{result.max_score}}: {{result.link}}"},
                   {"type": "add-tag", "tag": "assessed"},
                   {"type": "move-to-stage", "stage": {"mapped": "Review"}}
               ]}),
    )
    .await;
    let either = json!([
        {"path": "result.attributes.cheating", "type": "boolean", "op": "is-true"},
        {"path": "result.score", "type": "number", "op": "gt", "value": 80}
    ]);
    let any = create(
        &host,
        &key,
        json!({"name": "Any", "enabled": true, "scope": scope,
               "trigger": {"type": "result-submitted"}, "conditions": {"any": either},
               "actions": [{"type": "add-tag", "tag": "any-held"}]}),
    )
    .await;
    create(
        &host,
        &key,
        json!({"name": "All", "enabled": true, "scope": scope,
               "trigger": {"type": "result-submitted"}, "conditions": {"all": either},
               "actions": [{"type": "add-tag", "tag": "all-held"}]}),
    )
    .await;

    // The recruiter moves app-1 (Sanne, job-1) to Assessment; the ATS's webhook and the next
    // poll both see it: one invite.
    sandbox.move_application("app-1", "stage-4");
    let (_, view) =
        send(host.with_key(&key, Method::GET, &format!("/v1/connections/{connection}"))).await;
    let path = view["inbound_webhook_path"].as_str().expect("inbound path").to_string();
    let accepted: Value = host
        .http
        .post(host.url(&path))
        .json(&json!({"event": "application.moved", "id": "app-1"}))
        .send()
        .await
        .expect("post webhook")
        .json()
        .await
        .expect("json");
    let run_id = accepted["runs"][0]["run_id"].as_str().expect("run id");
    assert_eq!(wait_run(&host, &key, run_id).await["state"], "success");
    assert_eq!(sync_and_wait(&host, &key, &connection, "applications").await["state"], "success");
    let firings = settled(&host, &key, &invite, 1).await;
    assert_eq!(firings.len(), 1, "{firings:#?}");
    let invites = receiver.wait_for(1).await;
    let body: Value = serde_json::from_slice(&invites[0].body).expect("json");
    assert_eq!(body["data"]["candidate"]["email"], "sanne.devries@example.nl", "{body:#}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "webhook + poll: one invite");

    // Coderbyte posts the result: note with the link, tag, move to Review.
    let (status, posted) = send(
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/results")).json(
            &json!({"application_id": "app-1", "package_id": "coderbyte-js", "result": {
                "score": 86, "max_score": 100, "link": "https://coderbyte.example/r/42",
                "attributes": {"qualified": true, "cheating": false}}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let done = settled(&host, &key, &write_back, 1).await;
    assert_eq!(done[0]["status"], "done", "{:#}", done[0]);
    settled(&host, &key, &any, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let app = sandbox.applications().into_iter().find(|a| a["id"] == "app-1").expect("app-1");
    assert_eq!(app["stage_id"], "stage-3", "moved to the mapped Review stage: {app:#}");
    let note = "Coderbyte 86/100: https://coderbyte.example/r/42";
    assert_eq!(app["notes"].to_string().matches(note).count(), 1, "{app:#}");
    let candidate = sandbox.candidates().into_iter().find(|c| c["id"] == "cand-1").expect("cand-1");
    let tags = candidate["tags"].to_string();
    assert!(tags.contains("assessed") && tags.contains("any-held"), "{candidate:#}");
    assert!(!tags.contains("all-held"), "`all` did not hold (no cheating): {candidate:#}");
}

/// JobMojito: enabling with backfill invites everyone already in the stage, once (enabling
/// again invites nobody twice); a result of 86 writes score, link, note and report, tags by
/// score band and moves to the mapped stage; a low result rejects with a synced reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobmojito_backfills_once_and_writes_results_by_band() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection, receiver) = synced_with_invite_receiver(&host, "jobmojito", &url).await;
    let (status, _) = send(
        host.with_key(&key, Method::PUT, &format!("/v1/connections/{connection}/stage-mappings"))
            .json(&json!({"stages": {"AI interview completed": "stage-4"}})),
    )
    .await;
    assert_eq!(status, 200);
    let scope = json!({"kind": "connection", "connection_id": connection});
    let invite = create(
        &host,
        &key,
        json!({"name": "Interview everyone in Screening", "scope": scope,
               "trigger": {"type": "stage-entered", "stage": {"stage_id": "stage-2"}},
               "actions": [{"type": "send-invite", "package_id": "ai-interview"}]}),
    )
    .await;
    let enable = format!("/v1/automations/{invite}/enable");
    let (status, enabled) =
        send(host.with_key(&key, Method::POST, &enable).json(&json!({"backfill": true}))).await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["backfill_firings"], 2, "app-2 and app-4 are in Screening: {enabled}");
    assert_eq!(settled(&host, &key, &invite, 2).await.len(), 2);
    receiver.wait_for(2).await;
    let disable = format!("/v1/automations/{invite}/disable");
    assert_eq!(send(host.with_key(&key, Method::POST, &disable)).await.0, 200);
    let (status, _) =
        send(host.with_key(&key, Method::POST, &enable).json(&json!({"backfill": true}))).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(settled(&host, &key, &invite, 2).await.len(), 2, "no second firing per stay");
    assert_eq!(receiver.received().len(), 2, "everyone invited once");

    let passed = create(
        &host,
        &key,
        json!({"name": "Write back", "enabled": true, "scope": scope,
               "trigger": {"type": "result-submitted"},
               "conditions": {"all": [{"path": "result.score", "type": "number", "op": "gte", "value": 50}]},
               "actions": [
                   {"type": "write-result", "modes": {"score_field": true, "link": true, "note": true, "report": true}},
                   {"type": "tag-by-score", "bands": [{"min": 80, "tag": "top"}, {"min": 50, "tag": "maybe"}]},
                   {"type": "move-to-stage", "stage": {"mapped": "AI interview completed"}}
               ]}),
    )
    .await;
    let failed = create(
        &host,
        &key,
        json!({"name": "Reject", "enabled": true, "scope": scope,
               "trigger": {"type": "result-submitted"},
               "conditions": {"all": [{"path": "result.score", "type": "number", "op": "lt", "value": 50}]},
               "actions": [{"type": "reject", "reason_id": "r-2"}]}),
    )
    .await;
    let post = |application: &str, score: u32| {
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/results")).json(
            &json!({"application_id": application, "package_id": "ai-interview", "result": {
                "score": score, "max_score": 100, "link": format!("https://jobmojito.example/{application}"),
                "report": {"filename": "report.pdf", "content_base64": "JVBERi0xLjQK"}}}),
        )
    };
    assert_eq!(send(post("app-2", 86)).await.0, 201);
    assert_eq!(send(post("app-4", 30)).await.0, 201);
    let written = settled(&host, &key, &passed, 1).await;
    assert_eq!(written.len(), 1, "{written:#?}");
    assert_eq!(written[0]["status"], "done", "{:#}", written[0]);
    let rejected = settled(&host, &key, &failed, 1).await;
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0]["status"], "done", "{:#}", rejected[0]);

    let applications = sandbox.applications();
    let app = |id: &str| applications.iter().find(|a| a["id"] == id).expect("application").clone();
    let app2 = app("app-2");
    assert_eq!(app2["result"]["score"], 86.0, "{app2:#}");
    assert_eq!(app2["stage_id"], "stage-4", "moved to the mapped stage: {app2:#}");
    let app4 = app("app-4");
    assert_eq!(
        (app4["status"].as_str(), app4["rejection_reason_id"].as_str()),
        (Some("rejected"), Some("r-2")),
        "{app4:#}"
    );
    assert_ne!(app4["stage_id"], "stage-4", "a rejected candidate is not moved: {app4:#}");
    let candidates = sandbox.candidates();
    let tags_of = |id: &str| {
        candidates.iter().find(|c| c["id"] == id).expect("candidate")["tags"].to_string()
    };
    assert!(tags_of("cand-2").contains("top") && !tags_of("cand-2").contains("maybe"));
    assert!(!tags_of("cand-1").contains("top"), "30 is in no band");

    // Lists of orders leave the report's content out and give its size; the order has it.
    let (_, listed) =
        send(host.with_key(&key, Method::GET, "/v1/orders?application_id=app-2")).await;
    let report = &listed["data"][0]["result"]["report"];
    assert_eq!((report["size_bytes"].as_u64(), report.get("content_base64")), (Some(9), None));
    let id = listed["data"][0]["id"].as_str().expect("order id");
    let (_, order) = send(host.with_key(&key, Method::GET, &format!("/v1/orders/{id}"))).await;
    assert_eq!(order["result"]["report"]["content_base64"], "JVBERi0xLjQK", "{order}");
}

/// FactoryFix / Leadline: synced jobs start inactive in the product; a candidate reaching the
/// mapped "Shortlist" stage of connection A is pushed once to connection B (the customer's
/// second ATS), with B's default stage and source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factoryfix_pushes_a_shortlisted_candidate_to_a_second_connection_once() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (second_url, second) = start_sandbox().await;
    let (key, connection) = connect(&host, "factoryfix", &url).await;
    let (status, other) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "factoryfix", "connector_id": "sandbox", "name": "Second ATS",
        "config": {"base-url": second_url}, "secrets": {"api-key": ats_tests::sync_rig::KEY},
        "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{other}");
    let other = other["id"].as_str().expect("id").to_string();
    for kind in ["jobs", "applications"] {
        assert_eq!(sync_and_wait(&host, &key, &connection, kind).await["state"], "success");
    }
    assert_eq!(sync_and_wait(&host, &key, &other, "jobs").await["state"], "success");
    let (_, active) = send(host.with_key(
        &key,
        Method::GET,
        &format!("/v1/jobs?connection_id={connection}&active=true"),
    ))
    .await;
    assert_eq!(active["data"], json!([]), "jobs start inactive: {active}");

    let put = |path: String, body: Value| host.with_key(&key, Method::PUT, &path).json(&body);
    let mapping = json!({"stages": {"Shortlist": "stage-3"}});
    let path = format!("/v1/connections/{connection}/stage-mappings");
    assert_eq!(send(put(path, mapping)).await.0, 200);
    let defaults = json!({"initial_stage": {"stage_id": "stage-2"}, "source": "FactoryFix"});
    assert_eq!(send(put(format!("/v1/connections/{other}/push-defaults"), defaults)).await.0, 200);
    let sync_rule = create(
        &host,
        &key,
        json!({"name": "Shortlisted → second ATS", "enabled": true,
               "scope": {"kind": "connection", "connection_id": connection},
               "trigger": {"type": "stage-entered", "stage": {"mapped": "Shortlist"}},
               "actions": [{"type": "push-to-connection", "connection_id": other, "job_id": "job-2"}]}),
    )
    .await;

    sandbox.move_application("app-1", "stage-3");
    for _ in 0..2 {
        assert_eq!(
            sync_and_wait(&host, &key, &connection, "applications").await["state"],
            "success"
        );
    }
    let firings = settled(&host, &key, &sync_rule, 1).await;
    assert_eq!(firings.len(), 1, "{firings:#?}");
    assert_eq!(firings[0]["status"], "done", "{:#}", firings[0]);
    let pushed: Vec<Value> = second
        .candidates()
        .into_iter()
        .filter(|c| c.to_string().contains("sanne.devries@example.nl"))
        .collect();
    assert_eq!(pushed.len(), 1, "deduplicated onto the second ATS's Sanne: {pushed:#?}");
    let candidate_id = pushed[0]["id"].clone();
    let applications: Vec<Value> = second
        .applications()
        .into_iter()
        .filter(|a| a["candidate_id"] == candidate_id && a["job_id"] == "job-2")
        .collect();
    assert_eq!(applications.len(), 1, "one application on job-2: {applications:#?}");
    assert_eq!(applications[0]["stage_id"], "stage-2", "the default stage: {applications:#?}");
    assert_eq!(applications[0]["source"], "FactoryFix", "the default source: {applications:#?}");
}

/// Robin: an interested candidate is pushed with the connection's default stage and source
/// tag, and the first message lands as a note; the push fires a `candidate-pushed`
/// automation once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robin_pushes_with_defaults_and_the_first_message_as_a_note() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "robin", &url).await;
    assert_eq!(sync_and_wait(&host, &key, &connection, "jobs").await["state"], "success");
    let put = |path: String, body: Value| host.with_key(&key, Method::PUT, &path).json(&body);
    let path = format!("/v1/connections/{connection}/stage-mappings");
    assert_eq!(send(put(path, json!({"stages": {"Sourced": "stage-1"}}))).await.0, 200);
    let defaults =
        json!({"initial_stage": {"mapped": "Sourced"}, "source": "Robin AI", "tags": ["robin"]});
    let path = format!("/v1/connections/{connection}/push-defaults");
    assert_eq!(send(put(path, defaults)).await.0, 200);
    let tag_pushed = create(
        &host,
        &key,
        json!({"name": "Tag pushed", "enabled": true, "scope": {"kind": "all"},
               "trigger": {"type": "candidate-pushed"},
               "actions": [{"type": "add-tag", "tag": "interested"}]}),
    )
    .await;

    let push = || {
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/candidates"))
            .header("Idempotency-Key", "robin-push-1")
            .json(&json!({
                "candidate": {"first_name": "Noor", "last_name": "Bakker", "emails": ["noor@example.org"]},
                "job_id": "job-3",
                "note": "Hi Noor, thanks for your interest in the role!"
            }))
    };
    let (status, pushed) = send(push()).await;
    assert!(status == 200 || status == 201, "{status} {pushed}");
    let (status, again) = send(push()).await;
    assert!(status == 200 || status == 201, "a replay: {status} {again}");
    let firings = settled(&host, &key, &tag_pushed, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(settled(&host, &key, &tag_pushed, 1).await.len(), 1, "{firings:#?}");

    let candidate = sandbox
        .candidates()
        .into_iter()
        .find(|c| c.to_string().contains("noor@example.org"))
        .expect("Noor in the ATS");
    let tags = candidate["tags"].to_string();
    assert!(tags.contains("robin") && tags.contains("interested"), "{candidate:#}");
    let application = sandbox
        .applications()
        .into_iter()
        .find(|a| a["candidate_id"] == candidate["id"])
        .expect("an application");
    assert_eq!(application["job_id"], "job-3", "{application:#}");
    assert_eq!(application["stage_id"], "stage-1", "the default stage: {application:#}");
    assert_eq!(application["source"], "Robin AI", "the default source: {application:#}");
    let notes = format!("{}{}", application["notes"], candidate["notes"]);
    assert_eq!(notes.matches("thanks for your interest").count(), 1, "one note: {notes}");
}

/// JobMojito on an ATS without a result field (Carerix): the automation's write-result with
/// every mode writes the score, link and summary as a note, reports that fallback in the
/// firing's action detail, and stores the PDF report as an attachment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobmojito_on_carerix_reports_the_note_fallback_for_the_score_field() {
    let host = ApiHost::start().await;
    let fake = ats_tests::fakes::carerix::CarerixFake::start().await;
    let jobs = fake.seed_jobs(1, "2025-01-01T00:00:00Z");
    send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "jobmojito-cx"}))).await;
    let key = host.tenant_key("jobmojito-cx").await;
    let (config, secrets) = super::carerix_over_http::config_of(&fake);
    let (status, created) =
        send(host.op(Method::POST, "/v1/connections").json(&json!({
            "tenant_id": "jobmojito-cx", "connector_id": "carerix", "config": config, "secrets": secrets,
            "allow_private_networks": true,
        })))
        .await;
    assert_eq!(status, 201, "{created}");
    let connection = created["id"].as_str().expect("id").to_string();
    assert_eq!(sync_and_wait(&host, &key, &connection, "jobs").await["state"], "success");
    let (status, pushed) = send(
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/candidates"))
            .json(&json!({"candidate": {"first_name": "Noor", "last_name": "Bakker",
                          "emails": ["noor@example.nl"]}, "job_id": jobs[0]})),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    let application = pushed["application_id"].as_str().expect("application id").to_string();
    assert_eq!(sync_and_wait(&host, &key, &connection, "applications").await["state"], "success");

    let write_back = create(
        &host,
        &key,
        json!({"name": "Write back", "enabled": true,
               "scope": {"kind": "connection", "connection_id": connection},
               "trigger": {"type": "result-submitted"},
               "actions": [{"type": "write-result",
                            "modes": {"score_field": true, "link": true, "note": false, "report": true}}]}),
    )
    .await;
    let (status, posted) = send(
        host.with_key(&key, Method::POST, &format!("/v1/connections/{connection}/results")).json(
            &json!({"application_id": application, "package_id": "ai-interview", "result": {
                "score": 86, "max_score": 100, "link": "https://jobmojito.example/r/noor",
                "summary": "Clear and structured",
                "report": {"filename": "report.pdf", "content_base64": "JVBERi0xLjQK"}}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let firings = settled(&host, &key, &write_back, 1).await;
    assert_eq!(firings[0]["status"], "done", "{:#}", firings[0]);
    let detail = firings[0]["actions"][0]["detail"].to_string();
    assert!(
        detail.contains(r#""fallback":"note""#) && detail.contains("no result field"),
        "the fallback is reported: {detail}"
    );

    let noor = fake
        .candidates()
        .into_iter()
        .find(|c| c.emails.contains(&"noor@example.nl".to_string()))
        .expect("Noor is in Carerix");
    let notes = noor.notes.join("\n");
    assert!(
        notes.contains("86") && notes.contains("https://jobmojito.example/r/noor"),
        "the score and link went into a note: {notes}"
    );
    assert!(
        noor.attachments
            .iter()
            .any(|(name, content)| name == "report.pdf" && content.starts_with(b"%PDF")),
        "the report is attached: {:?}",
        noor.attachments.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
}
