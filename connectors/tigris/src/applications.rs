//! Applications as `Tigris__Sollicitatie__c` intake records (fields from the official
//! WordPress plugin, research §4.1): the candidate's name, e-mail and phone copied from the
//! candidate record, the vacancy referenced by `Tigris__Extern_vacature_ID__c`, the source
//! as `Tigris__UTM_url__c` and the screening answers as `Tigris__Opmerking__c`.
//!
//! Which vacancy value the intake must carry is not documented ([L]): the vacancy's own
//! `Tigris__Extern_vacature_ID__c` when it has one (what the plugin writes back), else its
//! Salesforce id.

use crate::jobs::VACANCY;
use ats_connector_sdk::http::url_encode;
use ats_connector_sdk::prelude::*;
use ats_salesforce::client::{record_id, text};
use ats_salesforce::{CandidateMapping, Client, candidates};
use serde_json::json;

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
