//! The guest-side SDK for ATS connector components.
//!
//! A connector is one type implementing [`Connector`]: `describe` plus the operations its ATS
//! supports. Every operation you leave out answers `ats-error::unsupported` for you, so the
//! manifest and the behaviour cannot drift apart. Export it with [`export_connector!`]:
//!
//! ```ignore
//! use ats_connector_sdk::prelude::*;
//!
//! struct MyAts;
//!
//! impl Connector for MyAts {
//!     fn describe() -> Manifest { /* id, name, operations, config fields, egress hosts */ }
//!     fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> { /* ... */ }
//! }
//!
//! ats_connector_sdk::export_connector!(MyAts);
//! ```
//!
//! Helpers: [`http`] (JSON requests over the host-mediated `http` import, status → error
//! mapping including `Retry-After`), [`paging`] (page tokens), [`config`] (reading the
//! connection config), [`records`] (defaults for record literals), [`log`] and [`state`]
//! (re-exported host imports).
//!
//! This SDK release builds against contract `ats:connector@0.2.0` (`wit/since_v0.2.0`); its
//! major version follows the contract (see `wit/README.md`).

pub mod config;
#[cfg(feature = "declarative")]
pub mod declarative;
pub mod errors;
pub mod http;
pub mod oauth;
pub mod paging;
pub mod records;
pub mod time;

/// Bindings generated from `wit/` (the `ats:connector` package).
pub mod bindings {
    wit_bindgen::generate!({
        world: "connector-world",
        path: "../wit/since_v0.2.0",
        pub_export_macro: true,
        export_macro_name: "__export_connector_world",
        default_bindings_module: "ats_connector_sdk::bindings",
    });
}

pub use bindings::ats::connector::{log, state};

/// Keeps a cache entry (a session id, an access token) in the connection's `state`. A
/// refused entry (the connection's state quota is full) is logged and otherwise ignored:
/// the next call only has to sign in again.
pub fn remember(key: &str, value: &str, ttl_seconds: Option<u32>) {
    if let Err(reason) = state::set(key, value, ttl_seconds) {
        log::log(log::Level::Warn, &format!("cannot keep `{key}` in state: {reason}"));
    }
}

/// Everything a connector file usually needs.
pub mod prelude {
    pub use crate::Connector;
    pub use crate::bindings::ats::connector::types::*;
    pub use crate::config::ConfigExt;
    pub use crate::errors::unsupported;
    pub use crate::log::{Level, log};
    pub use crate::records::location;
}

use bindings::ats::connector::types::*;
use std::marker::PhantomData;

/// The ATS logic of one connector. Only `describe` is required; every other operation
/// defaults to `ats-error::unsupported`, and must then be left out of the manifest.
pub trait Connector {
    fn describe() -> Manifest;

    fn list_jobs(_config: Config, _page: PageRequest) -> Result<JobPage, AtsError> {
        Err(errors::unsupported(Operation::ListJobs))
    }
    fn list_stages(
        _config: Config,
        _job_id: Option<String>,
        _page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        Err(errors::unsupported(Operation::ListStages))
    }
    fn list_applications(_config: Config, _page: PageRequest) -> Result<ApplicationPage, AtsError> {
        Err(errors::unsupported(Operation::ListApplications))
    }
    fn get_candidate(_config: Config, _candidate_id: String) -> Result<Candidate, AtsError> {
        Err(errors::unsupported(Operation::GetCandidate))
    }
    fn find_candidates(
        _config: Config,
        _lookup: CandidateLookup,
        _page: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        Err(errors::unsupported(Operation::FindCandidates))
    }
    fn upsert_candidate(_config: Config, _input: CandidateInput) -> Result<UpsertResult, AtsError> {
        Err(errors::unsupported(Operation::UpsertCandidate))
    }
    fn create_application(
        _config: Config,
        _input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        Err(errors::unsupported(Operation::CreateApplication))
    }
    fn move_application(
        _config: Config,
        _application_id: String,
        _stage_id: String,
    ) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::MoveApplication))
    }
    fn add_note(_config: Config, _input: NoteInput) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::AddNote))
    }
    fn add_tag(_config: Config, _input: TagInput) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::AddTag))
    }
    fn add_attachment(_config: Config, _input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::AddAttachment))
    }
    fn reject_application(_config: Config, _input: RejectInput) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::RejectApplication))
    }
    fn write_result(_config: Config, _input: ResultInput) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::WriteResult))
    }
    fn parse_webhook(
        _config: Config,
        _request: WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        Err(errors::unsupported(Operation::ParseWebhook))
    }
    /// The answer the ATS expects for a webhook, when it expects more than an empty `2xx`
    /// (a SOAP acknowledgement, a verification challenge); asked after `parse_webhook`
    /// succeeded. `None`: the host answers `202`.
    fn webhook_reply(_config: &Config, _request: &WebhookRequest) -> Option<WebhookReply> {
        None
    }
    fn check(_config: Config) -> Result<Account, AtsError> {
        Err(errors::unsupported(Operation::Check))
    }
    fn list_tags(_config: Config, _page: PageRequest) -> Result<TagPage, AtsError> {
        Err(errors::unsupported(Operation::ListTags))
    }
    fn list_rejection_reasons(
        _config: Config,
        _page: PageRequest,
    ) -> Result<RejectionReasonPage, AtsError> {
        Err(errors::unsupported(Operation::ListRejectionReasons))
    }
    fn list_users(_config: Config, _page: PageRequest) -> Result<UserPage, AtsError> {
        Err(errors::unsupported(Operation::ListUsers))
    }
    fn get_application(_config: Config, _application_id: String) -> Result<Application, AtsError> {
        Err(errors::unsupported(Operation::GetApplication))
    }
    fn remove_tag(_config: Config, _input: TagInput) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::RemoveTag))
    }
    fn register_webhook(
        _config: Config,
        _subscription: WebhookSubscription,
    ) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::RegisterWebhook))
    }
    fn unregister_webhook(_config: Config, _remote_id: String) -> Result<WriteReceipt, AtsError> {
        Err(errors::unsupported(Operation::UnregisterWebhook))
    }
}

