//! Tests of matching and running firings end to end, on a temporary store with fake effects
//! (a fake journal: a repeated key replays instead of writing again).

use super::document::{event_types, result_submitted};
use super::engine::{ActionError, Effects, Engine, RetryPolicy};
use super::matching::DryRunAction;
use super::model::{Automation, AutomationInput, StageMapping};
use super::orders::{DEFAULT_EXPIRY, NewOrder, Order, OrderResult};
use super::outbox::{ActionStatus, FiringFilter, FiringStatus, SledOutbox};
use super::storage::{AutomationStore, SledAutomationStore, update_order};
use super::validate::{SaveContext, validate};
use crate::store::{
    Checkpoint, Connection, NewEvent, PageCommit, Run, SledStore, Store, StoredApplication,
    StoredCandidate, StoredJob, StoredStage, SyncKind,
};
use crate::webhooks::OutboundEvent;
use crate::writes::journal::JournalKey;
use crate::writes::requests::WriteRequest;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

const T: &str = "acme";
const C: &str = "conn_a";

#[derive(Default)]
struct Fake {
    journal: Mutex<BTreeMap<String, Value>>,
    /// Writes that reached the "ATS": (journal key, request).
    writes: Mutex<Vec<(String, Value)>>,
    notified: Mutex<Vec<OutboundEvent>>,
    errors: Mutex<VecDeque<ActionError>>,
    panic_next: Mutex<bool>,
    subscriptions: usize,
}

fn lock<X>(m: &Mutex<X>) -> std::sync::MutexGuard<'_, X> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Effects for Fake {
    async fn write(
        &self,
        _connection: &str,
        key: JournalKey,
        request: WriteRequest,
    ) -> Result<Value, ActionError> {
        if std::mem::take(&mut *lock(&self.panic_next)) {
            panic!("the fake connector blew up");
        }
        if let Some(error) = lock(&self.errors).pop_front() {
            return Err(error);
        }
        let id = format!("{}/{}", key.connection_id, key.idempotency_key);
        if let Some(done) = lock(&self.journal).get(&id) {
            return Ok(json!({"replayed": done}));
        }
        lock(&self.writes).push((id.clone(), serde_json::to_value(&request).unwrap_or_default()));
        lock(&self.journal).insert(id.clone(), json!(id));
        Ok(json!({"written": id}))
    }

    async fn notify(&self, event: &OutboundEvent) -> Result<usize, ActionError> {
        let mut sent = lock(&self.notified);
        if !sent.iter().any(|e| e.id == event.id) {
            sent.push(event.clone());
        }
        Ok(self.subscriptions)
    }
}

struct World {
    engine: Engine<Fake>,
    now: i64,
}

fn stored_app(id: &str, candidate: &str, stage: &str, entered: i64) -> StoredApplication {
    StoredApplication {
        connection_id: C.into(),
        tenant_id: T.into(),
        remote_id: id.into(),
        candidate_id: candidate.into(),
        job_id: "j1".into(),
        stage_id: Some(stage.into()),
        status: "active".into(),
        remote_updated_at: None,
        stage_entered_at: entered,
        raw: Value::Null,
        first_seen_at: 1,
        updated_at: entered,
    }
}

fn stored_candidate(id: &str, first: &str, email: &str) -> StoredCandidate {
    StoredCandidate {
        connection_id: C.into(),
        tenant_id: T.into(),
        remote_id: id.into(),
        first_name: first.into(),
        last_name: "Tester".into(),
        emails: vec![email.into()],
        phones: vec![],
        custom_fields: vec![],
        tags: vec![],
        source: None,
        company: None,
        title: None,
        location: None,
        remote_updated_at: None,
        first_seen_at: 1,
        updated_at: 1,
    }
}

