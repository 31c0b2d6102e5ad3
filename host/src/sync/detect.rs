//! Change detection: compares a record from the ATS with the stored one and decides what to
//! store and which events to append. Jobs: created (stored inactive), updated (unless
//! frozen), closed (archived), reopened, deleted (only after a complete full scan).
//! Applications: created, and entered stage X once per transition. Candidates behind
//! synced applications: updated when their name, contact details or custom fields change.

use crate::model::{Application, ApplicationStatus, Candidate, Job, JobStatus, Stage};
use crate::store::{
    NewEvent, RunCounts, StoredApplication, StoredCandidate, StoredJob, StoredStage,
};
use serde_json::{Value, json};

/// Where records are being synced to.
pub struct Scope<'a> {
    pub tenant_id: &'a str,
    pub connection_id: &'a str,
    pub now: i64,
}

fn job_status(status: JobStatus) -> &'static str {
    status.name()
}

fn is_closed(status: &str) -> bool {
    matches!(status, "closed" | "archived")
}

fn raw_json(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// The fields whose change is a `job.updated`.
fn job_view(job: &StoredJob) -> Value {
    json!([
        job.code,
        job.title,
        job.status,
        job.location,
        job.country,
        job.description,
        job.assigned_users
    ])
}

fn job_summary(job: &StoredJob) -> Value {
    json!({"job_id": job.remote_id, "code": job.code, "title": job.title, "status": job.status, "location": job.location})
}

/// Decides the stored job and the events for one job from the ATS.
pub fn job(
    scope: &Scope,
    existing: Option<StoredJob>,
    incoming: &Job,
    scan_id: Option<&str>,
    counts: &mut RunCounts,
) -> (StoredJob, Vec<NewEvent>) {
    counts.seen += 1;
    let status = job_status(incoming.status).to_string();
    let fresh = StoredJob {
        connection_id: scope.connection_id.to_string(),
        tenant_id: scope.tenant_id.to_string(),
        remote_id: incoming.id.clone(),
        code: incoming.code.clone(),
        title: incoming.title.clone(),
        status: status.clone(),
        location: incoming.location.as_ref().and_then(crate::model::Location::display),
        country: incoming
            .location
            .as_ref()
            .and_then(|l| l.country.clone())
            .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
            .map(|c| c.to_ascii_uppercase()),
        description: incoming.description.clone(),
        assigned_users: incoming.assigned_users.clone(),
        remote_updated_at: incoming.updated_at.clone(),
        raw: raw_json(&incoming.raw),
        active: false,
        frozen: false,
        archived: is_closed(&status),
        first_seen_at: scope.now,
        updated_at: scope.now,
        last_seen_scan: scan_id.map(str::to_string),
    };
    let Some(mut stored) = existing else {
        counts.created += 1;
        let event = NewEvent {
            event_type: "job.created",
            subject_id: fresh.remote_id.clone(),
            data: job_summary(&fresh),
        };
        return (fresh, vec![event]);
    };
    let mut events = Vec::new();
    let was_closed = is_closed(&stored.status) || stored.archived;
    let now_closed = is_closed(&status);
    let fields_changed = job_view(&stored) != job_view(&fresh);
    if scan_id.is_some() {
        stored.last_seen_scan = scan_id.map(str::to_string);
    }
    if !fields_changed && was_closed == now_closed {
        return (stored, events);
    }
    stored.raw = fresh.raw.clone();
    stored.remote_updated_at = fresh.remote_updated_at.clone();
    stored.updated_at = scope.now;
    if !was_closed && now_closed {
        counts.closed += 1;
        stored.archived = true;
        stored.status = status.clone();
        events.push(NewEvent {
            event_type: "job.closed",
            subject_id: stored.remote_id.clone(),
            data: job_summary(&stored),
        });
    } else if was_closed && !now_closed {
        counts.reopened += 1;
        stored.archived = false;
        stored.status = status.clone();
        events.push(NewEvent {
            event_type: "job.reopened",
            subject_id: stored.remote_id.clone(),
            data: job_summary(&stored),
        });
    }
    if fields_changed && !stored.frozen {
        let before = job_summary(&stored);
        stored.code = fresh.code;
        stored.title = fresh.title;
        stored.status = fresh.status;
        stored.location = fresh.location;
        stored.country = fresh.country;
        stored.description = fresh.description;
        stored.assigned_users = fresh.assigned_users;
        if events.is_empty() {
            counts.updated += 1;
            events.push(NewEvent {
                event_type: "job.updated",
                subject_id: stored.remote_id.clone(),
                data: json!({"before": before, "after": job_summary(&stored)}),
            });
        }
    }
    (stored, events)
}

/// A job the completed full scan did not see: archived with a `job.deleted` event.
pub fn job_missing_from_scan(
    scope: &Scope,
    mut stored: StoredJob,
    counts: &mut RunCounts,
) -> (StoredJob, NewEvent) {
    counts.deleted += 1;
    stored.archived = true;
    stored.updated_at = scope.now;
    let event = NewEvent {
        event_type: "job.deleted",
        subject_id: stored.remote_id.clone(),
        data: job_summary(&stored),
    };
    (stored, event)
}

/// The stage to store; it keeps its `updated_at` when nothing about it changed.
pub fn stage(scope: &Scope, existing: Option<&StoredStage>, incoming: &Stage) -> StoredStage {
    let mut fresh = StoredStage {
        connection_id: scope.connection_id.to_string(),
        remote_id: incoming.id.clone(),
        job_id: incoming.job_id.clone(),
        name: incoming.name.clone(),
        position: incoming.position,
        updated_at: scope.now,
    };
    if let Some(old) = existing
        && (old.job_id.as_ref(), old.name.as_str(), old.position)
            == (fresh.job_id.as_ref(), fresh.name.as_str(), fresh.position)
        && old.updated_at != 0
    {
        fresh.updated_at = old.updated_at;
    }
    fresh
}

fn application_status(status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::Active => "active",
        ApplicationStatus::Rejected => "rejected",
        ApplicationStatus::Hired => "hired",
        ApplicationStatus::Withdrawn => "withdrawn",
    }
}

