//! Applications are CRMatch records (a candidate on a vacancy, its stage in `statusInfo`):
//! listed incrementally on `modificationDate`, read by id, created with
//! `crEmployeeApply(dedupe: true, pub, request)` on the vacancy's publication ([H]) once no
//! match of the candidate on the vacancy exists (Carerix would add a second one), then
//! completed (source, answers, initial stage) and moved with the match update mutation
//! ([L]: inferred name, configurable).

use crate::candidates::{self, mutate};
use crate::graphql::{self, id, literal};
use crate::qualifier;
use crate::records;
use crate::selection;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::{Map, Value, json};

pub fn list(settings: &Settings, request: &PageRequest) -> Result<ApplicationPage, AtsError> {
    let qualifier = records::since_qualifier(request)?;
    let fields = selection::application();
    let page = records::page(settings, "crMatchPage", &fields, qualifier.as_deref(), request)?;
    Ok(ApplicationPage {
        items: page.items.iter().map(records::application).collect::<Result<_, _>>()?,
        next_page_token: page.next_page_token,
    })
}

/// The CRMatch `application_id` with the fields `selection` names.
pub fn fetch_with(
    settings: &Settings,
    application_id: &str,
    selection: &str,
) -> Result<Value, AtsError> {
    let document = format!("query {{ crMatch(_id: {}) {{ {selection} }} }}", id(application_id)?);
    graphql::execute(settings, &document, "crMatch")
}

pub fn get(settings: &Settings, application_id: &str) -> Result<Application, AtsError> {
    records::application(&fetch_with(settings, application_id, &selection::application())?)
}

/// `<match-update-mutation>(_id, request: {_kind: "CRMatch", …})`.
pub fn update(
    settings: &Settings,
    application_id: &str,
    fields: Map<String, Value>,
) -> Result<(), AtsError> {
    let mut request = fields;
    request.insert("_kind".into(), json!("CRMatch"));
    let args =
        format!("_id: {}, request: {}", id(application_id)?, literal(&Value::Object(request)));
    mutate(settings, &settings.match_update_mutation, &args).map(|_| ())
}

/// The publication candidates apply to for vacancy `job_id`.
fn publication_of(settings: &Settings, job_id: &str) -> Result<String, AtsError> {
    id(job_id)?;
    let qualifier = qualifier::equals("toVacancy._id", job_id);
    let first = PageRequest { page_token: None, since: None, limit: Some(1) };
    let page = records::page(settings, "crPublicationPage", "_id", Some(&qualifier), &first)?;
    page.items.first().and_then(|p| records::text(p, &["_id"])).ok_or_else(|| {
        AtsError::InvalidInput(format!(
            "vacancy {job_id} has no publication; Carerix applies candidates to a publication, so publish the vacancy first"
        ))
    })
}

fn answers_text(answers: &[Answer]) -> String {
    answers.iter().map(|a| format!("{}: {}", a.question, a.answer)).collect::<Vec<_>>().join("\n")
}

/// The id of a match of `candidate_id` on vacancy `job_id`, if there is one.
fn existing(
    settings: &Settings,
    candidate_id: &str,
    job_id: &str,
) -> Result<Option<String>, AtsError> {
    let qualifier = format!(
        "{} AND {}",
        qualifier::equals("toEmployee._id", candidate_id),
        qualifier::equals("toVacancy._id", job_id)
    );
    let first = PageRequest { page_token: None, since: None, limit: Some(1) };
    let page = records::page(settings, "crMatchPage", "_id", Some(&qualifier), &first)?;
    Ok(page.items.first().and_then(|m| records::text(m, &["_id"])))
}

pub fn create(settings: &Settings, input: &ApplicationInput) -> Result<Application, AtsError> {
    id(&input.candidate_id)?;
    id(&input.job_id)?;
    if let Some(stage) = &input.stage_id {
        id(stage)?;
    }
    if let Some(found) = existing(settings, &input.candidate_id, &input.job_id)? {
        return Err(AtsError::Conflict(format!(
            "candidate {} already has match {found} on vacancy {}; applying again would add a second match",
            input.candidate_id, input.job_id
        )));
    }
    let candidate = candidates::fetch(settings, &input.candidate_id)?;
    let email = records::text(&candidate, &["emailAddress"]).ok_or_else(|| {
        AtsError::InvalidInput(format!(
            "candidate {} has no e-mail address; crEmployeeApply dedupes on it, so add one first",
            input.candidate_id
        ))
    })?;
    let publication = publication_of(settings, &input.job_id)?;
    let mut request = Map::new();
    request.insert("_kind".into(), json!("CREmployee"));
    request.insert("emailAddress".into(), json!(email));
    for key in ["firstName", "lastName"] {
        if let Some(value) = records::text(&candidate, &[key]) {
            request.insert(key.into(), json!(value));
        }
    }
    let document = format!(
        "mutation {{ crEmployeeApply(dedupe: true, pub: {}, request: {}) {{ _id matches {{ items {{ _id toVacancy {{ _id }} }} }} }} }}",
        id(&publication)?,
        literal(&Value::Object(request))
    );
    let applied = graphql::execute(settings, &document, "crEmployeeApply")?;
    let applied_id = records::text(&applied, &["_id"]).unwrap_or_default();
    if applied_id != input.candidate_id {
        return Err(AtsError::Conflict(format!(
            "Carerix applied candidate {applied_id} instead of {} (its dedupe matched another record on the e-mail address)",
            input.candidate_id
        )));
    }
    let match_id = applied
        .pointer("/matches/items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| {
            records::text(m, &["toVacancy", "_id"]).as_deref() == Some(input.job_id.as_str())
        })
        .filter_map(|m| records::text(m, &["_id"]))
        .max_by_key(|id| id.parse::<u64>().unwrap_or(0))
        .ok_or_else(|| {
            AtsError::Remote(RemoteFailure {
                status: 200,
                body_excerpt: format!(
                    "crEmployeeApply answered without a match on vacancy {}",
                    input.job_id
                ),
            })
        })?;
    let mut fields = Map::new();
    if let Some(source) = &input.source {
        fields.insert("applySource".into(), json!(source));
    }
    if !input.answers.is_empty() {
        fields.insert("motivation".into(), json!(answers_text(&input.answers)));
    }
    if let Some(stage) = &input.stage_id {
        fields.insert("statusInfo".into(), json!({"_kind": "CRStatusInfo", "_id": stage}));
    }
    if !fields.is_empty() {
        update(settings, &match_id, fields)?;
    }
    get(settings, &match_id)
}

pub fn move_to(
    settings: &Settings,
    application_id: &str,
    stage_id: &str,
) -> Result<WriteReceipt, AtsError> {
    id(stage_id)?;
    let mut fields = Map::new();
    fields.insert("statusInfo".into(), json!({"_kind": "CRStatusInfo", "_id": stage_id}));
    update(settings, application_id, fields)?;
    Ok(WriteReceipt { remote_id: Some(application_id.to_string()), remark: None })
}
