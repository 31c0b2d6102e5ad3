//! The contract's records from the interpreter's JSON, and operation inputs as JSON.
//!
//! The interpreter (`ats-declarative`) maps a remote record onto a JSON object keyed by the
//! contract's field names in snake_case; this module reads such an object into the WIT
//! record (a missing or mistyped field takes the record's default, a status outside the
//! enum is an `invalid-input` naming the field) and writes each operation's input as the
//! JSON object the manifest's templates see as `input`.

use crate::prelude::*;
use ats_declarative::Record;
use serde_json::{Map, Value, json};

/// What a contract record is read from: a [`Record`] the interpreter mapped (a page of a
/// list), or the JSON object of a single call's answer or a webhook event.
pub trait Mapped {
    fn into_record(self, what: &str) -> Result<Record, AtsError>;
}

impl Mapped for Record {
    fn into_record(self, _what: &str) -> Result<Record, AtsError> {
        Ok(self)
    }
}

impl Mapped for Value {
    fn into_record(self, what: &str) -> Result<Record, AtsError> {
        Record::from_object(self).map_err(|other| {
            AtsError::InvalidInput(format!(
                "the manifest mapped a {what} to {other}, not an object"
            ))
        })
    }
}

/// One mapped record, its fields taken out as they are read (each is read once: the
/// strings move into the contract's record instead of being copied).
struct Fields(Record);

impl Fields {
    fn of(value: impl Mapped, what: &str) -> Result<Self, AtsError> {
        value.into_record(what).map(Fields)
    }

    /// The fields of a nested JSON object.
    fn nested(map: Map<String, Value>) -> Self {
        Fields(Record::from_map(map))
    }

    /// A text field: strings as they are, numbers and booleans as text.
    fn text(&mut self, key: &str) -> Option<String> {
        match self.0.remove(key)? {
            Value::String(text) => Some(text),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        }
    }

    fn required(&mut self, key: &str) -> String {
        self.text(key).unwrap_or_default()
    }

    fn texts(&mut self, key: &str) -> Vec<String> {
        match self.0.remove(key) {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(Fields::scalar)
                .filter(|text| !text.is_empty())
                .collect(),
            Some(Value::String(text)) if !text.is_empty() => vec![text],
            _ => Vec::new(),
        }
    }

