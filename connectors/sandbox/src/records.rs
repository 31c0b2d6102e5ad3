//! Maps the sandbox ATS's JSON records onto the unified records, keeping the raw JSON.

use ats_connector_sdk::prelude::*;
use serde_json::Value;

fn text(raw: &Value, key: &str) -> Option<String> {
    raw.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(raw: &Value, key: &str) -> Vec<String> {
    raw[key]
        .as_array()
        .map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

pub fn to_job(raw: Value) -> Job {
    let status = match raw.get("status").and_then(Value::as_str) {
        Some("closed") => JobStatus::Closed,
        Some("draft") => JobStatus::Draft,
        Some("archived") => JobStatus::Archived,
        _ => JobStatus::Open,
    };
    Job {
        id: text(&raw, "id").unwrap_or_default(),
        code: text(&raw, "ref"),
        title: text(&raw, "title").unwrap_or_default(),
        status,
        location: text(&raw, "city").map(|city| Location {
            text: Some(city.clone()),
            city: Some(city),
            country: text(&raw, "country"),
            ..Location::default()
        }),
        description: text(&raw, "description"),
        department: text(&raw, "department"),
        assigned_users: text(&raw, "recruiter").into_iter().collect(),
        created_at: text(&raw, "created_at"),
        updated_at: text(&raw, "updated_at"),
        custom_fields: Vec::new(),
        raw: raw.to_string(),
        ..Default::default()
    }
}

pub fn to_stage(raw: Value, job_id: Option<String>) -> Stage {
    Stage {
        id: text(&raw, "id").unwrap_or_default(),
        name: text(&raw, "name").unwrap_or_default(),
        job_id,
        position: raw["position"].as_u64().and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
        raw: raw.to_string(),
    }
}

pub fn to_application(raw: Value) -> Application {
    let status = match raw.get("status").and_then(Value::as_str) {
        Some("rejected") => ApplicationStatus::Rejected,
        Some("hired") => ApplicationStatus::Hired,
        Some("withdrawn") => ApplicationStatus::Withdrawn,
        _ => ApplicationStatus::Active,
    };
    Application {
        id: text(&raw, "id").unwrap_or_default(),
        candidate_id: text(&raw, "candidate_id").unwrap_or_default(),
        job_id: text(&raw, "job_id").unwrap_or_default(),
        stage_id: text(&raw, "stage_id"),
        status,
        source: text(&raw, "source"),
        rejection_reason: text(&raw, "rejection_reason"),
        created_at: text(&raw, "created_at"),
        updated_at: text(&raw, "updated_at"),
        custom_fields: Vec::new(),
        raw: raw.to_string(),
        ..Default::default()
    }
}

pub fn to_candidate(raw: Value) -> Candidate {
    Candidate {
        id: text(&raw, "id").unwrap_or_default(),
        first_name: text(&raw, "first_name").unwrap_or_default(),
        last_name: text(&raw, "last_name").unwrap_or_default(),
        emails: strings(&raw, "emails"),
        phones: strings(&raw, "phones"),
        tags: raw
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(|t| text(t, "tag")).collect())
            .unwrap_or_default(),
        source: text(&raw, "source"),
        company: text(&raw, "company"),
        title: text(&raw, "title"),
        updated_at: text(&raw, "updated_at"),
        custom_fields: Vec::new(),
        raw: raw.to_string(),
        ..Default::default()
    }
}
