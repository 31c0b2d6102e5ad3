//! `AttachedDocumentsService` as tests see it: [`FakeDocument`] (an attached document with its
//! uploaded file), the `applicationUid` check, and the documents of a procedure as text.

use super::store::{Row, Store};
use super::{RpcError, text};
use serde_json::Value;

/// A document attached with `AttachedDocumentsService.add`, with its uploaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeDocument {
    pub uid: String,
    pub candidate: String,
    pub application_uid: Option<String>,
    pub type_id: Option<u64>,
    pub subject: String,
    pub filename: String,
    pub content: Vec<u8>,
}

pub(super) fn document_view(store: &Store, document: &Row) -> FakeDocument {
    let (filename, content) =
        store.files.get(&text(document.get("fileUid"))).cloned().unwrap_or_default();
    let application = text(document.get("applicationUid"));
    FakeDocument {
        uid: text(document.get("uid")),
        candidate: text(document.get("candidateUid")),
        application_uid: (!application.is_empty()).then_some(application),
        type_id: document.get("typeId").and_then(Value::as_u64),
        subject: text(document.get("subject")),
        filename,
        content,
    }
}

/// An `applicationUid` must be a vacancy's `internalId` (the plugin sends nothing else).
pub(super) fn check_application_uid(store: &Store, args: &[Value]) -> Result<(), RpcError> {
    let Some(application) = args.first().and_then(|d| d.get("applicationUid")) else {
        return Ok(());
    };
    let wanted = text(Some(application));
    if store.vacancies.values().any(|v| !wanted.is_empty() && text(v.get("internalId")) == wanted) {
        Ok(())
    } else {
        Err(RpcError::not_found(&format!("Application {wanted}")))
    }
}

/// The documents on procedure `procedure` of `candidate` (with the `applicationUid` of its
/// vacancy), as text: subject and content of each.
pub(super) fn application_documents(store: &Store, candidate: &str, procedure: &Row) -> String {
    let vacancy = text(procedure.get("vacancyUid"));
    let internal = vacancy
        .parse::<u64>()
        .ok()
        .and_then(|uid| store.vacancies.get(&uid))
        .map(|v| text(v.get("internalId")))
        .unwrap_or_default();
    store
        .documents
        .iter()
        .map(|d| document_view(store, d))
        .filter(|d| d.candidate == candidate && d.application_uid.as_deref() == Some(&internal))
        .map(|d| format!("{}\n{}", d.subject, String::from_utf8_lossy(&d.content)))
        .collect::<Vec<_>>()
        .join("\n")
}
