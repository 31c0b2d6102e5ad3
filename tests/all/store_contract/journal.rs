//! The idempotency journal of writes on both backends.

use super::*;
use ats_host::store::postgres::PgJournal;
use ats_host::writes::journal::{
    Answer, Begin, JournalError, JournalKey, SledJournal, WriteJournal, fingerprint,
};
use ats_host::writes::outcome::{Receipt, WriteOutcome};
use serde_json::json;

#[tokio::test]
async fn sled_keeps_the_journal_contract() {
    let db = sled::Config::new().temporary(true).open().expect("sled");
    keeps_the_contract(Arc::new(SledJournal::open(&db).expect("journal"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_journal_contract() {
    let cluster = PgCluster::start();
    let store = PgStore::connect(&cluster.url, SecretBox::ephemeral()).await.expect("store");
    keeps_the_contract(Arc::new(PgJournal::new(store.pool().clone()))).await;
}

fn key(k: &str) -> JournalKey {
    JournalKey { tenant_id: "t".into(), connection_id: "c".into(), idempotency_key: k.into() }
}

async fn keeps_the_contract(journal: Arc<dyn WriteJournal>) {
    let print = fingerprint("push", &json!({"a": 1}));
    assert!(
        matches!(journal.begin(&key("k1"), &print).await, Ok(Begin::Run { done }) if done.is_empty())
    );
    assert!(matches!(journal.begin(&key("k1"), &print).await, Err(JournalError::InProgress(_))));
    journal.part_done(&key("k1"), "candidate", &json!({"id": "c1"})).await.expect("part");
    journal.persist().await.expect("persist");
    let done = Answer::Outcome(WriteOutcome::Done(Receipt::done(Some("n1".into()))));
    journal.finish(&key("k1"), &done).await.expect("finish");
    match journal.begin(&key("k1"), &print).await {
        Ok(Begin::Replay(answer)) => assert_eq!(answer, done),
        _ => panic!("a finished request replays"),
    }
    let other = fingerprint("push", &json!({"a": 2}));
    assert!(matches!(journal.begin(&key("k1"), &other).await, Err(JournalError::KeyReused(_))));

    // An abandoned claim runs afresh; abandoning nothing is fine.
    journal.begin(&key("k2"), &print).await.expect("claim");
    journal.abandon(&key("k2")).await.expect("abandon");
    assert!(matches!(journal.begin(&key("k2"), &print).await, Ok(Begin::Run { .. })));
    journal.abandon(&key("nothing")).await.expect("abandon of nothing");

    // Claims racing for one key: exactly one runs.
    let racers = (0..8).map(|_| {
        let journal = journal.clone();
        let print = print.clone();
        tokio::spawn(async move { journal.begin(&key("race"), &print).await })
    });
    let results = futures::future::join_all(racers).await;
    let runs = results
        .iter()
        .filter(|r| matches!(r.as_ref().expect("task"), Ok(Begin::Run { .. })))
        .count();
    let in_progress = results
        .iter()
        .filter(|r| matches!(r.as_ref().expect("task"), Err(JournalError::InProgress(_))))
        .count();
    assert_eq!((runs, in_progress), (1, 7), "one claim wins, the others are told to wait");
}
