//! Mapping OTYS rows (Candidate, Procedure) onto the unified records, keeping the raw object
//! (vacancies are mapped in `vacancies`). OTYS datetimes carry no offset; they are reported with the
//! configured `remote-utc-offset`.

use crate::clock::offset_suffix;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use ats_connector_sdk::time::to_rfc3339;
use serde_json::Value;

/// A scalar field as text (OTYS sends uids as strings or numbers).
pub fn text(row: &Value, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A remote datetime as RFC 3339 with the account's configured offset.
pub fn timestamp(row: &Value, key: &str, settings: &Settings) -> Option<String> {
    let offset = offset_suffix(settings.remote_offset_seconds);
    text(row, key).map(|remote| to_rfc3339(&remote, &offset).unwrap_or(remote))
}

pub fn require_uid(row: &Value, what: &str) -> Result<String, AtsError> {
    text(row, "uid").ok_or_else(|| {
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: format!("{what} without a uid: {row}"),
        })
    })
}

/// Phone numbers of `Person.PhoneNumbers` (an object keyed by slot, or a list).
pub fn phones(person: &Value) -> Vec<String> {
    let entries: Vec<&Value> = match person.get("PhoneNumbers") {
        Some(Value::Object(slots)) => slots.values().collect(),
        Some(Value::Array(list)) => list.iter().collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|entry| text(entry, "phoneNumber").or_else(|| text(entry, "number")))
        .collect()
}

pub fn to_candidate(row: &Value, settings: &Settings) -> Result<Candidate, AtsError> {
    let person = row.get("Person").cloned().unwrap_or(Value::Null);
    Ok(Candidate {
        id: require_uid(row, "candidate")?,
        first_name: text(&person, "firstName").unwrap_or_default(),
        last_name: text(&person, "lastName").unwrap_or_default(),
        emails: text(&person, "emailPrimary").into_iter().collect(),
        phones: phones(&person),
        source: row.get("UtmTags").and_then(|tags| text(tags, "source")),
        updated_at: timestamp(row, "lastModified", settings),
        custom_fields: Vec::new(),
        raw: row.to_string(),
        ..Default::default()
    })
}

/// The status uid of level `level` on a procedure row, as `<level>_<uid>`.
pub fn procedure_status(row: &Value, level: u8) -> Option<String> {
    let value = row.get(format!("ProcedureStatus{level}"))?;
    let uid = match value {
        Value::Object(_) => text(value, "uid")?,
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let prefix = format!("{level}_");
    Some(if uid.starts_with(&prefix) { uid } else { format!("{prefix}{uid}") })
}

pub fn to_application(row: &Value, settings: &Settings) -> Result<Application, AtsError> {
    let mut custom_fields = Vec::new();
    for level in [2, 3] {
        if let Some(value) = procedure_status(row, level) {
            custom_fields.push(Field { name: format!("procedure-status-{level}"), value });
        }
    }
    Ok(Application {
        id: require_uid(row, "procedure")?,
        candidate_id: text(row, "candidateUid").unwrap_or_default(),
        job_id: text(row, "vacancyUid").unwrap_or_default(),
        stage_id: procedure_status(row, 1),
        stage_name: row.get("ProcedureStatus1").and_then(|status| text(status, "code")),
        status: ApplicationStatus::Active,
        source: row.get("UtmTags").and_then(|tags| text(tags, "source")),
        created_at: timestamp(row, "entryDateTime", settings),
        updated_at: timestamp(row, &settings.modified_field, settings),
        custom_fields,
        raw: row.to_string(),
        ..Default::default()
    })
}
