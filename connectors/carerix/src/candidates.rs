//! Candidates are CREmployee records: read by id, found by `emailAddress` or phone
//! qualifiers on `crEmployeePage` (`phoneNumber`, and the `mobile-field` when configured),
//! and upserted as lookup (every e-mail, then every phone) followed by `crEmployeeUpdate`
//! (matched) or the create mutation (created). Reads ask for [L] fields only when configured.

use crate::graphql::{self, id, literal};
use crate::qualifier;
use crate::records;
use crate::selection;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// The raw CREmployee record `candidate_id`.
pub fn fetch(settings: &Settings, candidate_id: &str) -> Result<Value, AtsError> {
    let document = format!(
        "query {{ crEmployee(_id: {}) {{ {} }} }}",
        id(candidate_id)?,
        selection::employee(settings)
    );
    graphql::execute(settings, &document, "crEmployee")
}

pub fn get(settings: &Settings, candidate_id: &str) -> Result<Candidate, AtsError> {
    records::candidate(settings, &fetch(settings, candidate_id)?)
}

fn lookup_qualifier(settings: &Settings, lookup: &CandidateLookup) -> Result<String, AtsError> {
    match lookup {
        CandidateLookup::Email(email) if !email.trim().is_empty() => {
            Ok(qualifier::equals("emailAddress", email.trim()))
        }
        CandidateLookup::Phone(phone) if !phone.trim().is_empty() => Ok(["phoneNumber"]
            .into_iter()
            .chain(settings.mobile_field.as_deref())
            .map(|field| qualifier::equals(field, phone.trim()))
            .collect::<Vec<_>>()
            .join(" OR ")),
        _ => Err(AtsError::InvalidInput("an empty e-mail or phone cannot be looked up".into())),
    }
}

pub fn find(
    settings: &Settings,
    lookup: &CandidateLookup,
    request: &PageRequest,
) -> Result<CandidatePage, AtsError> {
    let qualifier = lookup_qualifier(settings, lookup)?;
    let fields = selection::employee(settings);
    let page = records::page(settings, "crEmployeePage", &fields, Some(&qualifier), request)?;
    Ok(CandidatePage {
        items: page
            .items
            .iter()
            .map(|record| records::candidate(settings, record))
            .collect::<Result<_, _>>()?,
        next_page_token: page.next_page_token,
    })
}

/// The first candidate matching any e-mail, then any phone.
fn existing(settings: &Settings, input: &CandidateInput) -> Result<Option<Value>, AtsError> {
    let lookups = input
        .emails
        .iter()
        .map(|e| CandidateLookup::Email(e.clone()))
        .chain(input.phones.iter().map(|p| CandidateLookup::Phone(p.clone())))
        .filter(|l| !matches!(l, CandidateLookup::Email(v) | CandidateLookup::Phone(v) if v.trim().is_empty()));
    let first = PageRequest { page_token: None, since: None, limit: Some(1) };
    let fields = selection::employee(settings);
    for lookup in lookups {
        let qualifier = lookup_qualifier(settings, &lookup)?;
        let page = records::page(settings, "crEmployeePage", &fields, Some(&qualifier), &first)?;
        if let Some(found) = page.items.into_iter().next() {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Runs `mutation { name(args) { _id } }` and returns the record's id.
pub fn mutate(settings: &Settings, name: &str, args: &str) -> Result<String, AtsError> {
    let document = format!("mutation {{ {name}({args}) {{ _id }} }}");
    let answer = graphql::execute(settings, &document, name)?;
    records::text(&answer, &["_id"]).ok_or_else(|| {
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: format!("`{name}` answered without an `_id`"),
        })
    })
}

/// `crEmployeeUpdate(_id, request: {_kind: "CREmployee", …})`.
pub fn update(
    settings: &Settings,
    candidate_id: &str,
    fields: Map<String, Value>,
) -> Result<(), AtsError> {
    let mut request = fields;
    request.insert("_kind".into(), json!("CREmployee"));
    let args = format!("_id: {}, request: {}", id(candidate_id)?, literal(&Value::Object(request)));
    mutate(settings, "crEmployeeUpdate", &args).map(|_| ())
}

pub fn upsert(settings: &Settings, input: &CandidateInput) -> Result<UpsertResult, AtsError> {
    if input.first_name.trim().is_empty() && input.last_name.trim().is_empty() {
        return Err(AtsError::InvalidInput("a candidate needs a first or last name".into()));
    }
    let email = input.emails.iter().map(|e| e.trim()).find(|e| !e.is_empty());
    let phone = input.phones.iter().map(|p| p.trim()).find(|p| !p.is_empty());
    let mut fields = Map::new();
    fields.insert("firstName".into(), json!(input.first_name));
    fields.insert("lastName".into(), json!(input.last_name));
    match existing(settings, input)? {
        Some(found) => {
            let candidate_id = records::text(&found, &["_id"]).unwrap_or_default();
            // Fill contact details the record lacks; never overwrite the ones it has.
            if let (Some(email), None) = (email, records::text(&found, &["emailAddress"])) {
                fields.insert("emailAddress".into(), json!(email));
            }
            if let (Some(phone), None) = (phone, records::text(&found, &["phoneNumber"])) {
                fields.insert("phoneNumber".into(), json!(phone));
            }
            update(settings, &candidate_id, fields)?;
            Ok(UpsertResult { candidate_id, outcome: UpsertOutcome::Matched })
        }
        None => {
            fields.insert("_kind".into(), json!("CREmployee"));
            if let Some(email) = email {
                fields.insert("emailAddress".into(), json!(email));
            }
            if let Some(phone) = phone {
                fields.insert("phoneNumber".into(), json!(phone));
            }
            let args = format!("request: {}", literal(&Value::Object(fields)));
            let candidate_id = mutate(settings, &settings.create_mutation, &args)?;
            Ok(UpsertResult { candidate_id, outcome: UpsertOutcome::Created })
        }
    }
}
