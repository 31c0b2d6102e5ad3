//! The fake Greenhouse's records and the rules of its writes (research §2.4–2.5).

#![allow(
    clippy::result_large_err,
    reason = "the fake answers its ATS's own error response; its size does not matter in a test server"
)]

use super::{USER_ID, fake_application, invalid, not_found};
use crate::fakes::FakeCandidate;
use ats_host::time::{format_ms, now_ms, parse_ms};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;

const STAGES: [&str; 4] = ["Application Review", "Recruiter Phone Screen", "Face to Face", "Offer"];

pub struct Job {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub struct Stage {
    pub id: u64,
    pub job_id: u64,
    pub name: String,
    pub priority: u64,
}

#[derive(Default)]
pub struct Candidate {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub tags: Vec<String>,
    pub notes: Vec<String>,
    /// (filename, type, content)
    pub attachments: Vec<(String, String, Vec<u8>)>,
    pub updated_ms: i64,
    pub created_ms: i64,
}

pub struct Application {
    pub id: u64,
    pub candidate_id: u64,
    pub prospect: bool,
    pub job_id: Option<u64>,
    pub stage_id: Option<u64>,
    pub status: String,
    pub rejection: Option<(Option<u64>, String)>,
    pub rejected_ms: Option<i64>,
    pub attachments: Vec<(String, String, Vec<u8>)>,
    pub applied_ms: i64,
    pub last_activity_ms: i64,
}

pub struct Store {
    next_id: u64,
    pub jobs: Vec<Job>,
    pub stages: Vec<Stage>,
    pub candidates: Vec<Candidate>,
    pub applications: Vec<Application>,
    pub tags: Vec<(u64, String)>,
    pub reasons: Vec<(u64, String)>,
}

type Answer = Result<Value, Response>;

fn id_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string).filter(|s| !s.is_empty())
}

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(format_ms(ms)))
}

/// `{field}_after` as inclusive milliseconds; an unparsable value is a 422.
fn after(query: &HashMap<String, String>, field: &str) -> Result<Option<i64>, Response> {
    match query.get(field) {
        None => Ok(None),
        Some(value) => parse_ms(value)
            .map(Some)
            .ok_or_else(|| invalid(field, "Timestamp must be in ISO-8601 format")),
    }
}

/// `[{value, type}]` entries whose value is set (entries with a null or empty value are
/// ignored [L]); a type outside `types` is a 422.
fn addresses(input: &Value, key: &str, types: &[&str]) -> Result<Option<Vec<String>>, Response> {
    let Some(list) = input.get(key) else { return Ok(None) };
    let Some(items) = list.as_array() else { return Err(invalid(key, "Must be an array")) };
    let mut values = Vec::new();
    for item in items {
        let Some(value) = text(item, "value") else { continue };
        let kind = text(item, "type").unwrap_or_default();
        if !types.contains(&kind.as_str()) {
            return Err(invalid(
                &format!("{key}.type"),
                &format!("Must be one of: {}", types.join(", ")),
            ));
        }
        values.push(value);
    }
    Ok(Some(values))
}

impl Store {
    pub fn new() -> Self {
        Store {
            next_id: 4_000_000,
            jobs: Vec::new(),
            stages: Vec::new(),
            candidates: Vec::new(),
            applications: Vec::new(),
            tags: vec![(365, "Ruby".into()), (366, "Rails".into())],
            reasons: vec![(815, "Not qualified".into()), (816, "Position filled".into())],
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn add_job(&mut self, updated_at: &str) -> u64 {
        let id = self.id();
        let ms = parse_ms(updated_at).unwrap_or_else(now_ms);
        self.jobs.push(Job {
            id,
            name: format!("Data Engineer {}", self.jobs.len() + 1),
            status: "open".into(),
            created_ms: ms,
            updated_ms: ms,
        });
        for (priority, name) in (0u64..).zip(STAGES) {
            let stage = self.id();
            self.stages.push(Stage { id: stage, job_id: id, name: name.into(), priority });
        }
        id
    }

    pub fn touch_job(&mut self, id: &str, title: &str, updated_at: &str) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id.to_string() == id) {
            job.name = title.into();
            job.updated_ms = parse_ms(updated_at).unwrap_or_else(now_ms);
        }
    }