async fn world(subscriptions: usize) -> World {
    let store = Arc::new(SledStore::temporary().expect("store"));
    let db = store.db().clone();
    for id in [C, "conn_b"] {
        let connection: Connection = serde_json::from_value(json!({
            "id": id, "tenant_id": T, "connector_id": "sandbox", "name": id, "config": {},
            "allow_private_networks": false, "status": "active", "schedules": {}, "created_at": 0, "updated_at": 0
        }))
        .expect("connection");
        store.put_connection(&connection, None).await.expect("put connection");
    }
    let run: Run = serde_json::from_value(json!({
        "id": "run_1", "tenant_id": T, "connection_id": C, "kind": "applications", "trigger": "manual",
        "state": "running", "full_scan": false, "counts": crate::store::RunCounts::default(),
        "progress": crate::store::RunProgress::default(), "queued_at": 0, "started_at": null, "ended_at": null, "error": null
    }))
    .expect("run");
    let stage = |id: &str, name: &str, position| StoredStage {
        connection_id: C.into(),
        remote_id: id.into(),
        job_id: None,
        name: name.into(),
        position,
        updated_at: 1,
    };
    let job: StoredJob = serde_json::from_value(json!({
        "connection_id": C, "tenant_id": T, "remote_id": "j1", "code": null, "title": "Engineer", "status": "open",
        "location": null, "description": null, "assigned_users": [], "remote_updated_at": null, "raw": null,
        "active": true, "frozen": false, "archived": false, "first_seen_at": 1, "updated_at": 1, "last_seen_scan": null
    }))
    .expect("job");
    store
        .commit_page(PageCommit {
            connection_id: C.into(),
            tenant_id: T.into(),
            kind: SyncKind::Applications,
            jobs: vec![job],
            stages: vec![
                stage("s1", "Applied", 1),
                stage("s2", "Assessment", 2),
                stage("s3", "Review", 3),
            ],
            applications: vec![
                stored_app("app1", "cand1", "s2", 100),
                stored_app("app2", "cand2", "s1", 100),
                stored_app("app3", "cand3", "s2", 200),
            ],
            candidates: vec![
                stored_candidate("cand1", "Ada", "ada@example.com"),
                stored_candidate("cand2", "Bob", "bob@example.com"),
                stored_candidate("cand3", "Cy", "cy@example.com"),
            ],
            events: vec![],
            checkpoint: Checkpoint::default(),
            run,
        })
        .await
        .expect("commit");
    let automations = Arc::new(SledAutomationStore::open(&db).expect("automations"));
    let mapping = StageMapping {
        stages: [
            ("Assessment".to_string(), "s2".to_string()),
            ("Review".to_string(), "s3".to_string()),
        ]
        .into(),
    };
    automations.put_stage_mapping(C, &mapping).await.expect("mapping");
    let outbox = Arc::new(SledOutbox::open(&db).expect("outbox"));
    let fake = Fake { subscriptions, ..Fake::default() };
    World {
        engine: Engine::new(store, automations, outbox, fake, RetryPolicy::default()),
        now: crate::time::now_ms(),
    }
}

impl World {
    async fn automation(&self, id: &str, raw: Value) -> Automation {
        let input: AutomationInput = serde_json::from_value(raw).expect("input");
        let context = SaveContext {
            mappings: [(
                C.to_string(),
                self.engine.automations.stage_mapping(C).await.expect("m").unwrap_or_default(),
            )]
            .into(),
        };
        validate(&input, &context).expect("valid");
        let automation = Automation::create(id.into(), T.into(), input, self.now - 60_000);
        self.engine.automations.put_automation(&automation).await.expect("put");
        automation
    }

    async fn stage_changed(&self, app: &str, candidate: &str, stage: &str) {
        let event = NewEvent {
            event_type: event_types::STAGE_CHANGED,
            subject_id: app.into(),
            data: json!({"application_id": app, "candidate_id": candidate, "job_id": "j1", "stage_id": stage, "previous_stage_id": "s1"}),
        };
        self.engine.store.append_events(T, C, vec![event]).await.expect("append");
    }

    async fn firings(&self) -> Vec<super::outbox::Firing> {
        self.engine.outbox.firings(&FiringFilter::default()).await.expect("firings")
    }

