//! The data a trigger provides — its **document**, which conditions and templates read —
//! built from an event of the host's log and the stored records it names, and the events
//! the host itself appends for the triggers that do not come from a sync (a result
//! submitted, a review, a candidate pushed).
//!
//! Sections of a document, by trigger:
//!
//! | trigger | sections |
//! |---|---|
//! | stage-entered | event, application, stage, previous_stage, candidate, job |
//! | application-created | event, application, stage, candidate, job |
//! | job-created / job-closed / job-reopened | event, job |
//! | candidate-updated | event, candidate, candidate_before |
//! | result-submitted | event, application, stage, candidate, job, order, result |
//! | review-event | event, application, stage, candidate, job, order, result, review |
//! | candidate-pushed | event, candidate, job, application, push |
//!
//! Fields of each section are [`FIELDS`]; `candidate.custom_fields.*` and
//! `result.attributes.*` are open (any name). A field the ATS did not give is `null`.

use super::model::{ReviewKind, StageMapping, Trigger};
use super::orders::{Order, OrderResult};
use crate::store::{
    Event, NewEvent, Store, StoreError, StoredApplication, StoredCandidate, StoredJob,
};
use serde_json::{Map, Value, json};

/// Event types automations listen to: the sync's (see `sync::detect`) and the host's own.
pub mod event_types {
    pub const STAGE_CHANGED: &str = "application.stage_changed";
    pub const APPLICATION_CREATED: &str = "application.created";
    pub const JOB_CREATED: &str = "job.created";
    pub const JOB_CLOSED: &str = "job.closed";
    pub const JOB_REOPENED: &str = "job.reopened";
    pub const CANDIDATE_UPDATED: &str = "candidate.updated";
    /// Appended by the host when a product posts a result (see [`super::result_submitted`]).
    pub const RESULT_SUBMITTED: &str = "result.submitted";
    /// Appended by the host when a product posts a review of a result.
    pub const RESULT_REVIEWED: &str = "result.reviewed";
    /// Appended by the host after a push through it.
    pub const CANDIDATE_PUSHED: &str = "candidate.pushed";
}

const CANDIDATE: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "emails",
    "phone",
    "phones",
    "tags",
    "source",
    "company",
    "title",
    "location",
    "url",
    "custom_fields",
];
const STAGE: &[&str] = &["id", "name", "mapped_name"];

/// The known fields of each section.
pub const FIELDS: &[(&str, &[&str])] = &[
    ("event", &["id", "type", "occurred_at", "connection_id"]),
    ("application", &["id", "candidate_id", "job_id", "stage_id", "status", "stage_entered_at"]),
    ("stage", STAGE),
    ("previous_stage", STAGE),
    ("candidate", CANDIDATE),
    ("candidate_before", CANDIDATE),
    ("job", &["id", "code", "title", "status", "location", "country", "active"]),
    (
        "result",
        &[
            "status",
            "score",
            "max_score",
            "score_percent",
            "link",
            "summary",
            "has_report",
            "submitted_at",
            "attributes",
        ],
    ),
    ("order", &["id", "package_id", "state", "ordered_at"]),
    ("review", &["id", "kind", "comment", "author", "created_at"]),
    ("push", &["source", "candidate_outcome", "tags"]),
];

/// Fields under which any name is accepted.
const OPEN: &[&str] =
    &["candidate.custom_fields", "candidate_before.custom_fields", "result.attributes"];

/// The sections a trigger's document has.
pub fn sections(trigger: &Trigger) -> &'static [&'static str] {
    match trigger {
        Trigger::StageEntered { .. } => {
            &["event", "application", "stage", "previous_stage", "candidate", "job"]
        }
        Trigger::ApplicationCreated {} => &["event", "application", "stage", "candidate", "job"],
        Trigger::JobCreated {} | Trigger::JobClosed {} | Trigger::JobReopened {} => {
            &["event", "job"]
        }
        Trigger::CandidateUpdated {} => &["event", "candidate", "candidate_before"],
        Trigger::ResultSubmitted {} => {
            &["event", "application", "stage", "candidate", "job", "order", "result"]
        }
        Trigger::ReviewEvent { .. } => {
            &["event", "application", "stage", "candidate", "job", "order", "result", "review"]
        }
        Trigger::CandidatePushed {} => &["event", "candidate", "job", "application", "push"],
    }
}

