//! What a connector is and can do: its operations, config fields, egress hosts, and how its
//! ATS stores a result natively.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every operation a manifest can declare, in any contract version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    ListJobs,
    ListStages,
    ListApplications,
    GetCandidate,
    FindCandidates,
    UpsertCandidate,
    CreateApplication,
    MoveApplication,
    AddNote,
    AddTag,
    AddAttachment,
    RejectApplication,
    WriteResult,
    ParseWebhook,
    Check,
    ListTags,
    ListRejectionReasons,
    ListUsers,
    GetApplication,
    RemoveTag,
    RegisterWebhook,
    UnregisterWebhook,
}

impl Operation {
    /// Every operation, in WIT order (0.1.0's fourteen first).
    pub const ALL: [Operation; 22] = [
        Operation::ListJobs,
        Operation::ListStages,
        Operation::ListApplications,
        Operation::GetCandidate,
        Operation::FindCandidates,
        Operation::UpsertCandidate,
        Operation::CreateApplication,
        Operation::MoveApplication,
        Operation::AddNote,
        Operation::AddTag,
        Operation::AddAttachment,
        Operation::RejectApplication,
        Operation::WriteResult,
        Operation::ParseWebhook,
        Operation::Check,
        Operation::ListTags,
        Operation::ListRejectionReasons,
        Operation::ListUsers,
        Operation::GetApplication,
        Operation::RemoveTag,
        Operation::RegisterWebhook,
        Operation::UnregisterWebhook,
    ];

    /// The WIT name, e.g. `list-jobs`.
    pub fn wit_name(self) -> &'static str {
        match self {
            Operation::ListJobs => "list-jobs",
            Operation::ListStages => "list-stages",
            Operation::ListApplications => "list-applications",
            Operation::GetCandidate => "get-candidate",
            Operation::FindCandidates => "find-candidates",
            Operation::UpsertCandidate => "upsert-candidate",
            Operation::CreateApplication => "create-application",
            Operation::MoveApplication => "move-application",
            Operation::AddNote => "add-note",
            Operation::AddTag => "add-tag",
            Operation::AddAttachment => "add-attachment",
            Operation::RejectApplication => "reject-application",
            Operation::WriteResult => "write-result",
            Operation::ParseWebhook => "parse-webhook",
            Operation::Check => "check",
            Operation::ListTags => "list-tags",
            Operation::ListRejectionReasons => "list-rejection-reasons",
            Operation::ListUsers => "list-users",
            Operation::GetApplication => "get-application",
            Operation::RemoveTag => "remove-tag",
            Operation::RegisterWebhook => "register-webhook",
            Operation::UnregisterWebhook => "unregister-webhook",
        }
    }

    /// Parses a WIT name such as `list-jobs`.
    pub fn from_wit_name(name: &str) -> Option<Operation> {
        Self::ALL.into_iter().find(|op| op.wit_name() == name)
    }
}

/// One configuration field a connection must (or may) provide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigField {
    pub name: String,
    /// Stored encrypted, never logged, never returned.
    pub secret: bool,
    pub required: bool,
    pub help: String,
}

/// How the ATS can store a result natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResultMode {
    ScoreField,
    LinkField,
    Note,
    Attachment,
}

impl ResultMode {
    pub fn name(self) -> &'static str {
        match self {
            ResultMode::ScoreField => "score-field",
            ResultMode::LinkField => "link-field",
            ResultMode::Note => "note",
            ResultMode::Attachment => "attachment",
        }
    }
}

/// What a connector is and what it can do; returned by `describe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub ats_name: String,
    pub connector_version: String,
    pub operations: Vec<Operation>,
    pub config_fields: Vec<ConfigField>,
    pub egress_hosts: Vec<String>,
    /// How `write-result` stores a result natively. Empty for a 0.1.0 connector, which
    /// cannot say; the host then falls back on what the connector's answers show.
    #[serde(default)]
    pub result_modes: Vec<ResultMode>,
    /// Whether an attachment can go on an application (else on its candidate). A 0.1.0
    /// connector cannot say; it is taken as `true`, as 0.1.0 hosts did.
    #[serde(default = "yes")]
    pub application_attachments: bool,
}

fn yes() -> bool {
    true
}

impl Manifest {
    pub fn declares(&self, operation: Operation) -> bool {
        self.operations.contains(&operation)
    }
}
