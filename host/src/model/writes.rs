//! What the host writes to an ATS: candidates, applications, notes, tags, files, results,
//! rejections and webhook subscriptions, and what a write answers.

use super::Field;
use super::records::{Answer, ChangeKind, Location, ProfileLink};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How to look candidates up before a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CandidateLookup {
    Email(String),
    Phone(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CandidateInput {
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub links: Vec<ProfileLink>,
    pub custom_fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpsertOutcome {
    Created,
    Matched,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertResult {
    pub candidate_id: String,
    pub outcome: UpsertOutcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationInput {
    pub candidate_id: String,
    pub job_id: String,
    pub stage_id: Option<String>,
    pub source: Option<String>,
    pub answers: Vec<Answer>,
}

/// What a note, tag, attachment or result is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Candidate(String),
    Application(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteInput {
    pub target: Target,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInput {
    pub target: Target,
    pub tag: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttachmentKind {
    Cv,
    Report,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInput {
    pub target: Target,
    pub filename: String,
    pub content_type: String,
    pub kind: AttachmentKind,
    pub content: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectInput {
    pub application_id: String,
    pub reason: String,
    /// A reason from `list-rejection-reasons`.
    #[serde(default)]
    pub reason_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResultStatus {
    #[default]
    Completed,
    Cancelled,
}

/// One part of a result, e.g. one skill of an assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubResult {
    pub label: String,
    pub score: f64,
    #[serde(default)]
    pub max_score: Option<f64>,
}

/// A file that goes with a result, e.g. the PDF report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFile {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A result written back by an assessment or interview product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultInput {
    pub application_id: String,
    #[serde(default)]
    pub status: ResultStatus,
    pub score: Option<f64>,
    /// The score's scale; none means 100.
    #[serde(default)]
    pub max_score: Option<f64>,
    pub link: Option<String>,
    pub summary: Option<String>,
    #[serde(default)]
    pub sub_results: Vec<SubResult>,
    #[serde(default)]
    pub report: Option<ReportFile>,
}

impl ResultInput {
    /// The score on a 0..100 scale (0.1.0 connectors know only that one).
    pub fn score_of_100(&self) -> Option<f64> {
        let score = self.score?;
        match self.max_score {
            Some(max) if max > 0.0 && (max - 100.0).abs() > f64::EPSILON => {
                Some(score * 100.0 / max)
            }
            _ => Some(score),
        }
    }
}

/// Where a write landed in the ATS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteReceipt {
    pub remote_id: Option<String>,
    pub remark: Option<String>,
}

/// An ATS-side webhook subscription the host asks a connector to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    pub url: String,
    pub secret: Option<String>,
    #[serde(default)]
    pub kinds: Vec<ChangeKind>,
}