/// Whether `path` names a field of `trigger`'s document; `Err` says what is there instead.
pub fn check_path(trigger: &Trigger, path: &str) -> Result<(), String> {
    let mut segments = path.split('.');
    let section = segments.next().unwrap_or_default();
    let available = sections(trigger);
    if !available.contains(&section) {
        return Err(format!(
            "the {} trigger provides no `{section}`; it provides: {}",
            trigger.name(),
            available.join(", ")
        ));
    }
    let Some(field) = segments.next() else { return Ok(()) };
    let known = FIELDS.iter().find(|(name, _)| *name == section).map(|(_, f)| *f).unwrap_or(&[]);
    if !known.contains(&field) {
        return Err(format!(
            "`{section}` has no field `{field}`; its fields: {}",
            known.join(", ")
        ));
    }
    let rest: Vec<&str> = segments.collect();
    let prefix = format!("{section}.{field}");
    let list_index = rest.len() == 1 && rest[0].parse::<usize>().is_ok();
    if rest.is_empty() || OPEN.contains(&prefix.as_str()) || list_index {
        Ok(())
    } else {
        Err(format!("`{prefix}` has no field `{}`", rest.join(".")))
    }
}

/// The records a document is built from.
pub struct Lookups<'a> {
    pub store: &'a dyn Store,
    /// The stage mapping of the event's connection.
    pub mapping: Option<&'a StageMapping>,
}

impl Lookups<'_> {
    async fn stage(
        &self,
        connection_id: &str,
        stage_id: Option<&str>,
        name: Option<&str>,
    ) -> Value {
        let Some(id) = stage_id else { return Value::Null };
        let name = match name {
            Some(name) => Some(name.to_string()),
            None => self
                .store
                .stages(connection_id)
                .await
                .ok()
                .and_then(|stages| stages.into_iter().find(|s| s.remote_id == id))
                .map(|s| s.name),
        };
        json!({"id": id, "name": name, "mapped_name": self.mapping.and_then(|m| m.name_of(id))})
    }
}

/// A candidate's section.
pub fn candidate_section(candidate: &StoredCandidate) -> Value {
    let custom: Map<String, Value> = candidate
        .custom_fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "id": candidate.remote_id, "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "full_name": format!("{} {}", candidate.first_name, candidate.last_name).trim(),
        "email": candidate.emails.first(), "emails": candidate.emails,
        "phone": candidate.phones.first(), "phones": candidate.phones, "tags": candidate.tags,
        "source": candidate.source, "company": candidate.company, "title": candidate.title,
        "location": candidate.location,
        "url": format!("/v1/connections/{}/candidates/{}", candidate.connection_id, candidate.remote_id),
        "custom_fields": custom,
    })
}

/// A job's section.
pub fn job_section(job: &StoredJob) -> Value {
    json!({"id": job.remote_id, "code": job.code, "title": job.title, "status": job.status,
           "location": job.location, "country": job.country, "active": job.active})
}

/// An application's section.
pub fn application_section(application: &StoredApplication) -> Value {
    json!({"id": application.remote_id, "candidate_id": application.candidate_id,
           "job_id": application.job_id, "stage_id": application.stage_id,
           "status": application.status, "stage_entered_at": application.stage_entered_at})
}

fn text<'a>(data: &'a Value, key: &str) -> Option<&'a str> {
    data.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The document of `event`, enriched from the store: the application, its candidate and
