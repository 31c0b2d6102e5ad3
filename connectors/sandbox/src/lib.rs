//! Connector for the host's sandbox ATS (`host/src/sandbox_ats`): REST + JSON, bearer key,
//! cursor paging over records ordered by `updated_at`, and every operation of the
//! `ats:connector` contract. It is the connector of the `serve --demo` walkthrough and of
//! the sync engine's tests; the example connector shows the same API in fewer lines.

mod records;

use ats_connector_sdk::http::{Request, url_encode};
use ats_connector_sdk::prelude::*;
use records::{ListPage, to_application, to_candidate, to_job, to_stage};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};

struct SandboxConnector;

const PAGE_SIZE: u32 = 100;

impl Connector for SandboxConnector {
    fn describe() -> Manifest {
        Manifest {
            id: "sandbox".into(),
            ats_name: "Sandbox ATS".into(),
            connector_version: env!("CARGO_PKG_VERSION").into(),
            operations: vec![
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
            ],
            config_fields: vec![
                ConfigField {
                    name: "base-url".into(),
                    secret: false,
                    required: true,
                    help: "Root URL of the sandbox ATS, e.g. http://127.0.0.1:7800".into(),
                },
                ConfigField {
                    name: "api-key".into(),
                    secret: true,
                    required: true,
                    help: "API key, sent as a bearer token".into(),
                },
            ],
            egress_hosts: vec!["{base-url}".into()],
            // The result keeps a score (of a maximum) and a link; files go on candidates.
            result_modes: vec![ResultMode::ScoreField, ResultMode::LinkField],
            application_attachments: false,
        }
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        let (items, next_page_token) = list(&config, "jobs", &page)?;
        let items = items.iter().map(|raw| to_job(raw)).collect::<Result<_, _>>()?;
        Ok(JobPage { items, next_page_token })
    }

    fn list_stages(
        config: Config,
        job_id: Option<String>,
        _page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        let path = match &job_id {
            Some(job) => format!("/api/jobs/{}/stages", url_encode(job)),
            None => "/api/stages".into(),
        };
        #[derive(serde::Deserialize)]
        struct Stages {
            stages: Vec<Box<RawValue>>,
        }
        let body: Stages = get_as(&config, &path)?;
        let items = body
            .stages
            .iter()
            .map(|raw| to_stage(raw, job_id.clone()))
            .collect::<Result<_, _>>()?;
        Ok(StagePage { items, next_page_token: None })
    }

    fn list_applications(config: Config, page: PageRequest) -> Result<ApplicationPage, AtsError> {
        let (items, next_page_token) = list(&config, "applications", &page)?;
        Ok(ApplicationPage {
            items: items.iter().map(|raw| to_application(raw)).collect::<Result<_, _>>()?,
            next_page_token,
        })
    }

    fn get_candidate(config: Config, candidate_id: String) -> Result<Candidate, AtsError> {
        let path = format!("/api/candidates/{}", url_encode(&candidate_id));
        to_candidate(&get_as::<Box<RawValue>>(&config, &path)?)
    }

