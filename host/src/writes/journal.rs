//! The idempotency journal of writes (sled tree `writes.journal`). One record per
//! (tenant, connection, `Idempotency-Key`): a fingerprint of the request, the parts already
//! done with their results, and, once finished, the answer. A retry with the same key gets
//! the stored answer and writes nothing; a retry after a crash resumes after the last part
//! done (so a CV uploaded before the crash is not uploaded again); the same key with a
//! different request is refused. Records expire after [`RETENTION`]. The answer is stored
//! typed ([`Answer`]: the write's outcome, or the failure of a write that wrote part of its
//! request); records from before typed answers hold `[status, body]` and are read into the
//! same types (see [`StoredAnswer`]).
//!
//! Writes reach it through [`WriteJournal`]; [`SledJournal`] is the embedded store and
//! `store::postgres::PgJournal` the shared one. A record is claimed with a lease
//! ([`DEFAULT_LEASE`], `[sync] write_claim_lease`) that each finished part extends: one node
//! wins a key, and a claim whose node stopped making progress is taken over after its lease.
//!
//! **Crashes.** A part is journaled done and made durable ([`WriteJournal::persist`]) before
//! the next part starts, so a host killed at any point repeats at most the part it was in.
//! That part's connector requests carry the same `Idempotency-Key` on every attempt
//! ([`JournalKey::part_key`]): an ATS that honours the header applies it once; on one that
//! does not, a part cut off between the ATS applying it and the journal recording it may be
//! applied twice (the README's known limits). sled is held by one process at a time, so
//! [`SledJournal`] takes over a claim made by an earlier process at once instead of waiting
//! out its lease.

use super::outcome::{PushReport, Receipt, ResultReport, WriteFailure, WriteOutcome};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use thiserror::Error;

/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// After this long without progress, an unfinished record is presumed orphaned by a crash
/// and may be resumed (unless the journal is given another lease).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalRecord {
    pub fingerprint: String,
    /// Results of the parts done so far, by part name (`candidate`, `application`, `cv`, ...).
    pub parts: Vec<(String, serde_json::Value)>,
    /// The final answer, once the request finished.
    pub answer: Option<StoredAnswer>,
    pub started_at: i64,
    pub lease_until: i64,
    /// The process that holds the claim (see [`SledJournal`]); empty in records written
    /// before claims named their process.
    #[serde(default)]
    pub owner: String,
}

impl JournalRecord {
    /// Records a finished part and extends the claim's lease to `lease` from now.
    pub fn part_done(&mut self, part: &str, result: &serde_json::Value, lease: Duration) {
        self.parts.push((part.to_string(), result.clone()));
        self.lease_until = crate::time::now_ms().saturating_add(ms(lease));
    }
}

/// The final answer of a journaled request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// The write finished: what it did.
    Outcome(WriteOutcome),
    /// The write failed after writing part of its request.
    Failed(WriteFailure),
}

/// An answer as stored. Records written before answers were typed hold an HTTP status and
/// the JSON body sent with it; such a record is at most [`RETENTION`] old, and a retry of
/// its request must still not write again, so it is read into the typed answer (the body is
/// the wire form of the outcome types, which did not change) rather than dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredAnswer {
    Typed(Answer),
    /// `[status, body]`, written before typed answers; never written now.
    Legacy(u16, serde_json::Value),
}

impl StoredAnswer {
    pub fn into_answer(self) -> Answer {
        match self {
            StoredAnswer::Typed(answer) => answer,
            StoredAnswer::Legacy(status, body) => legacy_answer(status, body),
        }
    }
}