/// job as last synced. Sections the store cannot fill stay as the event carried them.
pub async fn build(event: &Event, lookups: &Lookups<'_>) -> Result<Value, StoreError> {
    let data = &event.data;
    let connection = event.connection_id.as_str();
    let mut doc = Map::new();
    doc.insert(
        "event".into(),
        json!({"id": event.id, "type": event.event_type, "occurred_at": crate::time::format_ms(event.occurred_at),
               "connection_id": connection}),
    );
    let application_id = text(data, "application_id");
    let application = match application_id {
        Some(id) => lookups.store.application(connection, id).await?,
        None => None,
    };
    let candidate_id = text(data, "candidate_id")
        .map(str::to_string)
        .or_else(|| application.as_ref().map(|a| a.candidate_id.clone()))
        .or_else(|| {
            data.pointer("/after/candidate_id").and_then(Value::as_str).map(str::to_string)
        });
    let job_id = text(data, "job_id")
        .map(str::to_string)
        .or_else(|| application.as_ref().map(|a| a.job_id.clone()))
        .or_else(|| event.event_type.starts_with("job.").then(|| event.subject_id.clone()));
    if let Some(app) = &application {
        doc.insert("application".into(), application_section(app));
    } else if let Some(id) = application_id {
        doc.insert(
            "application".into(),
            json!({"id": id, "candidate_id": candidate_id, "job_id": job_id, "stage_id": data.get("stage_id"), "status": data.get("status")}),
        );
    }
    if application_id.is_some() {
        let stage_id = text(data, "stage_id")
            .map(str::to_string)
            .or_else(|| application.as_ref().and_then(|a| a.stage_id.clone()));
        doc.insert(
            "stage".into(),
            lookups.stage(connection, stage_id.as_deref(), text(data, "stage_name")).await,
        );
        if event.event_type == event_types::STAGE_CHANGED {
            doc.insert(
                "previous_stage".into(),
                lookups.stage(connection, text(data, "previous_stage_id"), None).await,
            );
        }
    }
    if let Some(id) = &candidate_id {
        let candidate = match lookups.store.candidate(connection, id).await? {
            Some(c) => candidate_section(&c),
            None => data.get("after").cloned().unwrap_or_else(|| json!({"id": id})),
        };
        doc.insert("candidate".into(), candidate);
    }
    if let Some(before) =
        data.get("before").filter(|_| event.event_type == event_types::CANDIDATE_UPDATED)
    {
        let mut before = before.clone();
        if let Some(fields) = before.get("custom_fields").and_then(Value::as_array) {
            let map: Map<String, Value> = fields
                .iter()
                .filter_map(|pair| Some((pair.get(0)?.as_str()?.to_string(), pair.get(1)?.clone())))
                .collect();
            before["custom_fields"] = Value::Object(map);
        }
        if let Some(id) = before.get("candidate_id").cloned() {
            before["id"] = id;
        }
        doc.insert("candidate_before".into(), before);
    }
    if let Some(id) = &job_id {
        let job = match lookups.store.job(connection, id).await? {
            Some(job) => job_section(&job),
            None => {
                json!({"id": id, "title": data.get("title"), "code": data.get("code"), "status": data.get("status")})
            }
        };
        doc.insert("job".into(), job);
    }
    for section in ["result", "order", "review", "push"] {
        if let Some(value) = data.get(section) {
            doc.insert(section.into(), value.clone());
        }
    }
    Ok(Value::Object(doc))
}

/// The `result` section of an order's posted result (its report stays on the order).
pub fn result_section(result: &OrderResult, submitted_at: i64) -> Value {
    let percent = result.score.map(|s| match result.max_score {
        Some(max) if max > 0.0 => s * 100.0 / max,
        _ => s,
    });
    json!({
        "status": "completed", "score": result.score, "max_score": result.max_score,
        "score_percent": percent, "link": result.link, "summary": result.summary,
        "has_report": result.report.is_some(), "attributes": result.attributes,
        "submitted_at": result.completed_at.clone().unwrap_or_else(|| crate::time::format_ms(submitted_at)),
    })
}

/// The `order` section of an order.
pub fn order_section(order: &Order) -> Value {
    json!({"id": order.id, "package_id": order.package_id, "state": order.state,
           "ordered_at": crate::time::format_ms(order.created_at)})
}

