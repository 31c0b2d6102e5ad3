//! Contract `ats:connector@0.1.0` (`wit/since_v0.1.0`, frozen): its bindings, its imports
//! on top of [`CallState`], and the conversion of its types into the host's model.
//!
//! What 0.1.0 lacks is filled in or dropped here, never past this module: a job's location
//! is free text only; a result's score is sent on a 0..100 scale and its sub-results and
//! report are not sent (the write pipeline stores the report as an attachment); answers
//! lose their question id; `state.set` on a full quota fails the call.

use super::convert::{Convert, record, unit_enum, variant};
use super::dispatch::dispatch;
use super::guest::{Exports, operation, typed};
use crate::model::{self, AtsError, Field, Operation};
use crate::runtime::call::{Invocation, Output};
use crate::runtime::call_state::CallState;
use wasmtime::Store;
use wasmtime::component::{HasSelf, Instance, InstancePre, Linker};

mod bindings {
    wasmtime::component::bindgen!({
        world: "connector-world",
        path: "../wit/since_v0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

use bindings::ats::connector::types as wit;
use bindings::ats::connector::{http, log, state};

/// The exported interface of this version.
pub const INTERFACE: &str = "ats:connector/connector@0.1.0";

pub(super) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    bindings::ConnectorWorld::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)
}

/// Type-checks the whole world, then resolves the exports.
pub(super) fn exports(instance_pre: &InstancePre<CallState>) -> Result<Exports, String> {
    bindings::ConnectorWorldPre::new(instance_pre.clone()).map_err(|e| format!("{e:#}"))?;
    Exports::resolve(instance_pre.component(), INTERFACE, super::ContractVersion::V0_1.operations())
}

pub(super) async fn call(
    exports: &Exports,
    instance: &Instance,
    store: &mut Store<CallState>,
    config: &[Field],
    invocation: Invocation,
) -> wasmtime::Result<Result<Output, AtsError>> {
    let s = &mut *store;
    let config: Vec<wit::Field> = config.to_vec().convert();
    let config = config.as_slice();
    let op = |operation| exports.index(operation);
    Ok(dispatch!(invocation, s, instance, exports, config, op;
        Invocation::ParseWebhook(request) => {
            let request: wit::WebhookRequest = request.convert();
            operation::<_, Vec<wit::ChangeEvent>, wit::AtsError, _>(
                s,
                instance,
                op(Operation::ParseWebhook)?,
                (config, &request),
            )
            .await?
            .map(|events| Output::Webhook(model::WebhookOutcome { events, reply: None }))
        }
        other => {
            let operation = other.operation().unwrap_or(Operation::Check);
            Err(super::ContractVersion::V0_1.lacks(operation))
        }
    ))
}

// ---- imports ----

impl wit::Host for CallState {}

impl http::Host for CallState {
    async fn send(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        Ok(self.send_http(request.convert()).await.convert())
    }
}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        self.guest_log(level.convert(), message);
        Ok(())
    }
}

impl state::Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.state_get(&key).await)
    }

    /// 0.1.0's `set` cannot answer an error: a refused entry fails the call.
    async fn set(
        &mut self,
        key: String,
        value: String,
        ttl_seconds: Option<u32>,
    ) -> wasmtime::Result<()> {
        self.state_set(key, value, ttl_seconds).await.map_err(|refused| refused.into_trap())
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.state_delete(&key).await;
        Ok(())
    }
}

record!(http::Request => model::egress::Request { method, url, headers, body, timeout_ms });
record!(model::egress::Response => http::Response { status, headers, body });
variant!(model::egress::HttpError => http::HttpError {
    Denied, Timeout, Connect, TooLarge, InvalidRequest
});
unit_enum!(log::Level => model::egress::Level { Trace, Debug, Info, Warn, Error });

// ---- guest → host ----

record!(wit::Field => Field { name, value });
record!(wit::ConfigField => model::ConfigField { name, secret, required, help });
unit_enum!(wit::Operation => Operation {
    ListJobs, ListStages, ListApplications, GetCandidate, FindCandidates, UpsertCandidate,
    CreateApplication, MoveApplication, AddNote, AddTag, AddAttachment, RejectApplication,
    WriteResult, ParseWebhook,
});

