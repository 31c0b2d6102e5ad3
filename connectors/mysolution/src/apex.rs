//! The MySolution package's Apex REST endpoints (research §3.3, all [L]: seen in one
//! third-party client, so the paths and the application set are configurable):
//! `GET {jobs-path}` lists published jobs; `POST {apply-path}?id=<jobId>` with
//! `{setApiName, fields:{EMail, FirstName, LastName, MobilePhone, Motivation: {value}},
//! utm_source}` creates the application (and the candidate) and answers `jobApplicationId`.

use ats_connector_sdk::http::url_encode;
use ats_connector_sdk::prelude::*;
use ats_salesforce::client::{record_id, text};
use ats_salesforce::{CandidateMapping, Client, candidates};
use serde_json::{Map, Value, json};

pub const DEFAULT_JOBS_PATH: &str = "/services/apexrest/msf/api/job/Get";
pub const DEFAULT_APPLY_PATH: &str = "/services/apexrest/msf/api/job/Apply";
pub const DEFAULT_APPLICATION_SET: &str = "default";

/// Where the package's Apex REST endpoints are.
#[derive(Debug, Clone)]
pub struct ApexPaths {
    pub jobs: String,
    pub apply: String,
    pub application_set: String,
}

fn path(name: &str, value: &str) -> Result<String, AtsError> {
    let ok = value.starts_with("/services/apexrest/")
        && !value.contains("..")
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(AtsError::InvalidInput(format!(
            "config field `{name}` must be a path under /services/apexrest/, got `{value}`"
        )))
    }
}

impl ApexPaths {
    pub fn from_config(config: &Config) -> Result<Self, AtsError> {
        Ok(Self {
            jobs: path(
                "apex-jobs-path",
                config.value("apex-jobs-path").unwrap_or(DEFAULT_JOBS_PATH),
            )?,
            apply: path(
                "apex-apply-path",
                config.value("apex-apply-path").unwrap_or(DEFAULT_APPLY_PATH),
            )?,
            application_set: config
                .value("application-set")
                .unwrap_or(DEFAULT_APPLICATION_SET)
                .to_string(),
        })
    }
}

fn field(name: &str, help: &str) -> ConfigField {
    ConfigField { name: name.into(), secret: false, required: false, help: help.into() }
}

pub fn config_fields() -> Vec<ConfigField> {
    vec![
        field(
            "apex-jobs-path",
            "Apex REST path listing published jobs; default /services/apexrest/msf/api/job/Get",
        ),
        field(
            "apex-apply-path",
            "Apex REST path creating an application; default \
             /services/apexrest/msf/api/job/Apply",
        ),
        field(
            "application-set",
            "setApiName of the application form configuration sent with Apply; default \
             `default`",
        ),
    ]
}

fn value(text: &str) -> Value {
    json!({ "value": text })
}

pub fn apply(
    client: &mut Client,
    paths: &ApexPaths,
    mapping: &CandidateMapping,
    input: &ApplicationInput,
) -> Result<Application, AtsError> {
    if input.stage_id.is_some() {
        return Err(AtsError::InvalidInput(
            "stage-id: MySolution's Apply endpoint takes no stage; leave it empty".into(),
        ));
    }
    let job_id = record_id(&input.job_id)?;
    let candidate = candidates::get(client, mapping, &input.candidate_id)?;
    let email = candidate.emails.first().cloned().ok_or_else(|| {
        AtsError::InvalidInput(format!("candidate {} has no e-mail; Apply needs one", candidate.id))
    })?;
    let mut fields = Map::new();
    fields.insert("EMail".into(), value(&email));
    fields.insert("FirstName".into(), value(&candidate.first_name));
    fields.insert("LastName".into(), value(&candidate.last_name));
    if let Some(phone) = candidate.phones.first() {
        fields.insert("MobilePhone".into(), value(phone));
    }
    let motivation: Vec<String> =
        input.answers.iter().map(|a| format!("{}: {}", a.question, a.answer)).collect();
    if !motivation.is_empty() {
        fields.insert("Motivation".into(), value(&motivation.join("\n")));
    }
    let mut body = json!({ "setApiName": paths.application_set, "fields": fields });
    if let Some(source) = &input.source {
        body["utm_source"] = json!(source);
    }
    let url = format!("{}?id={}", paths.apply, url_encode(job_id));
    let answer: Value = client.send("POST", &url, Some(&body), &[])?.json()?;
    let id = text(&answer, "jobApplicationId").ok_or_else(|| {
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: format!("Apply answered without jobApplicationId: {answer}"),
        })
    })?;
    Ok(Application {
        id,
        candidate_id: input.candidate_id.clone(),
        job_id: input.job_id.clone(),
        stage_id: None,
        status: ApplicationStatus::Active,
        source: input.source.clone(),
        created_at: None,
        updated_at: None,
        custom_fields: Vec::new(),
        raw: answer.to_string(),
        ..Default::default()
    })
}
