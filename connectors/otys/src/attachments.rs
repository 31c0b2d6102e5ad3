//! Attachments: the file goes to `fileService.php` (multipart), then
//! `AttachedDocumentsService.add` links it to the candidate (`typeId` 1 = CV, 201 = other).
//! OTYS attaches documents to candidates; a procedure target attaches to its candidate.

use crate::applications;
use crate::records::text;
use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::json;

/// The official plugin refuses uploads above 8 MB.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
const TYPE_CV: u32 = 1;
const TYPE_OTHER: u32 = 201;

pub fn add(settings: &Settings, input: &AttachmentInput) -> Result<WriteReceipt, AtsError> {
    if input.content.is_empty() {
        return Err(AtsError::InvalidInput("attachment content is empty".into()));
    }
    if input.content.len() > MAX_FILE_BYTES {
        return Err(AtsError::InvalidInput(format!(
            "attachment `{}` is {} bytes; OTYS accepts at most {MAX_FILE_BYTES}",
            input.filename,
            input.content.len()
        )));
    }
    if input.filename.trim().is_empty() {
        return Err(AtsError::InvalidInput("attachment filename is empty".into()));
    }
    let (candidate_id, remark) = match &input.target {
        Target::Candidate(id) => (id.clone(), None),
        Target::Application(procedure_id) => {
            let procedure = applications::find_procedure(settings, procedure_id)?
                .ok_or_else(|| AtsError::NotFound(format!("procedure {procedure_id}")))?;
            let candidate = text(&procedure, "candidateUid").ok_or_else(|| {
                AtsError::NotFound(format!("procedure {procedure_id} has no candidate"))
            })?;
            let remark =
                format!("attached to candidate {candidate}: OTYS keeps documents on candidates");
            (candidate, Some(remark))
        }
    };
    let file_uid =
        rpc::upload_file(settings, &input.filename, &input.content_type, &input.content)?;
    let type_id = match input.kind {
        AttachmentKind::Cv => TYPE_CV,
        AttachmentKind::Report | AttachmentKind::Other => TYPE_OTHER,
    };
    let document = json!({
        "candidateUid": candidate_id,
        "fileUid": file_uid,
        "typeId": type_id,
        "subject": input.filename,
        "private": false,
    });
    let result = rpc::call(settings, "Otys.Services.AttachedDocumentsService.add", vec![document])?;
    Ok(WriteReceipt { remote_id: text(&json!({ "uid": result }), "uid"), remark })
}