/// The event to append when a product posted `order`'s result (and
/// [`super::orders::Posted::New`] said it is new): it fires `result-submitted`
/// automations, once per order. A result without an order is posted on an order the host
/// creates for it, so every result has one.
pub fn result_submitted(order: &Order, now: i64) -> Option<NewEvent> {
    let result = order.result.as_ref()?;
    Some(NewEvent {
        event_type: event_types::RESULT_SUBMITTED,
        subject_id: order.application_id.clone(),
        data: json!({"application_id": order.application_id, "candidate_id": order.candidate_id,
                     "job_id": order.job_id, "order": order_section(order),
                     "result": result_section(result, now)}),
    })
}

/// A product's review of a result (`review-event` trigger).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The product's id of the review (dedupes a repeated post).
    pub id: String,
    pub kind: ReviewKind,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
}

/// The event appended when a product reviews a result.
pub fn result_reviewed(order: &Order, review: &Review, now: i64) -> NewEvent {
    let mut review_section = serde_json::to_value(review).unwrap_or(Value::Null);
    review_section["created_at"] = json!(crate::time::format_ms(now));
    NewEvent {
        event_type: event_types::RESULT_REVIEWED,
        subject_id: order.application_id.clone(),
        data: json!({"application_id": order.application_id, "candidate_id": order.candidate_id,
                     "job_id": order.job_id, "order": order_section(order), "review": review_section,
                     "result": order.result.as_ref().map(|r| result_section(r, now))}),
    }
}

/// The event appended after a push through the host; `push_key` identifies the push
/// (its idempotency key, or a fresh id).
pub fn candidate_pushed(
    candidate_id: &str,
    application_id: Option<&str>,
    job_id: Option<&str>,
    push_key: &str,
    push: Value,
) -> NewEvent {
    NewEvent {
        event_type: event_types::CANDIDATE_PUSHED,
        subject_id: candidate_id.to_string(),
        data: json!({"candidate_id": candidate_id, "application_id": application_id, "job_id": job_id,
                     "push_key": push_key, "push": push}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automations::model::StageRef;

    #[test]
    fn paths_are_checked_against_the_trigger_sections() {
        let stage = Trigger::StageEntered { stage: StageRef::StageId("s".into()) };
        assert!(check_path(&stage, "candidate.emails").is_ok());
        assert!(check_path(&stage, "candidate.emails.0").is_ok());
        assert!(check_path(&stage, "candidate.custom_fields.linkedin").is_ok());
        assert!(
            check_path(&stage, "result.score")
                .expect_err("no result")
                .contains("provides no `result`")
        );
        assert!(check_path(&Trigger::ResultSubmitted {}, "result.score").is_ok());
        assert!(check_path(&Trigger::ResultSubmitted {}, "result.attributes.qualified").is_ok());
        let unknown =
            check_path(&Trigger::ResultSubmitted {}, "result.grade").expect_err("unknown");
        assert!(unknown.contains("score_percent"), "{unknown}");
        assert!(check_path(&Trigger::JobCreated {}, "job.title.x").is_err());
    }

    #[tokio::test]
    async fn a_stage_change_document_carries_the_stored_records() {
        let store = crate::store::SledStore::temporary().expect("store");
        let event = Event {
            seq: 1,
            id: "evt_1".into(),
            tenant_id: "t".into(),
            connection_id: "c".into(),
            event_type: event_types::STAGE_CHANGED.into(),
            subject_id: "a1".into(),
            data: json!({"application_id": "a1", "candidate_id": "cand-1", "job_id": "j1",
                         "stage_id": "s2", "stage_name": "Assessment", "previous_stage_id": "s1"}),
            occurred_at: 0,
        };
        let mapping = StageMapping { stages: [("Test".to_string(), "s2".to_string())].into() };
        let doc =
            build(&event, &Lookups { store: &store, mapping: Some(&mapping) }).await.expect("doc");
        assert_eq!(doc["stage"], json!({"id": "s2", "name": "Assessment", "mapped_name": "Test"}));
        assert_eq!(doc["previous_stage"]["id"], "s1");
        assert_eq!(doc["application"]["job_id"], "j1");
        assert_eq!(doc["candidate"]["id"], "cand-1");
        assert_eq!(doc["job"]["id"], "j1");
        assert_eq!(doc["event"]["occurred_at"], "1970-01-01T00:00:00.000Z");
    }
}
