//! Exactly once across crashes: a real host process runs an automation's firings (invite
//! webhook, note, tag, stage move) for many applications and is killed with SIGKILL at
//! random points, again and again, then left to finish. The sandbox ATS (in this process,
//! so it outlives the kills) answers every request late, after it applied it: most kills
//! land between the ATS applying a write and the host hearing so. Afterwards every
//! application has exactly one note, the tag and the new stage, every firing succeeded, and
//! the product received one invite per application (the same event id when redelivered).

use super::receiver::Receiver;
use crate::process::{HostProcess, sandbox_only};
use ats_tests::api_host::send;
use ats_tests::sync_rig::{KEY, start_sandbox};
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Applications that enter the trigger stage.
pub(crate) const APPLICATIONS: usize = 16;
/// SIGKILLs while the firings run.
const KILLS: usize = 8;
pub(crate) const NOTE: &str = "Invited to the assessment";

/// A candidate and an application on job-2 in "Applied", made through the ATS's own API as
/// a recruiter's tool would; returns the application id.
pub(crate) async fn new_application(http: &reqwest::Client, ats: &str, n: usize) -> String {
    let (status, candidate) = send(
        http.post(format!("{ats}/api/candidates"))
            .bearer_auth(KEY)
            .json(&json!({"first_name": format!("Kill{n}"), "last_name": "Test",
                "emails": [format!("kill{n}@example.org")], "phones": []})),
    )
    .await;
    assert_eq!(status, 201, "{candidate}");
    let (status, application) =
        send(http.post(format!("{ats}/api/applications")).bearer_auth(KEY).json(&json!({
            "candidate_id": candidate["id"], "job_id": "job-2", "stage_id": "stage-1"
        })))
        .await;
    assert_eq!(status, 201, "{application}");
    application["id"].as_str().expect("application id").to_string()
}

/// The automation's firings, by status.
pub(crate) async fn firing_statuses(
    host: &HostProcess,
    automation: &str,
) -> BTreeMap<String, usize> {
    let (_, page) =
        send(host.op(Method::GET, &format!("/v1/firings?automation_id={automation}&limit=200")))
            .await;
    let mut statuses = BTreeMap::new();
    for firing in page["data"].as_array().into_iter().flatten() {
        let status = firing["status"].as_str().unwrap_or("?").to_string();
        *statuses.entry(status).or_insert(0) += 1;
    }
    statuses
}

/// Fast automation rounds and retries; webhooks may reach the receiver on loopback.
const CONFIG: &str = "[sync]\ncalls_per_second = 1000.0\n\
    [automations]\ntick_ms = 50\nretry_base_ms = 100\nretry_max_ms = 1000\n\
    [webhooks]\nallow_private_networks = true\nbase_delay = 100\nmax_delay = 1000\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_during_firings_leaves_every_action_done_exactly_once() {
    let (url, sandbox) = start_sandbox().await;
    let http = reqwest::Client::new();
    let mut applications = BTreeSet::new();
    for n in 0..APPLICATIONS {
        applications.insert(new_application(&http, &url, n).await);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let args = sandbox_only(dir.path(), CONFIG);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let receiver = Receiver::start().await;

    let mut host = HostProcess::start(dir.path(), &args).await;
    let (connection, automation) = connect_and_automate(&host, &url, &receiver).await;

    // The recruiter moves every application to "Screening"; the ATS gets slow on the way
    // back; the host syncs and the firings start.
    for id in &applications {
        sandbox.move_application(id, "stage-2");
    }
    sandbox.set_answer_delay(Duration::from_millis(40));
    host.start_sync(&connection, "applications").await;

    let mut mid_firing_kills = 0;
    for _ in 0..KILLS {
        let pause = rand::rng().random_range(150..900);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let written: usize = notes_of(&sandbox, &applications).values().sum();
        if written < APPLICATIONS {
            mid_firing_kills += 1;
        }
        host.child.kill().expect("SIGKILL the host");
        host.child.wait().expect("reap the host");
        host = HostProcess::start(dir.path(), &args).await;
        // A sync the kill cut short runs again (what it already stored is not news).
        host.start_sync(&connection, "applications").await;
    }
    assert!(mid_firing_kills >= 2, "kills landed while firings ran: {mid_firing_kills}");

    wait_for_every_firing_done(&host, &automation).await;
    let invites = assert_each_action_done_once(&sandbox, &applications, &receiver);
    println!(
        "{KILLS} kills ({mid_firing_kills} mid-firing); {} writes absorbed by the ATS's \
         Idempotency-Key; {} invite deliveries for {APPLICATIONS} invites",
        sandbox.idempotent_replays(),
        invites
    );
}

