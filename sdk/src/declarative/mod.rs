//! Running a connector manifest (`ats-declarative`) inside a component: [`Declarative`]
//! answers every operation of the contract from a manifest, over the host's `http` and
//! `state` imports. The generic manifest connector (`connectors/declarative`) delegates all
//! of its operations to it; a hand-written connector can delegate only some (typically the
//! reads) and keep code for the rest, leaving those `unsupported` in its manifest.
//!
//! ```ignore
//! const MANIFEST: &str = include_str!("../reads.toml");
//! fn reads() -> Result<Declarative, AtsError> { Declarative::parse(MANIFEST) }
//! impl Connector for MyAts {
//!     fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
//!         reads()?.list_jobs(&config, &page)
//!     }
//!     // ... the operations the manifest cannot express, in code
//! }
//! ```
//!
//! Enabled by the SDK's `declarative` feature.

pub mod records;

use crate::bindings::ats::connector::http as host_http;
use crate::prelude::*;
use ats_declarative::{
    DeclError, Executor, HttpRequest, HttpResponse, Manifest as Declared, Record, Transport,
    TransportError,
};
use serde_json::{Value, json};

/// The host's `http` and `state` imports as the interpreter's transport.
pub struct HostTransport;

impl Transport for HostTransport {
    fn send(&mut self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let request = host_http::Request {
            method: request.method,
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| Field { name, value })
                .collect(),
            body: request.body,
            timeout_ms: None,
        };
        match host_http::send(&request) {
            Ok(response) => Ok(HttpResponse {
                status: response.status,
                headers: response.headers.into_iter().map(|f| (f.name, f.value)).collect(),
                body: response.body,
            }),
            Err(host_http::HttpError::Timeout(reason)) => Err(TransportError::Timeout(reason)),
            Err(host_http::HttpError::Denied(reason)) => Err(TransportError::Denied(reason)),
            Err(host_http::HttpError::TooLarge(cap)) => Err(TransportError::TooLarge(cap)),
            Err(
                host_http::HttpError::Connect(reason)
                | host_http::HttpError::InvalidRequest(reason),
            ) => Err(TransportError::Other(reason)),
        }
    }

    fn state_get(&mut self, key: &str) -> Option<String> {
        crate::state::get(key)
    }

    fn state_set(&mut self, key: &str, value: &str, ttl_seconds: Option<u32>) {
        crate::remember(key, value, ttl_seconds);
    }
}

/// The interpreter's error as the contract's.
pub fn ats_error(error: DeclError) -> AtsError {
    match error {
        DeclError::Unauthorized(m) => AtsError::Unauthorized(m),
        DeclError::Forbidden(m) => AtsError::Forbidden(m),
        DeclError::NotFound(m) => AtsError::NotFound(m),
        DeclError::Conflict(m) => AtsError::Conflict(m),
        DeclError::RateLimited { retry_after_seconds, message } => {
            AtsError::RateLimited(RateLimit { retry_after_seconds, message })
        }
        DeclError::InvalidInput(m) => AtsError::InvalidInput(m),
        DeclError::Unsupported(m) => AtsError::Unsupported(m),
        DeclError::Transient(m) => AtsError::Transient(m),
        DeclError::Remote { status, body_excerpt } => {
            AtsError::Remote(RemoteFailure { status, body_excerpt })
        }
    }
}

const RESULT_MODES: [(&str, ResultMode); 4] = [
    ("score-field", ResultMode::ScoreField),
    ("link-field", ResultMode::LinkField),
    ("note", ResultMode::Note),
    ("attachment", ResultMode::Attachment),
];

/// The contract's operations by their WIT names.
const OPERATIONS: [(&str, Operation); 22] = [
    ("list-jobs", Operation::ListJobs),
    ("list-stages", Operation::ListStages),
    ("list-applications", Operation::ListApplications),
    ("get-candidate", Operation::GetCandidate),
    ("find-candidates", Operation::FindCandidates),
    ("upsert-candidate", Operation::UpsertCandidate),
    ("create-application", Operation::CreateApplication),
    ("move-application", Operation::MoveApplication),
    ("add-note", Operation::AddNote),
    ("add-tag", Operation::AddTag),
    ("add-attachment", Operation::AddAttachment),
    ("reject-application", Operation::RejectApplication),
    ("write-result", Operation::WriteResult),
    ("parse-webhook", Operation::ParseWebhook),
    ("check", Operation::Check),
    ("list-tags", Operation::ListTags),
    ("list-rejection-reasons", Operation::ListRejectionReasons),
    ("list-users", Operation::ListUsers),
    ("get-application", Operation::GetApplication),
    ("remove-tag", Operation::RemoveTag),
    ("register-webhook", Operation::RegisterWebhook),
    ("unregister-webhook", Operation::UnregisterWebhook),
];