    fn writes(&self) -> Vec<(String, Value)> {
        lock(&self.engine.effects.writes).clone()
    }
}

fn invite_automation() -> Value {
    json!({
        "name": "Invite on Assessment", "enabled": true,
        "scope": {"kind": "connection", "connection_id": C},
        "trigger": {"type": "stage-entered", "stage": {"mapped": "Assessment"}},
        "conditions": {"all": [{"path": "candidate.email", "type": "string", "op": "ends-with", "value": "@example.com"}]},
        "actions": [
            {"type": "send-invite", "package_id": "coding"},
            {"type": "add-note", "template": "Invited {{candidate.first_name}} ({{stage.name}})"},
            {"type": "move-to-stage", "stage": {"mapped": "Review"}}
        ]
    })
}

#[tokio::test]
async fn a_stage_change_fires_once_even_when_seen_twice_and_runs_every_action_once() {
    let w = world(1).await;
    w.automation("aut_1", invite_automation()).await;
    w.stage_changed("app1", "cand1", "s2").await;
    let round = w.engine.run_round(w.now).await.expect("round");
    assert_eq!((round.events, round.firings), (1, 1));
    // The same change seen again (a webhook-triggered sync re-detecting it, or the event
    // offered again after a crash) keys the same stay: no second firing.
    w.stage_changed("app1", "cand1", "s2").await;
    w.engine.outbox.set_cursor(0).await.expect("rewind");
    w.engine.run_round(w.now).await.expect("round");
    let firings = w.firings().await;
    assert_eq!(firings.len(), 1);
    let firing = &firings[0];
    assert_eq!(firing.status, FiringStatus::Done);
    assert!(firing.actions.iter().all(|a| a.status == ActionStatus::Done), "{:?}", firing.actions);
    let invites = lock(&w.engine.effects.notified).clone();
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0].event_type, "automation.invite");
    assert_eq!(invites[0].data["candidate"]["email"], "ada@example.com");
    assert_eq!(invites[0].data["stage"]["mapped_name"], "Assessment");
    let writes = w.writes();
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0].0, format!("{C}/automation:{}:1:write", firing.id));
    assert_eq!(writes[0].1["AddNote"]["body"], "Invited Ada (Assessment)");
    assert_eq!(writes[1].1["MoveStage"], json!({"application_id": "app1", "stage_id": "s3"}));
}

#[tokio::test]
async fn events_that_do_not_match_fire_nothing() {
    let w = world(1).await;
    w.automation("aut_1", invite_automation()).await;
    let mut other_scope = invite_automation();
    other_scope["scope"] = json!({"kind": "connection", "connection_id": "conn_b"});
    other_scope["trigger"]["stage"] = json!({"stage_id": "s2"});
    other_scope["actions"] = json!([{"type": "send-invite"}]);
    w.automation("aut_2", other_scope).await;
    let mut disabled = invite_automation();
    disabled["enabled"] = json!(false);
    w.automation("aut_3", disabled).await;
    let mut other_job = invite_automation();
    other_job["jobs"] = json!({"kind": "listed", "job_ids": ["j9"]});
    w.automation("aut_4", other_job).await;
    w.stage_changed("app2", "cand2", "s1").await; // not the trigger stage
    let mut failing = invite_automation();
    failing["conditions"] = json!({"all": [{"path": "candidate.first_name", "type": "string", "op": "equals", "value": "Nobody"}]});
    w.automation("aut_5", failing).await;
    w.stage_changed("app1", "cand1", "s2").await;
    w.engine.run_round(w.now).await.expect("round");
    let fired: Vec<String> = w.firings().await.into_iter().map(|f| f.automation_id).collect();
    assert_eq!(fired, vec!["aut_1".to_string()]);
}

