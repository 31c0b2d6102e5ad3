//! The fake Lever's records: postings, contacts and their opportunities (research §3).

#![allow(
    clippy::result_large_err,
    reason = "the fake answers its ATS's own error response; its size does not matter in a test server"
)]

use super::{USER_ID, bad_request, not_found};
use crate::fakes::{FakeApplication, FakeCandidate};
use ats_host::time::{now_ms, parse_ms};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;

const STAGES: [(&str, &str); 5] = [
    ("lead-new", "New lead"),
    ("applicant-new", "New applicant"),
    ("c6e3e1b2-phone-screen", "Phone screen"),
    ("c6e3e1b2-on-site", "On-site interview"),
    ("offer", "Offer"),
];
const REASONS: [(&str, &str, &str); 3] = [
    ("63dd55b2-a99f-4e7b-985f-22c7bf80ab42", "Underqualified", "non-hired"),
    ("0b3d1a1e-7c4e-4ab5-a3c9-5b0a2f4b8c11", "Position filled", "non-hired"),
    ("hired-reason", "Hired", "hired"),
];

pub struct Posting {
    pub id: String,
    pub text: String,
    pub state: String,
    pub created: i64,
    pub updated: i64,
}

#[derive(Default, Clone)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub headline: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

#[derive(Default)]
pub struct Opportunity {
    pub id: String,
    pub contact: String,
    pub posting: Option<String>,
    pub stage: String,
    pub tags: Vec<String>,
    pub notes: Vec<String>,
    pub files: Vec<(String, Vec<u8>)>,
    pub archived: Option<(String, i64)>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Default)]
pub struct Store {
    next: u64,
    pub postings: Vec<Posting>,
    pub contacts: Vec<Contact>,
    pub opportunities: Vec<Opportunity>,
}

type Answer = Result<Value, Response>;

fn strings(value: Option<&Value>) -> Result<Vec<String>, Response> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad_request("expected strings")))
            .collect(),
        Some(_) => Err(bad_request("expected an array of strings")),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string).filter(|s| !s.trim().is_empty())
}

/// `{key}` as inclusive epoch milliseconds; anything else is a 400.
fn millis(query: &HashMap<String, String>, key: &str) -> Result<Option<i64>, Response> {
    query
        .get(key)
        .map(|v| {
            v.parse::<i64>().map_err(|_| bad_request(&format!("{key} must be epoch milliseconds")))
        })
        .transpose()
}

