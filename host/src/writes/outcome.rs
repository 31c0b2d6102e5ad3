//! What a write did, as typed values: the report of a push (part by part), the receipt of a
//! single write, the report of a result, and the failure of a write that wrote part of its
//! request. The journal stores these; the API maps them onto status codes (`api::writes`)
//! and sends them as they serialise, so their serde form is the API's wire format.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// What a finished write did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "report", rename_all = "kebab-case")]
pub enum WriteOutcome {
    /// Push candidate: the candidate upserted, then each optional part.
    Pushed(PushReport),
    /// A single write (move stage, note, tag, attachment, reject).
    Done(Receipt),
    /// A result, in the ATS's result field or through a fallback.
    Result(ResultReport),
}

/// Whether a push created the candidate or matched one the ATS had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CandidateOutcome {
    Created,
    Matched,
}

/// The report of a push candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PushReport {
    /// The candidate's id in the ATS.
    pub candidate_id: String,
    pub candidate_outcome: CandidateOutcome,
    /// The application created for `job_id`, when one was.
    pub application_id: Option<String>,
    /// Every part is `done`.
    pub complete: bool,
    /// The candidate first, then application, cv, note and one `tag:<name>` per tag.
    pub parts: Vec<PartReport>,
}

/// How one part of a write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PartStatus {
    /// Written now (or by an earlier attempt with the same Idempotency-Key).
    Done,
    /// The ATS already had it (a conflict answer).
    Exists,
    /// The connector, or this connection's config, does not offer it.
    Unsupported,
    /// The ATS or the connector failed; the rest of the write went on.
    Failed,
}

/// One part of a push (or the report of a result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PartReport {
    /// `candidate`, `application`, `cv`, `note`, `tag:<name>` or `report`.
    pub part: String,
    pub status: PartStatus,
    /// The candidate part: the candidate's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_id: Option<String>,
    /// The candidate part: created or matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CandidateOutcome>,
    /// A done part other than the candidate: the id the ATS gave the record, `null` when it
    /// gave none. Absent on other parts.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schemars(with = "Option<String>")]
    pub remote_id: Option<Option<String>>,
    /// A failed part: the error kind (`timeout`, `transient`, `invalid-input`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the part is not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A field that is present (possibly `null`) reads as `Some`, so `remote_id: null` survives
/// the journal.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl PartReport {
    fn new(part: &str, status: PartStatus) -> Self {
        PartReport {
            part: part.to_string(),
            status,
            candidate_id: None,
            outcome: None,
            remote_id: None,
            error: None,
            detail: None,
        }
    }

    /// The candidate part of a push.
    pub fn candidate(candidate_id: &str, outcome: CandidateOutcome) -> Self {
        PartReport {
            candidate_id: Some(candidate_id.to_string()),
            outcome: Some(outcome),
            ..PartReport::new("candidate", PartStatus::Done)
        }
    }

    pub fn done(part: &str, remote_id: Option<String>) -> Self {
        PartReport { remote_id: Some(remote_id), ..PartReport::new(part, PartStatus::Done) }
    }

    pub fn exists(part: &str, detail: String) -> Self {
        PartReport { detail: Some(detail), ..PartReport::new(part, PartStatus::Exists) }
    }

    pub fn unsupported(part: &str, detail: String) -> Self {
        PartReport { detail: Some(detail), ..PartReport::new(part, PartStatus::Unsupported) }
    }

    pub fn failed(part: &str, error: &str, detail: String) -> Self {
        PartReport {
            error: Some(error.to_string()),
            detail: Some(detail),
            ..PartReport::new(part, PartStatus::Failed)
        }
    }
}

/// The one status of a finished single write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiptStatus {
    Done,
}

/// The receipt of a single write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Receipt {
    /// Always `done` (a write that fails answers an error).
    pub status: ReceiptStatus,
    /// The id the ATS gave the written record, when it gave one.
    pub remote_id: Option<String>,
}

impl Receipt {
    pub fn done(remote_id: Option<String>) -> Self {
        Receipt { status: ReceiptStatus::Done, remote_id }
    }
}

/// Where a result went when the ATS has no result field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// Written as a note on the application.
    Note,
    /// Only the report was stored, as an attachment.
    Attachment,
}

/// The report of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResultReport {
    /// Always `done`.
    pub status: ReceiptStatus,
    /// The id the ATS gave the result (or its note), when it gave one.
    pub remote_id: Option<String>,
    /// Present when the ATS has no result field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// What the fallback did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The report file, when it was stored apart from the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<PartReport>,
}

/// A write that failed after it had written part of its request: what a retry with the
/// same Idempotency-Key is told (nothing is written again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteFailure {
    /// The error kind: a call error's (`timeout`, `transient`, `host`, ...), or `journal`,
    /// `invalid`, `unsupported`, `rate-budget`.
    pub kind: String,
    pub message: String,
}
