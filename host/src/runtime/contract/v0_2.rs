//! Contract `ats:connector@0.2.0` (`wit/since_v0.2.0`, frozen): its bindings, its imports
//! on top of [`CallState`], and the conversion of its types into the host's model, which
//! follows this version field for field.

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
        path: "../wit/since_v0.2.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

use bindings::ats::connector::types as wit;
use bindings::ats::connector::{http, log, state};

/// The exported interface of this version.
pub const INTERFACE: &str = "ats:connector/connector@0.2.0";

pub(super) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    bindings::ConnectorWorld::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)
}

/// Type-checks the whole world, then resolves the exports.
pub(super) fn exports(instance_pre: &InstancePre<CallState>) -> Result<Exports, String> {
    bindings::ConnectorWorldPre::new(instance_pre.clone()).map_err(|e| format!("{e:#}"))?;
    Exports::resolve(instance_pre.component(), INTERFACE, super::ContractVersion::V0_2.operations())
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
            operation::<_, wit::WebhookOutcome, wit::AtsError, _>(
                s,
                instance,
                op(Operation::ParseWebhook)?,
                (config, &request),
            )
            .await?
            .map(Output::Webhook)
        }
        Invocation::Check => {
            operation::<_, wit::Account, wit::AtsError, _>(s, instance, op(Operation::Check)?, (config,))
                .await?
                .map(Output::Account)
        }
        Invocation::ListTags(page) => {
            let page: wit::PageRequest = page.convert();
            operation::<_, wit::TagPage, wit::AtsError, _>(
                s,
                instance,
                op(Operation::ListTags)?,
                (config, &page),
            )
            .await?
            .map(Output::Tags)
        }
        Invocation::ListRejectionReasons(page) => {
            let page: wit::PageRequest = page.convert();
            operation::<_, wit::RejectionReasonPage, wit::AtsError, _>(
                s,
                instance,
                op(Operation::ListRejectionReasons)?,
                (config, &page),
            )
            .await?
            .map(Output::RejectionReasons)
        }
        Invocation::ListUsers(page) => {
            let page: wit::PageRequest = page.convert();
            operation::<_, wit::UserPage, wit::AtsError, _>(
                s,
                instance,
                op(Operation::ListUsers)?,
                (config, &page),
            )
            .await?
            .map(Output::Users)
        }
        Invocation::GetApplication { application_id } => operation::<_, wit::Application, wit::AtsError, _>(
            s,
            instance,
            op(Operation::GetApplication)?,
            (config, application_id.as_str()),
        )
        .await?
        .map(Output::Application),
        Invocation::RemoveTag(input) => {
            let input: wit::TagInput = input.convert();
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(s, instance, op(Operation::RemoveTag)?, (config, &input))
                .await?
                .map(Output::Receipt)
        }
        Invocation::RegisterWebhook(subscription) => {
            let subscription: wit::WebhookSubscription = subscription.convert();
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(s, instance, op(Operation::RegisterWebhook)?, (config, &subscription))
                .await?
                .map(Output::Receipt)
        }
        Invocation::UnregisterWebhook { remote_id } => {
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(
                s,
                instance,
                op(Operation::UnregisterWebhook)?,
                (config, remote_id.as_str()),
            )
            .await?
            .map(Output::Receipt)
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

    /// A refused entry (too large, quota full) is the guest's to handle.
    async fn set(
        &mut self,
        key: String,
        value: String,
        ttl_seconds: Option<u32>,
    ) -> wasmtime::Result<Result<(), String>> {
        Ok(self.state_set(key, value, ttl_seconds).await.map_err(|refused| refused.to_string()))
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
    WriteResult, ParseWebhook, Check, ListTags, ListRejectionReasons, ListUsers, GetApplication,
    RemoveTag, RegisterWebhook, UnregisterWebhook,
});
unit_enum!(wit::ResultMode => model::ResultMode { ScoreField, LinkField, Note, Attachment });
record!(wit::Manifest => model::Manifest {
    id, ats_name, connector_version, operations, config_fields, egress_hosts, result_modes,
    application_attachments,
});
record!(wit::Location => model::Location { text, city, region, country, postal_code, remote });
unit_enum!(wit::EmploymentType => model::EmploymentType {
    FullTime, PartTime, Contract, Temporary, Internship, Freelance, Other,
});
unit_enum!(wit::QuestionKind => model::QuestionKind {
    Text, LongText, SingleSelect, MultiSelect, Number, Boolean, Date, File,
});
record!(wit::QuestionOption => model::QuestionOption { id, label });
record!(wit::ScreeningQuestion => model::ScreeningQuestion { id, text, kind, required, options });
unit_enum!(wit::JobStatus => model::JobStatus { Open, Closed, Draft, Archived });
record!(wit::Job => model::Job {
    id, code, title, status, location, employment_type, description, department,
    assigned_users, post_url, screening_questions, opened_at, closed_at, created_at,
    updated_at, custom_fields, raw,
});
record!(wit::JobPage => model::JobPage { items, next_page_token });
record!(wit::Stage => model::Stage { id, name, job_id, position, raw });
record!(wit::StagePage => model::StagePage { items, next_page_token });
record!(wit::ProfileLink => model::ProfileLink { kind, url });
record!(wit::Candidate => model::Candidate {
    id, first_name, last_name, emails, phones, tags, source, location, company, title, links,
    updated_at, custom_fields, raw,
});
record!(wit::CandidatePage => model::CandidatePage { items, next_page_token });
unit_enum!(wit::ApplicationStatus => model::ApplicationStatus {
    Active, Rejected, Hired, Withdrawn
});
record!(wit::Answer => model::Answer { question_id, question, answer });
record!(wit::Application => model::Application {
    id, candidate_id, job_id, stage_id, stage_name, status, source, rejection_reason,
    rejected_at, hired_at, answers, created_at, updated_at, custom_fields, raw,
});
record!(wit::ApplicationPage => model::ApplicationPage { items, next_page_token });
record!(wit::Account => model::Account { display_name });
record!(wit::Tag => model::Tag { id, name });
record!(wit::TagPage => model::TagPage { items, next_page_token });
record!(wit::RejectionReason => model::RejectionReason { id, name });
record!(wit::RejectionReasonPage => model::RejectionReasonPage { items, next_page_token });
record!(wit::User => model::User { id, first_name, last_name, email, active });
record!(wit::UserPage => model::UserPage { items, next_page_token });
unit_enum!(wit::UpsertOutcome => model::UpsertOutcome { Created, Matched });
record!(wit::UpsertResult => model::UpsertResult { candidate_id, outcome });
record!(wit::WriteReceipt => model::WriteReceipt { remote_id, remark });
unit_enum!(wit::ChangeKind => model::ChangeKind {
    JobChanged, JobDeleted, CandidateChanged, ApplicationChanged, ApplicationStageChanged,
});
record!(wit::ChangeEvent => model::ChangeEvent { kind, remote_id, occurred_at, raw });
record!(wit::WebhookReply => model::WebhookReply { status, content_type, body });
record!(wit::WebhookOutcome => model::WebhookOutcome { events, reply });
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
record!(model::Location => wit::Location { text, city, region, country, postal_code, remote });
record!(model::ProfileLink => wit::ProfileLink { kind, url });
record!(model::CandidateInput => wit::CandidateInput {
    first_name, last_name, emails, phones, source, location, company, title, links,
    custom_fields,
});
record!(model::Answer => wit::Answer { question_id, question, answer });
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
record!(model::RejectInput => wit::RejectInput { application_id, reason, reason_id });
unit_enum!(model::ResultStatus => wit::ResultStatus { Completed, Cancelled });
record!(model::SubResult => wit::SubResult { label, score, max_score });
record!(model::ReportFile => wit::ReportFile { filename, content_type, content });
record!(model::ResultInput => wit::ResultInput {
    application_id, status, score, max_score, link, summary, sub_results, report,
});
record!(model::WebhookRequest => wit::WebhookRequest { headers, body });
unit_enum!(model::ChangeKind => wit::ChangeKind {
    JobChanged, JobDeleted, CandidateChanged, ApplicationChanged, ApplicationStageChanged,
});
record!(model::WebhookSubscription => wit::WebhookSubscription { url, secret, kinds });