    fn find_candidates(
        config: Config,
        lookup: CandidateLookup,
        _page: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        let found = lookup_candidates(&config, &lookup)?;
        Ok(CandidatePage {
            items: found.iter().map(|raw| to_candidate(raw)).collect::<Result<_, _>>()?,
            next_page_token: None,
        })
    }

    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        let body = json!({
            "first_name": input.first_name, "last_name": input.last_name,
            "emails": input.emails, "phones": input.phones, "source": input.source,
            "custom_fields": input.custom_fields.iter().map(|f| (f.name.clone(), json!(f.value))).collect::<serde_json::Map<_, _>>(),
        });
        let lookups = input
            .emails
            .iter()
            .map(|e| CandidateLookup::Email(e.clone()))
            .chain(input.phones.iter().map(|p| CandidateLookup::Phone(p.clone())));
        for lookup in lookups {
            if let Some(existing) = lookup_candidates(&config, &lookup)?.first() {
                let id = to_candidate(existing)?.id;
                send(&config, "PATCH", &format!("/api/candidates/{}", url_encode(&id)), &body)?;
                return Ok(UpsertResult { candidate_id: id, outcome: UpsertOutcome::Matched });
            }
        }
        let created = send(&config, "POST", "/api/candidates", &body)?;
        Ok(UpsertResult { candidate_id: text(&created, "id"), outcome: UpsertOutcome::Created })
    }

    fn create_application(
        config: Config,
        input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        let body = json!({
            "candidate_id": input.candidate_id, "job_id": input.job_id, "stage_id": input.stage_id,
            "source": input.source,
            "answers": input.answers.iter().map(|a| json!({"question": a.question, "answer": a.answer})).collect::<Vec<_>>(),
        });
        to_application(&send_as::<Box<RawValue>>(&config, "POST", "/api/applications", &body)?)
    }

    fn move_application(
        config: Config,
        application_id: String,
        stage_id: String,
    ) -> Result<WriteReceipt, AtsError> {
        let path = format!("/api/applications/{}/move", url_encode(&application_id));
        send(&config, "POST", &path, &json!({"stage_id": stage_id}))?;
        Ok(WriteReceipt { remote_id: Some(application_id), remark: None })
    }

    fn add_note(config: Config, input: NoteInput) -> Result<WriteReceipt, AtsError> {
        let path = format!("{}/notes", target_path(&input.target));
        receipt(send(&config, "POST", &path, &json!({"body": input.body}))?)
    }

    fn add_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        let Target::Candidate(candidate) = &input.target else {
            return Err(AtsError::InvalidInput(
                "the sandbox ATS tags candidates, not applications".into(),
            ));
        };
        let path = format!("/api/candidates/{}/tags", url_encode(candidate));
        receipt(send(&config, "POST", &path, &json!({"tag": input.tag}))?)
    }

    fn add_attachment(config: Config, input: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        let Target::Candidate(candidate) = &input.target else {
            return Err(AtsError::InvalidInput(
                "the sandbox ATS attaches files to candidates, not applications".into(),
            ));
        };
        let kind = match input.kind {
            AttachmentKind::Cv => "cv",
            AttachmentKind::Report => "report",
            AttachmentKind::Other => "other",
        };
        let body = json!({
            "filename": input.filename, "content_type": input.content_type, "kind": kind,
            "content_base64": ats_connector_sdk::http::base64(&input.content),
        });
        let path = format!("/api/candidates/{}/attachments", url_encode(candidate));
        receipt(send(&config, "POST", &path, &body)?)
    }

    fn reject_application(config: Config, input: RejectInput) -> Result<WriteReceipt, AtsError> {
        let path = format!("/api/applications/{}/reject", url_encode(&input.application_id));
        let body = json!({"reason": input.reason, "reason_id": input.reason_id});
        send(&config, "POST", &path, &body)?;
        Ok(WriteReceipt { remote_id: Some(input.application_id), remark: None })
    }

    fn write_result(config: Config, input: ResultInput) -> Result<WriteReceipt, AtsError> {
        let path = format!("/api/applications/{}/result", url_encode(&input.application_id));
        let status = match input.status {
            ResultStatus::Completed => "completed",
            ResultStatus::Cancelled => "cancelled",
        };
        let sub_results: Vec<Value> = input
            .sub_results
            .iter()
            .map(|s| json!({"label": s.label, "score": s.score, "max_score": s.max_score}))
            .collect();
        let body = json!({
            "score": input.score, "max_score": input.max_score, "status": status,
            "link": input.link, "summary": input.summary, "sub_results": sub_results,
        });
        receipt(send(&config, "POST", &path, &body)?)
    }

    fn check(config: Config) -> Result<Account, AtsError> {
        let account = get(&config, "/api/account")?;
        Ok(Account { display_name: text(&account, "name") })
    }

    fn list_tags(config: Config, _page: PageRequest) -> Result<TagPage, AtsError> {
        let items = array(&get(&config, "/api/tags")?, "tags")
            .iter()
            .map(|t| Tag { id: text(t, "id"), name: text(t, "name") })
            .collect();
        Ok(TagPage { items, next_page_token: None })
    }

    fn list_rejection_reasons(
        config: Config,
        _page: PageRequest,
    ) -> Result<RejectionReasonPage, AtsError> {
        let items = array(&get(&config, "/api/rejection-reasons")?, "rejection_reasons")
            .iter()
            .map(|r| RejectionReason { id: text(r, "id"), name: text(r, "name") })
            .collect();
        Ok(RejectionReasonPage { items, next_page_token: None })
    }

    fn list_users(config: Config, _page: PageRequest) -> Result<UserPage, AtsError> {
        let items = array(&get(&config, "/api/users")?, "users")
            .iter()
            .map(|u| User {
                id: text(u, "id"),
                first_name: text(u, "first_name"),
                last_name: text(u, "last_name"),
                email: u["email"].as_str().map(str::to_string),
                active: u["active"].as_bool().unwrap_or(true),
            })
            .collect();
        Ok(UserPage { items, next_page_token: None })
    }

    fn get_application(config: Config, application_id: String) -> Result<Application, AtsError> {
        let path = format!("/api/applications/{}", url_encode(&application_id));
        to_application(&get_as::<Box<RawValue>>(&config, &path)?)
    }

    fn remove_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
        let Target::Candidate(candidate) = &input.target else {
            return Err(AtsError::InvalidInput(
                "the sandbox ATS tags candidates, not applications".into(),
            ));
        };
        let path =
            format!("/api/candidates/{}/tags/{}", url_encode(candidate), url_encode(&input.tag));
        authorized(Request::new("DELETE", format!("{}{path}", base(&config)?)), &config)?
            .send_ok()?;
        Ok(WriteReceipt { remote_id: Some(candidate.clone()), remark: None })
    }

    fn parse_webhook(
        _config: Config,
        request: WebhookRequest,
    ) -> Result<Vec<ChangeEvent>, AtsError> {
        let body: Value = serde_json::from_slice(&request.body)
            .map_err(|e| AtsError::InvalidInput(format!("webhook body is not JSON: {e}")))?;
        let kind = match body["event"].as_str() {
            Some("application.moved") => ChangeKind::ApplicationStageChanged,
            Some("application.updated" | "application.created") => ChangeKind::ApplicationChanged,
            Some("job.updated" | "job.created") => ChangeKind::JobChanged,
            Some("job.deleted") => ChangeKind::JobDeleted,
            Some("candidate.updated") => ChangeKind::CandidateChanged,
            other => {
                return Err(AtsError::InvalidInput(format!("unknown webhook event {other:?}")));
            }
        };
        Ok(vec![ChangeEvent {
            kind,
            remote_id: text(&body, "id"),
            occurred_at: body["at"].as_str().map(str::to_string),
            raw: body.to_string(),
        }])
    }
}

