//! Webhook deliveries, the outbox of firings and the automation store on both
//! backends: idempotent enqueues, due order, saves that move an entry in its queue,
//! compare-and-swap orders, cursors.

use super::*;
use ats_host::automations::model::{Action, PushDefaults, StageMapping};
use ats_host::automations::orders::{NewOrder, Order};
use ats_host::automations::outbox::{
    ActionRun, ActionStatus, Firing, FiringFilter, FiringStatus, Outbox, SledOutbox,
};
use ats_host::automations::storage::{AutomationStore, OrderFilter, SledAutomationStore};
use ats_host::store::postgres::{PgAutomations, PgLedger};
use ats_host::webhooks::ledger::{DeliveryLedger, SledLedger};
use ats_host::webhooks::{DeliveryStatus, OutboundEvent, Subscription};
use std::time::Duration;

/// The lease the contract claims firings with.
const FIRING_LEASE: Duration = Duration::from_secs(300);

#[tokio::test]
async fn sled_keeps_the_queue_contracts() {
    let db = sled::Config::new().temporary(true).open().expect("sled");
    let secret_box = SecretBox::ephemeral();
    ledger_contract(&SledLedger::open(&db, secret_box).expect("ledger")).await;
    outbox_contract(&SledOutbox::open(&db).expect("outbox")).await;
    automation_store_contract(&SledAutomationStore::open(&db).expect("store")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_queue_contracts() {
    let cluster = PgCluster::start();
    let store = PgStore::connect(&cluster.url, SecretBox::ephemeral()).await.expect("store");
    let pool = store.pool().clone();
    ledger_contract(&PgLedger::new(pool.clone(), SecretBox::ephemeral())).await;
    outbox_contract(&PgAutomations::new(pool.clone())).await;
    automation_store_contract(&PgAutomations::new(pool.clone())).await;

    // A due entry claimed by one node is not handed to another until its lease ends.
    let node_a = PgAutomations::new(pool.clone());
    let node_b = PgAutomations::new(pool);
    node_a.enqueue(&firing("fir_lease", 5)).await.expect("enqueue");
    let now = ats_host::time::now_ms();
    let ids = |firings: Vec<Firing>| firings.into_iter().map(|f| f.id).collect::<Vec<_>>();
    assert!(
        ids(node_a.due(now, 10, FIRING_LEASE).await.expect("due"))
            .contains(&"fir_lease".to_string())
    );
    assert!(node_b.due(now, 10, FIRING_LEASE).await.expect("due").is_empty(), "claimed by node A");
    let later = now + i64::try_from(FIRING_LEASE.as_millis()).expect("lease in ms") + 1;
    let after_lease = ids(node_b.due(later, 10, FIRING_LEASE).await.expect("due"));
    assert!(after_lease.contains(&"fir_lease".to_string()), "the lease ran out");

    // Fencing: node B, which took the firing over, saves its progress; node A's late save
    // (from the state it claimed) does not undo it.
    let claimed = node_b.firing("fir_lease").await.expect("read").expect("exists");
    let mut progressed = claimed.clone();
    progressed.actions[0].status = ActionStatus::Done;
    progressed.status = FiringStatus::Done;
    node_b.save(&claimed, &progressed).await.expect("B saves");
    let mut stale = claimed.clone();
    stale.actions[0].attempts = 1;
    stale.next_attempt_at = later + 60_000;
    node_a.save(&claimed, &stale).await.expect("A's late save is dropped, not an error");
    let stored = node_b.firing("fir_lease").await.expect("read").expect("exists");
    assert_eq!(stored.status, FiringStatus::Done, "node B's progress stands: {stored:?}");

    // A save that leaves a firing pending and due (one action done, the next to run) keeps
    // the claim: no other node is handed it meanwhile.
    let mut two = firing("fir_steps", 5);
    two.actions.push(two.actions[0].clone());
    node_a.enqueue(&two).await.expect("enqueue");
    let now = ats_host::time::now_ms();
    let claimed = node_a.due(now, 10, FIRING_LEASE).await.expect("due");
    let claimed = claimed.into_iter().find(|f| f.id == "fir_steps").expect("claimed by A");
    let mut step = claimed.clone();
    step.actions[0].status = ActionStatus::Done;
    node_a.save(&claimed, &step).await.expect("save a step");
    assert!(
        !ids(node_b.due(now, 10, FIRING_LEASE).await.expect("due"))
            .contains(&"fir_steps".to_string()),
        "node A still holds the firing between its steps"
    );

    // A lease longer than the column can count (a huge `firing_lease_ms`) saturates instead
    // of failing the claim.
    node_a.enqueue(&firing("fir_forever", 5)).await.expect("enqueue");
    let forever = node_a.due(now, 10, Duration::MAX).await.expect("claimed");
    assert!(ids(forever).contains(&"fir_forever".to_string()));
}

fn subscription(id: &str, tenant: &str) -> Subscription {
    Subscription {
        id: id.into(),
        tenant_id: tenant.into(),
        url: "https://receiver.example/hook".into(),
        event_types: vec!["*".into()],
        enabled: true,
        disabled_reason: None,
        created_at: 1,
        secret: "whsec-signing".into(),
    }
}

fn event(id: &str) -> OutboundEvent {
    OutboundEvent {
        id: id.into(),
        tenant_id: "t-a".into(),
        event_type: "job.created".into(),
        data: serde_json::json!({}),
        occurred_at: 1,
    }
}

async fn ledger_contract(ledger: &dyn DeliveryLedger) {
    ledger.put_subscription(&subscription("wh_1", "t-a")).await.expect("put");
    ledger.put_subscription(&subscription("wh_2", "t-b")).await.expect("put");
    let read = ledger.subscription("wh_1").await.expect("read").expect("exists");
    assert_eq!(read.secret, "whsec-signing", "the secret opens again");
    assert_eq!(ledger.subscriptions(Some("t-b")).await.expect("list").len(), 1);
    assert!(ledger.enqueue(&read, &event("ev1")).await.expect("enqueue"));
    assert!(!ledger.enqueue(&read, &event("ev1")).await.expect("again"), "idempotent");
    assert!(ledger.enqueue(&read, &event("ev2")).await.expect("enqueue"));
    let now = ats_host::time::now_ms();
    let lease = Duration::from_secs(60);
    let due = ledger.due(now + 1000, 10, lease).await.expect("due");
    assert_eq!(due.len(), 2);
    let mut delivered = due[0].clone();
    delivered.status = DeliveryStatus::Delivered;
    ledger.save(&due[0], &delivered).await.expect("save");
    let mut later = due[1].clone();
    later.next_attempt_at = now + 60_000;
    later.attempts = 1;
    ledger.save(&due[1], &later).await.expect("save");
    let pending = ledger.due(now + 1000, 10, lease).await.expect("due");
    assert!(pending.is_empty(), "moved in the queue");
    assert_eq!(ledger.due(now + 61_000, 10, lease).await.expect("due").len(), 1);
    let delivered_list = ledger.deliveries(Some("t-a"), Some(DeliveryStatus::Delivered)).await;
    assert_eq!(delivered_list.expect("list").len(), 1);
    ledger.disable("wh_1", "gone").await.expect("disable");
    let cancelled = ledger.deliveries(None, Some(DeliveryStatus::Cancelled)).await.expect("list");
    assert_eq!(cancelled.len(), 1, "the pending delivery is cancelled");
    let replayed = ledger.replay(&cancelled[0].id).await.expect("replay");
    assert_eq!(replayed.status, DeliveryStatus::Pending);
    assert_eq!(ledger.fan_out_cursor().await.expect("cursor"), None);
    ledger.set_fan_out_cursor("42").await.expect("set");
    assert_eq!(ledger.fan_out_cursor().await.expect("cursor").as_deref(), Some("42"));
    assert!(ledger.delete_subscription("wh_2").await.expect("delete"));
    assert!(ledger.subscription("wh_2").await.expect("read").is_none());
}

fn firing(id: &str, at: i64) -> Firing {
    Firing {
        id: id.into(),
        tenant_id: "t-a".into(),
        automation_id: "aut_1".into(),
        connection_id: "c-1".into(),
        trigger_key: id.into(),
        event_id: None,
        event_type: "application.stage_changed".into(),
        application_id: Some("app".into()),
        candidate_id: None,
        job_id: None,
        document: serde_json::json!({}),
        backfill: false,
        status: FiringStatus::Pending,
        actions: vec![ActionRun {
            action: Action::AddTag { tag: "x".into() },
            status: ActionStatus::Pending,
            attempts: 0,
            detail: None,
            reason: None,
            error: None,
            updated_at: at,
        }],
        next_attempt_at: at,
        failed_action: None,
        created_at: at,
        updated_at: at,
    }
}

async fn outbox_contract(outbox: &dyn Outbox) {
    assert!(outbox.enqueue(&firing("fir_b", 20)).await.expect("enqueue"));
    assert!(outbox.enqueue(&firing("fir_a", 10)).await.expect("enqueue"));
    assert!(!outbox.enqueue(&firing("fir_a", 10)).await.expect("again"), "idempotent");
    let due: Vec<String> =
        outbox.due(15, 10, FIRING_LEASE).await.expect("due").into_iter().map(|f| f.id).collect();
    assert_eq!(due, ["fir_a"], "only what is due");
    let due = outbox.due(25, 10, FIRING_LEASE).await.expect("due");
    let ids: Vec<&str> = due.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"fir_b"), "{ids:?}");
    let previous = outbox.firing("fir_b").await.expect("read").expect("exists");
    let mut failed = previous.clone();
    failed.status = FiringStatus::Failed;
    failed.actions[0].status = ActionStatus::Failed;
    outbox.save(&previous, &failed).await.expect("save");
    let failed_list = FiringFilter { status: Some(FiringStatus::Failed), ..Default::default() };
    assert_eq!(outbox.firings(&failed_list).await.expect("list").len(), 1);
    let retried = outbox.retry("fir_b", 30).await.expect("retry");
    assert_eq!(retried.status, FiringStatus::Pending);
    assert_eq!(outbox.cursor().await.expect("cursor"), None);
    outbox.set_cursor(7).await.expect("set");
    assert_eq!(outbox.cursor().await.expect("cursor"), Some(7));
}