impl Convert<model::Manifest> for wit::Manifest {
    fn convert(self) -> model::Manifest {
        model::Manifest {
            id: self.id,
            ats_name: self.ats_name,
            connector_version: self.connector_version,
            operations: self.operations.convert(),
            config_fields: self.config_fields.convert(),
            egress_hosts: self.egress_hosts,
            // 0.1.0 cannot say; the write pipeline then tries the result and falls back.
            result_modes: Vec::new(),
            application_attachments: true,
        }
    }
}

/// 0.1.0 knows a location only as free text.
impl Convert<model::Location> for String {
    fn convert(self) -> model::Location {
        model::Location::text(self)
    }
}

unit_enum!(wit::JobStatus => model::JobStatus { Open, Closed, Draft, Archived });
record!(wit::Job => model::Job {
    id, code, title, status, location, description, department, assigned_users, created_at,
    updated_at, custom_fields, raw,
} default { employment_type, post_url, screening_questions, opened_at, closed_at });
record!(wit::JobPage => model::JobPage { items, next_page_token });
record!(wit::Stage => model::Stage { id, name, job_id, position, raw });
record!(wit::StagePage => model::StagePage { items, next_page_token });
record!(wit::Candidate => model::Candidate {
    id, first_name, last_name, emails, phones, updated_at, custom_fields, raw,
} default { tags, source, location, company, title, links });
record!(wit::CandidatePage => model::CandidatePage { items, next_page_token });
unit_enum!(wit::ApplicationStatus => model::ApplicationStatus {
    Active, Rejected, Hired, Withdrawn
});
record!(wit::Application => model::Application {
    id, candidate_id, job_id, stage_id, status, source, created_at, updated_at, custom_fields,
    raw,
} default { stage_name, rejection_reason, rejected_at, hired_at, answers });
record!(wit::ApplicationPage => model::ApplicationPage { items, next_page_token });
unit_enum!(wit::UpsertOutcome => model::UpsertOutcome { Created, Matched });
record!(wit::UpsertResult => model::UpsertResult { candidate_id, outcome });
record!(wit::WriteReceipt => model::WriteReceipt { remote_id, remark });
unit_enum!(wit::ChangeKind => model::ChangeKind {
    JobChanged, JobDeleted, CandidateChanged, ApplicationChanged, ApplicationStageChanged,
});
record!(wit::ChangeEvent => model::ChangeEvent { kind, remote_id, occurred_at, raw });
record!(wit::RateLimit => model::RateLimit { retry_after_seconds, message });
record!(wit::RemoteFailure => model::RemoteFailure { status, body_excerpt });
variant!(wit::AtsError => AtsError {
    Unauthorized, Forbidden, NotFound, Conflict, RateLimited, InvalidInput, Unsupported,
    Transient, Remote,
});

// ---- host → guest ----

record!(Field => wit::Field { name, value });
record!(model::PageRequest => wit::PageRequest { page_token, since, limit });
variant!(model::CandidateLookup => wit::CandidateLookup { Email, Phone });
record!(model::CandidateInput => wit::CandidateInput {
    first_name, last_name, emails, phones, source, custom_fields,
});
record!(model::Answer => wit::Answer { question, answer });
record!(model::ApplicationInput => wit::ApplicationInput {
    candidate_id, job_id, stage_id, source, answers,
});
variant!(model::Target => wit::Target { Candidate, Application });
record!(model::NoteInput => wit::NoteInput { target, body });
record!(model::TagInput => wit::TagInput { target, tag });
unit_enum!(model::AttachmentKind => wit::AttachmentKind { Cv, Report, Other });
record!(model::AttachmentInput => wit::AttachmentInput {
    target, filename, content_type, kind, content,
});
record!(model::RejectInput => wit::RejectInput { application_id, reason });
record!(model::WebhookRequest => wit::WebhookRequest { headers, body });

impl Convert<wit::ResultInput> for model::ResultInput {
    fn convert(self) -> wit::ResultInput {
        wit::ResultInput {
            score: self.score_of_100(),
            application_id: self.application_id,
            link: self.link,
            summary: self.summary,
        }
    }
}
