//! Every bundled connector through the whole host, as a product uses it, against its fake:
//! the connection created over HTTP, checked, its jobs synced, its applications watched
//! (where declared), a candidate pushed with CV, note, tags, source and answers, the
//! application moved, a result written (score of a maximum, link, summary, PDF report) and
//! the application rejected where the connector can. Every run ends `success` or `partial`
//! with a named reason, never `failed`; every write answers, and a part that cannot happen
//! says `unsupported`, never `failed`. Tigris and MySolution run both unmapped and mapped.

use ats_tests::api_host::{ApiHost, send};
use ats_tests::fakes::carerix::CarerixFake;
use ats_tests::fakes::otys::OtysFake;
use ats_tests::fakes::salesforce::{MySolutionFake, TigrisFake, unmapped};
use ats_tests::fakes::{FakeAts, FakeCandidate};
use ats_tests::sync_rig::{KEY, start_sandbox};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const SEEDED: &str = "2026-11-20T10:00:00Z";

/// One connection under test: its connector, config and secrets.
struct Subject {
    label: String,
    connector: &'static str,
    config: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
}

impl Subject {
    fn of(
        label: &str,
        connector: &'static str,
        fake: &dyn FakeAts,
        pairs: Vec<(String, String)>,
    ) -> Self {
        let secret_values = fake.secrets();
        let (secrets, config): (Vec<_>, Vec<_>) =
            pairs.into_iter().partition(|(_, value)| secret_values.contains(value));
        Subject {
            label: label.to_string(),
            connector,
            config: config.into_iter().collect(),
            secrets: secrets.into_iter().collect(),
        }
    }
}

/// What went through, for assertions on the fake's side.
struct Report {
    email: String,
    push: Value,
    application_id: Option<String>,
}

fn operations(listed: &Value, connector: &str) -> Vec<String> {
    listed["data"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["id"] == connector))
        .and_then(|c| c["manifest"]["operations"].as_array())
        .map(|ops| ops.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_else(|| panic!("{connector} is listed: {listed}"))
}

async fn sync(host: &ApiHost, label: &str, connection: &str, kind: &str) -> Value {
    let (status, started) = send(
        host.op(Method::POST, &format!("/v1/connections/{connection}/sync"))
            .json(&json!({"kind": kind})),
    )
    .await;
    assert_eq!(status, 202, "[{label}] sync {kind}: {started}");
    let run = super::end_to_end::wait_run(
        host,
        &host.operator_key,
        started["run_id"].as_str().expect("run id"),
    )
    .await;
    match run["state"].as_str() {
        Some("success") => {}
        Some("partial") => assert!(
            run["error"].as_str().is_some_and(|e| !e.is_empty()),
            "[{label}] a partial {kind} run names its reason: {run}"
        ),
        _ => panic!("[{label}] {kind} run must end success or partial: {run}"),
    }
    run
}

