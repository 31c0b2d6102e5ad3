//! A minimal ATS connector for the host's built-in sandbox ATS (a small REST API with
//! bearer-key auth, offset paging and `updated_since` filtering). Copy this file to start a
//! connector for a real ATS: describe what you support, map the ATS's records onto the
//! unified model, and let the SDK turn HTTP statuses into typed errors.

use ats_connector_sdk::http::{Request, url_encode};
use ats_connector_sdk::paging::{next_offset_token, offset_from_token};
use ats_connector_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

struct SandboxAts;

const DEFAULT_PAGE_SIZE: u32 = 100;

impl Connector for SandboxAts {
    fn describe() -> Manifest {
        Manifest {
            id: "minimal".into(),
            ats_name: "Sandbox ATS".into(),
            connector_version: env!("CARGO_PKG_VERSION").into(),
            operations: vec![
                Operation::ListJobs,
                Operation::ListStages,
                Operation::UpsertCandidate,
            ],
            config_fields: vec![
                ConfigField {
                    name: "base-url".into(),
                    secret: false,
                    required: true,
                    help: "Root URL of the ATS API, e.g. http://127.0.0.1:7800".into(),
                },
                ConfigField {
                    name: "api-key".into(),
                    secret: true,
                    required: true,
                    help: "API key, sent as a bearer token".into(),
                },
            ],
            // The whole base URL comes from the connection config.
            egress_hosts: vec!["{base-url}".into()],
            ..Default::default()
        }
    }

    fn list_jobs(config: Config, page: PageRequest) -> Result<JobPage, AtsError> {
        let limit = page.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        let offset = offset_from_token(page.page_token.as_deref())?;
        let mut url = format!("{}/api/jobs?offset={offset}&limit={limit}", base_url(&config)?);
        if let Some(since) = &page.since {
            url.push_str(&format!("&updated_since={since}"));
        }
        let body: JobList = authorized(Request::get(url), &config)?.send_ok()?.json()?;
        let next_page_token = next_offset_token(offset, body.jobs.len(), limit);
        let items = body.jobs.into_iter().map(to_job).collect();
        Ok(JobPage { items, next_page_token })
    }

    fn list_stages(
        config: Config,
        job_id: Option<String>,
        _page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        let base = base_url(&config)?;
        let url = match &job_id {
            Some(job) => format!("{base}/api/jobs/{}/stages", url_encode(job)),
            None => format!("{base}/api/stages"),
        };
        let body: StageList = authorized(Request::get(url), &config)?.send_ok()?.json()?;
        let items = body
            .stages
            .into_iter()
            .map(|stage| Stage {
                id: stage.id.clone(),
                name: stage.name.clone(),
                job_id: job_id.clone(),
                position: stage.position,
                raw: json!({ "id": stage.id, "name": stage.name, "position": stage.position })
                    .to_string(),
            })
            .collect();
        Ok(StagePage { items, next_page_token: None })
    }

    fn upsert_candidate(config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        let base = base_url(&config)?;
        let body = json!({
            "first_name": input.first_name,
            "last_name": input.last_name,
            "emails": input.emails,
            "phones": input.phones,
            "source": input.source,
        });
        // Deduplicate the way the ATS allows: look up by e-mail first.
        if let Some(email) = input.emails.first() {
            // Values go into URLs encoded: an address like `ada+jobs@example.com` must not
            // turn into a space and miss the existing candidate.
            let url = format!("{base}/api/candidates?email={}", url_encode(email));
            let found: CandidateList = authorized(Request::get(url), &config)?.send_ok()?.json()?;
            if let Some(existing) = found.candidates.first() {
                let url = format!("{base}/api/candidates/{}", url_encode(&existing.id));
                authorized(Request::new("PATCH", url), &config)?.json(&body)?.send_ok()?;
                return Ok(UpsertResult {
                    candidate_id: existing.id.clone(),
                    outcome: UpsertOutcome::Matched,
                });
            }
        }
        let url = format!("{base}/api/candidates");
        let created: RemoteCandidate =
            authorized(Request::post(url), &config)?.json(&body)?.send_ok()?.json()?;
        Ok(UpsertResult { candidate_id: created.id, outcome: UpsertOutcome::Created })
    }
}

ats_connector_sdk::export_connector!(SandboxAts);

fn base_url(config: &Config) -> Result<&str, AtsError> {
    Ok(config.require("base-url")?.trim_end_matches('/'))
}

fn authorized(request: Request, config: &Config) -> Result<Request, AtsError> {
    Ok(request.bearer(config.require("api-key")?))
}

#[derive(Deserialize)]
struct JobList {
    jobs: Vec<Value>,
}

#[derive(Deserialize)]
struct StageList {
    stages: Vec<RemoteStage>,
}

#[derive(Deserialize)]
struct RemoteStage {
    id: String,
    name: String,
    position: u32,
}

#[derive(Deserialize)]
struct CandidateList {
    candidates: Vec<RemoteCandidate>,
}

#[derive(Deserialize)]
struct RemoteCandidate {
    id: String,
}

/// Maps the sandbox ATS's job JSON onto the unified job, keeping the raw object.
fn to_job(raw: Value) -> Job {
    let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_string);
    let status = match raw.get("status").and_then(Value::as_str) {
        Some("closed") => JobStatus::Closed,
        Some("draft") => JobStatus::Draft,
        Some("archived") => JobStatus::Archived,
        _ => JobStatus::Open,
    };
    Job {
        id: text("id").unwrap_or_default(),
        code: text("ref"),
        title: text("title").unwrap_or_default(),
        status,
        location: text("city").map(ats_connector_sdk::records::location),
        description: text("description"),
        department: text("department"),
        assigned_users: text("recruiter").into_iter().collect(),
        created_at: text("created_at"),
        updated_at: text("updated_at"),
        custom_fields: Vec::new(),
        raw: raw.to_string(),
        ..Default::default()
    }
}
