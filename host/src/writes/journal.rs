//! The idempotency journal of writes (sled tree `writes.journal`). One record per
//! (tenant, connection, `Idempotency-Key`): a fingerprint of the request, the parts already
//! done with their results, and, once finished, the answer. A retry with the same key gets
//! the stored answer and writes nothing; a retry after a crash resumes after the last part
//! done (so a CV uploaded before the crash is not uploaded again); the same key with a
//! different request is refused. Records expire after [`RETENTION`].
//!
//! Writes reach it through [`WriteJournal`]; [`SledJournal`] is the embedded store. A
//! record is claimed with a lease ([`LEASE`]), so a networked backend for several nodes is
//! one table keyed like [`JournalKey::storage_key`] where `begin` is an `INSERT … ON
//! CONFLICT DO UPDATE … WHERE lease_until < now() OR answer IS NULL AND fingerprint = $2`
//! (one node wins a key; an orphaned claim is taken over after its lease).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use thiserror::Error;

/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// After this long, an unfinished record is presumed orphaned by a crash and may be resumed.
pub const LEASE: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalRecord {
    pub fingerprint: String,
    /// Results of the parts done so far, by part name (`candidate`, `application`, `cv`, ...).
    pub parts: Vec<(String, serde_json::Value)>,
    /// The final answer: HTTP status and body.
    pub answer: Option<(u16, serde_json::Value)>,
    pub started_at: i64,
    pub lease_until: i64,
}

/// What [`Journal::begin`] found.
pub enum Begin {
    /// Nothing (or an orphaned record): run the request, skipping `done` parts.
    Run { done: Vec<(String, serde_json::Value)> },
    /// The same request already finished: answer this, write nothing.
    Replay { status: u16, body: serde_json::Value },
}

#[derive(Debug, Error)]
pub enum JournalError {
    #[error("write journal: {0}")]
    Storage(#[from] sled::Error),
    #[error(
        "Idempotency-Key `{0}` was already used for a different request; use a new key for a new request"
    )]
    KeyReused(String),
    #[error("a request with Idempotency-Key `{0}` is still in progress; retry in a moment")]
    InProgress(String),
}

/// The idempotency journal's storage (see the module doc).
pub trait WriteJournal: Send + Sync {
    /// Claims `key` for a request with `fingerprint`.
    fn begin(&self, key: &JournalKey, fingerprint: &str) -> Result<Begin, JournalError>;
    /// Records one finished part (before the next part starts).
    fn part_done(
        &self,
        key: &JournalKey,
        part: &str,
        result: &serde_json::Value,
    ) -> Result<(), JournalError>;
    /// Stores the final answer.
    fn finish(
        &self,
        key: &JournalKey,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), JournalError>;
    /// Forgets a claim whose request wrote nothing (e.g. the ATS was unreachable), so a
    /// retry with the same key runs again.
    fn abandon(&self, key: &JournalKey) -> Result<(), JournalError>;
}

/// The journal writes hold.
pub type Journal = std::sync::Arc<dyn WriteJournal>;

/// The journal in the sled tree `writes.journal`.
#[derive(Clone)]
pub struct SledJournal {
    tree: sled::Tree,
}