/// Drives one connection through the host; `job` is the ATS id of a job to apply to
/// (`None`: the first synced job).
async fn drive(host: &ApiHost, subject: Subject, job: Option<String>) -> Report {
    let label = subject.label.clone();
    let (_, listed) = send(host.op(Method::GET, "/v1/connectors")).await;
    let declared = operations(&listed, subject.connector);
    let declares = |op: &str| declared.iter().any(|d| d == op);
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": subject.connector, "name": label,
        "config": subject.config, "secrets": subject.secrets, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "[{label}] create: {created}");
    let connection = created["id"].as_str().expect("id").to_string();
    let path = |rest: &str| format!("/v1/connections/{connection}{rest}");

    let (_, check) = send(host.op(Method::POST, &path("/check"))).await;
    assert_eq!(check["status"], "ok", "[{label}] check: {check}");
    if declares("check") {
        assert!(check["account"].as_str().is_some_and(|a| !a.is_empty()), "[{label}] {check}");
    }

    let jobs_run = sync(host, &label, &connection, "jobs").await;
    let (_, jobs) =
        send(host.op(Method::GET, &format!("/v1/jobs?connection_id={connection}"))).await;
    let synced: Vec<String> = jobs["data"]
        .as_array()
        .map(|items| {
            items.iter().filter_map(|j| j["remote_id"].as_str().map(str::to_string)).collect()
        })
        .unwrap_or_default();
    let job = job
        .or_else(|| synced.first().cloned())
        .unwrap_or_else(|| panic!("[{label}] no job: {jobs_run}"));
    assert!(synced.contains(&job), "[{label}] job {job} synced: {jobs}");
    if declares("list-applications") {
        sync(host, &label, &connection, "applications").await;
    }
    let (_, stages) = send(host.op(Method::GET, &path("/stages"))).await;
    let stage_ids: Vec<String> = stages["data"]
        .as_array()
        .map(|items| {
            items.iter().filter_map(|s| s["remote_id"].as_str().map(str::to_string)).collect()
        })
        .unwrap_or_default();

    let email = format!("through-{}@example.com", label.replace(' ', "-"));
    // A phone of its own too: connectors match candidates on phone numbers as well.
    let phone =
        format!("+3161{:07}", label.bytes().map(u32::from).sum::<u32>() * 7919 % 10_000_000);
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 through the host");
    let (status, push) = send(host.op(Method::POST, &path("/candidates")).json(&json!({
        "candidate": {"first_name": "Grace", "last_name": "Hopper", "emails": [email],
                      "phones": [phone], "company": "Navy", "title": "Rear admiral"},
        "job_id": job, "source": "AI sourcer",
        "answers": [{"question": "Notice period?", "answer": "1 month"}],
        "cv": {"filename": "cv.pdf", "content_type": "application/pdf", "content_base64": pdf},
        "note": "Hi Grace, interested?", "tags": ["through-host"],
    })))
    .await;
    assert!(matches!(status, 200 | 201), "[{label}] push: {status} {push}");
    for part in push["parts"].as_array().expect("parts") {
        assert!(
            matches!(part["status"].as_str(), Some("done" | "unsupported" | "exists")),
            "[{label}] push part did not fail: {part}"
        );
    }
    let application_id = push["application_id"].as_str().map(str::to_string);
    if declares("create-application") {
        assert!(application_id.is_some(), "[{label}] an application was created: {push}");
    }

    if let (Some(application), true, Some(stage)) =
        (&application_id, declares("move-application"), stage_ids.last())
    {
        let (status, moved) = send(
            host.op(Method::POST, &path(&format!("/applications/{application}/move")))
                .json(&json!({"stage_id": stage})),
        )
        .await;
        assert_eq!(status, 200, "[{label}] move: {moved}");
    }
    if let Some(application) = &application_id {
        let (status, result) = send(
            host.op(Method::POST, &path(&format!("/applications/{application}/result")))
                .json(&json!({
                    "score": 42, "max_score": 50, "link": "https://assess.example/r/1",
                    "summary": "Strong logic", "sub_results": [{"label": "Logic", "score": 18, "max_score": 20}],
                    "report": {"filename": "report.pdf", "content_type": "application/pdf", "content_base64": pdf},
                    // The product pushed this candidate: naming it lets an ATS that keeps
                    // notes on candidates only take the result note.
                    "candidate_id": push["candidate_id"],
                })),
        )
        .await;
        let can = declares("write-result") || declares("add-note") || declares("add-attachment");
        if can {
            assert_eq!(status, 200, "[{label}] result: {result}");
            if let Some(report) = result.get("report") {
                assert!(
                    matches!(report["status"].as_str(), Some("done" | "unsupported")),
                    "[{label}] report part: {result}"
                );
            }
        } else {
            assert_eq!(status, 422, "[{label}] result on a connector that cannot: {result}");
        }
        if declares("reject-application") {
            let (status, rejected) = send(
                host.op(Method::POST, &path(&format!("/applications/{application}/reject")))
                    .json(&json!({"reason": "Position filled"})),
            )
            .await;
            assert_eq!(status, 200, "[{label}] reject: {rejected}");
        }
    }
    if declares("list-applications") {
        let run = sync(host, &label, &connection, "applications").await;
        let skipped = run["parts"]
            .as_array()
            .is_some_and(|parts| parts.iter().any(|p| p["part"] == "applications"));
        if let (false, Some(application)) = (skipped, &application_id) {
            let (_, stored) =
                send(host.op(Method::GET, &format!("/v1/applications?connection_id={connection}")))
                    .await;
            assert!(
                stored["data"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|a| a["remote_id"] == *application)),
                "[{label}] the pushed application was synced back: {run} {stored}"
            );
        }
    }
    Report { email, push, application_id }
}