#[tokio::test]
async fn backfill_fires_for_everyone_in_the_stage_once_and_the_entry_event_adds_nothing() {
    let w = world(1).await;
    let mut raw = invite_automation();
    raw["backfill"] = json!(true);
    let automation = w.automation("aut_1", raw).await;
    let fired = w.engine.matcher().backfill(&automation, w.now).await.expect("backfill");
    assert_eq!(fired.len(), 2, "app1 and app3 are in Assessment");
    assert!(w.engine.matcher().backfill(&automation, w.now).await.expect("again").is_empty());
    w.stage_changed("app1", "cand1", "s2").await;
    w.engine.run_round(w.now).await.expect("round");
    assert_eq!(w.firings().await.len(), 2, "the entry event of app1 keys the same stay");
    assert_eq!(lock(&w.engine.effects.notified).len(), 2);
}

#[tokio::test]
async fn transient_failures_back_off_and_resume_at_the_failed_action() {
    let w = world(1).await;
    w.automation("aut_1", invite_automation()).await;
    w.stage_changed("app1", "cand1", "s2").await;
    lock(&w.engine.effects.errors).push_back(ActionError::Retry {
        kind: "rate-limited".into(),
        message: "slow down".into(),
        retry_after: Some(std::time::Duration::from_secs(120)),
    });
    w.engine.run_round(w.now).await.expect("round");
    let firing = w.firings().await.remove(0);
    assert_eq!(firing.status, FiringStatus::Pending);
    assert_eq!(firing.actions[0].status, ActionStatus::Done);
    assert_eq!((firing.actions[1].status, firing.actions[1].attempts), (ActionStatus::Pending, 1));
    assert_eq!(firing.next_attempt_at, w.now + 120_000, "Retry-After beats the 30 s backoff");
    assert_eq!(w.engine.run_round(w.now + 1_000).await.expect("round").firings, 0, "not due yet");
    w.engine.run_round(w.now + 120_000).await.expect("round");
    let firing = w.firings().await.remove(0);
    assert_eq!(firing.status, FiringStatus::Done);
    assert_eq!(lock(&w.engine.effects.notified).len(), 1, "the invite was not sent again");
    assert_eq!(w.writes().len(), 2);
}

#[tokio::test]
async fn a_permanent_failure_stops_the_firing_until_an_operator_retries() {
    let w = world(1).await;
    w.automation("aut_1", invite_automation()).await;
    w.stage_changed("app1", "cand1", "s2").await;
    lock(&w.engine.effects.errors).push_back(ActionError::Permanent {
        kind: "invalid-input".into(),
        message: "note too long".into(),
    });
    w.engine.run_round(w.now).await.expect("round");
    let firing = w.firings().await.remove(0);
    assert_eq!((firing.status, firing.failed_action), (FiringStatus::Failed, Some(1)));
    assert_eq!(firing.actions[1].reason.as_deref(), Some("note too long"));
    assert_eq!(firing.actions[2].status, ActionStatus::Pending, "later actions did not run");
    w.engine.outbox.retry(&firing.id, w.now).await.expect("retry");
    w.engine.run_round(w.now).await.expect("round");
    assert_eq!(w.firings().await.remove(0).status, FiringStatus::Done);
    assert_eq!(w.writes().len(), 2);
}

#[tokio::test]
async fn a_crash_between_a_write_and_its_record_replays_from_the_journal() {
    let w = world(1).await;
    w.automation("aut_1", invite_automation()).await;
    w.stage_changed("app1", "cand1", "s2").await;
    w.engine.matcher().process_events(10, w.now).await.expect("match");
    let before = w.firings().await.remove(0);
    w.engine.run_round(w.now).await.expect("round");
    // The host died after the writes reached the ATS but before the firing was saved:
    // the firing is back as it was, and runs again.
    let after = w.firings().await.remove(0);
    w.engine.outbox.save(&after, &before).await.expect("restore");
    w.engine.run_round(w.now).await.expect("round");
    assert_eq!(w.writes().len(), 2, "each write reached the ATS once");
    assert_eq!(lock(&w.engine.effects.notified).len(), 1);
    let firing = w.firings().await.remove(0);
    assert_eq!(firing.status, FiringStatus::Done);
    assert!(
        firing.actions[1].detail.as_ref().is_some_and(|d| d["write"].get("replayed").is_some())
    );
}