    fn scalar(value: Value) -> Option<String> {
        match value {
            Value::String(text) => Some(text),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    fn flag(&mut self, key: &str) -> Option<bool> {
        match self.0.remove(key)? {
            Value::Bool(flag) => Some(flag),
            Value::String(text) => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Some(true),
                "false" | "no" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    fn number(&mut self, key: &str) -> Option<f64> {
        match self.0.remove(key)? {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    /// A location: the contract's location fields (mapped one by one or as an object), or
    /// free text.
    fn location(&mut self, key: &str) -> Option<Location> {
        match self.0.take_nested(key)? {
            Err(Value::String(text)) if !text.trim().is_empty() => Some(location(text)),
            Ok(parts) => {
                let mut parts = Fields(parts);
                Some(Location {
                    text: parts.text("text"),
                    city: parts.text("city"),
                    region: parts.text("region"),
                    country: parts.text("country").map(|c| c.to_ascii_uppercase()),
                    postal_code: parts.text("postal_code"),
                    remote: parts.flag("remote"),
                })
            }
            Err(_) => None,
        }
    }

    /// Custom fields: an object of name → value.
    fn custom_fields(&mut self) -> Vec<Field> {
        let Some(Value::Object(fields)) = self.0.remove("custom_fields") else { return Vec::new() };
        fields
            .into_iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::String(text) => text,
                    Value::Number(number) => number.to_string(),
                    other => other.to_string(),
                };
                Field { name, value }
            })
            .collect()
    }

    fn raw(&mut self) -> String {
        self.text("raw").unwrap_or_default()
    }

    /// An enum field by its kebab-case name (`_` and spaces read as `-`).
    fn choice<T: Copy>(
        &mut self,
        key: &str,
        record: &str,
        cases: &[(&str, T)],
    ) -> Result<Option<T>, AtsError> {
        let Some(text) = self.text(key) else { return Ok(None) };
        if let Some((_, case)) = cases.iter().find(|(name, _)| *name == text) {
            return Ok(Some(*case));
        }
        let wanted = text.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        match cases.iter().find(|(name, _)| *name == wanted) {
            Some((_, case)) => Ok(Some(*case)),
            None => Err(AtsError::InvalidInput(format!(
                "{record}.{key}: `{text}` is not one of {}; map the ATS's values onto these in the manifest (`map = {{ ... }}`)",
                cases.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

const JOB_STATUSES: [(&str, JobStatus); 4] = [
    ("open", JobStatus::Open),
    ("closed", JobStatus::Closed),
    ("draft", JobStatus::Draft),
    ("archived", JobStatus::Archived),
];

const EMPLOYMENT_TYPES: [(&str, EmploymentType); 7] = [
    ("full-time", EmploymentType::FullTime),
    ("part-time", EmploymentType::PartTime),
    ("contract", EmploymentType::Contract),
    ("temporary", EmploymentType::Temporary),
    ("internship", EmploymentType::Internship),
    ("freelance", EmploymentType::Freelance),
    ("other", EmploymentType::Other),
];

const APPLICATION_STATUSES: [(&str, ApplicationStatus); 4] = [
    ("active", ApplicationStatus::Active),
    ("rejected", ApplicationStatus::Rejected),
    ("hired", ApplicationStatus::Hired),
    ("withdrawn", ApplicationStatus::Withdrawn),
];

pub fn job(value: impl Mapped) -> Result<Job, AtsError> {
    let mut f = Fields::of(value, "job")?;
    Ok(Job {
        id: f.required("id"),
        code: f.text("code"),
        title: f.required("title"),
        status: f.choice("status", "job", &JOB_STATUSES)?.unwrap_or(JobStatus::Open),
        location: f.location("location"),
        employment_type: f.choice("employment_type", "job", &EMPLOYMENT_TYPES)?,
        description: f.text("description"),
        department: f.text("department"),
        assigned_users: f.texts("assigned_users"),
        post_url: f.text("post_url"),
        opened_at: f.text("opened_at"),
        closed_at: f.text("closed_at"),
        created_at: f.text("created_at"),
        updated_at: f.text("updated_at"),
        custom_fields: f.custom_fields(),
        raw: f.raw(),
        ..Job::default()
    })
}

pub fn stage(value: impl Mapped, position: usize) -> Result<Stage, AtsError> {
    let mut f = Fields::of(value, "stage")?;
    let fallback = u32::try_from(position).unwrap_or(u32::MAX);
    Ok(Stage {
        id: f.required("id"),
        name: f.required("name"),
        job_id: f.text("job_id"),
        position: f
            .number("position")
            .filter(|p| p.is_finite() && *p >= 0.0)
            .map_or(fallback, |p| p.min(f64::from(u32::MAX)) as u32),
        raw: f.raw(),
    })
}

pub fn candidate(value: impl Mapped) -> Result<Candidate, AtsError> {
    let mut f = Fields::of(value, "candidate")?;
    let links = match f.0.remove("links") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(url) => Some(ProfileLink { kind: None, url }),
                Value::Object(link) => {
                    let mut link = Fields::nested(link);
                    let url = link.text("url")?;
                    Some(ProfileLink { kind: link.text("kind"), url })
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Candidate {
        id: f.required("id"),
        first_name: f.required("first_name"),
        last_name: f.required("last_name"),
        emails: f.texts("emails"),
        phones: f.texts("phones"),
        tags: f.texts("tags"),
        source: f.text("source"),
        location: f.location("location"),
        company: f.text("company"),
        title: f.text("title"),
        links,
        updated_at: f.text("updated_at"),
        custom_fields: f.custom_fields(),
        raw: f.raw(),
    })
}

pub fn application(value: impl Mapped) -> Result<Application, AtsError> {
    let mut f = Fields::of(value, "application")?;
    let answers = match f.0.remove("answers") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|answer| match answer {
                Value::Object(answer) => Some(answer),
                _ => None,
            })
            .map(|answer| {
                let mut answer = Fields::nested(answer);
                Answer {
                    question_id: answer.text("question_id"),
                    question: answer.required("question"),
                    answer: answer.required("answer"),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Application {
        id: f.required("id"),
        candidate_id: f.required("candidate_id"),
        job_id: f.required("job_id"),
        stage_id: f.text("stage_id"),
        stage_name: f.text("stage_name"),
        status: f
            .choice("status", "application", &APPLICATION_STATUSES)?
            .unwrap_or(ApplicationStatus::Active),
        source: f.text("source"),
        rejection_reason: f.text("rejection_reason"),
        rejected_at: f.text("rejected_at"),
        hired_at: f.text("hired_at"),
        answers,
        created_at: f.text("created_at"),
        updated_at: f.text("updated_at"),
        custom_fields: f.custom_fields(),
        raw: f.raw(),
    })
}

pub fn tag(value: impl Mapped) -> Result<Tag, AtsError> {
    let mut f = Fields::of(value, "tag")?;
    let name = f.required("name");
    Ok(Tag { id: f.text("id").unwrap_or_else(|| name.clone()), name })
}

pub fn rejection_reason(value: impl Mapped) -> Result<RejectionReason, AtsError> {
    let mut f = Fields::of(value, "rejection reason")?;
    Ok(RejectionReason { id: f.required("id"), name: f.required("name") })
}

pub fn user(value: impl Mapped) -> Result<User, AtsError> {
    let mut f = Fields::of(value, "user")?;
    Ok(User {
        id: f.required("id"),
        first_name: f.required("first_name"),
        last_name: f.required("last_name"),
        email: f.text("email"),
        active: f.flag("active").unwrap_or(true),
    })
}

pub fn account(value: impl Mapped) -> Result<Account, AtsError> {
    let mut f = Fields::of(value, "account")?;
    Ok(Account { display_name: f.text("display_name").unwrap_or_else(|| "connected".into()) })
}

pub fn upsert(value: impl Mapped) -> Result<UpsertResult, AtsError> {
    let mut f = Fields::of(value, "upsert result")?;
    let candidate_id = f.required("candidate_id");
    if candidate_id.is_empty() {
        return Err(AtsError::InvalidInput(
            "the manifest's upsert-candidate result has no candidate_id; map it (`result = { candidate_id = \"id\" }`)".into(),
        ));
    }
    let outcome = match f.text("outcome").as_deref() {
        Some("matched") => UpsertOutcome::Matched,
        _ => UpsertOutcome::Created,
    };
    Ok(UpsertResult { candidate_id, outcome })
}

/// A change event from `[webhook] fields` (`kind` already one of the contract's kinds).
pub fn change_event(value: impl Mapped) -> Result<ChangeEvent, AtsError> {
    let mut f = Fields::of(value, "change event")?;
    let kind = match f.required("kind").as_str() {
        "job-changed" => ChangeKind::JobChanged,
        "job-deleted" => ChangeKind::JobDeleted,
        "candidate-changed" => ChangeKind::CandidateChanged,
        "application-changed" => ChangeKind::ApplicationChanged,
        "application-stage-changed" => ChangeKind::ApplicationStageChanged,
        other => {
            return Err(AtsError::InvalidInput(format!(
                "the manifest mapped a webhook event to kind `{other}`, not a change kind"
            )));
        }
    };
    Ok(ChangeEvent {
        kind,
        remote_id: f.required("remote_id"),
        occurred_at: f.text("occurred_at"),
        raw: f.raw(),
    })
}

pub fn receipt(value: Value) -> WriteReceipt {
    match value {
        Value::Object(fields) => {
            let mut f = Fields::nested(fields);
            WriteReceipt { remote_id: f.text("remote_id"), remark: f.text("remark") }
        }
        _ => WriteReceipt { remote_id: None, remark: None },
    }
}

/// A target as `input.target`: `{"candidate": id}` or `{"application": id}`, plus `kind`
/// and `id` for templates that do not care which.
pub fn target(target: &Target) -> Value {
    match target {
        Target::Candidate(id) => json!({"candidate": id, "kind": "candidate", "id": id}),
        Target::Application(id) => json!({"application": id, "kind": "application", "id": id}),
    }
}

fn location_json(location: &Option<Location>) -> Value {
    match location {
        Some(l) => json!({
            "text": l.text, "city": l.city, "region": l.region, "country": l.country,
            "postal_code": l.postal_code, "remote": l.remote,
        }),
        None => Value::Null,
    }
}

fn fields_json(fields: &[Field]) -> Value {
    Value::Object(fields.iter().map(|f| (f.name.clone(), json!(f.value))).collect())
}

pub fn candidate_input(input: &CandidateInput) -> Value {
    json!({
        "first_name": input.first_name, "last_name": input.last_name,
        "emails": input.emails, "phones": input.phones, "source": input.source,
        "location": location_json(&input.location), "company": input.company,
        "title": input.title,
        "links": input.links.iter().map(|l| json!({"kind": l.kind, "url": l.url})).collect::<Vec<_>>(),
        "custom_fields": fields_json(&input.custom_fields),
    })
}

pub fn application_input(input: &ApplicationInput) -> Value {
    json!({
        "candidate_id": input.candidate_id, "job_id": input.job_id, "stage_id": input.stage_id,
        "source": input.source,
        "answers": input.answers.iter().map(|a| json!({
            "question_id": a.question_id, "question": a.question, "answer": a.answer,
        })).collect::<Vec<_>>(),
    })
}

pub fn attachment_input(input: &AttachmentInput) -> Value {
    use base64::Engine as _;
    let kind = match input.kind {
        AttachmentKind::Cv => "cv",
        AttachmentKind::Report => "report",
        AttachmentKind::Other => "other",
    };
    json!({
        "target": target(&input.target), "filename": input.filename,
        "content_type": input.content_type, "kind": kind,
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&input.content),
        "size": input.content.len(),
    })
}

pub fn result_input(input: &ResultInput) -> Value {
    use base64::Engine as _;
    let status = match input.status {
        ResultStatus::Completed => "completed",
        ResultStatus::Cancelled => "cancelled",
    };
    json!({
        "application_id": input.application_id, "status": status, "score": input.score,
        "max_score": input.max_score, "link": input.link, "summary": input.summary,
        "sub_results": input.sub_results.iter().map(|s| json!({
            "label": s.label, "score": s.score, "max_score": s.max_score,
        })).collect::<Vec<_>>(),
        "report": input.report.as_ref().map(|r| json!({
            "filename": r.filename, "content_type": r.content_type,
            "content_base64": base64::engine::general_purpose::STANDARD.encode(&r.content),
        })),
    })
}

pub fn reject_input(input: &RejectInput) -> Value {
    json!({"application_id": input.application_id, "reason": input.reason, "reason_id": input.reason_id})
}

/// A subscription as `input`: `url`, `secret` and `kinds` (kebab-case change kinds).
pub fn webhook_subscription(subscription: &WebhookSubscription) -> Value {
    let kinds: Vec<&str> = subscription
        .kinds
        .iter()
        .map(|kind| match kind {
            ChangeKind::JobChanged => "job-changed",
            ChangeKind::JobDeleted => "job-deleted",
            ChangeKind::CandidateChanged => "candidate-changed",
            ChangeKind::ApplicationChanged => "application-changed",
            ChangeKind::ApplicationStageChanged => "application-stage-changed",
        })
        .collect();
    json!({"url": subscription.url, "secret": subscription.secret, "kinds": kinds})
}