fn landed(fake: &dyn FakeAts, report: &Report, label: &str) {
    let candidate = fake
        .candidates()
        .into_iter()
        .find(|c| c.emails.iter().any(|e| e.eq_ignore_ascii_case(&report.email)))
        .unwrap_or_else(|| panic!("[{label}] the candidate landed in the fake: {}", report.push));
    if report.application_id.is_some() {
        assert!(
            !candidate.applications.is_empty(),
            "[{label}] with its application: {candidate:?}"
        );
    }
}

/// The whole drive for one connector against its fake, on a host of its own: the connection
/// created over HTTP with `fake`'s config, checked, synced, a candidate pushed with CV, note,
/// tags and answers, moved, a result written, rejected, synced back; then the candidate is
/// looked up in the fake. Each ATS's test module calls this once.
pub(crate) async fn works_through_the_host(fake: &dyn FakeAts, connector: &'static str) {
    let host = ApiHost::start().await;
    let job = fake.seed_jobs(2, SEEDED).into_iter().next();
    let report = drive(&host, Subject::of(connector, connector, fake, fake.config()), job).await;
    landed(fake, &report, connector);
}

/// After [`works_through_the_host`] on an ATS that keeps notes on candidates only: the
/// candidate pushed through `connector`, which must carry the push note.
pub(crate) fn pushed_with_its_note(fake: &dyn FakeAts, connector: &str) -> FakeCandidate {
    let prefix = format!("through-{connector}");
    let pushed = fake
        .candidates()
        .into_iter()
        .find(|c| c.emails.iter().any(|e| e.starts_with(&prefix)))
        .unwrap_or_else(|| panic!("[{connector}] the pushed candidate is in the fake"));
    assert!(
        pushed.notes.iter().any(|n| n.contains("Hi Grace")),
        "[{connector}] the push note landed on the candidate: {pushed:?}"
    );
    pushed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_and_example_connectors_work_through_the_host() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    for connector in ["sandbox", "minimal"] {
        let subject = Subject {
            label: connector.to_string(),
            connector,
            config: [("base-url".to_string(), url.clone())].into(),
            secrets: [("api-key".to_string(), KEY.to_string())].into(),
        };
        drive(&host, subject, None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carerix_works_through_the_host() {
    works_through_the_host(&CarerixFake::start().await, "carerix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otys_works_through_the_host() {
    works_through_the_host(&OtysFake::start().await, "otys").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tigris_works_through_the_host_unmapped_and_mapped() {
    let host = ApiHost::start().await;
    let fake = TigrisFake::start().await;
    let job = fake.seed_jobs(2, SEEDED).into_iter().next();
    for (label, pairs) in
        [("tigris unmapped", unmapped(fake.config())), ("tigris mapped", fake.config())]
    {
        let report = drive(&host, Subject::of(label, "tigris", &fake, pairs), job.clone()).await;
        landed(&fake, &report, label);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysolution_works_through_the_host_unmapped_and_mapped() {
    let host = ApiHost::start().await;
    let fake = MySolutionFake::start().await;
    let job = fake.seed_jobs(2, SEEDED).into_iter().next();
    for (label, pairs) in
        [("mysolution unmapped", unmapped(fake.config())), ("mysolution mapped", fake.config())]
    {
        let report =
            drive(&host, Subject::of(label, "mysolution", &fake, pairs), job.clone()).await;
        landed(&fake, &report, label);
    }
}

/// A Salesforce Outbound Message on the inbound URL of a Tigris connection is acknowledged
/// the way Salesforce expects (else it retries for 24 hours) and syncs the vacancy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tigris_outbound_messages_are_acknowledged_and_sync_the_vacancy() {
    let host = ApiHost::start().await;
    let fake = TigrisFake::start().await;
    let ids = fake.seed_jobs(1, SEEDED);
    let subject = Subject::of("tigris outbound", "tigris", &fake, unmapped(fake.config()));
    let (_, created) =
        send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let _ = created;
    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "tigris", "config": subject.config,
        "secrets": subject.secrets, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    let inbound = created["inbound_webhook_path"].as_str().expect("inbound path").to_string();
    let message = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000001AAA</OrganizationId>
   <Notification><Id>04l000000000001</Id>
    <sObject xsi:type="sf:Tigris__Vacancy__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>{}</sf:Id></sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"#,
        ids[0]
    );
    let response = reqwest::Client::new()
        .post(host.url(&inbound))
        .header("content-type", "text/xml; charset=utf-8")
        .header("soapaction", "\"\"")
        .body(message)
        .send()
        .await
        .expect("inbound answers");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"].to_str().unwrap_or("").starts_with("text/xml"),
        "{:?}",
        response.headers()
    );
    let body = response.text().await.expect("body");
    assert!(body.contains("<Ack>true</Ack>"), "{body}");
    assert!(body.contains("notificationsResponse"), "{body}");

    let garbage = reqwest::Client::new()
        .post(host.url(&inbound))
        .header("content-type", "text/xml")
        .body("<not-a-message/>")
        .send()
        .await
        .expect("inbound answers");
    assert_eq!(garbage.status(), 400, "a body that is no Outbound Message is refused");
}

/// A connection's webhook is registered in the ATS itself (OTYS: `WebhooksService.add`,
/// Carerix: its Webhooks API) pointing at the connection's inbound URL, and removed again;
/// a connector without a webhook API says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ats_webhooks_are_registered_and_removed_through_the_api() {
    let host = ApiHost::start().await;
    let _ = send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let otys = OtysFake::start().await;
    let carerix = CarerixFake::start().await;
    let fakes: [(&'static str, &dyn FakeAts); 2] = [("otys", &otys), ("carerix", &carerix)];
    for (connector, fake) in fakes {
        let subject = Subject::of(connector, connector, fake, fake.config());
        let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
            "tenant_id": "acme", "connector_id": connector, "config": subject.config,
            "secrets": subject.secrets, "allow_private_networks": true,
        })))
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().expect("id").to_string();
        let inbound = created["inbound_webhook_path"].as_str().expect("inbound").to_string();
        let path = format!("/v1/connections/{id}/ats-webhook");

        let (status, refused) =
            send(host.op(Method::POST, &path).json(&json!({"public_url": "ats-host"}))).await;
        assert_eq!(status, 422, "[{connector}] {refused}");
        let (status, registered) = send(
            host.op(Method::POST, &path)
                .json(&json!({"public_url": "https://ats-host.example.com/"})),
        )
        .await;
        assert_eq!(status, 201, "[{connector}] {registered}");
        let url = format!("https://ats-host.example.com{inbound}");
        assert_eq!(registered["ats_webhook"]["url"], url.as_str(), "[{connector}] {registered}");
        assert!(
            fake.webhooks().iter().any(|(_, target)| *target == url),
            "[{connector}] subscribed in the ATS: {:?}",
            fake.webhooks()
        );
        let (_, shown) = send(host.op(Method::GET, &format!("/v1/connections/{id}"))).await;
        assert_eq!(shown["ats_webhook"]["url"], url.as_str(), "[{connector}] {shown}");

        let (status, _) = send(host.op(Method::DELETE, &path)).await;
        assert_eq!(status, 204, "[{connector}]");
        assert!(
            !fake.webhooks().iter().any(|(_, target)| *target == url),
            "[{connector}] removed from the ATS: {:?}",
            fake.webhooks()
        );
        let (status, again) = send(host.op(Method::DELETE, &path)).await;
        assert_eq!(status, 409, "[{connector}] nothing left to remove: {again}");
    }

    let tigris = TigrisFake::start().await;
    let subject = Subject::of("tigris", "tigris", &tigris, tigris.config());
    let (_, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "tigris", "config": subject.config,
        "secrets": subject.secrets, "allow_private_networks": true,
    })))
    .await;
    let id = created["id"].as_str().expect("id");
    let (status, refused) = send(
        host.op(Method::POST, &format!("/v1/connections/{id}/ats-webhook"))
            .json(&json!({"public_url": "https://ats-host.example.com"})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["detail"].as_str().unwrap_or("").contains("register-webhook"), "{refused}");
}
