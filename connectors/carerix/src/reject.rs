//! `reject-application`: Carerix has no rejection record or reason list, so a match is
//! rejected the way Kombo's Carerix mapping reads one ([M]): it moves to a final status that
//! is not successfully filled (`reject-status`, see `stages::reject_target`), and the reason
//! is appended to the match's `note-field` in the same update ("Rejected: <reason>").

use crate::graphql::id;
use crate::matches;
use crate::records::{flag, text};
use crate::selection::Selection;
use crate::settings::Settings;
use crate::stages;
use crate::writes::appended;
use ats_connector_sdk::prelude::*;
use serde_json::{Map, json};

pub fn reject(settings: &Settings, input: &RejectInput) -> Result<WriteReceipt, AtsError> {
    let application_id = input.application_id.trim();
    id(application_id)?;
    let mut selection = Selection::of(&[
        "_id",
        "statusInfo._id",
        "statusInfo.displayName",
        "statusInfo.statusName",
        "statusInfo.isFinal",
    ]);
    if let Some(field) = &settings.note_field {
        selection.add([field.as_str()]);
    }
    let current = matches::fetch_with(settings, application_id, &selection.render())?;
    let target = stages::reject_target(settings, &stages::all(settings)?)?;
    let target_id = text(&target, &["_id"]).unwrap_or_default();
    let status = current.get("statusInfo").cloned().unwrap_or_default();
    let status_name = text(&status, &["displayName"])
        .or_else(|| text(&status, &["statusName"]))
        .unwrap_or_default();
    let receipt = |remarks: Vec<String>| WriteReceipt {
        remote_id: Some(application_id.to_string()),
        remark: (!remarks.is_empty()).then(|| remarks.join("; ")),
    };
    if text(&status, &["_id"]).as_deref() == Some(target_id.as_str()) {
        return Ok(receipt(vec![format!(
            "already in status `{status_name}`; the reason was not added again"
        )]));
    }
    if flag(&status, "isFinal") {
        return Err(AtsError::Conflict(format!(
            "match {application_id} is already in the final status `{status_name}`"
        )));
    }
    let mut remarks = Vec::new();
    let mut fields = Map::new();
    fields.insert("statusInfo".into(), json!({"_kind": "CRStatusInfo", "_id": target_id}));
    let reason = input.reason.trim();
    match &settings.note_field {
        _ if reason.is_empty() => {}
        Some(field) => {
            let existing = current.get(field.as_str()).and_then(|v| v.as_str()).unwrap_or("");
            fields.insert(field.clone(), json!(appended(existing, &format!("Rejected: {reason}"))));
        }
        None => remarks.push("the reason was not stored: config `note-field` is `none`".into()),
    }
    if input.reason_id.is_some() {
        remarks.push("reason-id ignored: Carerix keeps no list of rejection reasons".into());
    }
    matches::update(settings, application_id, fields)?;
    Ok(receipt(remarks))
}
