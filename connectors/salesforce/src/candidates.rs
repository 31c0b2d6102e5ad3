//! Candidates kept in an sObject ([`CandidateMapping`], default `Contact`): read, look up by
//! e-mail or phone, and upsert. The upsert looks for an existing record by e-mail, then by
//! phone; when none is found it inserts, and when the org's duplicate rule blocks the insert
//! (`DUPLICATES_DETECTED`) it updates the record the rule matched.

use crate::client::{Client, Inserted, QueryPage, record_id, text, timestamp};
use crate::settings::CandidateMapping;
use crate::soql::quote;
use ats_connector_sdk::prelude::*;
use serde_json::{Map, Value, json};

fn select(mapping: &CandidateMapping) -> String {
    let mut fields = vec!["Id".to_string(), mapping.first_name.clone(), mapping.last_name.clone()];
    fields.push(mapping.email.clone());
    fields.extend(mapping.phones.iter().cloned());
    fields.push("SystemModstamp".into());
    fields.dedup();
    format!("SELECT {} FROM {}", fields.join(", "), mapping.object)
}

fn to_candidate(mapping: &CandidateMapping, record: &Value) -> Candidate {
    let phones = mapping.phones.iter().filter_map(|f| text(record, f)).collect();
    Candidate {
        id: text(record, "Id").unwrap_or_default(),
        first_name: text(record, &mapping.first_name).unwrap_or_default(),
        last_name: text(record, &mapping.last_name).unwrap_or_default(),
        emails: text(record, &mapping.email).into_iter().collect(),
        phones,
        updated_at: timestamp(record, "SystemModstamp"),
        custom_fields: Vec::new(),
        raw: record.to_string(),
        ..Default::default()
    }
}

pub fn get(
    client: &mut Client,
    mapping: &CandidateMapping,
    id: &str,
) -> Result<Candidate, AtsError> {
    let soql = format!("{} WHERE Id = {}", select(mapping), quote(record_id(id)?));
    client
        .query(&soql, None)?
        .records
        .first()
        .map(|record| to_candidate(mapping, record))
        .ok_or_else(|| AtsError::NotFound(format!("no {} with id {id}", mapping.object)))
}

fn lookup_condition(
    mapping: &CandidateMapping,
    lookup: &CandidateLookup,
) -> Result<String, AtsError> {
    match lookup {
        CandidateLookup::Email(email) if !email.trim().is_empty() => {
            Ok(format!("{} = {}", mapping.email, quote(email.trim())))
        }
        CandidateLookup::Phone(phone) if !phone.trim().is_empty() && !mapping.phones.is_empty() => {
            let any: Vec<String> =
                mapping.phones.iter().map(|f| format!("{f} = {}", quote(phone.trim()))).collect();
            Ok(any.join(" OR "))
        }
        _ => Err(AtsError::InvalidInput("the lookup value is empty".into())),
    }
}

pub fn find(
    client: &mut Client,
    mapping: &CandidateMapping,
    lookup: &CandidateLookup,
    page: &PageRequest,
) -> Result<CandidatePage, AtsError> {
    let soql =
        format!("{} WHERE {} ORDER BY Id", select(mapping), lookup_condition(mapping, lookup)?);
    let QueryPage { records, next_records_url } =
        client.query_page(&soql, page.page_token.as_deref(), page.limit)?;
    Ok(CandidatePage {
        items: records.iter().map(|r| to_candidate(mapping, r)).collect(),
        next_page_token: next_records_url,
    })
}

/// The first record matching one of the input's e-mails, else one of its phones.
fn existing(
    client: &mut Client,
    mapping: &CandidateMapping,
    input: &CandidateInput,
) -> Result<Option<Value>, AtsError> {
    let lookups = input
        .emails
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| CandidateLookup::Email(e.clone()))
        .chain(
            input
                .phones
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| CandidateLookup::Phone(p.clone())),
        );
    for lookup in lookups {
        let soql = format!(
            "{} WHERE {} ORDER BY CreatedDate, Id LIMIT 1",
            select(mapping),
            lookup_condition(mapping, &lookup)?
        );
        if let Some(record) = client.query(&soql, None)?.records.into_iter().next() {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// The fields to write: names and source always; e-mail and phone only where the record has
/// none yet (an existing address or number is never overwritten).
fn fields_for(
    mapping: &CandidateMapping,
    input: &CandidateInput,
    current: Option<&Value>,
) -> Value {
    let mut fields = Map::new();
    if !input.first_name.trim().is_empty() {
        fields.insert(mapping.first_name.clone(), json!(input.first_name.trim()));
    }
    fields.insert(mapping.last_name.clone(), json!(input.last_name.trim()));
    let is_empty = |field: &str| current.is_none_or(|record| text(record, field).is_none());
    if let Some(email) = input.emails.iter().find(|e| !e.trim().is_empty())
        && is_empty(&mapping.email)
    {
        fields.insert(mapping.email.clone(), json!(email.trim()));
    }
    let known: Vec<String> = current
        .map(|record| mapping.phones.iter().filter_map(|f| text(record, f)).collect())
        .unwrap_or_default();
    let mut free = mapping.phones.iter().filter(|f| is_empty(f));
    for phone in input.phones.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        if known.iter().any(|k| k == phone) {
            continue;
        }
        match free.next() {
            Some(field) => {
                fields.insert(field.clone(), json!(phone));
            }
            None => break,
        }
    }
    if let (Some(field), Some(source)) = (&mapping.source, &input.source) {
        fields.insert(field.clone(), json!(source));
    }
    for custom in &input.custom_fields {
        if crate::settings::api_name("custom-fields", &custom.name).is_ok() {
            fields.insert(custom.name.clone(), json!(custom.value));
        }
    }
    Value::Object(fields)
}

pub fn upsert(
    client: &mut Client,
    mapping: &CandidateMapping,
    input: &CandidateInput,
) -> Result<UpsertResult, AtsError> {
    if input.last_name.trim().is_empty() {
        return Err(AtsError::InvalidInput("last-name is required".into()));
    }
    if let Some(record) = existing(client, mapping, input)? {
        let id = text(&record, "Id").unwrap_or_default();
        client.update(&mapping.object, &id, &fields_for(mapping, input, Some(&record)))?;
        return Ok(UpsertResult { candidate_id: id, outcome: UpsertOutcome::Matched });
    }
    match client.insert(&mapping.object, &fields_for(mapping, input, None))? {
        Inserted::Created(id) => {
            Ok(UpsertResult { candidate_id: id, outcome: UpsertOutcome::Created })
        }
        Inserted::Duplicate(ids) => {
            let id = ids.into_iter().next().unwrap_or_default();
            log(Level::Info, &format!("salesforce: duplicate rule matched {id}; updating it"));
            let record = client.read(&mapping.object, &id, &[&mapping.email])?;
            let fields = fields_for(mapping, input, Some(&record));
            client.update(&mapping.object, &id, &fields)?;
            Ok(UpsertResult { candidate_id: id, outcome: UpsertOutcome::Matched })
        }
    }
}
