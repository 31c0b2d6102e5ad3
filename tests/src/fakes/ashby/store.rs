//! The fake Ashby's records: jobs with interview plans, candidates, applications, notes,
//! files, tags and webhooks (research §9, AS-OAS field names).

#![allow(
    clippy::result_large_err,
    reason = "the fake answers its ATS's own error response; its size does not matter in a test server"
)]

use super::failure;
use crate::fakes::{FakeApplication, FakeCandidate};
use ats_host::time::{format_ms, now_ms, parse_ms};
use axum::response::Response;
use serde_json::{Value, json};

const STAGES: [(&str, &str); 6] = [
    ("Application Review", "Active"),
    ("Phone Screen", "Active"),
    ("Onsite", "Active"),
    ("Offer", "Offer"),
    ("Hired", "Hired"),
    ("Archived", "Archived"),
];

pub struct Job {
    pub id: String,
    pub title: String,
    pub plan: String,
    pub created: i64,
    pub updated: i64,
}

pub struct Stage {
    pub id: String,
    pub plan: String,
    pub title: String,
    pub kind: String,
    pub order: u64,
}

#[derive(Default)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub tags: Vec<String>,
    pub notes: Vec<String>,
    pub files: Vec<(String, Vec<u8>)>,
    pub updated: i64,
}

pub struct Application {
    pub id: String,
    pub candidate: String,
    pub job: String,
    pub stage: String,
    pub created: i64,
    pub updated: i64,
}

#[derive(Default)]
pub struct Store {
    next: u64,
    pub jobs: Vec<Job>,
    pub stages: Vec<Stage>,
    pub candidates: Vec<Candidate>,
    pub applications: Vec<Application>,
    /// (id, title)
    pub tags: Vec<(String, String)>,
    /// (id, request URL)
    pub webhooks: Vec<(String, String)>,
}

type Answer = Result<Value, Response>;

fn text(input: &Value, key: &str) -> Option<String> {
    input.get(key).and_then(Value::as_str).map(str::to_string).filter(|s| !s.trim().is_empty())
}

fn required(input: &Value, key: &str) -> Result<String, Response> {
    text(input, key).ok_or_else(|| failure("invalid_input", &format!("{key} is required")))
}

impl Store {
    fn id(&mut self) -> String {
        self.next += 1;
        format!("{:08x}-88e3-4395-b9c6-{:012x}", self.next * 2_654_435_761 % 0xffff_ffff, self.next)
    }

    pub fn add_job(&mut self, updated_at: &str) -> String {
        let (id, plan) = (self.id(), self.id());
        let at = parse_ms(updated_at).unwrap_or_else(now_ms);
        let title = format!("Data Engineer {}", self.jobs.len() + 1);
        self.jobs.push(Job { id: id.clone(), title, plan: plan.clone(), created: at, updated: at });
        for (order, (title, kind)) in (0u64..).zip(STAGES) {
            let stage = self.id();
            self.stages.push(Stage {
                id: stage,
                plan: plan.clone(),
                title: title.into(),
                kind: kind.into(),
                order,
            });
        }
        id
    }

