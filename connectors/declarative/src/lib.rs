//! The generic manifest connector: one component that runs any connector manifest (the
//! format of `sdk/declarative`). `ats-host connector pack FILE` writes a manifest into this
//! component's slot ([`slot`]); `describe()` then answers the manifest's id, version,
//! operations, config fields and egress hosts, and every operation runs the manifest's
//! requests through the host's `http` import (sessions and OAuth tokens kept in `state`).
//! Unpacked (as bundled), it describes itself as a template and supports nothing.

mod records;
mod slot;

use ats_connector_sdk::bindings::ats::connector::http as host_http;
use ats_connector_sdk::prelude::*;
use ats_declarative::{
    DeclError, Executor, HttpRequest, HttpResponse, Manifest as Declared, Transport, TransportError,
};
use serde_json::{Value, json};

struct ManifestConnector;

/// The packed manifest for a call: its compiled form, read without the TOML parser.
fn declared() -> Result<Declared, AtsError> {
    let compact = packed(slot::Part::Compact)?;
    Declared::from_compact(&compact).map_err(AtsError::InvalidInput)
}

/// The packed manifest as `describe()` (once, at load) sees it: the text parsed and
/// validated, and its compiled form checked to be the text's own.
fn declared_and_checked() -> Result<Declared, AtsError> {
    let text = packed(slot::Part::Text)?;
    let declared = Declared::parse(&text).map_err(|errors| {
        AtsError::InvalidInput(format!("the packed manifest is invalid: {errors}"))
    })?;
    let compiled = declared.to_compact().map_err(AtsError::InvalidInput)?;
    if compiled != packed(slot::Part::Compact)? {
        return Err(AtsError::InvalidInput(
            "the packed manifest's compiled form is not its text's: pack the manifest again with `ats-host connector pack`".into(),
        ));
    }
    Ok(declared)
}

fn packed(part: slot::Part) -> Result<String, AtsError> {
    match slot::read(part) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(AtsError::Unsupported(
            "this is the unpacked manifest connector template; make a connector with `ats-host connector pack MANIFEST.toml`".into(),
        )),
        Err(reason) => Err(AtsError::InvalidInput(reason)),
    }
}

/// The host's `http` and `state` imports as the interpreter's transport.
struct Host;

impl Transport for Host {
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
        ats_connector_sdk::state::get(key)
    }

    fn state_set(&mut self, key: &str, value: &str, ttl_seconds: Option<u32>) {
        ats_connector_sdk::remember(key, value, ttl_seconds);
    }
}

fn ats_error(error: DeclError) -> AtsError {
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

fn pairs(config: &Config) -> Vec<(String, String)> {
    config.iter().map(|f| (f.name.clone(), f.value.clone())).collect()
}

/// One page of a list operation, its items read by `read`.
fn page<T>(
    config: &Config,
    operation: &str,
    page: &PageRequest,
    input: Value,
    read: impl Fn(usize, &Value) -> Result<T, AtsError>,
) -> Result<(Vec<T>, Option<String>), AtsError> {
    let declared = declared()?;
    let executor = executor(&declared, config)?;
    let found = executor
        .list(&mut Host, operation, page.page_token.as_deref(), page.since.as_deref(), &input)
        .map_err(ats_error)?;
    let items =
        found.items.iter().enumerate().map(|(i, item)| read(i, item)).collect::<Result<_, _>>()?;
    Ok((items, found.next_page_token))
}

/// A single read or a write: the mapped answer.
fn one(config: &Config, operation: &str, input: Value) -> Result<Value, AtsError> {
    let declared = declared()?;
    executor(&declared, config)?.one(&mut Host, operation, &input).map_err(ats_error)
}

/// The interpreter for this connection, with the current time (for `since` look-backs and
/// token expiry).
fn executor<'m>(declared: &'m Declared, config: &Config) -> Result<Executor<'m>, AtsError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Ok(Executor::new(declared, &pairs(config)).map_err(ats_error)?.with_now(now))
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

fn operation(name: &str) -> Option<Operation> {
    OPERATIONS.iter().find(|(wit, _)| *wit == name).map(|(_, op)| *op)
}

