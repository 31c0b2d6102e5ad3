//! Applications (OTYS "procedures"): create with the three status levels after refusing a
//! second procedure for the same candidate and vacancy, list incrementally, get one, move to
//! a stage. The stage name is the level-1 status's `code`, from the procedure when it carries
//! it, else from the status lists.

use crate::pipeline::{self, StageRef};
use crate::query::{self, all_of, condition};
use crate::records::{self, text};
use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

fn procedure_what(settings: &Settings) -> Value {
    let mut what = json!({
        "uid": 1, "candidateUid": 1, "vacancyUid": 1, "entryDateTime": 1, "lastModified": 1,
        "ProcedureStatus1": 1, "ProcedureStatus2": 1, "ProcedureStatus3": 1, "UtmTags": 1,
    });
    what[settings.modified_field.as_str()] = json!(1);
    what
}

pub fn list(settings: &Settings, page: &PageRequest) -> Result<ApplicationPage, AtsError> {
    let since = query::modified_since(settings, page.since.as_deref())?;
    let listed = query::list_page(
        settings,
        "ProcedureService",
        procedure_what(settings),
        all_of(since.into_iter().collect()),
        page,
    )?;
    let mut items: Vec<Application> = listed
        .rows
        .iter()
        .map(|row| records::to_application(row, settings))
        .collect::<Result<_, _>>()?;
    fill_stage_names(settings, &mut items)?;
    Ok(ApplicationPage { items, next_page_token: listed.next_page_token })
}

pub fn get(settings: &Settings, application_id: &str) -> Result<Application, AtsError> {
    if application_id.trim().is_empty() {
        return Err(AtsError::InvalidInput("application-id is empty".into()));
    }
    let row = find_procedure(settings, application_id)?
        .ok_or_else(|| AtsError::NotFound(format!("procedure {application_id}")))?;
    let mut application = records::to_application(&row, settings)?;
    fill_stage_names(settings, std::slice::from_mut(&mut application))?;
    Ok(application)
}

/// Names the stages the procedures did not name, from the status lists (read only if needed).
fn fill_stage_names(settings: &Settings, items: &mut [Application]) -> Result<(), AtsError> {
    if items.iter().all(|a| a.stage_id.is_none() || a.stage_name.is_some()) {
        return Ok(());
    }
    let names = pipeline::names(&pipeline::statuses(settings)?);
    for application in items.iter_mut().filter(|a| a.stage_name.is_none()) {
        application.stage_name =
            application.stage_id.as_ref().and_then(|id| names.get(id)).cloned();
    }
    Ok(())
}

/// The procedure with `uid`, if it exists.
pub fn find_procedure(settings: &Settings, uid: &str) -> Result<Option<Value>, AtsError> {
    procedures_where(settings, vec![condition("uid", "EQ", uid)])
}

fn procedures_where(settings: &Settings, items: Vec<Value>) -> Result<Option<Value>, AtsError> {
    let request = json!({
        "what": procedure_what(settings),
        "condition": all_of(items),
        "sort": { "entryDateTime": "DESC" },
        "limit": 1,
        "offset": 0,
        "getTotalCount": 1,
    });
    let result = rpc::call(settings, "Otys.Services.ProcedureService.getListEx", vec![request])?;
    Ok(query::list_output(&result).into_iter().next())
}

pub fn create(settings: &Settings, input: &ApplicationInput) -> Result<Application, AtsError> {
    if input.candidate_id.trim().is_empty() || input.job_id.trim().is_empty() {
        return Err(AtsError::InvalidInput("candidate-id and job-id are required".into()));
    }
    let existing = procedures_where(
        settings,
        vec![
            condition("candidateUid", "EQ", input.candidate_id.as_str()),
            condition("vacancyUid", "EQ", input.job_id.as_str()),
        ],
    )?;
    if let Some(existing) = existing {
        return Err(AtsError::Conflict(format!(
            "candidate {} already has procedure {} on vacancy {}",
            input.candidate_id,
            text(&existing, "uid").unwrap_or_default(),
            input.job_id
        )));
    }
    let requested = input.stage_id.as_deref().map(StageRef::parse).transpose()?;
    let all = pipeline::statuses(settings)?;
    let statuses = pipeline::initial_statuses(&all, requested.as_ref())?;
    let mut procedure = json!({ "candidateUid": input.candidate_id, "vacancyUid": input.job_id });
    for status in &statuses {
        procedure[status.field()] = json!({ "uid": status.id });
    }
    if let Some(source) = &input.source {
        procedure["UtmTags"] = json!({ "source": source });
    }
    if !input.answers.is_empty() {
        // The official plugin sends the applicant's motivation as KillerQuestions text.
        let answers: Vec<String> =
            input.answers.iter().map(|a| format!("{}: {}", a.question, a.answer)).collect();
        procedure["KillerQuestions"] = json!(answers);
    }
    let result =
        rpc::call(settings, "Otys.Services.ProcedureService.add", vec![procedure.clone()])?;
    let id = text(&json!({ "uid": result }), "uid").ok_or_else(|| {
        AtsError::Remote(RemoteFailure {
            status: 200,
            body_excerpt: "ProcedureService.add answered without a uid".into(),
        })
    })?;
    let level_one = statuses.iter().find(|s| s.level == 1).map(|s| s.id.clone());
    Ok(Application {
        id,
        candidate_id: input.candidate_id.clone(),
        job_id: input.job_id.clone(),
        stage_name: level_one.as_ref().and_then(|id| pipeline::names(&all).remove(id)),
        stage_id: level_one,
        status: ApplicationStatus::Active,
        source: input.source.clone(),
        created_at: None,
        updated_at: None,
        custom_fields: statuses
            .iter()
            .filter(|s| s.level != 1)
            .map(|s| Field { name: format!("procedure-status-{}", s.level), value: s.id.clone() })
            .collect(),
        raw: procedure.to_string(),
        ..Default::default()
    })
}

/// Sets the status of the stage's level on the procedure (method configurable: inferred).
pub fn move_to(
    settings: &Settings,
    application_id: &str,
    stage_id: &str,
) -> Result<WriteReceipt, AtsError> {
    let stage = StageRef::parse(stage_id)?;
    let mut changes = serde_json::Map::new();
    changes.insert(stage.field(), json!({ "uid": stage.id }));
    rpc::call(
        settings,
        &settings.move_method,
        vec![json!(application_id), Value::Object(changes)],
    )?;
    Ok(WriteReceipt {
        remote_id: Some(application_id.to_string()),
        remark: Some(format!("procedure status level {} set to {}", stage.level, stage.id)),
    })
}
