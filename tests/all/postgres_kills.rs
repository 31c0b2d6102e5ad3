//! Nothing lost and nothing done twice when a node on PostgreSQL dies mid-work. Two host
//! processes share one database and both run an automation's firings (invite webhook,
//! note, tag, stage move) for many applications; one of them is killed with SIGKILL again
//! and again (and restarted) while the firings run, and once while a client's candidate
//! push to it is half done. The sandbox ATS (in this process) answers every request late,
//! after it applied it, so kills land between the ATS applying a write and the host
//! hearing so. The firings a dead node held come due on the other node when their lease
//! runs out; the client retries its push on the other node with the same `Idempotency-Key`
//! (409 while the dead node's claim lasts, then resumed after the last part done).
//! Afterwards every application has exactly one note, the tag and the new stage, the
//! product got one invite per application, and the push made one candidate, one
//! application, one CV and one note.

use crate::api::automation_kills::{
    APPLICATIONS, assert_each_action_done_once, connect_and_automate, new_application, notes_of,
    wait_for_every_firing_done,
};
use crate::api::receiver::Receiver;
use crate::postgres_host::start_on;
use ats_tests::api_host::send;
use ats_tests::postgres::PgCluster;
use ats_tests::sync_rig::start_sandbox;
use base64::Engine as _;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// SIGKILLs of node A while the firings run.
const KILLS: usize = 4;

/// Short leases, so a dead node's firings, deliveries and writes move on within seconds;
/// fast automation rounds and retries; webhooks may reach the receiver on loopback.
const CONFIG: &str = "[sync]\ncalls_per_second = 1000.0\nrun_lease = 2000\n\
    write_claim_lease = 2000\n\
    [automations]\ntick_ms = 50\nretry_base_ms = 100\nretry_max_ms = 1000\nfiring_lease_ms = 3000\n\
    [webhooks]\nallow_private_networks = true\nbase_delay = 100\nmax_delay = 1000\ntimeout = 1000\n";

/// The push a client sends: candidate, application, CV, note and tag (five parts).
fn push_body() -> Value {
    let cv = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 CV of Grace");
    json!({
        "candidate": {"first_name": "Grace", "last_name": "Hopper", "emails": ["grace@example.org"]},
        "job_id": "job-2", "source": "AI sourcer",
        "cv": {"filename": "cv.pdf", "content_type": "application/pdf", "content_base64": cv},
        "note": "Hi Grace, thanks for your interest", "tags": ["sourced"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firings_and_a_push_survive_killed_nodes_on_postgres_exactly_once() {
    let cluster = PgCluster::start();
    let (url, sandbox) = start_sandbox().await;
    let http = reqwest::Client::new();
    let mut applications = BTreeSet::new();
    for n in 0..APPLICATIONS {
        applications.insert(new_application(&http, &url, n).await);
    }
    let receiver = Receiver::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let mut node_a = start_on(dir_a.path(), &cluster.url, CONFIG, &[]).await;
    let node_b = start_on(dir_b.path(), &cluster.url, CONFIG, &[]).await;

    let (connection, automation) = connect_and_automate(&node_a, &url, &receiver).await;

    // The recruiter moves every application to "Screening"; the ATS gets slow on the way
    // back; node B syncs and both nodes run the firings.
    for id in &applications {
        sandbox.move_application(id, "stage-2");
    }
    sandbox.set_answer_delay(Duration::from_millis(40));
    node_b.start_sync(&connection, "applications").await;

    // A client pushes a candidate to node A, which dies while the push is under way.
    let push_path = format!("/v1/connections/{connection}/candidates");
    let cut_push = tokio::spawn(
        node_a
            .op(Method::POST, &push_path)
            .header("Idempotency-Key", "push-grace")
            .json(&push_body())
            .send(),
    );
    let mut mid_firing_kills = 0;
    for kill in 0..KILLS {
        let pause = if kill == 0 { 120 } else { rand::rng().random_range(150..700) };
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let written: usize = notes_of(&sandbox, &applications).values().sum();
        if written < APPLICATIONS {
            mid_firing_kills += 1;
        }
        node_a.child.kill().expect("SIGKILL node A");
        node_a.child.wait().expect("reap node A");
        node_a = start_on(dir_a.path(), &cluster.url, CONFIG, &[]).await;
    }
    assert!(mid_firing_kills >= 2, "kills landed while firings ran: {mid_firing_kills}");
    let push_cut_short =
        !matches!(cut_push.await, Ok(Ok(response)) if response.status().is_success());

    // The client retries on node B until the dead node's claim ran out.
    let started = Instant::now();
    let (mut status, mut answer) = (0, Value::Null);
    while started.elapsed() < Duration::from_secs(60) {
        (status, answer) = send(
            node_b
                .op(Method::POST, &push_path)
                .header("Idempotency-Key", "push-grace")
                .json(&push_body()),
        )
        .await;
        if status != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(status == 200 || status == 201, "{status} {answer}\n{}", node_b.log_text());
    assert_eq!(answer["complete"], true, "{answer}");

    wait_for_every_firing_done(&node_b, &automation).await;
    let invites = assert_each_action_done_once(&sandbox, &applications, &receiver);

    // The push: one candidate with one CV, one application, one note.
    let candidates = sandbox.candidates();
    let grace: Vec<&Value> =
        candidates.iter().filter(|c| c.to_string().contains("grace@example.org")).collect();
    assert_eq!(grace.len(), 1, "one candidate: {grace:?}");
    assert_eq!(grace[0]["attachments"].as_array().map(Vec::len), Some(1), "one CV");
    let pushed: Vec<Value> = sandbox
        .applications()
        .into_iter()
        .filter(|a| a["candidate_id"] == grace[0]["id"])
        .collect();
    assert_eq!(pushed.len(), 1, "one application: {pushed:?}");
    let notes: usize = std::iter::once(grace[0])
        .chain(pushed.iter())
        .map(|r| r["notes"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(notes, 1, "one note");
    println!(
        "{KILLS} kills of node A ({mid_firing_kills} mid-firing; the push cut short: \
         {push_cut_short}); {} writes absorbed by the ATS's Idempotency-Key; {invites} invite \
         deliveries for {APPLICATIONS} invites",
        sandbox.idempotent_replays(),
    );
    node_a.terminate(Duration::from_secs(30)).await;
    node_b.terminate(Duration::from_secs(30)).await;
}
