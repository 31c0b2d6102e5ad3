//! Applications as `Tigris__Sollicitatie__c` intake records (fields from the official
//! WordPress plugin, research §4.1): the candidate's name, e-mail and phone copied from the
//! candidate record, the vacancy referenced by `Tigris__Extern_vacature_ID__c`, the source
//! as `Tigris__UTM_url__c` and the screening answers as `Tigris__Opmerking__c`.
//!
//! Which vacancy value the intake must carry is not documented ([L]): the vacancy's own
//! `Tigris__Extern_vacature_ID__c` when it has one (what the plugin writes back), else its
//! Salesforce id.
//!
//! Reading them back (`list-applications`, `get-application`): the intake records, changed
//! since `SystemModstamp`, with the candidate found by e-mail among the candidate records
//! and the vacancy by its external id (or Salesforce id), one query each per page. An
//! intake whose e-mail matches no candidate record keeps the e-mail as its candidate id
//! (`email:<address>`): Tigris's own candidate object is not public (§4.2). Its stage is
//! the `application-stage-field` when the operator mapped `application-object` to the
//! intake object.

use crate::jobs::VACANCY;
use ats_connector_sdk::http::url_encode;
use ats_connector_sdk::prelude::*;
use ats_salesforce::client::{record_id, text, timestamp};
use ats_salesforce::soql::{self, quote};
use ats_salesforce::{CandidateMapping, Client, QueryPage, candidates};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SOLLICITATIE: &str = "Tigris__Sollicitatie__c";

pub fn create(
    client: &mut Client,
    mapping: &CandidateMapping,
    input: &ApplicationInput,
) -> Result<Application, AtsError> {
    if input.stage_id.is_some() {
        return Err(AtsError::InvalidInput(
            "stage-id: Tigris intake records have no stage; leave it empty".into(),
        ));
    }
    let candidate = candidates::get(client, mapping, &input.candidate_id)?;
    let email = candidate.emails.first().cloned().ok_or_else(|| {
        AtsError::InvalidInput(format!(
            "candidate {} has no e-mail; Tigris needs one",
            candidate.id
        ))
    })?;
    let vacancy = client.read(
        VACANCY,
        record_id(&input.job_id)?,
        &["Id", "Tigris__Extern_vacature_ID__c"],
    )?;
    let reference =
        text(&vacancy, "Tigris__Extern_vacature_ID__c").unwrap_or_else(|| input.job_id.clone());
    let remarks: Vec<String> =
        input.answers.iter().map(|a| format!("{}: {}", a.question, a.answer)).collect();
    let mut fields = json!({
        "Tigris__Voornaam_kandidaat__c": candidate.first_name,
        "Tigris__Achternaam_kandidaat__c": candidate.last_name,
        "Tigris__Email__c": email,
        "Tigris__Extern_vacature_ID__c": reference,
    });
    if let Some(phone) = candidate.phones.first() {
        fields["Tigris__Telefoonnummer__c"] = json!(phone);
    }
    if let Some(source) = &input.source {
        fields["Tigris__UTM_url__c"] = json!(format!("utm_source={}", url_encode(source)));
    }
    if !remarks.is_empty() {
        fields["Tigris__Opmerking__c"] = json!(remarks.join("\n"));
    }
    let id = client.create(SOLLICITATIE, &fields)?;
    Ok(Application {
        id,
        candidate_id: input.candidate_id.clone(),
        job_id: input.job_id.clone(),
        stage_id: None,
        status: ApplicationStatus::Active,
        source: input.source.clone(),
        created_at: None,
        updated_at: None,
        custom_fields: Vec::new(),
        raw: fields.to_string(),
        ..Default::default()
    })
}

const EMAIL: &str = "Tigris__Email__c";
const REFERENCE: &str = "Tigris__Extern_vacature_ID__c";
/// Values per `OR` chain when resolving e-mails and vacancy references.
const RESOLVE_CHUNK: usize = 40;

/// The stage field of the intake object, when the operator mapped the pipeline onto it.
fn stage_field(config: &Config) -> Option<String> {
    let object = config.value("application-object")?;
    let field = config.value("application-stage-field")?;
    object.trim().eq_ignore_ascii_case(SOLLICITATIE).then(|| field.trim().to_string())
}

fn fields(stage: Option<&str>) -> Vec<&str> {
    let mut fields = vec![
        "Id",
        EMAIL,
        REFERENCE,
        "Tigris__UTM_url__c",
        "Tigris__Opmerking__c",
        "CreatedDate",
        "SystemModstamp",
    ];
    fields.extend(stage);
    fields
}