async fn automation_store_contract(store: &dyn AutomationStore) {
    let mapping = StageMapping { stages: [("Invited".to_string(), "s-2".to_string())].into() };
    store.put_stage_mapping("c-1", &mapping).await.expect("put");
    assert_eq!(store.stage_mapping("c-1").await.expect("read"), Some(mapping));
    let defaults = PushDefaults { initial_stage: None, source: Some("Robin".into()), tags: vec![] };
    store.put_push_defaults("c-1", &defaults).await.expect("put");
    assert_eq!(store.push_defaults("c-1").await.expect("read"), Some(defaults));
    store.forget_connection("c-1").await.expect("forget");
    assert_eq!(store.stage_mapping("c-1").await.expect("read"), None);
    assert_eq!(store.push_defaults("c-1").await.expect("read"), None);

    let order = Order::new(
        NewOrder {
            id: "ord_1".into(),
            tenant_id: "t-a".into(),
            connection_id: "c-1".into(),
            application_id: "app".into(),
            candidate_id: "p".into(),
            job_id: None,
            package_id: "pkg".into(),
            automation_id: None,
            firing_id: None,
        },
        1,
        Duration::from_secs(3600),
    );
    assert!(store.insert_order(&order).await.expect("insert"));
    assert!(!store.insert_order(&order).await.expect("again"), "an id is inserted once");
    let mut next = order.clone();
    next.version += 1;
    assert!(store.swap_order(&order, &next).await.expect("swap"));
    assert!(!store.swap_order(&order, &next).await.expect("stale swap"), "version moved on");
    assert_eq!(store.order("ord_1").await.expect("read").map(|o| o.version), Some(next.version));
    let of_tenant = OrderFilter { tenant_id: Some("t-a".into()), ..Default::default() };
    assert_eq!(store.orders(&of_tenant).await.expect("list").len(), 1);
    let other = OrderFilter { tenant_id: Some("t-b".into()), ..Default::default() };
    assert!(store.orders(&other).await.expect("list").is_empty());
}