ats_connector_sdk::export_connector!(SandboxConnector);

fn base(config: &Config) -> Result<String, AtsError> {
    Ok(config.require("base-url")?.trim_end_matches('/').to_string())
}

fn authorized(request: Request, config: &Config) -> Result<Request, AtsError> {
    Ok(request.bearer(config.require("api-key")?))
}

fn get(config: &Config, path: &str) -> Result<Value, AtsError> {
    get_as(config, path)
}

/// A GET whose answer is read straight into `T`.
fn get_as<T: DeserializeOwned>(config: &Config, path: &str) -> Result<T, AtsError> {
    authorized(Request::get(format!("{}{path}", base(config)?)), config)?.send_ok()?.json()
}

fn send(config: &Config, method: &str, path: &str, body: &Value) -> Result<Value, AtsError> {
    send_as(config, method, path, body)
}

/// A request with a JSON body whose answer is read straight into `T`.
fn send_as<T: DeserializeOwned>(
    config: &Config,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<T, AtsError> {
    authorized(Request::new(method, format!("{}{path}", base(config)?)), config)?
        .json(body)?
        .send_ok()?
        .json()
}

/// One page of a cursor-paged list; the page token is the ATS's `next_cursor`.
fn list(
    config: &Config,
    what: &str,
    page: &PageRequest,
) -> Result<(Vec<Box<RawValue>>, Option<String>), AtsError> {
    let mut path = format!("/api/{what}?limit={}", page.limit.unwrap_or(PAGE_SIZE).clamp(1, 500));
    if let Some(cursor) = &page.page_token {
        path.push_str(&format!("&cursor={}", url_encode(cursor)));
    }
    if let Some(since) = &page.since {
        path.push_str(&format!("&updated_since={}", url_encode(since)));
    }
    let page: ListPage = get_as(config, &path)?;
    Ok((page.items, page.next_cursor))
}

fn lookup_candidates(
    config: &Config,
    lookup: &CandidateLookup,
) -> Result<Vec<Box<RawValue>>, AtsError> {
    let query = match lookup {
        CandidateLookup::Email(email) => format!("email={}", url_encode(email)),
        CandidateLookup::Phone(phone) => format!("phone={}", url_encode(phone)),
    };
    let page: ListPage = get_as(config, &format!("/api/candidates?{query}"))?;
    Ok(page.items)
}

fn target_path(target: &Target) -> String {
    match target {
        Target::Candidate(id) => format!("/api/candidates/{}", url_encode(id)),
        Target::Application(id) => format!("/api/applications/{}", url_encode(id)),
    }
}

fn receipt(answer: Value) -> Result<WriteReceipt, AtsError> {
    Ok(WriteReceipt { remote_id: answer["id"].as_str().map(str::to_string), remark: None })
}

fn array(body: &Value, key: &str) -> Vec<Value> {
    body[key].as_array().cloned().unwrap_or_default()
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_string()
}
