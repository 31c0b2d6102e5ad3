//! Host-side bindings for the `ats:connector` world (generated from `wit/`).
//!
//! Imports are `async` (the host performs HTTP on tokio) and `trappable` (an internal host
//! failure traps the guest instead of being reported as a guest-visible error). Exports are
//! `async` so a call can be cut by the wall-clock timeout while the guest waits on the host.

wasmtime::component::bindgen!({
    world: "connector-world",
    path: "../wit/since_v0.1.0",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize],
});

pub use ats::connector::types::*;

impl Operation {
    /// Every operation, in WIT order.
    pub const ALL: [Operation; 14] = [
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
        }
    }

    /// Parses a WIT name such as `list-jobs`.
    pub fn from_wit_name(name: &str) -> Option<Operation> {
        Self::ALL.into_iter().find(|op| op.wit_name() == name)
    }
}