/// A contract operation by its WIT name.
pub fn operation(name: &str) -> Option<Operation> {
    OPERATIONS.iter().find(|(wit, _)| *wit == name).map(|(_, op)| *op)
}

/// A manifest, answering the contract's operations.
pub struct Declarative {
    manifest: Declared,
}

impl Declarative {
    pub fn new(manifest: Declared) -> Self {
        Declarative { manifest }
    }

    /// Parses (and validates) a manifest's TOML text; every problem with its line.
    pub fn parse(text: &str) -> Result<Self, AtsError> {
        Declared::parse(text)
            .map(Self::new)
            .map_err(|errors| AtsError::InvalidInput(format!("the manifest is invalid: {errors}")))
    }

    pub fn manifest(&self) -> &Declared {
        &self.manifest
    }

    /// The contract's manifest record for what the manifest declares.
    pub fn describe(&self) -> Manifest {
        let described = self.manifest.describe();
        Manifest {
            id: described.id,
            ats_name: described.ats_name,
            connector_version: described.version,
            operations: described.operations.iter().filter_map(|name| operation(name)).collect(),
            config_fields: described
                .config_fields
                .into_iter()
                .map(|f| ConfigField {
                    name: f.name,
                    secret: f.secret,
                    required: f.required,
                    help: f.help,
                })
                .collect(),
            egress_hosts: described.egress_hosts,
            result_modes: described
                .result_modes
                .iter()
                .filter_map(|m| {
                    RESULT_MODES.iter().find(|(name, _)| name == m).map(|(_, mode)| *mode)
                })
                .collect(),
            application_attachments: described.application_attachments,
        }
    }