/// Bridges a [`Connector`] to the generated export trait; used by [`export_connector!`].
#[doc(hidden)]
pub struct Adapter<T>(PhantomData<T>);

impl<T: Connector> bindings::exports::ats::connector::connector::Guest for Adapter<T> {
    fn describe() -> Manifest {
        T::describe()
    }
    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        T::list_jobs(config, page)
    }
    fn list_stages(
        config: Config,
        job_id: Option<String>,
        page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        T::list_stages(config, job_id, page)
    }
    fn list_applications(config: Config, page: PageRequest) -> Result<ApplicationPage, AtsError> {
        T::list_applications(config, page)
    }
    fn get_candidate(config: Config, candidate_id: String) -> Result<Candidate, AtsError> {
        T::get_candidate(config, candidate_id)
    }
    fn find_candidates(
        config: Config,
        lookup: CandidateLookup,
        page: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        T::find_candidates(config, lookup, page)
    }
    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        T::upsert_candidate(config, input)
    }
    fn create_application(
        config: Config,
        input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        T::create_application(config, input)
    }
    fn move_application(
        config: Config,
        application_id: String,
        stage_id: String,
    ) -> Result<WriteReceipt, AtsError> {
        T::move_application(config, application_id, stage_id)
    }
    fn add_note(config: Config, input: NoteInput) -> Result<WriteReceipt, AtsError> {
        T::add_note(config, input)
    }
    fn add_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        T::add_tag(config, input)
    }
    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        T::add_attachment(config, input)
    }
    fn reject_application(config: Config, input: RejectInput) -> Result<WriteReceipt, AtsError> {
        T::reject_application(config, input)
    }
    fn write_result(config: Config, input: ResultInput) -> Result<WriteReceipt, AtsError> {
        T::write_result(config, input)
    }
    fn parse_webhook(config: Config, request: WebhookRequest) -> Result<WebhookOutcome, AtsError> {
        let reply_config = config.clone();
        let reply_request = request.clone();
        let events = T::parse_webhook(config, request)?;
        Ok(WebhookOutcome { events, reply: T::webhook_reply(&reply_config, &reply_request) })
    }
    fn check(config: Config) -> Result<Account, AtsError> {
        T::check(config)
    }
    fn list_tags(config: Config, page: PageRequest) -> Result<TagPage, AtsError> {
        T::list_tags(config, page)
    }
    fn list_rejection_reasons(
        config: Config,
        page: PageRequest,
    ) -> Result<RejectionReasonPage, AtsError> {
        T::list_rejection_reasons(config, page)
    }
    fn list_users(config: Config, page: PageRequest) -> Result<UserPage, AtsError> {
        T::list_users(config, page)
    }
    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        T::get_application(config, application_id)
    }
    fn remove_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        T::remove_tag(config, input)
    }
    fn register_webhook(
        config: Config,
        subscription: WebhookSubscription,
    ) -> Result<WriteReceipt, AtsError> {
        T::register_webhook(config, subscription)
    }
    fn unregister_webhook(config: Config, remote_id: String) -> Result<WriteReceipt, AtsError> {
        T::unregister_webhook(config, remote_id)
    }
}

/// Exports a [`Connector`] implementation as this component's `ats:connector/connector`.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        #[allow(dead_code, reason = "used by the export, which only a wasm build has")]
        type __AtsConnectorExport = $crate::Adapter<$connector>;
        // Exported only in the component build: a native build of a connector crate (as in
        // `cargo build --workspace`) would put the WIT export names in a linker version
        // script, which cannot spell them.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_connector_world!(__AtsConnectorExport with_types_in $crate::bindings);
    };
}