impl SledJournal {
    pub fn open(db: &sled::Db) -> Result<Self, JournalError> {
        Ok(SledJournal { tree: db.open_tree("writes.journal")? })
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

impl WriteJournal for SledJournal {
    fn begin(&self, key: &JournalKey, fingerprint: &str) -> Result<Begin, JournalError> {
        let id = key.storage_key();
        let now = crate::time::now_ms();
        loop {
            let current = self.tree.get(&id)?;
            let existing: Option<JournalRecord> =
                current.as_ref().and_then(|raw| serde_json::from_slice(raw).ok());
            let expired = existing.as_ref().is_some_and(|r| now - r.started_at > ms(RETENTION));
            let done = match existing {
                Some(record) if !expired => {
                    if record.fingerprint != fingerprint {
                        return Err(JournalError::KeyReused(key.idempotency_key.clone()));
                    }
                    if let Some((status, body)) = record.answer {
                        return Ok(Begin::Replay { status, body });
                    }
                    if record.lease_until > now {
                        return Err(JournalError::InProgress(key.idempotency_key.clone()));
                    }
                    record.parts
                }
                _ => Vec::new(),
            };
            let claimed = JournalRecord {
                fingerprint: fingerprint.to_string(),
                parts: done.clone(),
                answer: None,
                started_at: now,
                lease_until: now + ms(LEASE),
            };
            let encoded = serde_json::to_vec(&claimed).unwrap_or_default();
            if self.tree.compare_and_swap(&id, current, Some(encoded))?.is_ok() {
                return Ok(Begin::Run { done });
            }
            // Someone else changed the record between our read and write: look again.
        }
    }

    /// Records one finished part (before the next part starts).
    fn part_done(
        &self,
        key: &JournalKey,
        part: &str,
        result: &serde_json::Value,
    ) -> Result<(), JournalError> {
        self.update(key, |record| {
            record.parts.push((part.to_string(), result.clone()));
            record.lease_until = crate::time::now_ms() + ms(LEASE);
        })
    }

    /// Stores the final answer.
    fn finish(
        &self,
        key: &JournalKey,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), JournalError> {
        self.update(key, |record| record.answer = Some((status, body.clone())))
    }

    /// Forgets a claim whose request wrote nothing (e.g. the ATS was unreachable), so a
    /// retry with the same key runs again.
    fn abandon(&self, key: &JournalKey) -> Result<(), JournalError> {
        self.tree.remove(key.storage_key())?;
        Ok(())
    }
}

/// Identifies one idempotent request.
#[derive(Debug, Clone)]
pub struct JournalKey {
    pub tenant_id: String,
    pub connection_id: String,
    pub idempotency_key: String,
}

impl JournalKey {
    fn storage_key(&self) -> Vec<u8> {
        format!("{}\0{}\0{}", self.tenant_id, self.connection_id, self.idempotency_key).into_bytes()
    }
}

/// Fingerprint of a request: route + canonical JSON body.
pub fn fingerprint(route: &str, body: &serde_json::Value) -> String {
    let canonical = serde_json::to_string(body).unwrap_or_default();
    hex::encode(Sha256::digest(format!("{route}\n{canonical}").as_bytes()))
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> JournalKey {
        JournalKey { tenant_id: "t".into(), connection_id: "c".into(), idempotency_key: k.into() }
    }

    #[test]
    fn a_finished_request_replays_and_a_different_body_is_refused() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let journal = SledJournal::open(&db).expect("journal");
        let print = fingerprint("push", &json!({"a": 1}));
        assert!(
            matches!(journal.begin(&key("k1"), &print), Ok(Begin::Run { done }) if done.is_empty())
        );
        assert!(matches!(journal.begin(&key("k1"), &print), Err(JournalError::InProgress(_))));
        journal.part_done(&key("k1"), "candidate", &json!({"id": "c1"})).expect("part");
        journal.finish(&key("k1"), 201, &json!({"ok": true})).expect("finish");
        match journal.begin(&key("k1"), &print) {
            Ok(Begin::Replay { status, body }) => {
                assert_eq!((status, body), (201, json!({"ok": true})))
            }
            _ => panic!("expected a replay"),
        }
        let other = fingerprint("push", &json!({"a": 2}));
        assert!(matches!(journal.begin(&key("k1"), &other), Err(JournalError::KeyReused(_))));
        journal.abandon(&key("k2")).expect("abandon of nothing is fine");
    }

    #[test]
    fn an_orphaned_claim_resumes_after_its_done_parts() {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let journal = SledJournal::open(&db).expect("journal");
        let print = fingerprint("push", &json!({}));
        journal.begin(&key("k"), &print).expect("claim");
        journal.part_done(&key("k"), "candidate", &json!("c1")).expect("part");
        // Simulate the crash: the lease ran out.
        journal.update(&key("k"), |record| record.lease_until = 0).expect("expire lease");
        match journal.begin(&key("k"), &print) {
            Ok(Begin::Run { done }) => {
                assert_eq!(done, vec![("candidate".to_string(), json!("c1"))])
            }
            _ => panic!("expected a resumed run"),
        }
    }
}
