//! Maps the sandbox ATS's JSON records onto the unified records, keeping the raw JSON.
//!
//! Each record is read once, straight into a typed struct of the fields the connector maps,
//! and its raw text is kept as the ATS sent it ([`RawValue`]): no JSON tree is built and
//! nothing is serialised again, which is most of a page's work inside the sandbox.

use ats_connector_sdk::prelude::*;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// One page of a cursor-paged list (`{"jobs": [...], "next_cursor": "..."}`), its records
/// still raw.
#[derive(Deserialize)]
pub struct ListPage {
    #[serde(alias = "jobs", alias = "applications", alias = "candidates")]
    pub items: Vec<Box<RawValue>>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Reads `raw` as `T`; a record of the wrong shape fails the call with an excerpt of it.
fn fields<T: DeserializeOwned>(raw: &RawValue) -> Result<T, AtsError> {
    serde_json::from_str(raw.get()).map_err(|error| {
        let text = raw.get();
        let end = (0..=text.len().min(200)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: format!("unexpected record ({error}): {}", &text[..end]),
        })
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct JobFields {
    id: Option<String>,
    #[serde(rename = "ref")]
    code: Option<String>,
    title: Option<String>,
    status: Option<String>,
    city: Option<String>,
    country: Option<String>,
    description: Option<String>,
    department: Option<String>,
    recruiter: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

pub fn to_job(raw: &RawValue) -> Result<Job, AtsError> {
    let job: JobFields = fields(raw)?;
    let status = match job.status.as_deref() {
        Some("closed") => JobStatus::Closed,
        Some("draft") => JobStatus::Draft,
        Some("archived") => JobStatus::Archived,
        _ => JobStatus::Open,
    };
    Ok(Job {
        id: job.id.unwrap_or_default(),
        code: job.code,
        title: job.title.unwrap_or_default(),
        status,
        location: job.city.map(|city| Location {
            text: Some(city.clone()),
            city: Some(city),
            country: job.country,
            ..Location::default()
        }),
        description: job.description,
        department: job.department,
        assigned_users: job.recruiter.into_iter().collect(),
        created_at: job.created_at,
        updated_at: job.updated_at,
        custom_fields: Vec::new(),
        raw: raw.get().to_string(),
        ..Default::default()
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StageFields {
    id: Option<String>,
    name: Option<String>,
    position: Option<u64>,
}

pub fn to_stage(raw: &RawValue, job_id: Option<String>) -> Result<Stage, AtsError> {
    let stage: StageFields = fields(raw)?;
    Ok(Stage {
        id: stage.id.unwrap_or_default(),
        name: stage.name.unwrap_or_default(),
        job_id,
        position: stage.position.and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
        raw: raw.get().to_string(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ApplicationFields {
    id: Option<String>,
    candidate_id: Option<String>,
    job_id: Option<String>,
    stage_id: Option<String>,
    status: Option<String>,
    source: Option<String>,
    rejection_reason: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

pub fn to_application(raw: &RawValue) -> Result<Application, AtsError> {
    let application: ApplicationFields = fields(raw)?;
    let status = match application.status.as_deref() {
        Some("rejected") => ApplicationStatus::Rejected,
        Some("hired") => ApplicationStatus::Hired,
        Some("withdrawn") => ApplicationStatus::Withdrawn,
        _ => ApplicationStatus::Active,
    };
    Ok(Application {
        id: application.id.unwrap_or_default(),
        candidate_id: application.candidate_id.unwrap_or_default(),
        job_id: application.job_id.unwrap_or_default(),
        stage_id: application.stage_id,
        status,
        source: application.source,
        rejection_reason: application.rejection_reason,
        created_at: application.created_at,
        updated_at: application.updated_at,
        custom_fields: Vec::new(),
        raw: raw.get().to_string(),
        ..Default::default()
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CandidateFields {
    id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    tags: Vec<TagEntry>,
    source: Option<String>,
    company: Option<String>,
    title: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TagEntry {
    tag: Option<String>,
}

pub fn to_candidate(raw: &RawValue) -> Result<Candidate, AtsError> {
    let candidate: CandidateFields = fields(raw)?;
    Ok(Candidate {
        id: candidate.id.unwrap_or_default(),
        first_name: candidate.first_name.unwrap_or_default(),
        last_name: candidate.last_name.unwrap_or_default(),
        emails: candidate.emails,
        phones: candidate.phones,
        tags: candidate.tags.into_iter().filter_map(|t| t.tag).collect(),
        source: candidate.source,
        company: candidate.company,
        title: candidate.title,
        updated_at: candidate.updated_at,
        custom_fields: Vec::new(),
        raw: raw.get().to_string(),
        ..Default::default()
    })
}