#[tokio::test]
async fn an_unmapped_stage_or_a_missing_subscription_fails_with_the_fix() {
    let w = world(0).await;
    w.automation("aut_1", invite_automation()).await;
    w.stage_changed("app1", "cand1", "s2").await;
    w.engine.run_round(w.now).await.expect("round");
    let firing = w.firings().await.remove(0);
    assert_eq!(firing.failed_action, Some(0));
    assert!(
        firing.actions[0].reason.as_deref().is_some_and(|r| r.contains("subscribe")),
        "{:?}",
        firing.actions[0]
    );

    let w = world(1).await;
    let mut raw = invite_automation();
    raw["actions"] = json!([{"type": "move-to-stage", "stage": {"mapped": "Review"}}]);
    w.automation("aut_1", raw).await;
    w.engine
        .automations
        .put_stage_mapping(
            C,
            &StageMapping { stages: [("Assessment".to_string(), "s2".to_string())].into() },
        )
        .await
        .expect("remap");
    w.stage_changed("app1", "cand1", "s2").await;
    w.engine.run_round(w.now).await.expect("round");
    let firing = w.firings().await.remove(0);
    assert!(
        firing.actions[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("maps no mapped stage \"Review\"")),
        "{:?}",
        firing.actions[0]
    );
}

#[tokio::test]
async fn a_paused_connection_makes_firings_wait_or_skips_them() {
    let w = world(1).await;
    w.automation("aut_1", invite_automation()).await;
    let mut skip = invite_automation();
    skip["while_paused"] = json!("skip");
    w.automation("aut_2", skip).await;
    let mut connection = w.engine.store.connection(C).await.expect("read").expect("there");
    connection.status = crate::store::ConnectionStatus::Paused;
    w.engine.store.put_connection(&connection, None).await.expect("pause");
    w.stage_changed("app1", "cand1", "s2").await;
    w.engine.run_round(w.now).await.expect("round");
    let firings = w.firings().await;
    assert_eq!(firings.len(), 1, "the skipping automation fired nothing");
    assert_eq!(firings[0].status, FiringStatus::Pending);
    assert_eq!(firings[0].next_attempt_at, w.now + 300_000);
    assert!(w.writes().is_empty());
}

#[tokio::test]
async fn a_dry_run_shows_what_would_happen_and_writes_nothing() {
    let w = world(1).await;
    let automation = w.automation("aut_1", invite_automation()).await;
    let found = w.engine.matcher().dry_run(&automation, 10, w.now).await.expect("dry run");
    let apps: Vec<_> = found.iter().map(|f| f.application_id.clone().unwrap_or_default()).collect();
    assert_eq!(apps, vec!["app1", "app3"]);
    let DryRunAction::Would { effect } = &found[0].actions[1].outcome else { panic!("a note") };
    assert_eq!(effect["writes"][0]["request"]["AddNote"]["body"], "Invited Ada (Assessment)");
    let DryRunAction::Would { effect } = &found[0].actions[2].outcome else { panic!("a move") };
    assert_eq!(effect["writes"][0]["request"]["MoveStage"]["stage_id"], "s3");
    assert!(
        w.firings().await.is_empty()
            && w.writes().is_empty()
            && lock(&w.engine.effects.notified).is_empty()
    );
}