/// What both kill tests set up on `host`: a connection to the sandbox ATS at `url`, the
/// product's subscription to invites at `receiver`, a first applications sync, and
/// [`invite_automation`]. Returns the connection and automation ids.
pub(crate) async fn connect_and_automate(
    host: &HostProcess,
    url: &str,
    receiver: &Receiver,
) -> (String, String) {
    let connection = host.sandbox_connection("acme", url).await;
    let (status, sub) = send(host.op(Method::POST, "/v1/webhooks").json(&json!({
        "tenant_id": "acme", "url": receiver.url, "event_types": ["automation.invite"]
    })))
    .await;
    assert_eq!(status, 201, "{sub}");
    let first = host.start_sync(&connection, "applications").await;
    assert_eq!(host.wait_run(&first).await["state"], "success");
    let automation = invite_automation(host, &connection).await;
    (connection, automation)
}

/// The automation both kill tests run: on entering "Screening" (stage-2), an invite
/// webhook, a note, a tag and a move to stage-3. Returns its id.
async fn invite_automation(host: &HostProcess, connection: &str) -> String {
    let (status, automation) = send(host.op(Method::POST, "/v1/automations").json(&json!({
        "tenant_id": "acme", "name": "Invite and note", "enabled": true,
        "scope": {"kind": "connection", "connection_id": connection},
        "trigger": {"type": "stage-entered", "stage": {"stage_id": "stage-2"}},
        "actions": [
            {"type": "send-invite", "package_id": "kill-test"},
            {"type": "add-note", "template": NOTE},
            {"type": "add-tag", "tag": "invited"},
            {"type": "move-to-stage", "stage": {"stage_id": "stage-3"}}
        ]
    })))
    .await;
    assert_eq!(status, 201, "{automation}");
    automation["id"].as_str().expect("automation id").to_string()
}

/// Waits (two minutes at most) until all [`APPLICATIONS`] firings of `automation` are
/// done, and fails naming the statuses otherwise.
pub(crate) async fn wait_for_every_firing_done(host: &HostProcess, automation: &str) {
    let started = Instant::now();
    let mut statuses = BTreeMap::new();
    while started.elapsed() < Duration::from_secs(120) {
        statuses = firing_statuses(host, automation).await;
        if statuses.get("done") == Some(&APPLICATIONS) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        statuses,
        BTreeMap::from([("done".to_string(), APPLICATIONS)]),
        "every firing succeeded, once:\n{}",
        host.log_text()
    );
}

/// Notes with the automation's text, per application of `applications`.
pub(crate) fn notes_of(
    sandbox: &ats_host::sandbox_ats::SandboxHandle,
    applications: &BTreeSet<String>,
) -> BTreeMap<String, usize> {
    sandbox
        .applications()
        .into_iter()
        .filter(|a| applications.contains(a["id"].as_str().unwrap_or_default()))
        .map(|a| {
            let notes = a["notes"]
                .as_array()
                .map_or(0, |n| n.iter().filter(|note| note["body"] == NOTE).count());
            (a["id"].as_str().unwrap_or_default().to_string(), notes)
        })
        .collect()
}

/// The ATS holds one note, the tag and the new stage for each application, and the product
/// received one invite per application (a redelivery carries the same event id). Returns
/// the number of invite deliveries.
pub(crate) fn assert_each_action_done_once(
    sandbox: &ats_host::sandbox_ats::SandboxHandle,
    applications: &BTreeSet<String>,
    receiver: &Receiver,
) -> usize {
    // The ATS: one note, the tag and the new stage for each application.
    let notes = notes_of(sandbox, applications);
    assert_eq!(notes.len(), APPLICATIONS);
    let repeated: Vec<_> = notes.iter().filter(|(_, count)| **count != 1).collect();
    assert!(repeated.is_empty(), "applications without exactly one note: {repeated:?}");
    let by_id: BTreeMap<String, Value> = sandbox
        .applications()
        .into_iter()
        .map(|a| (a["id"].as_str().unwrap_or_default().to_string(), a))
        .collect();
    let candidates: BTreeMap<String, Value> = sandbox
        .candidates()
        .into_iter()
        .map(|c| (c["id"].as_str().unwrap_or_default().to_string(), c))
        .collect();
    for id in applications {
        let application = &by_id[id];
        assert_eq!(application["stage_id"], "stage-3", "{application}");
        let candidate = &candidates[application["candidate_id"].as_str().unwrap_or_default()];
        let tags: Vec<&Value> = candidate["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["tag"] == "invited")
            .collect();
        assert_eq!(tags.len(), 1, "{candidate}");
    }

    // The product: one invite per application; a redelivery carries the same event id.
    let invites = receiver.received();
    let mut events = BTreeSet::new();
    let mut invited = BTreeSet::new();
    for delivery in &invites {
        let event: Value = serde_json::from_slice(&delivery.body).expect("JSON event");
        events.insert(event["id"].as_str().unwrap_or_default().to_string());
        invited.insert(event["data"]["firing_id"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!((events.len(), invited.len()), (APPLICATIONS, APPLICATIONS), "{invites:?}");
    invites.len()
}
