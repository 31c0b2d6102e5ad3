//! Reads: `cr<Entity>Page(qualifier, pageable: {page, size})` answered with `totalElements`
//! and `items` (pages numbered from `first-page`, [L] zero-based), and the mapping of CR*
//! records onto the contract's jobs, stages, applications and candidates.

use crate::graphql::{self, string};
use crate::qualifier;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::Value;

pub const VACANCY_FIELDS: &str = "_id vacancyID jobTitle modificationDate creationDate deleted isOpenApplication toStatusNode { value }";
pub const STATUS_FIELDS: &str =
    "_id statusName displayName sortOrder isFinal isSuccessfullyFilled notActive";
pub const MATCH_FIELDS: &str = "_id modificationDate creationDate applySource motivation notes applyTags toEmployee { _id } toVacancy { _id } toPublication { _id } statusInfo { _id statusName isFinal isSuccessfullyFilled }";
pub const EMPLOYEE_FIELDS: &str = "_id employeeID firstName lastName emailAddress phoneNumber mobileNumber modificationDate notes applyTags";

/// One page of a `cr<Entity>Page` query.
pub struct Page {
    pub items: Vec<Value>,
    pub next_page_token: Option<String>,
}

fn page_number(settings: &Settings, token: Option<&str>) -> Result<u32, AtsError> {
    match token {
        None => Ok(settings.first_page),
        Some(token) => token.strip_prefix("page:").and_then(|n| n.parse().ok()).ok_or_else(|| {
            AtsError::InvalidInput(format!("`{token}` is not a page token of this connector"))
        }),
    }
}

/// Runs `root(qualifier, pageable)` for one page.
pub fn page(
    settings: &Settings,
    root: &str,
    fields: &str,
    qualifier: Option<&str>,
    request: &PageRequest,
) -> Result<Page, AtsError> {
    let number = page_number(settings, request.page_token.as_deref())?;
    let size = settings.page_size(request.limit);
    let qualifier = qualifier.map(|q| format!("qualifier: {}, ", string(q))).unwrap_or_default();
    let document = format!(
        "query {{ {root}({qualifier}pageable: {{page: {number}, size: {size}}}) {{ totalElements items {{ {fields} }} }} }}"
    );
    let answer = graphql::execute(settings, &document, root)?;
    let items = answer.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = answer.get("totalElements").and_then(Value::as_u64).unwrap_or(0);
    let index = u64::from(number.saturating_sub(settings.first_page));
    let seen = (index + 1) * u64::from(size);
    let next_page_token =
        (!items.is_empty() && seen < total).then(|| format!("page:{}", number + 1));
    Ok(Page { items, next_page_token })
}

/// The qualifier of an incremental read, if `since` is given.
pub fn since_qualifier(request: &PageRequest) -> Result<Option<String>, AtsError> {
    request.since.as_deref().map(|s| qualifier::modified_since("modificationDate", s)).transpose()
}

/// An id field (Carerix sends ids as strings or numbers).
pub fn text(record: &Value, path: &[&str]) -> Option<String> {
    let mut value = record;
    for key in path {
        value = value.get(*key)?;
    }
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A boolean field (Carerix answers booleans, 0/1 or "1"/"true").
fn flag(record: &Value, key: &str) -> bool {
    match record.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_u64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn timestamp(record: &Value, key: &str) -> Option<String> {
    record.get(key).and_then(Value::as_str).and_then(qualifier::to_rfc3339)
}

fn required_id(record: &Value, what: &str) -> Result<String, AtsError> {
    text(record, &["_id"]).ok_or_else(|| {
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: format!("a {what} without `_id` in the answer"),
        })
    })
}

pub fn job(settings: &Settings, record: &Value) -> Result<Job, AtsError> {
    let status_tag = text(record, &["toStatusNode", "value"]).unwrap_or_default();
    let status = if flag(record, "deleted") {
        JobStatus::Archived
    } else if settings.closed_vacancy_tags.contains(&status_tag) {
        JobStatus::Closed
    } else {
        JobStatus::Open
    };
    Ok(Job {
        id: required_id(record, "vacancy")?,
        code: text(record, &["vacancyID"]),
        title: text(record, &["jobTitle"]).unwrap_or_default(),
        status,
        location: None,
        description: None,
        department: None,
        assigned_users: Vec::new(),
        created_at: timestamp(record, "creationDate"),
        updated_at: timestamp(record, "modificationDate"),
        custom_fields: vec![Field { name: "toStatusNode".into(), value: status_tag }],
        raw: record.to_string(),
        ..Default::default()
    })
}

pub fn stage(record: &Value, index: usize) -> Result<Stage, AtsError> {
    let position = record
        .get("sortOrder")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(u32::try_from(index).unwrap_or(u32::MAX));
    Ok(Stage {
        id: required_id(record, "status")?,
        name: text(record, &["displayName"])
            .or_else(|| text(record, &["statusName"]))
            .unwrap_or_default(),
        job_id: None,
        position,
        raw: record.to_string(),
    })
}

pub fn application(record: &Value) -> Result<Application, AtsError> {
    let status_info = record.get("statusInfo").cloned().unwrap_or(Value::Null);
    let status = match (flag(&status_info, "isFinal"), flag(&status_info, "isSuccessfullyFilled")) {
        (true, true) => ApplicationStatus::Hired,
        (true, false) => ApplicationStatus::Rejected,
        _ => ApplicationStatus::Active,
    };
    Ok(Application {
        id: required_id(record, "match")?,
        candidate_id: text(record, &["toEmployee", "_id"]).unwrap_or_default(),
        job_id: text(record, &["toVacancy", "_id"]).unwrap_or_default(),
        stage_id: text(&status_info, &["_id"]),
        status,
        source: text(record, &["applySource"]),
        created_at: timestamp(record, "creationDate"),
        updated_at: timestamp(record, "modificationDate"),
        custom_fields: Vec::new(),
        raw: record.to_string(),
        ..Default::default()
    })
}

pub fn candidate(record: &Value) -> Result<Candidate, AtsError> {
    let phones =
        ["phoneNumber", "mobileNumber"].iter().filter_map(|k| text(record, &[k])).collect();
    Ok(Candidate {
        id: required_id(record, "candidate")?,
        first_name: text(record, &["firstName"]).unwrap_or_default(),
        last_name: text(record, &["lastName"]).unwrap_or_default(),
        emails: text(record, &["emailAddress"]).into_iter().collect(),
        phones,
        updated_at: timestamp(record, "modificationDate"),
        custom_fields: Vec::new(),
        raw: record.to_string(),
        ..Default::default()
    })
}