#[tokio::test]
async fn a_posted_result_fires_the_write_back_once() {
    let w = world(1).await;
    w.automation("aut_r", json!({
        "name": "Write back", "enabled": true, "scope": {"kind": "all"},
        "trigger": {"type": "result-submitted"},
        "conditions": {"all": [{"path": "result.attributes.qualified", "type": "boolean", "op": "is-true"}]},
        "actions": [
            {"type": "write-result", "modes": {"score_field": true, "link": true, "note": true}},
            {"type": "tag-by-score", "bands": [{"min": 80, "tag": "top"}, {"min": 50, "tag": "maybe"}]},
            {"type": "attach-result-file"}
        ]
    })).await;
    let order = Order::new(
        NewOrder {
            id: "ord_1".into(),
            tenant_id: T.into(),
            connection_id: C.into(),
            application_id: "app1".into(),
            candidate_id: "cand1".into(),
            job_id: Some("j1".into()),
            package_id: "p".into(),
            automation_id: None,
            firing_id: None,
        },
        w.now,
        DEFAULT_EXPIRY,
    );
    w.engine.automations.insert_order(&order).await.expect("order");
    let result = OrderResult {
        score: Some(86.0),
        max_score: Some(100.0),
        link: "https://assess.example/r/1".into(),
        summary: None,
        attributes: serde_json::from_value(json!({"qualified": true})).expect("map"),
        report: None,
        completed_at: None,
    };
    let (order, _) =
        update_order(&*w.engine.automations, "ord_1", |o| o.post_result(result.clone(), w.now))
            .await
            .expect("post");
    let event = result_submitted(&order, w.now).expect("a result");
    w.engine.store.append_events(T, C, vec![event.clone(), event]).await.expect("append");
    w.engine.run_round(w.now).await.expect("round");
    let firings = w.firings().await;
    assert_eq!(firings.len(), 1, "one firing per order's result");
    let firing = &firings[0];
    assert_eq!(firing.status, FiringStatus::Done);
    assert_eq!(firing.actions[2].status, ActionStatus::Skipped, "no report to attach");
    let writes = w.writes();
    let parts: Vec<&str> =
        writes.iter().map(|(k, _)| k.rsplit(':').next().unwrap_or_default()).collect();
    assert_eq!(parts, vec!["result", "note", "write"]);
    assert_eq!(writes[0].1["WriteResult"]["score"], 86.0);
    assert_eq!(writes[2].1["AddTag"]["tag"], "top");
}

#[tokio::test]
async fn a_panicking_action_fails_its_firing_only() {
    let w = world(1).await;
    w.automation("aut_1", invite_automation()).await;
    w.stage_changed("app1", "cand1", "s2").await;
    *lock(&w.engine.effects.panic_next) = true;
    w.engine.run_round(w.now).await.expect("the round survives");
    let firing = w.firings().await.remove(0);
    assert_eq!((firing.status, firing.failed_action), (FiringStatus::Failed, Some(1)));
    assert_eq!(firing.actions[1].error.as_deref(), Some("panic"));
}

#[tokio::test]
async fn reviews_fire_by_kind_once_per_review() {
    use super::document::{Review, result_reviewed};
    use super::model::ReviewKind;
    let w = world(1).await;
    w.automation("aut_up", json!({
        "name": "Thumbs up", "enabled": true, "scope": {"kind": "all"},
        "trigger": {"type": "review-event", "kinds": ["thumb-up"]},
        "actions": [{"type": "add-note", "template": "{{review.author}}: {{review.comment}} ({{order.package_id}})"}]
    })).await;
    let order = Order::new(
        NewOrder {
            id: "ord_1".into(),
            tenant_id: T.into(),
            connection_id: C.into(),
            application_id: "app1".into(),
            candidate_id: "cand1".into(),
            job_id: Some("j1".into()),
            package_id: "video".into(),
            automation_id: None,
            firing_id: None,
        },
        w.now,
        DEFAULT_EXPIRY,
    );
    let review = |id: &str, kind| Review {
        id: id.into(),
        kind,
        comment: Some("great".into()),
        author: Some("Eve".into()),
    };
    let events = vec![
        result_reviewed(&order, &review("r1", ReviewKind::ThumbUp), w.now),
        result_reviewed(&order, &review("r1", ReviewKind::ThumbUp), w.now),
        result_reviewed(&order, &review("r2", ReviewKind::ThumbDown), w.now),
    ];
    w.engine.store.append_events(T, C, events).await.expect("append");
    w.engine.run_round(w.now).await.expect("round");
    assert_eq!(w.firings().await.len(), 1, "r1 once; thumb-down does not match");
    assert_eq!(w.writes()[0].1["AddNote"]["body"], "Eve: great (video)");
}