    pub fn jobs(&self, query: &HashMap<String, String>) -> Result<Vec<Value>, Response> {
        let since = after(query, "updated_after")?;
        let status = query.get("status");
        Ok(self
            .jobs
            .iter()
            .filter(|j| since.is_none_or(|s| j.updated_ms >= s))
            .filter(|j| status.is_none_or(|s| *s == j.status))
            .map(|j| {
                json!({
                    "id": j.id, "name": j.name, "requisition_id": format!("REQ-{}", j.id),
                    "notes": null, "confidential": false, "status": j.status,
                    "created_at": time(Some(j.created_ms)), "opened_at": time(Some(j.created_ms)),
                    "closed_at": null, "updated_at": time(Some(j.updated_ms)), "is_template": false,
                    "departments": [{"id": 12, "name": "Data"}],
                    "offices": [{"id": 7, "name": "Utrecht", "location": {"name": "Utrecht, NL"}}],
                    "openings": [], "custom_fields": {"employment_type": "Full-time"},
                })
            })
            .collect())
    }

    pub fn job_stages(&self, job_id: &str) -> Option<Vec<Value>> {
        let job = self.jobs.iter().find(|j| j.id.to_string() == job_id)?;
        Some(
            self.stages
                .iter()
                .filter(|s| s.job_id == job.id)
                .map(|s| {
                    json!({
                        "id": s.id, "name": s.name, "job_id": s.job_id, "priority": s.priority,
                        "active": true, "created_at": time(Some(job.created_ms)),
                        "updated_at": time(Some(job.created_ms)), "interviews": [],
                    })
                })
                .collect(),
        )
    }