/// Decides the stored application and its events. `stage_names` resolves stage ids for
/// event payloads.
pub fn application(
    scope: &Scope,
    existing: Option<StoredApplication>,
    incoming: &Application,
    stage_name: impl Fn(&str) -> Option<String>,
    counts: &mut RunCounts,
) -> (StoredApplication, Vec<NewEvent>) {
    counts.seen += 1;
    let status = application_status(incoming.status).to_string();
    let summary = |app: &StoredApplication| {
        json!({
            "application_id": app.remote_id, "candidate_id": app.candidate_id, "job_id": app.job_id,
            "stage_id": app.stage_id, "stage_name": app.stage_id.as_deref().and_then(&stage_name), "status": app.status,
            "candidate_url": format!("/v1/connections/{}/candidates/{}", app.connection_id, app.candidate_id),
        })
    };
    let Some(mut stored) = existing else {
        counts.created += 1;
        let fresh = StoredApplication {
            connection_id: scope.connection_id.to_string(),
            tenant_id: scope.tenant_id.to_string(),
            remote_id: incoming.id.clone(),
            candidate_id: incoming.candidate_id.clone(),
            job_id: incoming.job_id.clone(),
            stage_id: incoming.stage_id.clone(),
            status,
            remote_updated_at: incoming.updated_at.clone(),
            stage_entered_at: scope.now,
            raw: raw_json(&incoming.raw),
            first_seen_at: scope.now,
            updated_at: scope.now,
        };
        let event = NewEvent {
            event_type: "application.created",
            subject_id: fresh.remote_id.clone(),
            data: summary(&fresh),
        };
        return (fresh, vec![event]);
    };
    let mut events = Vec::new();
    let stage_changed = stored.stage_id != incoming.stage_id;
    let status_changed = stored.status != status;
    if !stage_changed && !status_changed {
        return (stored, events);
    }
    counts.updated += 1;
    let previous_stage = stored.stage_id.clone();
    stored.stage_id = incoming.stage_id.clone();
    stored.status = status;
    stored.remote_updated_at = incoming.updated_at.clone();
    stored.raw = raw_json(&incoming.raw);
    stored.updated_at = scope.now;
    if stage_changed {
        stored.stage_entered_at = scope.now;
        let mut data = summary(&stored);
        data["previous_stage_id"] = json!(previous_stage);
        events.push(NewEvent {
            event_type: "application.stage_changed",
            subject_id: stored.remote_id.clone(),
            data,
        });
    }
    if status_changed {
        events.push(NewEvent {
            event_type: "application.status_changed",
            subject_id: stored.remote_id.clone(),
            data: summary(&stored),
        });
    }
    (stored, events)
}

fn candidate_summary(candidate: &StoredCandidate) -> Value {
    json!({
        "candidate_id": candidate.remote_id, "first_name": candidate.first_name,
        "last_name": candidate.last_name, "emails": candidate.emails, "phones": candidate.phones,
        "custom_fields": candidate.custom_fields, "tags": candidate.tags, "source": candidate.source,
        "company": candidate.company, "title": candidate.title, "location": candidate.location,
    })
}

/// Decides the stored candidate and its event. The first sight of a candidate is its
/// baseline (its application's `application.created` announced it); later changes of name,
/// contact details, custom fields, tags, source, company, title or location are a
/// `candidate.updated` with before and after.
pub fn candidate(
    scope: &Scope,
    existing: Option<StoredCandidate>,
    incoming: &Candidate,
    counts: &mut RunCounts,
) -> Option<(StoredCandidate, Option<NewEvent>)> {
    let mut fresh = StoredCandidate {
        connection_id: scope.connection_id.to_string(),
        tenant_id: scope.tenant_id.to_string(),
        remote_id: incoming.id.clone(),
        first_name: incoming.first_name.clone(),
        last_name: incoming.last_name.clone(),
        emails: incoming.emails.clone(),
        phones: incoming.phones.clone(),
        custom_fields: incoming
            .custom_fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect(),
        tags: incoming.tags.clone(),
        source: incoming.source.clone(),
        company: incoming.company.clone(),
        title: incoming.title.clone(),
        location: incoming.location.as_ref().and_then(crate::model::Location::display),
        remote_updated_at: incoming.updated_at.clone(),
        first_seen_at: scope.now,
        updated_at: scope.now,
    };
    let Some(stored) = existing else {
        return Some((fresh, None));
    };
    if candidate_summary(&stored) == candidate_summary(&fresh) {
        return None;
    }
    counts.updated += 1;
    fresh.first_seen_at = stored.first_seen_at;
    let event = NewEvent {
        event_type: "candidate.updated",
        subject_id: fresh.remote_id.clone(),
        data: json!({"before": candidate_summary(&stored), "after": candidate_summary(&fresh)}),
    };
    Some((fresh, Some(event)))
}
