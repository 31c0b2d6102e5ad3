//! What the host reads from an ATS. Every record keeps the ATS's own id, its last
//! modification time (RFC 3339) when the ATS reports one, custom fields, and the raw remote
//! object as JSON text.

use super::Field;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    Open,
    Closed,
    Draft,
    Archived,
}

impl JobStatus {
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Open => "open",
            JobStatus::Closed => "closed",
            JobStatus::Draft => "draft",
            JobStatus::Archived => "archived",
        }
    }
}

/// A place: the free text the ATS shows, and its structured parts when known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Location {
    pub text: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub remote: Option<bool>,
}

impl Location {
    /// A location known only as free text.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), ..Self::default() }
    }

    /// The text to show: the ATS's own, else the structured parts joined.
    pub fn display(&self) -> Option<String> {
        if let Some(text) = self.text.as_ref().filter(|t| !t.trim().is_empty()) {
            return Some(text.clone());
        }
        let parts: Vec<&str> = [&self.city, &self.region, &self.country]
            .into_iter()
            .filter_map(|part| part.as_deref())
            .filter(|part| !part.trim().is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EmploymentType {
    FullTime,
    PartTime,
    Contract,
    Temporary,
    Internship,
    Freelance,
    Other,
}

impl EmploymentType {
    pub fn name(self) -> &'static str {
        match self {
            EmploymentType::FullTime => "full-time",
            EmploymentType::PartTime => "part-time",
            EmploymentType::Contract => "contract",
            EmploymentType::Temporary => "temporary",
            EmploymentType::Internship => "internship",
            EmploymentType::Freelance => "freelance",
            EmploymentType::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuestionKind {
    Text,
    LongText,
    SingleSelect,
    MultiSelect,
    Number,
    Boolean,
    Date,
    File,
}

impl QuestionKind {
    pub fn name(self) -> &'static str {
        match self {
            QuestionKind::Text => "text",
            QuestionKind::LongText => "long-text",
            QuestionKind::SingleSelect => "single-select",
            QuestionKind::MultiSelect => "multi-select",
            QuestionKind::Number => "number",
            QuestionKind::Boolean => "boolean",
            QuestionKind::Date => "date",
            QuestionKind::File => "file",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionOption {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningQuestion {
    pub id: String,
    pub text: String,
    pub kind: QuestionKind,
    pub required: bool,
    #[serde(default)]
    pub options: Vec<QuestionOption>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub code: Option<String>,
    pub title: String,
    pub status: JobStatus,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub employment_type: Option<EmploymentType>,
    pub description: Option<String>,
    pub department: Option<String>,
    pub assigned_users: Vec<String>,
    #[serde(default)]
    pub post_url: Option<String>,
    #[serde(default)]
    pub screening_questions: Vec<ScreeningQuestion>,
    #[serde(default)]
    pub opened_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub custom_fields: Vec<Field>,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub job_id: Option<String>,
    /// Position in the pipeline, 0-based.
    pub position: u32,
    pub raw: String,
}

/// A link to the candidate elsewhere (LinkedIn, GitHub, a website).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProfileLink {
    pub kind: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Candidate {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub links: Vec<ProfileLink>,
    pub updated_at: Option<String>,
    pub custom_fields: Vec<Field>,
    pub raw: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ApplicationStatus {
    Active,
    Rejected,
    Hired,
    Withdrawn,
}

impl ApplicationStatus {
    pub fn name(self) -> &'static str {
        match self {
            ApplicationStatus::Active => "active",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Hired => "hired",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }
}

/// A question answered by the candidate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The screening question's id, when the answer belongs to one.
    #[serde(default)]
    pub question_id: Option<String>,
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub candidate_id: String,
    pub job_id: String,
    pub stage_id: Option<String>,
    #[serde(default)]
    pub stage_name: Option<String>,
    pub status: ApplicationStatus,
    pub source: Option<String>,
    #[serde(default)]
    pub rejection_reason: Option<String>,
    #[serde(default)]
    pub rejected_at: Option<String>,
    #[serde(default)]
    pub hired_at: Option<String>,
    #[serde(default)]
    pub answers: Vec<Answer>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub custom_fields: Vec<Field>,
    pub raw: String,
}

/// A tag as the ATS keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tag {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RejectionReason {
    pub id: String,
    pub name: String,
}

/// A user of the ATS: recruiter, hiring manager, note author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub active: bool,
}

/// The account the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub display_name: String,
}

/// One page of records and the token of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
}

pub type JobPage = Page<Job>;
pub type StagePage = Page<Stage>;
pub type CandidatePage = Page<Candidate>;
pub type ApplicationPage = Page<Application>;
pub type TagPage = Page<Tag>;
pub type RejectionReasonPage = Page<RejectionReason>;
pub type UserPage = Page<User>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ChangeKind {
    JobChanged,
    JobDeleted,
    CandidateChanged,
    ApplicationChanged,
    ApplicationStageChanged,
}

/// A change the ATS announced; the host fetches and diffs the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub kind: ChangeKind,
    pub remote_id: String,
    pub occurred_at: Option<String>,
    pub raw: String,
}

/// The host's answer to an ATS's webhook request, chosen by the connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookReply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// What `parse-webhook` made of a webhook request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookOutcome {
    pub events: Vec<ChangeEvent>,
    /// None: the host answers `202` with a JSON summary.
    #[serde(default)]
    pub reply: Option<WebhookReply>,
}

/// A raw inbound webhook as the ATS sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRequest {
    pub headers: Vec<Field>,
    pub body: Vec<u8>,
}
