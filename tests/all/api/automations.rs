//! Automations through HTTP against the sandbox ATS: CRUD, duplicate, enable / disable, a
//! contradiction refused naming both conditions, dry runs that write nothing, a
//! stage-entered automation inviting through a signed webhook exactly once after syncs,
//! write-once results on orders (and without one), tenant isolation of automations,
//! firings and orders, and a connection's stage mapping and push defaults applied to a push
//! whose `candidate.pushed` event fires an automation once.

use super::end_to_end::{connect, sync_and_wait};
use super::receiver::Receiver;
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::start_sandbox;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

fn data(body: &Value) -> Vec<Value> {
    body["data"].as_array().cloned().unwrap_or_default()
}

/// Polls `GET /v1/firings?query` until `count` firings are there and none is pending.
async fn settled_firings(host: &ApiHost, key: &str, query: &str, count: usize) -> Vec<Value> {
    let mut last = Value::Null;
    for _ in 0..500 {
        let (status, page) =
            send(host.with_key(key, Method::GET, &format!("/v1/firings?{query}"))).await;
        assert_eq!(status, 200, "{page}");
        let firings = data(&page);
        if firings.len() >= count && firings.iter().all(|f| f["status"] != "pending") {
            return firings;
        }
        last = page;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("expected {count} settled firings for `{query}`, have: {last:#}");
}

/// A tenant with a sandbox connection whose jobs and applications are synced.
async fn synced(host: &ApiHost, tenant: &str, url: &str) -> (String, String) {
    let (key, connection) = connect(host, tenant, url).await;
    for kind in ["jobs", "applications"] {
        let run = sync_and_wait(host, &key, &connection, kind).await;
        assert_eq!(run["state"], "success", "{run}");
    }
    (key, connection)
}

async fn create(host: &ApiHost, key: &str, body: Value) -> Value {
    let (status, created) =
        send(host.with_key(key, Method::POST, "/v1/automations").json(&body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automations_are_created_listed_replaced_duplicated_enabled_disabled_and_deleted() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = synced(&host, "acme", &url).await;
    let call = |method: Method, path: String| host.with_key(&key, method, &path);
    let (status, mapping) = send(
        call(Method::PUT, format!("/v1/connections/{connection}/stage-mappings"))
            .json(&json!({"stages": {"Assessment": "stage-3", "Review": "stage-4"}})),
    )
    .await;
    assert_eq!(status, 200, "{mapping}");

    let body = json!({
        "name": "Note on Screening",
        "scope": {"kind": "connection", "connection_id": connection},
        "trigger": {"type": "stage-entered", "stage": {"stage_id": "stage-2"}},
        "actions": [
            {"type": "add-note", "template": "Hello {{candidate.first_name}}, on to {{stage.name}}"},
            {"type": "move-to-stage", "stage": {"mapped": "Review"}}
        ]
    });
    let created = create(&host, &key, body.clone()).await;
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(
        (created["tenant_id"].as_str(), created["enabled"].as_bool()),
        (Some("acme"), Some(false))
    );
    let (status, shown) = send(call(Method::GET, format!("/v1/automations/{id}"))).await;
    assert_eq!((status, &shown), (200, &created));

    // Dry run: the applications now in stage-2 (app-2, app-4), each action planned, nothing written.
    let notes_before =
        sandbox.applications().iter().map(|a| a["notes"].to_string()).collect::<Vec<_>>();
    let (status, dry) = send(call(Method::POST, format!("/v1/automations/{id}/dry-run"))).await;
    assert_eq!(status, 200, "{dry}");
    let mut applications: Vec<&str> = dry["firings"]
        .as_array()
        .expect("firings")
        .iter()
        .filter_map(|f| f["application_id"].as_str())
        .collect();
    applications.sort_unstable();
    assert_eq!(applications, vec!["app-2", "app-4"], "{dry:#}");
    let app2 = dry["firings"]
        .as_array()
        .expect("firings")
        .iter()
        .find(|f| f["application_id"] == "app-2")
        .expect("app-2");
    assert_eq!(app2["actions"][0]["outcome"], "would", "{app2:#}");
    assert!(
        app2["actions"][0]["effect"].to_string().contains("Hello Daan, on to Screening"),
        "{app2:#}"
    );
    assert!(
        app2["actions"][1]["effect"].to_string().contains("stage-4"),
        "the mapped stage resolves: {app2:#}"
    );
    let notes_after =
        sandbox.applications().iter().map(|a| a["notes"].to_string()).collect::<Vec<_>>();
    assert_eq!(notes_before, notes_after, "a dry run writes nothing");
    let (_, firings) = send(call(Method::GET, "/v1/firings".into())).await;
    assert!(data(&firings).is_empty(), "a dry run fires nothing: {firings}");

    // Duplicate (disabled, a new id), then change only its jobs.
    let (status, copy) = send(call(Method::POST, format!("/v1/automations/{id}/duplicate"))).await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(
        (copy["name"].as_str(), copy["enabled"].as_bool()),
        (Some("Note on Screening (copy)"), Some(false))
    );
    let copy_id = copy["id"].as_str().expect("id").to_string();
    assert_ne!(copy_id, id);
    let mut changed = body.clone();
    changed["name"] = json!("Note on Screening, job 10");
    changed["jobs"] = json!({"kind": "listed", "job_ids": ["job-10"]});
    let (status, replaced) =
        send(call(Method::PUT, format!("/v1/automations/{copy_id}")).json(&changed)).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["jobs"]["job_ids"], json!(["job-10"]));
    assert_eq!(replaced["trigger"], created["trigger"], "only the jobs changed");
    let (_, dry) = send(call(Method::POST, format!("/v1/automations/{copy_id}/dry-run"))).await;
    assert_eq!(
        dry["firings"].as_array().map(Vec::len),
        Some(1),
        "only job-10's application: {dry:#}"
    );

    // Enable / disable, and the list with its filters and pages.
    let (status, enabled) = send(call(Method::POST, format!("/v1/automations/{id}/enable"))).await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(
        (enabled["enabled"].as_bool(), enabled["backfill_firings"].as_u64()),
        (Some(true), Some(0))
    );
    let (_, on) = send(call(Method::GET, "/v1/automations?enabled=true".into())).await;
    assert_eq!(data(&on).iter().map(|a| a["id"].clone()).collect::<Vec<_>>(), vec![json!(id)]);
    let (_, first) = send(call(Method::GET, "/v1/automations?limit=1".into())).await;
    assert_eq!(data(&first)[0]["id"], json!(id), "oldest first");
    let cursor = first["next_cursor"].as_str().expect("a second page").to_string();
    let (_, second) =
        send(call(Method::GET, format!("/v1/automations?limit=1&cursor={cursor}"))).await;
    assert_eq!(data(&second)[0]["id"], json!(copy_id));
    assert!(second["next_cursor"].is_null(), "the last page has no cursor: {second}");
    let (_, watching) =
        send(call(Method::GET, format!("/v1/automations?connection_id={connection}"))).await;
    assert_eq!(data(&watching).len(), 2);
    let (status, disabled) =
        send(call(Method::POST, format!("/v1/automations/{id}/disable"))).await;
    assert_eq!((status, disabled["enabled"].as_bool()), (200, Some(false)), "{disabled}");
    // A backfill needs a stage trigger.
    let other = create(
        &host,
        &key,
        json!({"name": "Tag new jobs' applicants", "scope": {"kind": "all"}, "trigger": {"type": "application-created"},
               "actions": [{"type": "add-tag", "tag": "new"}]}),
    )
    .await;
    let other_id = other["id"].as_str().expect("id");
    let (status, refused) = send(
        call(Method::POST, format!("/v1/automations/{other_id}/enable"))
            .json(&json!({"backfill": true})),
    )
    .await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (422, Some("backfill")),
        "{refused}"
    );

    // A contradiction is refused with 422, naming both conditions.
    let (status, problem) = send(call(Method::POST, "/v1/automations".into()).json(&json!({
        "name": "Impossible",
        "scope": {"kind": "connection", "connection_id": connection},
        "trigger": {"type": "result-submitted"},
        "conditions": {"all": [
            {"path": "result.score", "type": "number", "op": "gt", "value": 80},
            {"path": "result.score", "type": "number", "op": "lt", "value": 50}
        ]},
        "actions": [{"type": "add-tag", "tag": "x"}]
    })))
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["fields"][0]["field"], "conditions.all[0]", "{problem:#}");
    assert_eq!(problem["fields"][0]["related"], json!(["conditions.all[1]"]), "{problem:#}");
    // Unknown fields, unmapped stages and a tenant_id from a tenant key are refused too.
    let mut typo = body.clone();
    typo["trigerr"] = json!({});
    let (status, problem) = send(call(Method::POST, "/v1/automations".into()).json(&typo)).await;
    assert_eq!(
        (status, problem["fields"][0]["field"].as_str()),
        (422, Some("trigerr")),
        "{problem}"
    );
    let mut unmapped = body.clone();
    unmapped["actions"][1]["stage"] = json!({"mapped": "Hired"});
    let (status, problem) =
        send(call(Method::POST, "/v1/automations".into()).json(&unmapped)).await;
    assert_eq!(
        (status, problem["fields"][0]["field"].as_str()),
        (422, Some("actions[1].stage")),
        "{problem}"
    );
    let (status, problem) = send(host.op(Method::POST, "/v1/automations").json(&body)).await;
    assert_eq!(
        (status, problem["fields"][0]["field"].as_str()),
        (422, Some("tenant_id")),
        "{problem}"
    );
    let mut for_acme = body.clone();
    for_acme["tenant_id"] = json!("acme");
    let (status, by_operator) =
        send(host.op(Method::POST, "/v1/automations").json(&for_acme)).await;
    assert_eq!((status, by_operator["tenant_id"].as_str()), (201, Some("acme")), "{by_operator}");

    let (status, _) = send(call(Method::DELETE, format!("/v1/automations/{copy_id}"))).await;
    assert_eq!(status, 204);
    let (status, gone) = send(call(Method::GET, format!("/v1/automations/{copy_id}"))).await;
    assert_eq!(status, 404, "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_entered_automation_invites_exactly_once_after_syncs() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = synced(&host, "acme", &url).await;
    let receiver = Receiver::start().await;
    let (status, subscribed) = send(
        host.with_key(&key, Method::POST, "/v1/webhooks")
            .json(&json!({"url": receiver.url, "event_types": ["automation.invite"]})),
    )
    .await;
    assert_eq!(status, 201, "{subscribed}");
    let (status, _) = send(
        host.with_key(&key, Method::PUT, &format!("/v1/connections/{connection}/stage-mappings"))
            .json(&json!({"stages": {"Assessment": "stage-4"}})),
    )
    .await;
    assert_eq!(status, 200);
    let automation = create(
        &host,
        &key,
        json!({
            "name": "Invite on Assessment", "enabled": true,
            "scope": {"kind": "connection", "connection_id": connection},
            "jobs": {"kind": "listed", "job_ids": ["job-1"]},
            "trigger": {"type": "stage-entered", "stage": {"mapped": "Assessment"}},
            "conditions": {"all": [{"path": "candidate.email", "type": "string", "op": "ends-with", "value": "@example.nl"}]},
            "actions": [{"type": "send-invite", "package_id": "coding-test"}]
        }),
    )
    .await;
    let id = automation["id"].as_str().expect("id").to_string();

    // A recruiter moves app-1 (Sanne, job-1) to the mapped stage; the next sync sees it.
    sandbox.move_application("app-1", "stage-4");
    sync_and_wait(&host, &key, &connection, "applications").await;
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(body["type"], "automation.invite", "{body:#}");
    assert_eq!(body["data"]["candidate"]["email"], "sanne.devries@example.nl", "{body:#}");
    assert_eq!(body["data"]["application"]["id"], "app-1", "{body:#}");
    assert_eq!(body["data"]["stage"]["mapped_name"], "Assessment", "{body:#}");
    assert_eq!(body["data"]["package_id"], "coding-test", "{body:#}");
    assert!(got[0].headers.contains_key("webhook-signature"), "the invite is signed");

    // Syncing again (and again) sees the same stay in the stage: nothing fires twice.
    sync_and_wait(&host, &key, &connection, "applications").await;
    sync_and_wait(&host, &key, &connection, "applications").await;
    let firings = settled_firings(&host, &key, &format!("automation_id={id}"), 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "one invite");
    assert_eq!(firings.len(), 1, "{firings:#?}");
    let firing_id = firings[0]["id"].as_str().expect("id");
    let (status, firing) =
        send(host.with_key(&key, Method::GET, &format!("/v1/firings/{firing_id}"))).await;
    assert_eq!(status, 200, "{firing}");
    assert_eq!(firing["status"], "done", "{firing:#}");
    assert_eq!(firing["actions"][0]["status"], "done", "{firing:#}");
    assert_eq!(firing["actions"][0]["detail"]["subscriptions"], 1, "{firing:#}");
    // A done firing is not retried.
    let (status, refused) =
        send(host.with_key(&key, Method::POST, &format!("/v1/firings/{firing_id}/retry"))).await;
    assert_eq!(status, 409, "{refused}");

    // Another job's application entering the stage is outside the automation's jobs.
    sandbox.move_application("app-3", "stage-4");
    sync_and_wait(&host, &key, &connection, "applications").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "job-5 is not watched");

    let text = host
        .http
        .get(host.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("ats_automation_firings_total{outcome=\"done\"}"), "{text}");
    assert!(
        text.contains("ats_automation_actions_total{action=\"send-invite\",outcome=\"done\"}"),
        "{text}"
    );
}