/// The typed form of an answer stored as `[status, body]`: a 4xx/5xx was a write that
/// failed part-way (`{"error": ...}`); a success body is a push report, a result report or
/// a receipt, told apart by their fields.
fn legacy_answer(status: u16, body: serde_json::Value) -> Answer {
    let unreadable = |body: &serde_json::Value| {
        Answer::Failed(WriteFailure {
            kind: "unknown".into(),
            message: format!("an earlier attempt answered {status} {body}"),
        })
    };
    if status >= 400 {
        return match body["error"].as_str() {
            Some(message) => {
                Answer::Failed(WriteFailure { kind: "unknown".into(), message: message.into() })
            }
            None => unreadable(&body),
        };
    }
    let outcome = if body.get("candidate_outcome").is_some() {
        serde_json::from_value::<PushReport>(body.clone()).ok().map(WriteOutcome::Pushed)
    } else if ["fallback", "report", "detail"].iter().any(|field| body.get(field).is_some()) {
        serde_json::from_value::<ResultReport>(body.clone()).ok().map(WriteOutcome::Result)
    } else {
        serde_json::from_value::<Receipt>(body.clone()).ok().map(WriteOutcome::Done)
    };
    outcome.map(Answer::Outcome).unwrap_or_else(|| unreadable(&body))
}

/// What [`Journal::begin`] found.
pub enum Begin {
    /// Nothing (or an orphaned record): run the request, skipping `done` parts.
    Run { done: Vec<(String, serde_json::Value)> },
    /// The same request already finished: answer this, write nothing.
    Replay(Answer),
}

#[derive(Debug, Error)]
pub enum JournalError {
    #[error("write journal: {0}")]
    Storage(String),
    #[error(
        "Idempotency-Key `{0}` was already used for a different request; use a new key for a new request"
    )]
    KeyReused(String),
    #[error("a request with Idempotency-Key `{0}` is still in progress; retry in a moment")]
    InProgress(String),
}

impl From<sled::Error> for JournalError {
    fn from(error: sled::Error) -> Self {
        JournalError::Storage(error.to_string())
    }
}

/// The idempotency journal's storage (see the module doc).
#[async_trait::async_trait]
pub trait WriteJournal: Send + Sync {
    /// Claims `key` for a request with `fingerprint`.
    async fn begin(&self, key: &JournalKey, fingerprint: &str) -> Result<Begin, JournalError>;
    /// Records one finished part (before the next part starts).
    async fn part_done(
        &self,
        key: &JournalKey,
        part: &str,
        result: &serde_json::Value,
    ) -> Result<(), JournalError>;
    /// Stores the final answer.
    async fn finish(&self, key: &JournalKey, answer: &Answer) -> Result<(), JournalError>;
    /// Forgets a claim whose request wrote nothing (e.g. the ATS was unreachable), so a
    /// retry with the same key runs again.
    async fn abandon(&self, key: &JournalKey) -> Result<(), JournalError>;
    /// Makes what was recorded so far survive a crash of the process (writes of concurrent
    /// requests share one flush).
    async fn persist(&self) -> Result<(), JournalError>;
}

/// The journal writes hold.
pub type Journal = std::sync::Arc<dyn WriteJournal>;

/// The journal in the sled tree `writes.journal`.
///
/// A claim names the process that made it ([`process_id`]): the database is locked by one
/// process at a time, so a claim of another process was left by one that is gone, and is
/// resumed at once rather than after its lease.
#[derive(Clone)]
pub struct SledJournal {
    tree: sled::Tree,
    lease: Duration,
    flusher: super::group_flush::GroupFlush,
}

/// This process's name in the claims it makes: random, fixed for the process's life.
fn process_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| crate::ids::new_id("proc"))
}

impl SledJournal {
    /// The journal in `db`, its claims leased for [`DEFAULT_LEASE`].
    pub fn open(db: &sled::Db) -> Result<Self, JournalError> {
        let tree = db.open_tree("writes.journal")?;
        let flusher = super::group_flush::GroupFlush::start(tree.clone()).map_err(|error| {
            JournalError::Storage(format!("cannot start the journal's flushing thread: {error}"))
        })?;
        Ok(SledJournal { tree, lease: DEFAULT_LEASE, flusher })
    }

    /// The same journal with claims leased for `lease`.
    pub fn with_lease(self, lease: Duration) -> Self {
        SledJournal { lease, ..self }
    }