    pub fn touch_job(&mut self, id: &str, title: &str, updated_at: &str) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
            job.title = title.into();
            job.updated = parse_ms(updated_at).unwrap_or_else(now_ms);
        }
    }

    pub fn jobs_json(&self) -> Vec<Value> {
        self.jobs
            .iter()
            .map(|j| {
                json!({
                    "id": j.id, "title": j.title, "confidential": false, "status": "Open",
                    "employmentType": "FullTime", "locationId": "loc-utrecht", "departmentId": "dep-data",
                    "defaultInterviewPlanId": j.plan, "interviewPlanIds": [j.plan], "customFields": [],
                    "jobPostingIds": [], "hiringTeam": [], "createdAt": format_ms(j.created),
                    "updatedAt": format_ms(j.updated), "openedAt": format_ms(j.created), "closedAt": null,
                })
            })
            .collect()
    }

    fn stage_json(stage: &Stage) -> Value {
        json!({"id": stage.id, "title": stage.title, "type": stage.kind,
               "orderInInterviewPlan": stage.order, "interviewPlanId": stage.plan})
    }

    pub fn interview_plan(&self, input: &Value) -> Answer {
        let job_id = required(input, "jobId")?;
        let job = self
            .jobs
            .iter()
            .find(|j| j.id == job_id)
            .ok_or_else(|| failure("job_not_found", "Job not found"))?;
        let stages: Vec<Value> =
            self.stages.iter().filter(|s| s.plan == job.plan).map(Self::stage_json).collect();
        Ok(json!({"jobId": job.id, "interviewPlanId": job.plan, "stages": stages}))
    }

    fn candidate_json(c: &Candidate) -> Value {
        let emails: Vec<Value> = c
            .emails
            .iter()
            .map(|e| json!({"value": e, "type": "Personal", "isPrimary": true}))
            .collect();
        let phones: Vec<Value> = c
            .phones
            .iter()
            .map(|p| json!({"value": p, "type": "Mobile", "isPrimary": true}))
            .collect();
        json!({
            "id": c.id, "name": c.name, "createdAt": format_ms(c.updated), "updatedAt": format_ms(c.updated),
            "primaryEmailAddress": emails.first(), "emailAddresses": emails,
            "primaryPhoneNumber": phones.first(), "phoneNumbers": phones, "socialLinks": [],
            "tags": c.tags.iter().map(|t| json!({"id": t, "title": t, "isArchived": false})).collect::<Vec<_>>(),
            "position": null, "company": null, "school": null, "applicationIds": [],
            "fileHandles": c.files.iter().map(|(n, _)| json!({"id": n, "name": n, "handle": n})).collect::<Vec<_>>(),
            "customFields": [], "profileUrl": format!("https://app.ashbyhq.com/candidates/{}", c.id),
            "source": null, "creditedToUser": null, "timezone": null, "location": null,
        })
    }

    fn candidate_mut(&mut self, id: &str) -> Result<&mut Candidate, Response> {
        self.candidates
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| failure("candidate_not_found", "Candidate not found"))
    }

    pub fn candidate_info(&self, input: &Value) -> Answer {
        let id = required(input, "id")?;
        self.candidates
            .iter()
            .find(|c| c.id == id)
            .map(Self::candidate_json)
            .ok_or_else(|| failure("candidate_not_found", "Candidate not found"))
    }

    pub fn search(&self, input: &Value) -> Result<Vec<Value>, Response> {
        let (email, name) = (text(input, "email"), text(input, "name"));
        if email.is_none() && name.is_none() {
            return Err(failure("invalid_input", "email or name is required"));
        }
        Ok(self
            .candidates
            .iter()
            .filter(|c| {
                email.as_ref().is_none_or(|e| c.emails.iter().any(|x| x.eq_ignore_ascii_case(e)))
            })
            .filter(|c| name.as_ref().is_none_or(|n| c.name.eq_ignore_ascii_case(n)))
            .map(Self::candidate_json)
            .collect())
    }

    pub fn create_candidate(&mut self, input: &Value) -> Answer {
        let name = required(input, "name")?;
        let id = self.id();
        self.candidates.push(Candidate {
            id: id.clone(),
            name,
            emails: text(input, "email").into_iter().collect(),
            phones: text(input, "phoneNumber").into_iter().collect(),
            updated: now_ms(),
            ..Default::default()
        });
        self.candidate_info(&json!({ "id": id }))
    }

    pub fn update_candidate(&mut self, input: &Value) -> Answer {
        let id = required(input, "candidateId")?;
        let c = self.candidate_mut(&id)?;
        if let Some(name) = text(input, "name") {
            c.name = name;
        }
        if let Some(email) = text(input, "email") {
            c.emails = vec![email];
        }
        if let Some(phone) = text(input, "phoneNumber") {
            c.phones = vec![phone];
        }
        c.updated = now_ms();
        self.candidate_info(&json!({ "id": id }))
    }

    pub fn create_note(&mut self, input: &Value) -> Answer {
        let id = required(input, "candidateId")?;
        let note = required(input, "note")?;
        let note_id = self.id();
        let c = self.candidate_mut(&id)?;
        c.notes.push(note.clone());
        c.updated = now_ms();
        Ok(json!({"id": note_id, "createdAt": format_ms(c.updated), "content": note}))
    }

    pub fn add_tag(&mut self, input: &Value) -> Answer {
        let id = required(input, "candidateId")?;
        let tag = required(input, "tagId")?;
        let title = self.tags.iter().find(|(t, _)| *t == tag).map(|(_, title)| title.clone());
        let title = title.ok_or_else(|| failure("tag_not_found", "Tag not found"))?;
        let c = self.candidate_mut(&id)?;
        c.tags.retain(|t| *t != title);
        c.tags.push(title);
        self.candidate_info(&json!({ "id": id }))
    }

    pub fn upload_file(&mut self, parts: &[super::Part]) -> Answer {
        let candidate = parts.iter().find(|(name, _, _)| name == "candidateId");
        let file = parts.iter().find(|(name, _, _)| name == "file");
        let (Some((_, _, id)), Some((_, filename, content))) = (candidate, file) else {
            return Err(failure("invalid_input", "candidateId and file are required"));
        };
        let id = String::from_utf8_lossy(id).to_string();
        let c = self.candidate_mut(&id)?;
        c.files.push((filename.clone().unwrap_or_else(|| "file".into()), content.clone()));
        c.updated = now_ms();
        self.candidate_info(&json!({ "id": id }))
    }

    fn application_json(&self, a: &Application) -> Value {
        let c = self.candidates.iter().find(|c| c.id == a.candidate);
        let job = self.jobs.iter().find(|j| j.id == a.job);
        let stage = self.stages.iter().find(|s| s.id == a.stage);
        let status = match stage.map(|s| s.kind.as_str()) {
            Some("Archived") => "Archived",
            Some("Hired") => "Hired",
            _ => "Active",
        };
        json!({
            "id": a.id, "createdAt": format_ms(a.created), "updatedAt": format_ms(a.updated),
            "status": status, "customFields": [],
            "candidate": c.map(|c| json!({"id": c.id, "name": c.name})),
            "currentInterviewStage": stage.map(Self::stage_json),
            "source": null, "archiveReason": null, "archivedAt": null,
            "job": job.map(|j| json!({"id": j.id, "title": j.title})),
            "creditedToUser": null, "hiringTeam": [], "appliedViaJobPostingId": null,
        })
    }

    pub fn applications_json(&self) -> Vec<Value> {
        self.applications.iter().map(|a| self.application_json(a)).collect()
    }

    pub fn application_info(&self, input: &Value) -> Answer {
        let id = required(input, "applicationId")?;
        let a = self.applications.iter().find(|a| a.id == id);
        a.map(|a| self.application_json(a))
            .ok_or_else(|| failure("application_not_found", "Application not found"))
    }

    pub fn create_application(&mut self, input: &Value) -> Answer {
        let candidate = required(input, "candidateId")?;
        let job_id = required(input, "jobId")?;
        if !self.candidates.iter().any(|c| c.id == candidate) {
            return Err(failure("candidate_not_found", "Candidate not found"));
        }
        let plan = self.jobs.iter().find(|j| j.id == job_id).map(|j| j.plan.clone());
        let plan = plan.ok_or_else(|| failure("job_not_found", "Job not found"))?;
        let stage = match text(input, "interviewStageId") {
            None => self
                .stages
                .iter()
                .find(|s| s.plan == plan)
                .map(|s| s.id.clone())
                .unwrap_or_default(),
            Some(stage) if self.stages.iter().any(|s| s.id == stage && s.plan == plan) => stage,
            Some(_) => {
                return Err(failure(
                    "invalid_interview_stage",
                    "The stage is not in the job's interview plan",
                ));
            }
        };
        let id = self.id();
        let now = now_ms();
        self.applications.push(Application {
            id: id.clone(),
            candidate,
            job: job_id,
            stage,
            created: now,
            updated: now,
        });
        self.application_info(&json!({ "applicationId": id }))
    }

    pub fn change_stage(&mut self, input: &Value) -> Answer {
        let id = required(input, "applicationId")?;
        let stage = required(input, "interviewStageId")?;
        let Some(index) = self.applications.iter().position(|a| a.id == id) else {
            return Err(failure("application_not_found", "Application not found"));
        };
        let plan =
            self.jobs.iter().find(|j| j.id == self.applications[index].job).map(|j| j.plan.clone());
        let target = self.stages.iter().find(|s| s.id == stage && Some(&s.plan) == plan.as_ref());
        match target {
            None => {
                return Err(failure(
                    "invalid_interview_stage",
                    "The stage is not in the job's interview plan",
                ));
            }
            Some(s) if s.kind == "Archived" && text(input, "archiveReasonId").is_none() => {
                return Err(failure(
                    "missing_archive_reason",
                    "archiveReasonId is required for an Archived stage",
                ));
            }
            Some(_) => {}
        }
        self.applications[index].stage = stage;
        self.applications[index].updated = now_ms();
        self.application_info(&json!({ "applicationId": id }))
    }

    pub fn tags_json(&self) -> Vec<Value> {
        self.tags
            .iter()
            .map(|(id, title)| json!({"id": id, "title": title, "isArchived": false}))
            .collect()
    }

    pub fn reasons_json(&self) -> Value {
        json!([
            {"id": "reason-underqualified", "text": "Underqualified", "reasonType": "RejectedByOrg", "isArchived": false},
            {"id": "reason-withdrew", "text": "Withdrew", "reasonType": "RejectedByCandidate", "isArchived": false},
        ])
    }

    pub fn users_json(&self) -> Vec<Value> {
        vec![
            json!({"id": "user-1", "firstName": "Abby", "lastName": "Ashby", "email": "abby@ashby.example",
                    "globalRole": "Admin", "isEnabled": true, "updatedAt": "2025-01-01T00:00:00.000Z"}),
        ]
    }

    pub fn create_webhook(&mut self, input: &Value) -> Answer {
        let kind = required(input, "webhookType")?;
        let url = required(input, "requestUrl")?;
        let secret = required(input, "secretToken")?;
        let id = self.id();
        self.webhooks.push((id.clone(), url.clone()));
        Ok(
            json!({"id": id, "enabled": true, "requestUrl": url, "secretToken": secret, "webhookType": kind}),
        )
    }

    pub fn delete_webhook(&mut self, input: &Value) -> Answer {
        let id = required(input, "webhookId")?;
        let before = self.webhooks.len();
        self.webhooks.retain(|(w, _)| *w != id);
        if self.webhooks.len() == before {
            return Err(failure("webhook_not_found", "Webhook not found"));
        }
        Ok(json!({"webhookId": id}))
    }

    pub fn fake_candidates(&self) -> Vec<FakeCandidate> {
        self.candidates
            .iter()
            .map(|c| {
                let (first, last) = c.name.split_once(' ').unwrap_or((c.name.as_str(), ""));
                FakeCandidate {
                    id: c.id.clone(),
                    first_name: first.into(),
                    last_name: last.into(),
                    emails: c.emails.clone(),
                    phones: c.phones.clone(),
                    notes: c.notes.clone(),
                    tags: c.tags.clone(),
                    attachments: c.files.clone(),
                    applications: self
                        .applications
                        .iter()
                        .filter(|a| a.candidate == c.id)
                        .map(|a| FakeApplication {
                            id: a.id.clone(),
                            job_id: a.job.clone(),
                            stage_id: Some(a.stage.clone()),
                            ..Default::default()
                        })
                        .collect(),
                }
            })
            .collect()
    }
}