    fn candidate(&self, id: &str) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.id.to_string() == id)
    }

    pub fn candidate_json(&self, id: &str) -> Option<Value> {
        let c = self.candidate(id)?;
        let apps: Vec<Value> = self
            .applications
            .iter()
            .filter(|a| a.candidate_id == c.id)
            .map(|a| self.application_value(a))
            .collect();
        Some(json!({
            "id": c.id, "first_name": c.first_name, "last_name": c.last_name,
            "company": c.company, "title": c.title,
            "created_at": time(Some(c.created_ms)), "updated_at": time(Some(c.updated_ms)),
            "last_activity": time(Some(c.updated_ms)), "is_private": false, "photo_url": null,
            "attachments": c.attachments.iter().map(|(name, kind, _)| json!({
                "filename": name, "type": kind, "url": format!("https://s3.example/{name}"),
                "created_at": time(Some(c.updated_ms)),
            })).collect::<Vec<_>>(),
            "application_ids": apps.iter().map(|a| a["id"].clone()).collect::<Vec<_>>(),
            "phone_numbers": c.phones.iter().map(|p| json!({"value": p, "type": "mobile"})).collect::<Vec<_>>(),
            "addresses": [],
            "email_addresses": c.emails.iter().map(|e| json!({"value": e, "type": "personal"})).collect::<Vec<_>>(),
            "website_addresses": [], "social_media_addresses": [],
            "recruiter": null, "coordinator": null, "can_email": true,
            "tags": c.tags, "applications": apps, "educations": [], "employments": [],
            "custom_fields": {},
        }))
    }

    pub fn list_candidates(&self, query: &HashMap<String, String>) -> Result<Vec<Value>, Response> {
        let since = after(query, "updated_after")?;
        let email = query.get("email").map(|e| e.to_lowercase());
        Ok(self
            .candidates
            .iter()
            .filter(|c| since.is_none_or(|s| c.updated_ms >= s))
            .filter(|c| {
                email.as_ref().is_none_or(|e| c.emails.iter().any(|x| x.to_lowercase() == *e))
            })
            .filter_map(|c| self.candidate_json(&c.id.to_string()))
            .collect())
    }

    fn application_value(&self, a: &Application) -> Value {
        let job = a.job_id.and_then(|id| self.jobs.iter().find(|j| j.id == id));
        let stage = a.stage_id.and_then(|id| self.stages.iter().find(|s| s.id == id));
        let reason = a.rejection.as_ref().and_then(|(id, _)| {
            let (id, name) = self.reasons.iter().find(|(r, _)| Some(*r) == *id)?;
            Some(json!({"id": id, "name": name, "type": {"id": 1, "name": "We rejected them"}}))
        });
        json!({
            "id": a.id, "candidate_id": a.candidate_id, "prospect": a.prospect,
            "applied_at": time(Some(a.applied_ms)), "rejected_at": time(a.rejected_ms),
            "last_activity_at": time(Some(a.last_activity_ms)), "location": null,
            "source": null, "credited_to": null, "rejection_reason": reason,
            "rejection_details": null,
            "jobs": job.map(|j| vec![json!({"id": j.id, "name": j.name})]).unwrap_or_default(),
            "job_post_id": null, "status": a.status,
            "current_stage": stage.map(|s| json!({"id": s.id, "name": s.name})),
            "answers": [], "prospective_office": null, "prospective_department": null,
            "custom_fields": {}, "keyed_custom_fields": {},
            "attachments": a.attachments.iter().map(|(name, kind, _)| json!({
                "filename": name, "type": kind, "url": format!("https://s3.example/{name}"),
                "created_at": time(Some(a.last_activity_ms)),
            })).collect::<Vec<_>>(),
        })
    }

    pub fn application_json(&self, id: &str) -> Option<Value> {
        let a = self.applications.iter().find(|a| a.id.to_string() == id)?;
        Some(self.application_value(a))
    }

    pub fn list_applications(
        &self,
        query: &HashMap<String, String>,
    ) -> Result<Vec<Value>, Response> {
        let since = after(query, "last_activity_after")?;
        let status = query.get("status");
        Ok(self
            .applications
            .iter()
            .filter(|a| since.is_none_or(|s| a.last_activity_ms >= s))
            .filter(|a| status.is_none_or(|s| *s == a.status))
            .map(|a| self.application_value(a))
            .collect())
    }

    pub fn tags_json(&self) -> Vec<Value> {
        self.tags.iter().map(|(id, name)| json!({"id": id, "name": name})).collect()
    }

    pub fn reasons_json(&self) -> Vec<Value> {
        self.reasons
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name, "type": {"id": 1, "name": "We rejected them"}}))
            .collect()
    }

    pub fn users_json(&self) -> Vec<Value> {
        vec![json!({
            "id": USER_ID, "name": "Boone Carlyle", "first_name": "Boone", "last_name": "Carlyle",
            "primary_email_address": "boone@greenhouse.example", "emails": ["boone@greenhouse.example"],
            "disabled": false, "site_admin": true, "employee_id": null,
        })]
    }

    pub fn user_json(&self, id: &str) -> Option<Value> {
        let id: u64 = id.trim().parse().ok()?;
        self.users_json().into_iter().find(|u| u["id"].as_u64() == Some(id))
    }

    pub fn create_prospect(&mut self, input: &Value) -> Answer {
        let (Some(first_name), Some(last_name)) =
            (text(input, "first_name"), text(input, "last_name"))
        else {
            return Err(invalid("first_name", "first_name and last_name are required"));
        };
        let emails = addresses(input, "email_addresses", &["personal", "work", "other"])?;
        let phones =
            addresses(input, "phone_numbers", &["home", "work", "mobile", "skype", "other"])?;
        let id = self.id();
        let now = now_ms();
        self.candidates.push(Candidate {
            id,
            first_name,
            last_name,
            company: text(input, "company"),
            title: text(input, "title"),
            emails: emails.unwrap_or_default(),
            phones: phones.unwrap_or_default(),
            updated_ms: now,
            created_ms: now,
            ..Default::default()
        });
        let application = self.id();
        self.applications.push(Application {
            id: application,
            candidate_id: id,
            prospect: true,
            job_id: None,
            stage_id: None,
            status: "active".into(),
            rejection: None,
            rejected_ms: None,
            attachments: Vec::new(),
            applied_ms: now,
            last_activity_ms: now,
        });
        self.candidate_json(&id.to_string()).ok_or_else(not_found)
    }

    pub fn edit_candidate(&mut self, id: &str, input: &Value) -> Answer {
        let emails = addresses(input, "email_addresses", &["personal", "work", "other"])?;
        let phones =
            addresses(input, "phone_numbers", &["home", "work", "mobile", "skype", "other"])?;
        let candidate =
            self.candidates.iter_mut().find(|c| c.id.to_string() == id).ok_or_else(not_found)?;
        if let Some(first) = text(input, "first_name") {
            candidate.first_name = first;
        }
        if let Some(last) = text(input, "last_name") {
            candidate.last_name = last;
        }
        if input.get("company").is_some() {
            candidate.company = text(input, "company");
        }
        if input.get("title").is_some() {
            candidate.title = text(input, "title");
        }
        // Array fields replace (an empty array clears).
        if let Some(emails) = emails {
            candidate.emails = emails;
        }
        if let Some(phones) = phones {
            candidate.phones = phones;
        }
        if let Some(tags) = input.get("tags").and_then(Value::as_array) {
            candidate.tags = tags.iter().filter_map(Value::as_str).map(str::to_string).collect();
        }
        candidate.updated_ms = now_ms();
        self.candidate_json(id).ok_or_else(not_found)
    }

    /// Decodes `[{filename, type, content, content_type}]` entries (content_type is
    /// mandatory with base64 content).
    fn decode_attachment(
        input: &Value,
        types: &[&str],
    ) -> Result<(String, String, Vec<u8>), Response> {
        let filename = text(input, "filename").ok_or_else(|| invalid("filename", "is required"))?;
        let kind = text(input, "type").unwrap_or_default();
        if !types.contains(&kind.as_str()) {
            return Err(invalid("type", &format!("Must be one of: {}", types.join(", "))));
        }
        let content = text(input, "content")
            .ok_or_else(|| invalid("content", "content or url is required"))?;
        if text(input, "content_type").is_none() {
            return Err(invalid("content_type", "is required for encoded content"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content.as_bytes())
            .map_err(|_| invalid("content", "is not valid base64"))?;
        Ok((filename, kind, bytes))
    }

    pub fn create_application(&mut self, candidate: &str, input: &Value) -> Answer {
        let candidate_id = self.candidate(candidate).map(|c| c.id).ok_or_else(not_found)?;
        let job_id =
            input.get("job_id").and_then(id_of).ok_or_else(|| invalid("job_id", "is required"))?;
        if !self.jobs.iter().any(|j| j.id == job_id) {
            return Err(invalid("job_id", "Job not found"));
        }
        let first_stage = self.stages.iter().find(|s| s.job_id == job_id).map(|s| s.id);
        let stage_id = match input.get("initial_stage_id").filter(|v| !v.is_null()) {
            None => first_stage,
            Some(value) => {
                let id = id_of(value)
                    .filter(|id| self.stages.iter().any(|s| s.id == *id && s.job_id == job_id));
                Some(id.ok_or_else(|| {
                    invalid("initial_stage_id", "Stage does not belong to this job")
                })?)
            }
        };
        let mut attachments = Vec::new();
        for item in input.get("attachments").and_then(Value::as_array).into_iter().flatten() {
            attachments.push(Self::decode_attachment(item, &APPLICATION_TYPES)?);
        }
        let id = self.id();
        let now = now_ms();
        self.applications.push(Application {
            id,
            candidate_id,
            prospect: false,
            job_id: Some(job_id),
            stage_id,
            status: "active".into(),
            rejection: None,
            rejected_ms: None,
            attachments,
            applied_ms: now,
            last_activity_ms: now,
        });
        self.application_json(&id.to_string()).ok_or_else(not_found)
    }

    pub fn add_note(&mut self, candidate: &str, input: &Value) -> Answer {
        let user = input
            .get("user_id")
            .and_then(id_of)
            .ok_or_else(|| invalid("user_id", "is required"))?;
        if user != USER_ID {
            return Err(invalid("user_id", "User not found"));
        }
        let body = text(input, "body").ok_or_else(|| invalid("body", "is required"))?;
        let visibility = text(input, "visibility").unwrap_or_default();
        if !["admin_only", "private", "public"].contains(&visibility.as_str()) {
            return Err(invalid("visibility", "Must be one of: admin_only, private, public"));
        }
        let id = self.id();
        let c = self
            .candidates
            .iter_mut()
            .find(|c| c.id.to_string() == candidate)
            .ok_or_else(not_found)?;
        c.notes.push(body.clone());
        c.updated_ms = now_ms();
        Ok(json!({
            "id": id, "created_at": time(Some(c.updated_ms)), "body": body,
            "user": {"id": USER_ID, "first_name": "Boone", "last_name": "Carlyle", "name": "Boone Carlyle"},
            "private": false, "visiblity": visibility, "visibility": visibility,
        }))
    }

    pub fn attach(&mut self, candidate: &str, _application: Option<u64>, input: &Value) -> Answer {
        let (filename, kind, bytes) =
            Self::decode_attachment(input, &["resume", "cover_letter", "admin_only"])?;
        let c = self
            .candidates
            .iter_mut()
            .find(|c| c.id.to_string() == candidate)
            .ok_or_else(not_found)?;
        c.attachments.push((filename.clone(), kind.clone(), bytes));
        c.updated_ms = now_ms();
        Ok(
            json!({"filename": filename, "url": format!("https://s3.example/{filename}"), "type": kind, "content_type": input["content_type"]}),
        )
    }

    pub fn attach_to_application(&mut self, application: &str, input: &Value) -> Answer {
        let (filename, kind, bytes) = Self::decode_attachment(input, &APPLICATION_TYPES)?;
        let a = self
            .applications
            .iter_mut()
            .find(|a| a.id.to_string() == application)
            .ok_or_else(not_found)?;
        a.attachments.push((filename.clone(), kind.clone(), bytes));
        a.last_activity_ms = now_ms();
        Ok(
            json!({"filename": filename, "url": format!("https://s3.example/{filename}"), "type": kind, "content_type": input["content_type"]}),
        )
    }

    pub fn reject(&mut self, application: &str, input: &Value) -> Answer {
        let reason = match input.get("rejection_reason_id").filter(|v| !v.is_null()) {
            None => None,
            Some(value) => {
                let id = id_of(value).filter(|id| self.reasons.iter().any(|(r, _)| r == id));
                Some(
                    id.ok_or_else(|| invalid("rejection_reason_id", "Rejection reason not found"))?,
                )
            }
        };
        let a = self
            .applications
            .iter_mut()
            .find(|a| a.id.to_string() == application)
            .ok_or_else(not_found)?;
        if a.status != "active" {
            return Err(invalid("application", "Only active applications can be rejected"));
        }
        a.status = "rejected".into();
        a.rejection = Some((reason, text(input, "notes").unwrap_or_default()));
        a.rejected_ms = Some(now_ms());
        a.last_activity_ms = now_ms();
        self.application_json(application).ok_or_else(not_found)
    }

    pub fn move_application(&mut self, application: &str, input: &Value) -> Answer {
        let from = input
            .get("from_stage_id")
            .and_then(id_of)
            .ok_or_else(|| invalid("from_stage_id", "is required"))?;
        let to = input
            .get("to_stage_id")
            .and_then(id_of)
            .ok_or_else(|| invalid("to_stage_id", "is required"))?;
        let a = self
            .applications
            .iter()
            .find(|a| a.id.to_string() == application)
            .ok_or_else(not_found)?;
        if a.status != "active" || a.stage_id != Some(from) {
            return Err(invalid("from_stage_id", "Application is not active in this stage"));
        }
        if !self.stages.iter().any(|s| s.id == to && Some(s.job_id) == a.job_id) {
            return Err(invalid("to_stage_id", "Stage does not belong to this job"));
        }
        if let Some(a) = self.applications.iter_mut().find(|a| a.id.to_string() == application) {
            a.stage_id = Some(to);
            a.last_activity_ms = now_ms();
        }
        self.application_json(application).ok_or_else(not_found)
    }

    pub fn create_tag(&mut self, input: &Value) -> (StatusCode, Value) {
        let name = text(input, "name").unwrap_or_default();
        if let Some((id, existing)) = self.tags.iter().find(|(_, n)| n.eq_ignore_ascii_case(&name))
        {
            return (StatusCode::OK, json!({"id": id, "name": existing}));
        }
        let id = self.id();
        self.tags.push((id, name.clone()));
        (StatusCode::CREATED, json!({"id": id, "name": name}))
    }

    pub fn tag(&mut self, candidate: &str, tag: &str, add: bool) -> Answer {
        let (id, name) = self
            .tags
            .iter()
            .find(|(id, _)| id.to_string() == tag)
            .cloned()
            .ok_or_else(not_found)?;
        let c = self
            .candidates
            .iter_mut()
            .find(|c| c.id.to_string() == candidate)
            .ok_or_else(not_found)?;
        c.tags.retain(|t| *t != name);
        if add {
            c.tags.push(name.clone());
        }
        let verb = if add { "has been applied to" } else { "has been removed from" };
        Ok(json!({"message": format!("Tag {id}, '{name}', {verb} candidate {candidate}")}))
    }

    pub fn fake_candidates(&self) -> Vec<FakeCandidate> {
        self.candidates
            .iter()
            .map(|c| {
                let apps: Vec<&Application> =
                    self.applications.iter().filter(|a| a.candidate_id == c.id).collect();
                let mut attachments: Vec<(String, Vec<u8>)> =
                    c.attachments.iter().map(|(n, _, b)| (n.clone(), b.clone())).collect();
                attachments
                    .extend(apps.iter().flat_map(|a| {
                        a.attachments.iter().map(|(n, _, b)| (n.clone(), b.clone()))
                    }));
                FakeCandidate {
                    id: c.id.to_string(),
                    first_name: c.first_name.clone(),
                    last_name: c.last_name.clone(),
                    emails: c.emails.clone(),
                    phones: c.phones.clone(),
                    notes: c.notes.clone(),
                    tags: c.tags.clone(),
                    attachments,
                    applications: apps
                        .iter()
                        .filter(|a| !a.prospect)
                        .map(|a| {
                            let answers = a
                                .attachments
                                .iter()
                                .map(|(_, _, b)| String::from_utf8_lossy(b).into_owned())
                                .collect::<Vec<_>>()
                                .join("\n");
                            let rejected = a.rejection.as_ref().map(|(id, notes)| {
                                let name = self
                                    .reasons
                                    .iter()
                                    .find(|(r, _)| Some(*r) == *id)
                                    .map(|(_, n)| n.as_str());
                                format!(
                                    "{}{notes}",
                                    name.map(|n| format!("{n}: ")).unwrap_or_default()
                                )
                            });
                            fake_application(
                                a.id,
                                a.job_id.unwrap_or_default(),
                                a.stage_id,
                                answers,
                                rejected,
                            )
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

const APPLICATION_TYPES: [&str; 6] =
    ["resume", "cover_letter", "other", "take_home_test", "offer_letter", "signed_offer_letter"];

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}
