//! Vacancies (jobs): `VacancyService.getListEx` for the job list, `getDetail` for one
//! vacancy's `internalId` (what `AttachedDocumentsService.add` takes as `applicationUid`).
//!
//! Every field requested is one the official plugin requests unconditionally: the text
//! fields `textField_*` (objects `{title, text}`, the text HTML) make the description, and
//! `location` plus `locationCity` / `locationState` / `locationCountryCode` /
//! `locationPostcode` the structured location.

use crate::query::{self, all_of};
use crate::records::{require_uid, text, timestamp};
use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

/// The location parts of a vacancy and the contract field each fills.
const LOCATION_PARTS: [&str; 4] =
    ["locationCity", "locationState", "locationCountryCode", "locationPostcode"];
/// The plugin replaces this placeholder in a text field's title with the vacancy title.
const TITLE_PLACEHOLDER: &str = "[functie_o]";

fn vacancy_what(settings: &Settings) -> Value {
    let mut what = json!({
        "uid": 1, "title": 1, "referenceNr": 1, "entryDateTime": 1, "lastModified": 1,
        "statusId": 1, "publicationStatus": 1, "location": 1, "user": 1, "userId": 1,
    });
    for field in
        LOCATION_PARTS.iter().copied().chain(settings.description_fields.iter().map(String::as_str))
    {
        what[field] = json!(1);
    }
    what[settings.modified_field.as_str()] = json!(1);
    what
}

pub fn list_jobs(settings: &Settings, page: &PageRequest) -> Result<JobPage, AtsError> {
    let since = query::modified_since(settings, page.since.as_deref())?;
    let condition = all_of(since.into_iter().collect());
    let listed =
        query::list_page(settings, "VacancyService", vacancy_what(settings), condition, page)?;
    let items = listed.rows.iter().map(|row| to_job(row, settings)).collect::<Result<_, _>>()?;
    Ok(JobPage { items, next_page_token: listed.next_page_token })
}

/// The `internalId` of vacancy `uid` as OTYS answers it (`VacancyService.getDetail`, as the
/// plugin reads it); `None` when OTYS has none for it.
pub fn internal_id(settings: &Settings, uid: &str) -> Result<Option<Value>, AtsError> {
    let result = rpc::call(
        settings,
        "Otys.Services.VacancyService.getDetail",
        vec![json!(uid), json!({ "uid": 1, "internalId": 1 })],
    )?;
    if result.is_null() || result.as_bool() == Some(false) {
        return Err(AtsError::NotFound(format!("vacancy {uid}")));
    }
    Ok(text(&result, "internalId").and(result.get("internalId").cloned()))
}

pub fn to_job(row: &Value, settings: &Settings) -> Result<Job, AtsError> {
    let status = match text(row, "statusId") {
        Some(id) if settings.closed_status_ids.contains(&id) => JobStatus::Closed,
        _ => JobStatus::Open,
    };
    let mut custom_fields = Vec::new();
    for key in ["statusId", "publicationStatus", "publicationStatusId"] {
        if let Some(value) = text(row, key) {
            custom_fields.push(Field { name: key.into(), value });
        }
    }
    let title = text(row, "title").unwrap_or_default();
    Ok(Job {
        id: require_uid(row, "vacancy")?,
        code: text(row, "referenceNr"),
        description: description(row, &title, settings),
        title,
        status,
        location: location(row),
        assigned_users: text(row, "user").or_else(|| text(row, "userId")).into_iter().collect(),
        created_at: timestamp(row, "entryDateTime", settings),
        updated_at: timestamp(row, &settings.modified_field, settings),
        custom_fields,
        raw: row.to_string(),
        ..Default::default()
    })
}

/// The configured text fields with a text, each under its title as a heading, as HTML (OTYS
/// keeps vacancy texts as HTML). `None` when every one is empty.
fn description(row: &Value, vacancy_title: &str, settings: &Settings) -> Option<String> {
    let sections: Vec<String> = settings
        .description_fields
        .iter()
        .filter_map(|field| {
            let value = row.get(field.as_str())?;
            // A text field is `{title, text}`; a bare string is taken as the text.
            let (title, body) = match value {
                Value::String(body) => (None, body.as_str()),
                Value::Object(_) => {
                    (value.get("title").and_then(Value::as_str), value.get("text")?.as_str()?)
                }
                _ => return None,
            };
            let body = body.trim();
            if body.is_empty() {
                return None;
            }
            let title = title.map(|t| t.replace(TITLE_PLACEHOLDER, vacancy_title));
            Some(match title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(title) => format!("<h3>{}</h3>\n{body}", escape_html(title)),
                None => body.to_string(),
            })
        })
        .collect();
    (!sections.is_empty()).then(|| sections.join("\n"))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The free text (`location`) and the parts OTYS has. A country is kept only as an ISO 3166-1
/// alpha-2 code (two letters, upper-cased): the format of `locationCountryCode` is inferred.
fn location(row: &Value) -> Option<Location> {
    let part = |key: &str| text(row, key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let country = part("locationCountryCode")
        .filter(|code| code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()))
        .map(|code| code.to_ascii_uppercase());
    let free_text = match row.get("location") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Object(parts)) => {
            let joined: Vec<&str> =
                parts.values().filter_map(Value::as_str).filter(|s| !s.is_empty()).collect();
            (!joined.is_empty()).then(|| joined.join(", "))
        }
        _ => None,
    };
    let location = Location {
        text: free_text,
        city: part("locationCity"),
        region: part("locationState"),
        country,
        postal_code: part("locationPostcode"),
        remote: None,
    };
    let empty = location.text.is_none()
        && location.city.is_none()
        && location.region.is_none()
        && location.country.is_none()
        && location.postal_code.is_none();
    (!empty).then_some(location)
}