/// Intake records changed since `page.since`, one batch per page.
pub fn list(
    client: &mut Client,
    config: &Config,
    page: &PageRequest,
) -> Result<ApplicationPage, AtsError> {
    let stage = stage_field(config);
    let filter = match &page.since {
        Some(since) => format!(" WHERE SystemModstamp >= {}", soql::datetime(since)?),
        None => String::new(),
    };
    let query = format!(
        "SELECT {} FROM {SOLLICITATIE}{filter} ORDER BY SystemModstamp, Id",
        fields(stage.as_deref()).join(", ")
    );
    let QueryPage { records, next_records_url } =
        client.query_page(&query, page.page_token.as_deref(), page.limit)?;
    let items = resolve(client, config, &records, stage.as_deref())?;
    Ok(ApplicationPage { items, next_page_token: next_records_url })
}

/// One intake record.
pub fn get(
    client: &mut Client,
    config: &Config,
    application_id: &str,
) -> Result<Application, AtsError> {
    let stage = stage_field(config);
    let record =
        client.read(SOLLICITATIE, record_id(application_id)?, &fields(stage.as_deref()))?;
    let mut items = resolve(client, config, std::slice::from_ref(&record), stage.as_deref())?;
    items.pop().ok_or_else(|| AtsError::NotFound(format!("no {SOLLICITATIE} `{application_id}`")))
}

/// The applications of `records`, their candidates and vacancies resolved.
fn resolve(
    client: &mut Client,
    config: &Config,
    records: &[Value],
    stage: Option<&str>,
) -> Result<Vec<Application>, AtsError> {
    let mapping = CandidateMapping::from_config(config)?;
    let emails: Vec<String> = records.iter().filter_map(|r| text(r, EMAIL)).collect();
    let references: Vec<String> = records.iter().filter_map(|r| text(r, REFERENCE)).collect();
    let candidates = lookup(client, &mapping.object, &mapping.email, &emails, false)?;
    let vacancies = lookup(client, VACANCY, REFERENCE, &references, true)?;
    Ok(records
        .iter()
        .map(|record| {
            let email = text(record, EMAIL).unwrap_or_default();
            let reference = text(record, REFERENCE).unwrap_or_default();
            let candidate_id = candidates
                .get(&email.to_lowercase())
                .cloned()
                .unwrap_or_else(|| format!("email:{email}"));
            let job_id = vacancies.get(&reference.to_lowercase()).cloned().unwrap_or(reference);
            Application {
                id: text(record, "Id").unwrap_or_default(),
                candidate_id,
                job_id,
                stage_id: stage.and_then(|field| text(record, field)),
                status: ApplicationStatus::Active,
                source: text(record, "Tigris__UTM_url__c"),
                created_at: timestamp(record, "CreatedDate"),
                updated_at: timestamp(record, "SystemModstamp"),
                raw: record.to_string(),
                ..Default::default()
            }
        })
        .collect())
}

/// `value` (lower case) → record id, for records of `object` whose `field` is one of
/// `values`; with `or_id`, a value that is itself a record id matches that record too.
fn lookup(
    client: &mut Client,
    object: &str,
    field: &str,
    values: &[String],
    or_id: bool,
) -> Result<BTreeMap<String, String>, AtsError> {
    let mut unique: Vec<&String> = values.iter().filter(|v| !v.is_empty()).collect();
    unique.sort();
    unique.dedup();
    let mut found = BTreeMap::new();
    for chunk in unique.chunks(RESOLVE_CHUNK) {
        let mut conditions: Vec<String> =
            chunk.iter().map(|v| format!("{field} = {}", quote(v))).collect();
        if or_id {
            conditions.extend(
                chunk.iter().filter(|v| record_id(v).is_ok()).map(|v| format!("Id = {}", quote(v))),
            );
        }
        let query = format!("SELECT Id, {field} FROM {object} WHERE {}", conditions.join(" OR "));
        let mut page = client.query(&query, None)?;
        loop {
            for record in &page.records {
                let Some(id) = text(record, "Id") else { continue };
                if let Some(value) = text(record, field) {
                    found.entry(value.to_lowercase()).or_insert_with(|| id.clone());
                }
                if or_id {
                    found.entry(id.to_lowercase()).or_insert(id);
                }
            }
            match page.next_records_url.take() {
                Some(next) => page = client.query_more(&next, None)?,
                None => break,
            }
        }
    }
    Ok(found)
}