    fn update(
        &self,
        key: &JournalKey,
        change: impl Fn(&mut JournalRecord),
    ) -> Result<(), JournalError> {
        self.tree.fetch_and_update(key.storage_key(), |current| {
            let mut record: JournalRecord = serde_json::from_slice(current?).ok()?;
            change(&mut record);
            serde_json::to_vec(&record).ok()
        })?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl WriteJournal for SledJournal {
    async fn begin(&self, key: &JournalKey, fingerprint: &str) -> Result<Begin, JournalError> {
        let id = key.storage_key();
        loop {
            let current = self.tree.get(&id)?;
            let existing: Option<JournalRecord> =
                current.as_ref().and_then(|raw| serde_json::from_slice(raw).ok());
            // sled is held by one process at a time: a claim of another process is orphaned.
            let (claimed, done) = match claim(existing, key, fingerprint, true, self.lease)? {
                Claim::Replay(answer) => return Ok(Begin::Replay(answer)),
                Claim::Take { record, done } => (record, done),
            };
            let encoded = serde_json::to_vec(&claimed).unwrap_or_default();
            if self.tree.compare_and_swap(&id, current, Some(encoded))?.is_ok() {
                return Ok(Begin::Run { done });
            }
            // Someone else changed the record between our read and write: look again.
        }
    }

    /// Records one finished part (before the next part starts).
    async fn part_done(
        &self,
        key: &JournalKey,
        part: &str,
        result: &serde_json::Value,
    ) -> Result<(), JournalError> {
        self.update(key, |record| record.part_done(part, result, self.lease))
    }

    /// Stores the final answer.
    async fn finish(&self, key: &JournalKey, answer: &Answer) -> Result<(), JournalError> {
        self.update(key, |record| record.answer = Some(StoredAnswer::Typed(answer.clone())))
    }

    /// Forgets a claim whose request wrote nothing (e.g. the ATS was unreachable), so a
    /// retry with the same key runs again.
    async fn abandon(&self, key: &JournalKey) -> Result<(), JournalError> {
        self.tree.remove(key.storage_key())?;
        Ok(())
    }

    /// A flush on the journal's own thread, shared by the parts done meanwhile
    /// ([`super::group_flush`]). (With sled's own `flush_async` the push benchmark, 16
    /// clients pushing for 6 s, got no answers for 10 minutes.)
    async fn persist(&self) -> Result<(), JournalError> {
        self.flusher.flush().await.map_err(JournalError::Storage)
    }
}

/// What [`claim`] makes of the record stored under a key.
pub enum Claim {
    /// The request finished before: answer this.
    Replay(Answer),
    /// Store `record` (this process's claim) and run, skipping the `done` parts.
    Take { record: JournalRecord, done: Vec<(String, serde_json::Value)> },
}

/// The rule of [`WriteJournal::begin`], shared by the backends: an expired or missing
/// record is claimed afresh; the same key with another fingerprint is refused; a finished
/// one replays; a live claim is in progress unless it is orphaned: its lease ran out, or
/// (`foreign_claims_are_orphans`, a store one process holds at a time) another process
/// made it. The new claim holds for `lease`.
pub fn claim(
    existing: Option<JournalRecord>,
    key: &JournalKey,
    fingerprint: &str,
    foreign_claims_are_orphans: bool,
    lease: Duration,
) -> Result<Claim, JournalError> {
    let now = crate::time::now_ms();
    let expired = existing.as_ref().is_some_and(|r| now - r.started_at > ms(RETENTION));
    let done = match existing {
        Some(record) if !expired => {
            if record.fingerprint != fingerprint {
                return Err(JournalError::KeyReused(key.idempotency_key.clone()));
            }
            if let Some(answer) = record.answer {
                return Ok(Claim::Replay(answer.into_answer()));
            }
            let ours = record.owner == process_id();
            if record.lease_until > now && (ours || !foreign_claims_are_orphans) {
                return Err(JournalError::InProgress(key.idempotency_key.clone()));
            }
            record.parts
        }
        _ => Vec::new(),
    };
    let record = JournalRecord {
        fingerprint: fingerprint.to_string(),
        parts: done.clone(),
        answer: None,
        started_at: now,
        lease_until: now.saturating_add(ms(lease)),
        owner: process_id().to_string(),
    };
    Ok(Claim::Take { record, done })
}

/// Identifies one idempotent request.
#[derive(Debug, Clone)]
pub struct JournalKey {
    pub tenant_id: String,
    pub connection_id: String,
    pub idempotency_key: String,
}

impl JournalKey {
    /// The key a backend stores the record under (tenant, connection and key, NUL-separated).
    pub fn storage_key(&self) -> Vec<u8> {
        format!("{}\0{}\0{}", self.tenant_id, self.connection_id, self.idempotency_key).into_bytes()
    }

    /// The `Idempotency-Key` the connector's requests for `part` of this write carry (see
    /// [`crate::runtime::CallContext::write_key`]): the same for every attempt of the part,
    /// different for every part, tenant and connection, and revealing nothing of them.
    pub fn part_key(&self, part: &str) -> String {
        let mut digest = Sha256::new();
        digest.update(self.storage_key());
        digest.update([0]);
        digest.update(part.as_bytes());
        format!("ats-{}", &hex::encode(digest.finalize())[..40])
    }
}

/// Fingerprint of a request: route + canonical JSON body.
pub fn fingerprint(route: &str, body: &serde_json::Value) -> String {
    let canonical = serde_json::to_string(body).unwrap_or_default();
    hex::encode(Sha256::digest(format!("{route}\n{canonical}").as_bytes()))
}

/// Milliseconds of `duration`, saturating.
pub fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writes::outcome::CandidateOutcome;
    use serde_json::json;

    fn key(k: &str) -> JournalKey {
        JournalKey { tenant_id: "t".into(), connection_id: "c".into(), idempotency_key: k.into() }
    }

    #[tokio::test]
    async fn a_finished_request_replays_and_a_different_body_is_refused() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let journal = SledJournal::open(&db).expect("journal");
        let print = fingerprint("push", &json!({"a": 1}));
        assert!(
            matches!(journal.begin(&key("k1"), &print).await, Ok(Begin::Run { done }) if done.is_empty())
        );
        assert!(matches!(
            journal.begin(&key("k1"), &print).await,
            Err(JournalError::InProgress(_))
        ));
        journal.part_done(&key("k1"), "candidate", &json!({"id": "c1"})).await.expect("part");
        let done = Answer::Outcome(WriteOutcome::Done(Receipt::done(Some("n1".into()))));
        journal.finish(&key("k1"), &done).await.expect("finish");
        match journal.begin(&key("k1"), &print).await {
            Ok(Begin::Replay(answer)) => assert_eq!(answer, done),
            _ => panic!("expected a replay"),
        }
        let other = fingerprint("push", &json!({"a": 2}));
        assert!(matches!(journal.begin(&key("k1"), &other).await, Err(JournalError::KeyReused(_))));
        journal.abandon(&key("k2")).await.expect("abandon of nothing is fine");
    }

