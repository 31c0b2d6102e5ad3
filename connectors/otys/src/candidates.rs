//! Candidates: lookup by e-mail or phone (the ACTONOMY keyword search of
//! `CandidateService.getListEx`, as the official plugin dedupes), `getDetail`, and upsert
//! (search by e-mail, then phone; `updateEx` when found, `add` otherwise).

use crate::records::{self, text};
use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::paging::{next_offset_token, offset_from_token};
use ats_connector_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// The fields read for a candidate.
fn candidate_what() -> Value {
    json!({
        "uid": 1,
        "lastModified": 1,
        "Person": { "firstName": 1, "lastName": 1, "emailPrimary": 1, "PhoneNumbers": 1 },
        "UtmTags": 1,
    })
}

pub fn get(settings: &Settings, candidate_id: &str) -> Result<Candidate, AtsError> {
    let result = rpc::call(
        settings,
        "Otys.Services.CandidateService.getDetail",
        vec![json!(candidate_id), candidate_what()],
    )?;
    if result.is_null() || result.as_bool() == Some(false) {
        return Err(AtsError::NotFound(format!("candidate {candidate_id}")));
    }
    records::to_candidate(&result, settings)
}

pub fn find(
    settings: &Settings,
    lookup: &CandidateLookup,
    page: &PageRequest,
) -> Result<CandidatePage, AtsError> {
    let (search_list, value) = match lookup {
        CandidateLookup::Email(email) => (&settings.email_search_list, email.trim()),
        CandidateLookup::Phone(phone) => (&settings.phone_search_list, phone.trim()),
    };
    if value.is_empty() {
        return Err(AtsError::InvalidInput("the lookup value is empty".into()));
    }
    let limit = settings.page_size(page.limit);
    let offset = offset_from_token(page.page_token.as_deref())?;
    let rows = search(settings, search_list, value, limit, offset)?;
    let next_page_token = next_offset_token(offset, rows.len(), limit);
    let items =
        rows.iter().map(|row| records::to_candidate(row, settings)).collect::<Result<_, _>>()?;
    Ok(CandidatePage { items, next_page_token })
}

/// The ACTONOMY keyword search on one search list, for an exact (quoted) value.
fn search(
    settings: &Settings,
    search_list: &str,
    value: &str,
    limit: u32,
    offset: u64,
) -> Result<Vec<Value>, AtsError> {
    let quoted = format!("\"{}\"", value.replace('"', ""));
    let mut request = json!({
        "search": {
            "ACTONOMY": {
                "DATA": {
                    "keywords": {
                        "options": {
                            "enableExpansion": false,
                            "required": true,
                            "searchList": [search_list],
                            "searchMode": "one",
                        },
                        "value": quoted,
                    },
                },
                "OPTIONS": {
                    "getTotalCount": 1,
                    "limit": limit,
                    "offset": offset,
                    "sort": { "SCORE": "DESC", "entryDateFull": "DESC" },
                },
                "VERSION": 2,
                "SUB_VERSION": 0,
            },
        },
        "offset": offset,
        "getTotalCount": 1,
        "what": candidate_what(),
    });
    crate::query::set_limit(settings, &mut request, limit);
    let result = rpc::call(settings, "Otys.Services.CandidateService.getListEx", vec![request])?;
    Ok(crate::query::list_output(&result))
}

/// The first candidate found by any of the input's e-mails, then any of its phones.
fn find_existing(settings: &Settings, input: &CandidateInput) -> Result<Option<Value>, AtsError> {
    let emails = input.emails.iter().map(|e| (&settings.email_search_list, e));
    let phones = input.phones.iter().map(|p| (&settings.phone_search_list, p));
    for (search_list, value) in emails.chain(phones) {
        if value.trim().is_empty() {
            continue;
        }
        if let Some(found) = search(settings, search_list, value.trim(), 1, 0)?.into_iter().next() {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// `Person.PhoneNumbers` as OTYS takes it: slots "1".. with a type (primary, mobile, …).
fn phone_slots(phones: &[String]) -> Map<String, Value> {
    const TYPES: [&str; 5] = ["primary", "mobile", "work", "other", "fax"];
    phones
        .iter()
        .zip(TYPES)
        .enumerate()
        .map(|(index, (phone, kind))| {
            ((index + 1).to_string(), json!({ "type": kind, "phoneNumber": phone }))
        })
        .collect()
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

pub fn upsert(settings: &Settings, input: &CandidateInput) -> Result<UpsertResult, AtsError> {
    if input.first_name.trim().is_empty() && input.last_name.trim().is_empty() {
        return Err(AtsError::InvalidInput("first-name or last-name is required".into()));
    }
    match find_existing(settings, input)? {
        Some(existing) => update(settings, &existing, input),
        None => create(settings, input),
    }
}

fn create(settings: &Settings, input: &CandidateInput) -> Result<UpsertResult, AtsError> {
    let mut person = json!({ "firstName": input.first_name, "lastName": input.last_name });
    if let Some(email) = input.emails.first() {
        person["emailPrimary"] = json!(email);
    }
    if !input.phones.is_empty() {
        person["PhoneNumbers"] = Value::Object(phone_slots(&input.phones));
    }
    let mut candidate = json!({ "Person": person });
    if let Some(source) = &input.source {
        candidate["UtmTags"] = json!({ "source": source });
    }
    let result = rpc::call(settings, "Otys.Services.CandidateService.add", vec![candidate])?;
    let candidate_id = text(&json!({ "uid": result }), "uid").ok_or_else(|| {
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: "CandidateService.add answered without a uid".into(),
        })
    })?;
    Ok(UpsertResult { candidate_id, outcome: UpsertOutcome::Created })
}

/// Updates the name and adds new phone numbers; the primary e-mail is left as it is (as the
/// official plugin does on update).
fn update(
    settings: &Settings,
    existing: &Value,
    input: &CandidateInput,
) -> Result<UpsertResult, AtsError> {
    let candidate_id = text(existing, "uid").ok_or_else(|| {
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: format!("candidate search row without a uid: {existing}"),
        })
    })?;
    let person = existing.get("Person").cloned().unwrap_or(Value::Null);
    let mut phones = records::phones(&person);
    for phone in &input.phones {
        if !phones.iter().any(|known| digits(known) == digits(phone)) {
            phones.push(phone.clone());
        }
    }
    let mut changes = json!({ "firstName": input.first_name, "lastName": input.last_name });
    if !phones.is_empty() {
        // OTYS replaces the phone list only when `DELETE` is present.
        let mut slots = phone_slots(&phones);
        slots.insert("DELETE".into(), json!([]));
        changes["PhoneNumbers"] = Value::Object(slots);
    }
    rpc::call(
        settings,
        "Otys.Services.CandidateService.updateEx",
        vec![json!(candidate_id), json!({ "Person": changes })],
    )?;
    Ok(UpsertResult { candidate_id, outcome: UpsertOutcome::Matched })
}
