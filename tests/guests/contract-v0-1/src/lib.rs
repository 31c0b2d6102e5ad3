//! A connector built against the frozen contract `ats:connector@0.1.0`, as connectors were
//! deployed before 0.2.0: the host must keep loading it, sync its jobs and take candidate
//! pushes with its 0.1.0 bindings.
//!
//! It keeps its "ATS" in the connection's `state`: three fixed jobs with one pipeline, and
//! candidates by e-mail. `write-result` answers the score it received as its remote id, so
//! a test sees what the host sent a 0.1.0 connector (a 0..100 score). With the config field
//! `flood` set, `list-jobs` fills `state` until the host stops it (0.1.0's `state.set`
//! cannot answer an error).

wit_bindgen::generate!({
    world: "connector-world",
    path: "../../../wit/since_v0.1.0",
});

use ats::connector::state;
use ats::connector::types::*;
use exports::ats::connector::connector::Guest;

struct Legacy;

fn config_value<'a>(config: &'a Config, name: &str) -> Option<&'a str> {
    config.iter().find(|f| f.name == name).map(|f| f.value.as_str())
}

fn job(n: u32) -> Job {
    Job {
        id: format!("legacy-job-{n}"),
        code: Some(format!("L{n}")),
        title: format!("Legacy job {n}"),
        status: JobStatus::Open,
        location: Some(format!("City {n}")),
        description: None,
        department: None,
        assigned_users: Vec::new(),
        created_at: None,
        updated_at: Some("2026-11-01T10:00:00Z".into()),
        custom_fields: Vec::new(),
        raw: format!("{{\"id\":{n}}}"),
    }
}

fn unsupported(what: &str) -> AtsError {
    AtsError::Unsupported(format!("{what} is not supported by this connector"))
}

fn receipt(remote_id: String) -> Result<WriteReceipt, AtsError> {
    Ok(WriteReceipt { remote_id: Some(remote_id), remark: None })
}

impl Guest for Legacy {
    fn describe() -> Manifest {
        Manifest {
            id: "legacy".into(),
            ats_name: "Legacy ATS".into(),
            connector_version: "0.9.0".into(),
            operations: vec![
                Operation::ListJobs,
                Operation::ListStages,
                Operation::UpsertCandidate,
                Operation::CreateApplication,
                Operation::AddNote,
                Operation::WriteResult,
            ],
            config_fields: vec![ConfigField {
                name: "flood".into(),
                secret: false,
                required: false,
                help: "test switch: list-jobs fills state".into(),
            }],
            egress_hosts: Vec::new(),
        }
    }

    fn list_jobs(config: Config, _page: PageRequest) -> Result<JobPage, AtsError> {
        if config_value(&config, "flood").is_some() {
            let value = "f".repeat(60_000);
            for i in 0..100_000 {
                state::set(&format!("flood-{i}"), &value, None);
            }
        }
        Ok(JobPage { items: (1..=3).map(job).collect(), next_page_token: None })
    }

    fn list_stages(
        _config: Config,
        job_id: Option<String>,
        _page: PageRequest,
    ) -> Result<StagePage, AtsError> {
        let items = ["New", "Interview", "Offer"]
            .iter()
            .enumerate()
            .map(|(i, name)| Stage {
                id: format!("stage-{i}"),
                name: (*name).into(),
                job_id: job_id.clone(),
                position: i as u32,
                raw: "{}".into(),
            })
            .collect();
        Ok(StagePage { items, next_page_token: None })
    }

    fn list_applications(_: Config, _: PageRequest) -> Result<ApplicationPage, AtsError> {
        Err(unsupported("list-applications"))
    }

    fn get_candidate(_: Config, _: String) -> Result<Candidate, AtsError> {
        Err(unsupported("get-candidate"))
    }

    fn find_candidates(
        _: Config,
        _: CandidateLookup,
        _: PageRequest,
    ) -> Result<CandidatePage, AtsError> {
        Err(unsupported("find-candidates"))
    }

    fn upsert_candidate(_config: Config, input: CandidateInput) -> Result<UpsertResult, AtsError> {
        let email = input
            .emails
            .first()
            .ok_or_else(|| AtsError::InvalidInput("emails: give one".into()))?;
        let key = format!("candidate:{email}");
        if let Some(id) = state::get(&key) {
            return Ok(UpsertResult { candidate_id: id, outcome: UpsertOutcome::Matched });
        }
        let id = format!("legacy-candidate-{}", email.len());
        state::set(&key, &id, None);
        Ok(UpsertResult { candidate_id: id, outcome: UpsertOutcome::Created })
    }

    fn create_application(
        _config: Config,
        input: ApplicationInput,
    ) -> Result<Application, AtsError> {
        Ok(Application {
            id: format!("{}@{}", input.candidate_id, input.job_id),
            candidate_id: input.candidate_id,
            job_id: input.job_id,
            stage_id: input.stage_id.or_else(|| Some("stage-0".into())),
            status: ApplicationStatus::Active,
            source: input.source,
            created_at: None,
            updated_at: None,
            custom_fields: input
                .answers
                .into_iter()
                .map(|a| Field { name: a.question, value: a.answer })
                .collect(),
            raw: "{}".into(),
        })
    }

    fn move_application(_: Config, _: String, _: String) -> Result<WriteReceipt, AtsError> {
        Err(unsupported("move-application"))
    }

    fn add_note(_config: Config, input: NoteInput) -> Result<WriteReceipt, AtsError> {
        let on = match input.target {
            Target::Candidate(id) | Target::Application(id) => id,
        };
        receipt(format!("note-on-{on}"))
    }

    fn add_tag(_: Config, _: TagInput) -> Result<WriteReceipt, AtsError> {
        Err(unsupported("add-tag"))
    }

    fn add_attachment(_: Config, _: AttachmentInput) -> Result<WriteReceipt, AtsError> {
        Err(unsupported("add-attachment"))
    }

    fn reject_application(_: Config, _: RejectInput) -> Result<WriteReceipt, AtsError> {
        Err(unsupported("reject-application"))
    }

    fn write_result(_config: Config, input: ResultInput) -> Result<WriteReceipt, AtsError> {
        receipt(format!("score-{}", input.score.map_or("none".to_string(), |s| s.to_string())))
    }

    fn parse_webhook(_: Config, _: WebhookRequest) -> Result<Vec<ChangeEvent>, AtsError> {
        Err(unsupported("parse-webhook"))
    }
}

export!(Legacy);