impl Store {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:04x}-5b1c-4d2e-9f3a-{:012x}", self.next, self.next * 7919)
    }

    pub fn add_posting(&mut self, updated_at: &str) -> String {
        let id = self.id("a1");
        let at = parse_ms(updated_at).unwrap_or_else(now_ms);
        let text = format!("Data Engineer {}", self.postings.len() + 1);
        self.postings.push(Posting {
            id: id.clone(),
            text,
            state: "published".into(),
            created: at,
            updated: at,
        });
        id
    }

    pub fn touch_posting(&mut self, id: &str, title: &str, updated_at: &str) {
        if let Some(p) = self.postings.iter_mut().find(|p| p.id == id) {
            p.text = title.into();
            p.updated = parse_ms(updated_at).unwrap_or_else(now_ms);
        }
    }

    pub fn postings(&self, query: &HashMap<String, String>) -> Result<Vec<Value>, Response> {
        let (start, end) = (millis(query, "updated_at_start")?, millis(query, "updated_at_end")?);
        let state = query.get("state");
        Ok(self
            .postings
            .iter()
            .filter(|p| start.is_none_or(|s| p.updated >= s) && end.is_none_or(|e| p.updated <= e))
            .filter(|p| state.is_none_or(|s| *s == p.state))
            .map(|p| {
                json!({
                    "id": p.id, "text": p.text, "state": p.state, "reqCode": null,
                    "categories": {"team": "Data", "department": "Engineering", "location": "Utrecht", "commitment": "Full-time"},
                    "content": {"description": "Build pipelines.", "lists": []},
                    "tags": [], "createdAt": p.created, "updatedAt": p.updated,
                    "user": USER_ID, "owner": USER_ID, "hiringManager": null, "followers": [],
                    "urls": {"show": format!("https://jobs.lever.co/acme/{}", p.id)},
                })
            })
            .collect())
    }

    pub fn stages_json(&self) -> Vec<Value> {
        STAGES.iter().map(|(id, text)| json!({"id": id, "text": text})).collect()
    }

    pub fn tags_json(&self) -> Vec<Value> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for tag in self.opportunities.iter().flat_map(|o| o.tags.iter()) {
            match counts.iter_mut().find(|(t, _)| t == tag) {
                Some((_, n)) => *n += 1,
                None => counts.push((tag.clone(), 1)),
            }
        }
        if counts.is_empty() {
            counts.push(("Sourced".into(), 0));
        }
        counts.into_iter().map(|(text, count)| json!({"text": text, "count": count})).collect()
    }

    pub fn reasons_json(&self) -> Vec<Value> {
        REASONS
            .iter()
            .map(|(id, text, kind)| json!({"id": id, "text": text, "status": "active", "type": kind}))
            .collect()
    }

    pub fn users_json(&self) -> Vec<Value> {
        vec![json!({
            "id": USER_ID, "name": "Rachel Green", "username": "rachel", "email": "rachel@lever.example",
            "accessRole": "super admin", "createdAt": 1_500_000_000_000_i64, "deactivatedAt": null,
        })]
    }

    pub fn contact_json(&self, id: &str) -> Option<Value> {
        let c = self.contacts.iter().find(|c| c.id == id)?;
        Some(json!({
            "id": c.id, "name": c.name, "headline": c.headline, "isAnonymized": false,
            "location": {"name": "Utrecht"}, "emails": c.emails,
            "phones": c.phones.iter().map(|p| json!({"type": "mobile", "value": p})).collect::<Vec<_>>(),
        }))
    }

    pub fn opportunity_json(&self, id: &str, expand: bool) -> Option<Value> {
        let o = self.opportunities.iter().find(|o| o.id == id)?;
        let c = self.contacts.iter().find(|c| c.id == o.contact)?;
        let application_id = format!("app-{}", o.id);
        let applications = match (&o.posting, expand) {
            (None, _) => json!([]),
            (Some(posting), true) => json!([{
                "id": application_id, "opportunityId": o.id, "candidateId": o.id, "type": "posting",
                "posting": posting, "createdAt": o.created, "user": USER_ID,
            }]),
            (Some(_), false) => json!([application_id]),
        };
        Some(json!({
            "id": o.id, "name": c.name, "headline": c.headline, "contact": c.id,
            "emails": c.emails, "location": "Utrecht", "links": [], "confidentiality": "non-confidential",
            "phones": c.phones.iter().map(|p| json!({"type": "mobile", "value": p})).collect::<Vec<_>>(),
            "archived": o.archived.as_ref().map(|(reason, at)| json!({"reason": reason, "archivedAt": at})),
            "tags": o.tags, "sources": [], "stage": o.stage, "stageChanges": [], "origin": "sourced",
            "owner": USER_ID, "followers": [USER_ID], "applications": applications,
            "createdAt": o.created, "updatedAt": o.updated, "lastInteractionAt": o.updated,
            "urls": {"show": format!("https://hire.lever.co/candidates/{}", o.id)},
        }))
    }

    pub fn opportunities(&self, query: &HashMap<String, String>) -> Result<Vec<Value>, Response> {
        let (start, end) = (millis(query, "updated_at_start")?, millis(query, "updated_at_end")?);
        let email = query.get("email").map(|e| e.to_lowercase());
        let contact = query.get("contact_id");
        let expand = query.get("expand").is_some_and(|e| e == "applications");
        Ok(self
            .opportunities
            .iter()
            .filter(|o| start.is_none_or(|s| o.updated >= s) && end.is_none_or(|e| o.updated <= e))
            .filter(|o| contact.is_none_or(|c| *c == o.contact))
            .filter(|o| {
                email.as_ref().is_none_or(|e| {
                    self.contacts.iter().any(|c| {
                        c.id == o.contact && c.emails.iter().any(|x| x.to_lowercase() == *e)
                    })
                })
            })
            .filter_map(|o| self.opportunity_json(&o.id, expand))
            .collect())
    }

    fn opportunity_mut(&mut self, id: &str) -> Result<&mut Opportunity, Response> {
        self.opportunities.iter_mut().find(|o| o.id == id).ok_or_else(not_found)
    }

    fn answer(&self, id: &str) -> Answer {
        self.opportunity_json(id, false).ok_or_else(not_found)
    }

    pub fn create_opportunity(&mut self, input: &Value) -> Answer {
        let postings = strings(input.get("postings"))?;
        if postings.len() > 1 {
            return Err(bad_request("an opportunity can be for at most one posting"));
        }
        if let Some(p) = postings.first().filter(|p| !self.postings.iter().any(|x| x.id == **p)) {
            return Err(bad_request(&format!("posting {p} not found")));
        }
        let stage = match input.get("stage").filter(|v| !v.is_null()) {
            None if postings.is_empty() => "lead-new".to_string(),
            None => "applicant-new".to_string(),
            Some(v) => v
                .as_str()
                .filter(|s| STAGES.iter().any(|(id, _)| id == s))
                .map(str::to_string)
                .ok_or_else(|| bad_request("stage not found"))?,
        };
        let emails = strings(input.get("emails"))?;
        let mut phones = Vec::new();
        for phone in input.get("phones").and_then(Value::as_array).into_iter().flatten() {
            if let Some(value) = text(phone, "value") {
                phones.push(value);
            }
        }
        let contact = match text(input, "contact") {
            Some(id) => self
                .contacts
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.id.clone())
                .ok_or_else(|| bad_request("contact not found"))?,
            None => {
                let name = text(input, "name").ok_or_else(|| bad_request("name is required"))?;
                let id = self.id("c0");
                let headline = text(input, "headline").unwrap_or_default();
                self.contacts.push(Contact { id: id.clone(), name, headline, emails, phones });
                id
            }
        };
        let id = self.id("0f");
        let now = now_ms();
        self.opportunities.push(Opportunity {
            id: id.clone(),
            contact,
            posting: postings.into_iter().next(),
            stage,
            tags: strings(input.get("tags"))?,
            created: now,
            updated: now,
            ..Default::default()
        });
        self.answer(&id)
    }

    pub fn update_contact(&mut self, id: &str, input: &Value) -> Answer {
        let contact = self.contacts.iter_mut().find(|c| c.id == id).ok_or_else(not_found)?;
        if let Some(name) = text(input, "name") {
            contact.name = name;
        }
        if let Some(headline) = input.get("headline") {
            contact.headline = headline.as_str().unwrap_or_default().to_string();
        }
        if input.get("emails").is_some() {
            contact.emails = strings(input.get("emails"))?;
        }
        let now = now_ms();
        for o in self.opportunities.iter_mut().filter(|o| o.contact == id) {
            o.updated = now;
        }
        self.contact_json(id).ok_or_else(not_found)
    }

    pub fn change_stage(&mut self, id: &str, input: &Value) -> Answer {
        let stage = text(input, "stage")
            .filter(|s| STAGES.iter().any(|(id, _)| id == s))
            .ok_or_else(|| bad_request("stage not found"))?;
        let o = self.opportunity_mut(id)?;
        o.stage = stage;
        o.updated = now_ms();
        self.answer(id)
    }

    pub fn add_note(&mut self, id: &str, input: &Value) -> Answer {
        let value = text(input, "value").ok_or_else(|| bad_request("value is required"))?;
        let note = self.id("n0");
        let o = self.opportunity_mut(id)?;
        o.notes.push(value);
        o.updated = now_ms();
        Ok(json!({ "noteId": note }))
    }

    pub fn tags(&mut self, id: &str, input: &Value, add: bool) -> Answer {
        let tags = strings(input.get("tags"))?;
        if tags.is_empty() || tags.iter().any(|t| t.trim().is_empty()) {
            return Err(bad_request("tags must be non-empty strings"));
        }
        let o = self.opportunity_mut(id)?;
        o.tags.retain(|t| !tags.contains(t));
        if add {
            o.tags.extend(tags);
        }
        o.updated = now_ms();
        self.answer(id)
    }

    pub fn add_file(&mut self, id: &str, (name, content): (String, Vec<u8>)) -> Answer {
        let file = self.id("f0");
        let size = content.len();
        let o = self.opportunity_mut(id)?;
        o.files.push((name.clone(), content));
        o.updated = now_ms();
        Ok(
            json!({"id": file, "name": name, "size": size, "status": "processing", "uploadedAt": now_ms()}),
        )
    }

    pub fn archive(&mut self, id: &str, input: &Value) -> Answer {
        let reason = text(input, "reason")
            .filter(|r| REASONS.iter().any(|(id, _, _)| id == r))
            .ok_or_else(|| bad_request("reason must be an archive reason id"))?;
        let o = self.opportunity_mut(id)?;
        o.archived = Some((reason, now_ms()));
        o.updated = now_ms();
        self.answer(id)
    }

    pub fn fake_candidates(&self) -> Vec<FakeCandidate> {
        self.contacts
            .iter()
            .map(|c| {
                let opps: Vec<&Opportunity> =
                    self.opportunities.iter().filter(|o| o.contact == c.id).collect();
                let (first, last) = c.name.split_once(' ').unwrap_or((c.name.as_str(), ""));
                FakeCandidate {
                    id: c.id.clone(),
                    first_name: first.into(),
                    last_name: last.into(),
                    emails: c.emails.clone(),
                    phones: c.phones.clone(),
                    notes: opps.iter().flat_map(|o| o.notes.clone()).collect(),
                    tags: opps.iter().flat_map(|o| o.tags.clone()).collect(),
                    attachments: opps.iter().flat_map(|o| o.files.clone()).collect(),
                    applications: opps
                        .iter()
                        .filter_map(|o| {
                            Some(FakeApplication {
                                id: o.id.clone(),
                                job_id: o.posting.clone()?,
                                stage_id: Some(o.stage.clone()),
                                rejected_reason: o.archived.as_ref().and_then(|(r, _)| {
                                    REASONS
                                        .iter()
                                        .find(|(id, _, _)| id == r)
                                        .map(|(_, t, _)| t.to_string())
                                }),
                                ..Default::default()
                            })
                        })
                        .collect(),
                }
            })
            .collect()
    }
}