fn result(score: f64) -> Value {
    json!({"score": score, "max_score": 100, "link": "https://assess.example/r/1",
           "attributes": {"qualified": true, "cheating": false}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_write_once_and_fire_the_write_back_once() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = synced(&host, "acme", &url).await;
    let call = |method: Method, path: String| host.with_key(&key, method, &path);
    let write_back = create(
        &host,
        &key,
        json!({
            "name": "Write back", "enabled": true, "scope": {"kind": "all"},
            "trigger": {"type": "result-submitted"},
            "conditions": {"all": [
                {"path": "result.attributes.qualified", "type": "boolean", "op": "is-true"},
                {"path": "result.attributes.cheating", "type": "boolean", "op": "is-false"}
            ]},
            "actions": [
                {"type": "add-note", "template": "Score {{result.score}}/{{result.max_score}} – {{result.link}}"},
                {"type": "add-tag", "tag": "assessed"}
            ]
        }),
    )
    .await;
    let automation = write_back["id"].as_str().expect("id").to_string();

    // An order by hand: the candidate comes from the synced application.
    let (status, order) = send(call(Method::POST, "/v1/orders".into()).json(&json!({
        "connection_id": connection, "application_id": "app-2", "package_id": "coding-test"
    })))
    .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(
        (order["state"].as_str(), order["candidate_id"].as_str()),
        (Some("ordered"), Some("cand-2"))
    );
    let order_id = order["id"].as_str().expect("id").to_string();
    let (status, started) = send(
        call(Method::POST, format!("/v1/orders/{order_id}/progress"))
            .json(&json!({"state": "started"})),
    )
    .await;
    assert_eq!((status, started["state"].as_str()), (200, Some("started")), "{started}");
    let (status, backwards) = send(
        call(Method::POST, format!("/v1/orders/{order_id}/progress"))
            .json(&json!({"state": "invited"})),
    )
    .await;
    assert_eq!(status, 409, "progress moves forward only: {backwards}");

    // The result: 201, the same again 200, a different one 409.
    let path = format!("/v1/orders/{order_id}/result");
    let (status, posted) = send(call(Method::POST, path.clone()).json(&result(86.0))).await;
    assert_eq!((status, posted["state"].as_str()), (201, Some("result-posted")), "{posted}");
    let (status, again) = send(call(Method::POST, path.clone()).json(&result(86.0))).await;
    assert_eq!((status, &again), (200, &posted), "the same result is idempotent");
    let (status, conflict) = send(call(Method::POST, path.clone()).json(&result(40.0))).await;
    assert_eq!(status, 409, "{conflict}");
    let (_, shown) = send(call(Method::GET, format!("/v1/orders/{order_id}"))).await;
    let history: Vec<&str> = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|t| t["to"].as_str())
        .collect();
    assert_eq!(history, vec!["ordered", "started", "completed", "result-posted"], "{shown:#}");

    // The write-back ran once: one note with the link, one tag.
    let firings = settled_firings(&host, &key, &format!("automation_id={automation}"), 1).await;
    assert_eq!(firings.len(), 1, "{firings:#?}");
    assert_eq!(firings[0]["status"], "done", "{:#}", firings[0]);
    let app2 = sandbox.applications().into_iter().find(|a| a["id"] == "app-2").expect("app-2");
    let notes = app2["notes"].to_string();
    assert_eq!(notes.matches("Score 86/100 – https://assess.example/r/1").count(), 1, "{app2:#}");
    let cand2 = sandbox.candidates().into_iter().find(|c| c["id"] == "cand-2").expect("cand-2");
    assert_eq!(cand2["tags"].to_string().matches("assessed").count(), 1, "{cand2:#}");

    // A review of the result.
    let (status, reviewed) = send(
        call(Method::POST, format!("/v1/orders/{order_id}/reviews"))
            .json(&json!({"id": "rev-1", "kind": "thumb-up", "author": "rita@example.com"})),
    )
    .await;
    assert_eq!((status, reviewed["review_id"].as_str()), (201, Some("rev-1")), "{reviewed}");

    // A result without an order lands on one order per application and package.
    let direct = format!("/v1/connections/{connection}/results");
    let body = json!({"application_id": "app-4", "result": result(70.0)});
    let (status, first) = send(call(Method::POST, direct.clone()).json(&body)).await;
    assert_eq!((status, first["package_id"].as_str()), (201, Some("direct")), "{first}");
    assert_eq!(first["candidate_id"], "cand-1", "{first}");
    let (status, again) = send(call(Method::POST, direct.clone()).json(&body)).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]), "{again}");
    let (status, conflict) = send(
        call(Method::POST, direct.clone())
            .json(&json!({"application_id": "app-4", "result": result(10.0)})),
    )
    .await;
    assert_eq!(status, 409, "{conflict}");
    let (status, unknown) = send(
        call(Method::POST, direct)
            .json(&json!({"application_id": "app-999", "result": result(10.0)})),
    )
    .await;
    assert_eq!(
        (status, unknown["fields"][0]["field"].as_str()),
        (422, Some("candidate_id")),
        "{unknown}"
    );
    settled_firings(&host, &key, &format!("automation_id={automation}"), 2).await;

    let (_, posted) = send(call(Method::GET, "/v1/orders?state=result-posted".into())).await;
    assert_eq!(data(&posted).len(), 2, "{posted:#}");
    let (_, of_app4) = send(call(Method::GET, "/v1/orders?application_id=app-4".into())).await;
    assert_eq!(data(&of_app4).len(), 1, "{of_app4:#}");
    assert!(of_app4["next_cursor"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_cannot_reach_automations_firings_or_orders() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (acme, connection) = synced(&host, "acme", &url).await;
    let (globex, globex_connection) = connect(&host, "globex", &url).await;
    let automation = create(
        &host,
        &acme,
        json!({"name": "Tag assessed", "enabled": true, "scope": {"kind": "connection", "connection_id": connection},
               "trigger": {"type": "result-submitted"}, "actions": [{"type": "add-tag", "tag": "assessed"}]}),
    )
    .await;
    let automation = automation["id"].as_str().expect("id").to_string();
    let (status, order) = send(
        host.with_key(&acme, Method::POST, &format!("/v1/connections/{connection}/results"))
            .json(&json!({"application_id": "app-1", "result": result(50.0)})),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let order = order["id"].as_str().expect("id").to_string();
    let firings = settled_firings(&host, &acme, "", 1).await;
    let firing = firings[0]["id"].as_str().expect("id").to_string();

    let none = Value::Null;
    for (method, path, body) in [
        (Method::GET, format!("/v1/automations/{automation}"), none.clone()),
        (
            Method::PUT,
            format!("/v1/automations/{automation}"),
            json!({"name": "mine", "scope": {"kind": "all"}, "trigger": {"type": "job-created"}, "actions": [{"type": "add-tag", "tag": "x"}]}),
        ),
        (Method::DELETE, format!("/v1/automations/{automation}"), none.clone()),
        (Method::POST, format!("/v1/automations/{automation}/duplicate"), none.clone()),
        (Method::POST, format!("/v1/automations/{automation}/enable"), none.clone()),
        (Method::POST, format!("/v1/automations/{automation}/disable"), none.clone()),
        (Method::POST, format!("/v1/automations/{automation}/dry-run"), none.clone()),
        (Method::GET, format!("/v1/firings/{firing}"), none.clone()),
        (Method::POST, format!("/v1/firings/{firing}/retry"), none.clone()),
        (Method::GET, format!("/v1/orders/{order}"), none.clone()),
        (Method::POST, format!("/v1/orders/{order}/progress"), json!({"state": "cancelled"})),
        (Method::POST, format!("/v1/orders/{order}/result"), result(50.0)),
        (
            Method::POST,
            format!("/v1/orders/{order}/reviews"),
            json!({"id": "r", "kind": "comment"}),
        ),
        (Method::GET, format!("/v1/connections/{connection}/stage-mappings"), none.clone()),
        (
            Method::PUT,
            format!("/v1/connections/{connection}/stage-mappings"),
            json!({"stages": {}}),
        ),
        (Method::GET, format!("/v1/connections/{connection}/push-defaults"), none.clone()),
        (Method::PUT, format!("/v1/connections/{connection}/push-defaults"), json!({})),
        (
            Method::POST,
            format!("/v1/connections/{connection}/results"),
            json!({"application_id": "app-1", "candidate_id": "cand-1", "result": result(1.0)}),
        ),
    ] {
        let mut request = host.with_key(&globex, method.clone(), &path);
        if !body.is_null() {
            request = request.json(&body);
        }
        let (status, answer) = send(request).await;
        assert_eq!(status, 404, "{method} {path} → {status} {answer}");
        assert!(!answer.to_string().contains("acme"), "no hint of the other tenant: {answer}");
    }
    let of_connection = format!("/v1/orders?connection_id={connection}");
    for list in ["/v1/automations", "/v1/firings", "/v1/orders", of_connection.as_str()] {
        let (status, page) = send(host.with_key(&globex, Method::GET, list)).await;
        assert_eq!(status, 200, "{page}");
        assert!(data(&page).is_empty(), "{list} shows globex nothing of acme's: {page}");
    }
    // Globex cannot point an automation or an order at acme's connection either.
    let (status, refused) =
        send(host.with_key(&globex, Method::POST, "/v1/automations").json(&json!({
            "name": "Borrowed", "scope": {"kind": "connection", "connection_id": connection},
            "trigger": {"type": "application-created"}, "actions": [{"type": "add-tag", "tag": "x"}]
        })))
        .await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (422, Some("scope.connection_id")),
        "{refused}"
    );
    assert!(!refused.to_string().contains("acme"), "{refused}");
    let (status, refused) = send(host.with_key(&globex, Method::POST, "/v1/automations").json(&json!({
        "name": "Push into acme", "scope": {"kind": "connection", "connection_id": globex_connection},
        "trigger": {"type": "application-created"}, "actions": [{"type": "push-to-connection", "connection_id": connection}]
    })))
    .await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (422, Some("actions[0].connection_id")),
        "{refused}"
    );
    let (status, refused) = send(host.with_key(&globex, Method::POST, "/v1/orders").json(&json!({
        "connection_id": connection, "application_id": "app-1", "candidate_id": "cand-1", "package_id": "p"
    })))
    .await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (422, Some("connection_id")),
        "{refused}"
    );
    // The owner and the operator still see everything.
    let (status, _) =
        send(host.with_key(&acme, Method::GET, &format!("/v1/automations/{automation}"))).await;
    assert_eq!(status, 200);
    let (_, all) = send(host.op(Method::GET, "/v1/orders")).await;
    assert_eq!(data(&all).len(), 1, "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_defaults_fill_a_push_and_its_event_fires_an_automation_once() {
    let host = ApiHost::start().await;
    let (url, sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    sync_and_wait(&host, &key, &connection, "jobs").await;
    let call = |method: Method, path: String| host.with_key(&key, method, &path);
    let (status, _) = send(
        call(Method::PUT, format!("/v1/connections/{connection}/stage-mappings"))
            .json(&json!({"stages": {"Sourced": "stage-2"}})),
    )
    .await;
    assert_eq!(status, 200);
    let defaults = json!({"initial_stage": {"mapped": "Sourced"}, "source": "AI sourcer", "tags": ["via-host"]});
    let (status, saved) = send(
        call(Method::PUT, format!("/v1/connections/{connection}/push-defaults")).json(&defaults),
    )
    .await;
    assert_eq!((status, &saved), (200, &defaults));
    let (_, shown) =
        send(call(Method::GET, format!("/v1/connections/{connection}/push-defaults"))).await;
    assert_eq!(shown, defaults);
    let (status, refused) = send(
        call(Method::PUT, format!("/v1/connections/{connection}/push-defaults"))
            .json(&json!({"initial_stage": {"mapped": "Hired"}})),
    )
    .await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (422, Some("initial_stage")),
        "{refused}"
    );
    let (status, refused) = send(
        call(Method::PUT, format!("/v1/connections/{connection}/stage-mappings"))
            .json(&json!({"stages": {"Sourced": "stage-2", "sourced": "stage-3"}})),
    )
    .await;
    assert_eq!(status, 422, "names compare without case: {refused}");
    let pushed_automation = create(
        &host,
        &key,
        json!({"name": "Tag pushed", "enabled": true, "scope": {"kind": "connection", "connection_id": connection},
               "trigger": {"type": "candidate-pushed"},
               "conditions": {"all": [{"path": "push.source", "type": "string", "op": "equals", "value": "AI sourcer"}]},
               "actions": [{"type": "add-tag", "tag": "pushed-auto"}]}),
    )
    .await;
    let automation = pushed_automation["id"].as_str().expect("id").to_string();

    let push = json!({"candidate": {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"]},
                      "job_id": "job-2", "tags": ["mine"]});
    let path = format!("/v1/connections/{connection}/candidates");
    let (status, report) =
        send(call(Method::POST, path.clone()).header("idempotency-key", "push-1").json(&push))
            .await;
    assert_eq!(status, 201, "{report}");
    let candidate = report["candidate_id"].as_str().expect("candidate").to_string();
    let application = sandbox
        .applications()
        .into_iter()
        .find(|a| a["candidate_id"] == candidate.as_str())
        .expect("an application");
    assert_eq!(application["stage_id"], "stage-2", "the default stage, mapped: {application:#}");
    assert_eq!(application["source"], "AI sourcer", "{application:#}");

    // The push's event fired the automation once; a replay of the push adds nothing.
    let firings = settled_firings(&host, &key, &format!("automation_id={automation}"), 1).await;
    assert_eq!(firings[0]["status"], "done", "{:#}", firings[0]);
    let (status, _) =
        send(call(Method::POST, path.clone()).header("idempotency-key", "push-1").json(&push))
            .await;
    assert_eq!(status, 201, "the replay answers as the first push did");
    let ada =
        sandbox.candidates().into_iter().find(|c| c["id"] == candidate.as_str()).expect("Ada");
    let tags = ada["tags"].to_string();
    for tag in ["mine", "via-host", "pushed-auto"] {
        assert_eq!(tags.matches(tag).count(), 1, "{tag}: {ada:#}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, firings) =
        send(call(Method::GET, format!("/v1/firings?automation_id={automation}"))).await;
    assert_eq!(data(&firings).len(), 1, "{firings:#}");
    let (_, events) = send(call(Method::GET, "/v1/events?limit=1000".into())).await;
    let pushed = data(&events).into_iter().filter(|e| e["type"] == "candidate.pushed").count();
    assert_eq!(pushed, 1, "{events:#}");
}

/// A host stopped after storing a posted result and before appending its
/// `result.submitted` event (the order is stored with its result, the log has no event):
/// posting the same result again answers 200 and appends the event then, once.
#[tokio::test]
async fn the_same_result_posted_again_appends_an_event_a_crash_left_out() {
    use ats_host::automations::orders::{DEFAULT_EXPIRY, NewOrder, Order, OrderResult};
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = synced(&host, "acme", &url).await;
    let body = result(77.0);
    let posted: OrderResult = serde_json::from_value(body.clone()).expect("a result");
    let new = NewOrder {
        id: "ord_crashed".into(),
        tenant_id: "acme".into(),
        connection_id: connection.clone(),
        application_id: "app-2".into(),
        candidate_id: "cand-2".into(),
        job_id: Some("job-1".into()),
        package_id: "pkg".into(),
        automation_id: None,
        firing_id: None,
    };
    let mut order = Order::new(new, ats_host::time::now_ms(), DEFAULT_EXPIRY);
    for state in ["invited", "completed"] {
        let to = serde_json::from_value(json!(state)).expect("a state");
        order.advance(to, ats_host::time::now_ms(), None).expect("forward");
    }
    order.post_result(posted, ats_host::time::now_ms()).expect("posted");
    assert!(host.automations.automations.insert_order(&order).await.expect("stored"));

    let submitted = || async {
        let (_, log) = send(host.with_key(&key, Method::GET, "/v1/events?limit=500")).await;
        data(&log)
            .into_iter()
            .filter(|e| e["type"] == "result.submitted" && e["subject_id"] == "app-2")
            .count()
    };
    assert_eq!(submitted().await, 0, "the crash left no event");
    let path = "/v1/orders/ord_crashed/result";
    let (status, again) = send(host.with_key(&key, Method::POST, path).json(&body)).await;
    assert_eq!(status, 200, "the same result: {again}");
    assert!(again["result_event_id"].is_string(), "{again}");
    assert_eq!(submitted().await, 1, "the missing event is appended");
    let (status, _) = send(host.with_key(&key, Method::POST, path).json(&body)).await;
    assert_eq!(status, 200);
    assert_eq!(submitted().await, 1, "and only once");
}

/// Deleting a connection forgets its stage mapping and push defaults.
#[tokio::test]
async fn a_deleted_connection_takes_its_stage_mapping_and_push_defaults_along() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    let put = |path: &str, body: Value| {
        host.with_key(&key, Method::PUT, &format!("/v1/connections/{connection}/{path}"))
            .json(&body)
    };
    assert_eq!(send(put("stage-mappings", json!({"stages": {"Invited": "stage-2"}}))).await.0, 200);
    assert_eq!(send(put("push-defaults", json!({"source": "Robin"}))).await.0, 200);
    let stored = &host.automations.automations;
    assert!(stored.stage_mapping(&connection).await.expect("read").is_some());
    let path = format!("/v1/connections/{connection}");
    assert_eq!(send(host.with_key(&key, Method::DELETE, &path)).await.0, 204);
    assert!(stored.stage_mapping(&connection).await.expect("read").is_none());
    assert!(stored.push_defaults(&connection).await.expect("read").is_none());
}

/// A tenant keeps at most `MAX_AUTOMATIONS_PER_TENANT` automations: one more, created or
/// duplicated, is refused with 409 saying what to do; another tenant is not affected.
#[tokio::test]
async fn a_tenant_at_its_automation_limit_cannot_create_or_duplicate_more() {
    use ats_host::automations::model::Automation;
    use ats_host::automations::validate::MAX_AUTOMATIONS_PER_TENANT;
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let (key, connection) = connect(&host, "acme", &url).await;
    let body = json!({"name": "Tag", "enabled": false,
                      "scope": {"kind": "connection", "connection_id": connection},
                      "trigger": {"type": "application-created"},
                      "actions": [{"type": "add-tag", "tag": "new"}]});
    let (status, first) =
        send(host.with_key(&key, Method::POST, "/v1/automations").json(&body)).await;
    assert_eq!(status, 201, "{first}");
    let first: Automation = serde_json::from_value(first).expect("an automation");
    let store = &host.automations.automations;
    for n in 1..MAX_AUTOMATIONS_PER_TENANT {
        let copy = first.duplicate(format!("aut_fill_{n}"), None, ats_host::time::now_ms());
        store.put_automation(&copy).await.expect("stored");
    }
    let (status, refused) =
        send(host.with_key(&key, Method::POST, "/v1/automations").json(&body)).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["detail"].as_str().is_some_and(|d| d.contains("delete")), "{refused}");
    let path = format!("/v1/automations/{}/duplicate", first.id);
    assert_eq!(send(host.with_key(&key, Method::POST, &path)).await.0, 409);

    let (other_key, other) = connect(&host, "globex", &url).await;
    let mut theirs = body.clone();
    theirs["scope"]["connection_id"] = json!(other);
    let (status, created) =
        send(host.with_key(&other_key, Method::POST, "/v1/automations").json(&theirs)).await;
    assert_eq!(status, 201, "another tenant's limit is its own: {created}");
}
