//! Reads: `cr<Entity>Page(qualifier, pageable: {page, size})` answered with `totalElements`
//! and `items` (pages numbered from `first-page`, [L] zero-based), and the mapping of CR*
//! records onto the contract's jobs, stages, applications and candidates (the configurable
//! fields read at the paths the settings name, see `selection`).

use crate::graphql::{self, string};
use crate::qualifier;
use crate::selection::{text_at, values};
use crate::settings::{LocationPart, Settings};
use ats_connector_sdk::prelude::*;
use serde_json::Value;

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
pub fn flag(record: &Value, key: &str) -> bool {
    match record.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_u64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

pub fn timestamp(record: &Value, key: &str) -> Option<String> {
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

/// The vacancy's location from the configured parts; `text` falls back to the parts joined.
/// A country is kept only as an ISO 3166-1 alpha-2 code (two letters); another value (a
/// country name) goes into the text.
fn location(settings: &Settings, record: &Value) -> Option<Location> {
    let mut location = Location::default();
    let mut other_country = None;
    for (part, path) in &settings.vacancy_location {
        let Some(value) = text_at(record, path) else { continue };
        let slot = match part {
            LocationPart::Text => &mut location.text,
            LocationPart::City => &mut location.city,
            LocationPart::Region => &mut location.region,
            LocationPart::PostalCode => &mut location.postal_code,
            LocationPart::Country
                if value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                location.country.get_or_insert(value.to_ascii_uppercase());
                continue;
            }
            LocationPart::Country => &mut other_country,
        };
        slot.get_or_insert(value);
    }
    if location.text.is_none() {
        let parts: Vec<&str> =
            [&location.postal_code, &location.city, &location.region, &other_country]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
        location.text = (!parts.is_empty()).then(|| parts.join(" "));
    }
    let known = [
        &location.text,
        &location.city,
        &location.region,
        &location.country,
        &location.postal_code,
    ];
    known.iter().any(|part| part.is_some()).then_some(location)
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
    let texts: Vec<String> =
        settings.vacancy_description.iter().filter_map(|path| text_at(record, path)).collect();
    let mut assigned_users: Vec<String> = Vec::new();
    for path in &settings.vacancy_users {
        for user in values(record, path) {
            if let Some(id) = text(user, &["_id"]).filter(|id| !assigned_users.contains(id)) {
                assigned_users.push(id);
            }
        }
    }
    Ok(Job {
        id: required_id(record, "vacancy")?,
        code: text(record, &["vacancyID"]),
        title: text(record, &["jobTitle"]).unwrap_or_default(),
        status,
        location: location(settings, record),
        description: (!texts.is_empty()).then(|| texts.join("\n\n")),
        assigned_users,
        created_at: timestamp(record, "creationDate"),
        updated_at: timestamp(record, "modificationDate"),
        custom_fields: vec![Field { name: "toStatusNode".into(), value: status_tag }],
        raw: record.to_string(),
        ..Default::default()
    })
}

/// A stage at `position` (0-based) of the sorted pipeline.
pub fn stage(record: &Value, position: usize) -> Result<Stage, AtsError> {
    Ok(Stage {
        id: required_id(record, "status")?,
        name: stage_name(record).unwrap_or_default(),
        job_id: None,
        position: u32::try_from(position).unwrap_or(u32::MAX),
        raw: record.to_string(),
    })
}

fn stage_name(status: &Value) -> Option<String> {
    text(status, &["displayName"]).or_else(|| text(status, &["statusName"]))
}

/// A match's status by Kombo's Carerix mapping ([M]): final and successfully filled → hired,
/// other final → rejected (declined), not final → active. Hired and rejected take their time
/// from `statusInfoModificationDate` ([H] field), the moment the status was set.
pub fn application(record: &Value) -> Result<Application, AtsError> {
    let status_info = record.get("statusInfo").cloned().unwrap_or(Value::Null);
    let status = match (flag(&status_info, "isFinal"), flag(&status_info, "isSuccessfullyFilled")) {
        (true, true) => ApplicationStatus::Hired,
        (true, false) => ApplicationStatus::Rejected,
        _ => ApplicationStatus::Active,
    };
    let status_set_at = timestamp(record, "statusInfoModificationDate");
    Ok(Application {
        id: required_id(record, "match")?,
        candidate_id: text(record, &["toEmployee", "_id"]).unwrap_or_default(),
        job_id: text(record, &["toVacancy", "_id"]).unwrap_or_default(),
        stage_id: text(&status_info, &["_id"]),
        stage_name: stage_name(&status_info),
        status,
        source: text(record, &["applySource"]),
        rejected_at: status_set_at.clone().filter(|_| status == ApplicationStatus::Rejected),
        hired_at: status_set_at.filter(|_| status == ApplicationStatus::Hired),
        created_at: timestamp(record, "creationDate"),
        updated_at: timestamp(record, "modificationDate"),
        raw: record.to_string(),
        ..Default::default()
    })
}

/// The tags of a comma-separated tag field.
pub fn tags(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

pub fn candidate(settings: &Settings, record: &Value) -> Result<Candidate, AtsError> {
    let phones = ["phoneNumber"]
        .into_iter()
        .chain(settings.mobile_field.as_deref())
        .filter_map(|k| text(record, &[k]))
        .collect();
    let tags = settings
        .tag_field
        .as_deref()
        .and_then(|field| record.get(field))
        .and_then(Value::as_str)
        .map(tags)
        .unwrap_or_default();
    Ok(Candidate {
        id: required_id(record, "candidate")?,
        first_name: text(record, &["firstName"]).unwrap_or_default(),
        last_name: text(record, &["lastName"]).unwrap_or_default(),
        emails: text(record, &["emailAddress"]).into_iter().collect(),
        phones,
        tags,
        updated_at: timestamp(record, "modificationDate"),
        raw: record.to_string(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(location: &str) -> Settings {
        let config: Vec<Field> = [
            ("token-url", "https://id.carerix.io/auth/realms/t/protocol/openid-connect/token"),
            ("client-id", "c"),
            ("client-secret", "s"),
            ("vacancy-location-fields", location),
        ]
        .iter()
        .map(|(name, value)| Field { name: (*name).into(), value: (*value).into() })
        .collect();
        match Settings::from_config(&config) {
            Ok(settings) => settings,
            Err(error) => panic!("{error:?}"),
        }
    }

    #[test]
    fn a_country_is_kept_only_as_an_iso_code_and_text_falls_back_to_the_parts() {
        let settings =
            settings("city=workCity, postal-code=workPostalCode, country=toCountry.code");
        let record = |country: &str| {
            json!({"_id": "1", "workCity": "Gent", "workPostalCode": "9000",
                   "toCountry": {"code": country}})
        };
        let Ok(belgian) = job(&settings, &record("be")) else { panic!("not a job") };
        let Some(place) = belgian.location else { panic!("no location") };
        assert_eq!(place.country.as_deref(), Some("BE"));
        assert_eq!(place.text.as_deref(), Some("9000 Gent"));
        let Ok(named) = job(&settings, &record("Belgium")) else { panic!("not a job") };
        let Some(place) = named.location else { panic!("no location") };
        assert_eq!((place.country, place.text.as_deref()), (None, Some("9000 Gent Belgium")));
        let Ok(nowhere) = job(&settings, &json!({"_id": "2"})) else { panic!("not a job") };
        assert!(nowhere.location.is_none());
    }
}