    /// A lease longer than the clock can count (a huge `write_claim_lease`) holds: it
    /// saturates instead of wrapping into the past.
    #[tokio::test]
    async fn a_huge_lease_saturates_and_holds() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let journal = SledJournal::open(&db).expect("journal").with_lease(Duration::MAX);
        let print = fingerprint("push", &json!({}));
        journal.begin(&key("k"), &print).await.expect("claim");
        journal.part_done(&key("k"), "candidate", &json!("c1")).await.expect("part");
        let record: JournalRecord = serde_json::from_slice(
            &journal.tree.get(key("k").storage_key()).expect("read").expect("stored"),
        )
        .expect("record");
        assert_eq!(record.lease_until, i64::MAX);
    }

    #[tokio::test]
    async fn an_orphaned_claim_resumes_after_its_done_parts() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let journal = SledJournal::open(&db).expect("journal");
        let print = fingerprint("push", &json!({}));
        journal.begin(&key("k"), &print).await.expect("claim");
        journal.part_done(&key("k"), "candidate", &json!("c1")).await.expect("part");
        // Simulate the crash: the lease ran out.
        journal.update(&key("k"), |record| record.lease_until = 0).expect("expire lease");
        match journal.begin(&key("k"), &print).await {
            Ok(Begin::Run { done }) => {
                assert_eq!(done, vec![("candidate".to_string(), json!("c1"))])
            }
            _ => panic!("expected a resumed run"),
        }
    }

    /// A claim left by another process (the host was killed and restarted) is resumed at
    /// once; one of this process waits for its lease.
    #[tokio::test]
    async fn a_claim_of_an_earlier_process_is_resumed_without_waiting_for_its_lease() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let journal = SledJournal::open(&db).expect("journal");
        let print = fingerprint("note", &json!({}));
        journal.begin(&key("k"), &print).await.expect("claim");
        journal.part_done(&key("k"), "write", &json!("n1")).await.expect("part");
        assert!(matches!(journal.begin(&key("k"), &print).await, Err(JournalError::InProgress(_))));
        journal.update(&key("k"), |record| record.owner = "proc-earlier".into()).expect("owner");
        match journal.begin(&key("k"), &print).await {
            Ok(Begin::Run { done }) => assert_eq!(done, vec![("write".to_string(), json!("n1"))]),
            _ => panic!("expected the earlier process's claim to be resumed"),
        }
    }

    #[test]
    fn part_keys_differ_by_part_and_write_and_stay_the_same_across_attempts() {
        let one = key("k").part_key("note");
        assert_eq!(one, key("k").part_key("note"));
        assert_ne!(one, key("k").part_key("tag:top"));
        assert_ne!(one, key("k2").part_key("note"));
        assert!(one.starts_with("ats-") && one.len() == 44 && !one.contains('k'), "{one}");
    }

    /// A record written before typed answers (`[status, body]`) still replays, as the same
    /// answer: a retry within its retention never writes again.
    #[tokio::test]
    async fn a_record_in_the_old_format_replays_as_the_typed_answer() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let journal = SledJournal::open(&db).expect("journal");
        let print = fingerprint("push", &json!({}));
        let push = json!({
            "candidate_id": "c1", "candidate_outcome": "created", "application_id": null,
            "complete": true,
            "parts": [{"part": "candidate", "status": "done", "candidate_id": "c1", "outcome": "created"},
                      {"part": "cv", "status": "done", "remote_id": null}],
        });
        let old = |answer: serde_json::Value| {
            json!({"fingerprint": print, "parts": [], "answer": answer,
                   "started_at": crate::time::now_ms(), "lease_until": 0})
        };
        let cases = [
            (old(json!([201, push])), "pushed"),
            (old(json!([200, {"status": "done", "remote_id": "n1"}])), "done"),
            (
                old(
                    json!([200, {"status": "done", "remote_id": null, "fallback": "note", "detail": "x"}]),
                ),
                "result",
            ),
            (old(json!([502, {"error": "timeout"}])), "failed"),
        ];
        for (i, (record, expected)) in cases.into_iter().enumerate() {
            let k = key(&format!("old{i}"));
            let raw = serde_json::to_vec(&record).expect("encode");
            journal.tree.insert(k.storage_key(), raw).expect("insert");
            let Ok(Begin::Replay(answer)) = journal.begin(&k, &print).await else {
                panic!("an old record replays: {record}")
            };
            let kind = match &answer {
                Answer::Outcome(WriteOutcome::Pushed(report)) => {
                    assert_eq!(report.candidate_outcome, CandidateOutcome::Created);
                    assert_eq!(serde_json::to_value(report).expect("json"), push, "same wire form");
                    "pushed"
                }
                Answer::Outcome(WriteOutcome::Done(_)) => "done",
                Answer::Outcome(WriteOutcome::Result(_)) => "result",
                Answer::Failed(failure) => {
                    assert_eq!(failure.message, "timeout");
                    "failed"
                }
            };
            assert_eq!(kind, expected, "{answer:?}");
        }
    }
}