    /// The interpreter for this connection, with the current time (for `since` look-backs
    /// and token expiry).
    fn executor(&self, config: &Config) -> Result<Executor<'_>, AtsError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let pairs: Vec<(String, String)> =
            config.iter().map(|f| (f.name.clone(), f.value.clone())).collect();
        Ok(Executor::new(&self.manifest, &pairs).map_err(ats_error)?.with_now(now))
    }

    /// One page of a list operation, its items read by `read`.
    pub fn list<T>(
        &self,
        config: &Config,
        operation: &str,
        page: &PageRequest,
        input: Value,
        read: impl Fn(usize, Record) -> Result<T, AtsError>,
    ) -> Result<(Vec<T>, Option<String>), AtsError> {
        let found = self
            .executor(config)?
            .list_records(
                &mut HostTransport,
                operation,
                page.page_token.as_deref(),
                page.since.as_deref(),
                &input,
            )
            .map_err(ats_error)?;
        let items = found
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| read(i, item))
            .collect::<Result<_, _>>()?;
        Ok((items, found.next_page_token))
    }

    /// A single read or a write: the mapped answer.
    pub fn one(&self, config: &Config, operation: &str, input: Value) -> Result<Value, AtsError> {
        self.executor(config)?.one(&mut HostTransport, operation, &input).map_err(ats_error)
    }

    pub fn list_jobs(&self, config: &Config, page: &PageRequest) -> Result<JobPage, AtsError> {
        let (items, next_page_token) =
            self.list(config, "list-jobs", page, json!({}), |_, v| records::job(v))?;
        Ok(JobPage { items, next_page_token })
    }

    pub fn list_stages(
        &self,
        config: &Config,
        job_id: Option<String>,
        page: &PageRequest,
    ) -> Result<StagePage, AtsError> {
        let input = json!({"job_id": job_id});
        let (items, next_page_token) =
            self.list(config, "list-stages", page, input, |i, v| records::stage(v, i))?;
        Ok(StagePage { items, next_page_token })
    }

    pub fn list_applications(
        &self,
        config: &Config,
        page: &PageRequest,
    ) -> Result<ApplicationPage, AtsError> {
        let (items, next_page_token) =
            self.list(config, "list-applications", page, json!({}), |_, v| {
                records::application(v)
            })?;
        Ok(ApplicationPage { items, next_page_token })
    }

    pub fn get_candidate(
        &self,
        config: &Config,
        candidate_id: &str,
    ) -> Result<Candidate, AtsError> {
        records::candidate(self.one(
            config,
            "get-candidate",
            json!({"candidate_id": candidate_id}),
        )?)
    }

    pub fn find_candidates(
        &self,
        config: &Config,
        lookup: &CandidateLookup,
        page: &PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        let input = match lookup {
            CandidateLookup::Email(email) => json!({"email": email, "phone": null}),
            CandidateLookup::Phone(phone) => json!({"email": null, "phone": phone}),
        };
        let (items, next_page_token) =
            self.list(config, "find-candidates", page, input, |_, v| records::candidate(v))?;
        Ok(CandidatePage { items, next_page_token })
    }

    pub fn upsert_candidate(
        &self,
        config: &Config,
        input: &CandidateInput,
    ) -> Result<UpsertResult, AtsError> {
        records::upsert(self.one(config, "upsert-candidate", records::candidate_input(input))?)
    }

    pub fn create_application(
        &self,
        config: &Config,
        input: &ApplicationInput,
    ) -> Result<Application, AtsError> {
        records::application(self.one(
            config,
            "create-application",
            records::application_input(input),
        )?)
    }

    pub fn move_application(
        &self,
        config: &Config,
        application_id: &str,
        stage_id: &str,
    ) -> Result<WriteReceipt, AtsError> {
        let input = json!({"application_id": application_id, "stage_id": stage_id});
        Ok(records::receipt(self.one(config, "move-application", input)?))
    }

    pub fn add_note(&self, config: &Config, input: &NoteInput) -> Result<WriteReceipt, AtsError> {
        let input = json!({"target": records::target(&input.target), "body": input.body});
        Ok(records::receipt(self.one(config, "add-note", input)?))
    }

    pub fn add_tag(&self, config: &Config, input: &TagInput) -> Result<WriteReceipt, AtsError> {
        let input = json!({"target": records::target(&input.target), "tag": input.tag});
        Ok(records::receipt(self.one(config, "add-tag", input)?))
    }

    pub fn remove_tag(&self, config: &Config, input: &TagInput) -> Result<WriteReceipt, AtsError> {
        let input = json!({"target": records::target(&input.target), "tag": input.tag});
        Ok(records::receipt(self.one(config, "remove-tag", input)?))
    }

    pub fn add_attachment(
        &self,
        config: &Config,
        input: &AttachmentInput,
    ) -> Result<WriteReceipt, AtsError> {
        let input = records::attachment_input(input);
        Ok(records::receipt(self.one(config, "add-attachment", input)?))
    }

    pub fn reject_application(
        &self,
        config: &Config,
        input: &RejectInput,
    ) -> Result<WriteReceipt, AtsError> {
        let input = records::reject_input(input);
        Ok(records::receipt(self.one(config, "reject-application", input)?))
    }

    pub fn write_result(
        &self,
        config: &Config,
        input: &ResultInput,
    ) -> Result<WriteReceipt, AtsError> {
        let input = records::result_input(input);
        Ok(records::receipt(self.one(config, "write-result", input)?))
    }

    pub fn check(&self, config: &Config) -> Result<Account, AtsError> {
        records::account(self.one(config, "check", json!({}))?)
    }

    pub fn list_tags(&self, config: &Config, page: &PageRequest) -> Result<TagPage, AtsError> {
        let (items, next_page_token) =
            self.list(config, "list-tags", page, json!({}), |_, v| records::tag(v))?;
        Ok(TagPage { items, next_page_token })
    }

    pub fn list_rejection_reasons(
        &self,
        config: &Config,
        page: &PageRequest,
    ) -> Result<RejectionReasonPage, AtsError> {
        let (items, next_page_token) =
            self.list(config, "list-rejection-reasons", page, json!({}), |_, v| {
                records::rejection_reason(v)
            })?;
        Ok(RejectionReasonPage { items, next_page_token })
    }

    pub fn list_users(&self, config: &Config, page: &PageRequest) -> Result<UserPage, AtsError> {
        let (items, next_page_token) =
            self.list(config, "list-users", page, json!({}), |_, v| records::user(v))?;
        Ok(UserPage { items, next_page_token })
    }

    pub fn get_application(
        &self,
        config: &Config,
        application_id: &str,
    ) -> Result<Application, AtsError> {
        let input = json!({"application_id": application_id});
        records::application(self.one(config, "get-application", input)?)
    }

    pub fn register_webhook(
        &self,
        config: &Config,
        subscription: &WebhookSubscription,
    ) -> Result<WriteReceipt, AtsError> {
        let input = records::webhook_subscription(subscription);
        Ok(records::receipt(self.one(config, "register-webhook", input)?))
    }

    pub fn unregister_webhook(
        &self,
        config: &Config,
        remote_id: &str,
    ) -> Result<WriteReceipt, AtsError> {
        let input = json!({"remote_id": remote_id});
        Ok(records::receipt(self.one(config, "unregister-webhook", input)?))
    }

    /// `[webhook]`: the delivery's change events, its signature checked where declared.
    pub fn parse_webhook(
        &self,
        config: &Config,
        request: &WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        let headers: Vec<(String, String)> =
            request.headers.iter().map(|f| (f.name.clone(), f.value.clone())).collect();
        let parsed =
            self.executor(config)?.parse_webhook(&headers, &request.body).map_err(ats_error)?;
        parsed.events.into_iter().map(records::change_event).collect()
    }

    /// The manifest's `[webhook] reply`, when it gives one.
    pub fn webhook_reply(&self) -> Option<WebhookReply> {
        let reply = self.manifest.webhook_reply()?;
        Some(WebhookReply {
            status: reply.status,
            content_type: reply.content_type,
            body: reply.body.into_bytes(),
        })
    }
}