impl Connector for ManifestConnector {
    fn describe() -> Manifest {
        let described = match declared_and_checked() {
            Ok(declared) => declared.describe(),
            // A component that cannot say what it is must not load: the trap fails
            // `describe()`, and the host refuses the component with this message (the
            // guest's stderr) as the reason.
            Err(AtsError::InvalidInput(reason) | AtsError::Unsupported(reason)) => {
                panic!("{reason}")
            }
            Err(other) => panic!("{other:?}"),
        };
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

    fn list_jobs(config: Config, request: PageRequest) -> Result<JobPage, AtsError> {
        let (items, next_page_token) =
            page(&config, "list-jobs", &request, json!({}), |_, v| records::job(v))?;
        Ok(JobPage { items, next_page_token })
    }

    fn list_stages(
        config: Config,
        job_id: Option<String>,
        request: PageRequest,
    ) -> Result<StagePage, AtsError> {
        let input = json!({"job_id": job_id});
        let (items, next_page_token) =
            page(&config, "list-stages", &request, input, |i, v| records::stage(v, i))?;
        Ok(StagePage { items, next_page_token })
    }

    fn list_applications(
        config: Config,
        request: PageRequest,
    ) -> Result<ApplicationPage, AtsError> {
        let (items, next_page_token) =
            page(&config, "list-applications", &request, json!({}), |_, v| {
                records::application(v)
            })?;
        Ok(ApplicationPage { items, next_page_token })
    }

    fn get_candidate(config: Config, candidate_id: String) -> Result<Candidate, AtsError> {
        records::candidate(&one(&config, "get-candidate", json!({"candidate_id": candidate_id}))?)
    }

    fn find_candidates(
        config: Config,
        lookup: CandidateLookup,
        request: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        let input = match lookup {
            CandidateLookup::Email(email) => json!({"email": email, "phone": null}),
            CandidateLookup::Phone(phone) => json!({"email": null, "phone": phone}),
        };
        let (items, next_page_token) =
            page(&config, "find-candidates", &request, input, |_, v| records::candidate(v))?;
        Ok(CandidatePage { items, next_page_token })
    }

    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        records::upsert(&one(&config, "upsert-candidate", records::candidate_input(&input))?)
    }

    fn create_application(
        config: Config,
        input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        records::application(&one(
            &config,
            "create-application",
            records::application_input(&input),
        )?)
    }

    fn move_application(
        config: Config,
        application_id: String,
        stage_id: String,
    ) -> Result<WriteReceipt, AtsError> {
        let input = json!({"application_id": application_id, "stage_id": stage_id});
        Ok(records::receipt(&one(&config, "move-application", input)?))
    }

    fn add_note(config: Config, input: NoteInput) -> Result<WriteReceipt, AtsError> {
        let input = json!({"target": records::target(&input.target), "body": input.body});
        Ok(records::receipt(&one(&config, "add-note", input)?))
    }

    fn add_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        let input = json!({"target": records::target(&input.target), "tag": input.tag});
        Ok(records::receipt(&one(&config, "add-tag", input)?))
    }

    fn remove_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        let input = json!({"target": records::target(&input.target), "tag": input.tag});
        Ok(records::receipt(&one(&config, "remove-tag", input)?))
    }

    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        Ok(records::receipt(&one(&config, "add-attachment", records::attachment_input(&input))?))
    }

    fn reject_application(config: Config, input: RejectInput) -> Result<WriteReceipt, AtsError> {
        Ok(records::receipt(&one(&config, "reject-application", records::reject_input(&input))?))
    }

    fn write_result(config: Config, input: ResultInput) -> Result<WriteReceipt, AtsError> {
        Ok(records::receipt(&one(&config, "write-result", records::result_input(&input))?))
    }

    fn check(config: Config) -> Result<Account, AtsError> {
        records::account(&one(&config, "check", json!({}))?)
    }

    fn list_tags(config: Config, request: PageRequest) -> Result<TagPage, AtsError> {
        let (items, next_page_token) =
            page(&config, "list-tags", &request, json!({}), |_, v| records::tag(v))?;
        Ok(TagPage { items, next_page_token })
    }

    fn list_rejection_reasons(
        config: Config,
        request: PageRequest,
    ) -> Result<RejectionReasonPage, AtsError> {
        let (items, next_page_token) =
            page(&config, "list-rejection-reasons", &request, json!({}), |_, v| {
                records::rejection_reason(v)
            })?;
        Ok(RejectionReasonPage { items, next_page_token })
    }

    fn list_users(config: Config, request: PageRequest) -> Result<UserPage, AtsError> {
        let (items, next_page_token) =
            page(&config, "list-users", &request, json!({}), |_, v| records::user(v))?;
        Ok(UserPage { items, next_page_token })
    }

    fn parse_webhook(
        config: Config,
        request: WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        let declared = declared()?;
        let headers: Vec<(String, String)> =
            request.headers.into_iter().map(|f| (f.name, f.value)).collect();
        let parsed = executor(&declared, &config)?
            .parse_webhook(&headers, &request.body)
            .map_err(ats_error)?;
        parsed.events.iter().map(records::change_event).collect()
    }

    /// The manifest's `[webhook] reply`, when it gives one.
    fn webhook_reply(_config: &Config, _request: &WebhookRequest) -> Option<WebhookReply> {
        let reply = declared().ok()?.webhook_reply()?;
        Some(WebhookReply {
            status: reply.status,
            content_type: reply.content_type,
            body: reply.body.into_bytes(),
        })
    }

    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        records::application(&one(
            &config,
            "get-application",
            json!({"application_id": application_id}),
        )?)
    }
}

ats_connector_sdk::export_connector!(ManifestConnector);
