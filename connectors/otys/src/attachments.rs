//! Documents: the file goes to `fileService.php` (multipart), then
//! `AttachedDocumentsService.add` links it to the candidate (`typeId` 1 = CV, 201 = other).
//!
//! A document on an application (procedure) stays on the procedure's candidate and also
//! carries `applicationUid`. The official plugin sends the vacancy's `internalId` there when
//! a candidate applies to a vacancy; `application-document-link` can change that.

use crate::applications;
use crate::records::text;
use crate::rpc;
use crate::settings::{ApplicationLink, Settings};
use crate::vacancies;
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

/// The official plugin refuses uploads above 8 MB.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
pub const TYPE_CV: u32 = 1;
pub const TYPE_OTHER: u32 = 201;

/// One file to attach.
pub struct Document<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
    pub type_id: u32,
    /// What OTYS shows as the document's subject.
    pub subject: String,
}

pub fn add(settings: &Settings, input: &AttachmentInput) -> Result<WriteReceipt, AtsError> {
    let type_id = match input.kind {
        AttachmentKind::Cv => TYPE_CV,
        AttachmentKind::Report | AttachmentKind::Other => TYPE_OTHER,
    };
    let document = Document {
        filename: &input.filename,
        content_type: &input.content_type,
        content: &input.content,
        type_id,
        subject: input.filename.clone(),
    };
    attach(settings, &input.target, &document)
}

/// Uploads `document` and links it to `target`; checks the file and finds where it goes
/// before anything is uploaded.
pub fn attach(
    settings: &Settings,
    target: &Target,
    document: &Document<'_>,
) -> Result<WriteReceipt, AtsError> {
    if document.content.is_empty() {
        return Err(AtsError::InvalidInput("attachment content is empty".into()));
    }
    if document.content.len() > MAX_FILE_BYTES {
        return Err(AtsError::InvalidInput(format!(
            "attachment `{}` is {} bytes; OTYS accepts at most {MAX_FILE_BYTES}",
            document.filename,
            document.content.len()
        )));
    }
    if document.filename.trim().is_empty() {
        return Err(AtsError::InvalidInput("attachment filename is empty".into()));
    }
    let placement = placement(settings, target)?;
    let file_uid =
        rpc::upload_file(settings, document.filename, document.content_type, document.content)?;
    let mut fields = json!({
        "candidateUid": placement.candidate,
        "fileUid": file_uid,
        "typeId": document.type_id,
        "subject": document.subject,
        "private": false,
    });
    if let Some(application) = placement.application_uid {
        fields["applicationUid"] = application;
    }
    let result = rpc::call(settings, "Otys.Services.AttachedDocumentsService.add", vec![fields])?;
    Ok(WriteReceipt { remote_id: text(&json!({ "uid": result }), "uid"), remark: placement.remark })
}

/// Where a document goes: the candidate, the `applicationUid` for an application target,
/// and a remark saying so.
struct Placement {
    candidate: String,
    application_uid: Option<Value>,
    remark: Option<String>,
}

fn placement(settings: &Settings, target: &Target) -> Result<Placement, AtsError> {
    let procedure_id = match target {
        Target::Candidate(id) if id.trim().is_empty() => {
            return Err(AtsError::InvalidInput("the candidate id is empty".into()));
        }
        Target::Candidate(id) => {
            return Ok(Placement { candidate: id.clone(), application_uid: None, remark: None });
        }
        Target::Application(id) => id,
    };
    let procedure = applications::find_procedure(settings, procedure_id)?
        .ok_or_else(|| AtsError::NotFound(format!("procedure {procedure_id}")))?;
    let candidate = text(&procedure, "candidateUid")
        .ok_or_else(|| AtsError::NotFound(format!("procedure {procedure_id} has no candidate")))?;
    let (application_uid, remark) = match settings.application_link {
        ApplicationLink::VacancyInternalId => {
            let vacancy = text(&procedure, "vacancyUid").ok_or_else(|| {
                AtsError::NotFound(format!("procedure {procedure_id} has no vacancy"))
            })?;
            match vacancies::internal_id(settings, &vacancy)? {
                Some(internal) => (
                    Some(internal),
                    format!(
                        "attached to candidate {candidate} for procedure {procedure_id} \
                         (applicationUid = internalId of vacancy {vacancy})"
                    ),
                ),
                None => (
                    None,
                    format!(
                        "attached to candidate {candidate} only: vacancy {vacancy} has no \
                         internalId"
                    ),
                ),
            }
        }
        ApplicationLink::ProcedureUid => (
            Some(json!(procedure_id)),
            format!("attached to candidate {candidate} with applicationUid {procedure_id}"),
        ),
        ApplicationLink::None => {
            (None, format!("attached to candidate {candidate}: application-document-link is none"))
        }
    };
    Ok(Placement { candidate, application_uid, remark: Some(remark) })
}
