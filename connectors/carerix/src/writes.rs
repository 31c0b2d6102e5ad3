//! Writes on a candidate (CREmployee) or an application (CRMatch): notes appended to the
//! free-text `note-field`, tags added to and removed from the comma-separated `tag-field`
//! (both [L], see README; `none` turns them off → `unsupported`), and attachments as nested
//! CRAttachment records with base64 content, typed by a data-node tag (`CVTag` for CVs) ([H]).

use crate::graphql::{self, id};
use crate::records::tags;
use crate::settings::Settings;
use crate::{candidates, matches};
use ats_connector_sdk::http::base64;
use ats_connector_sdk::prelude::*;
use serde_json::{Map, Value, json};

/// The current value of `field` on the target record.
fn current(settings: &Settings, target: &Target, field: &str) -> Result<String, AtsError> {
    let (root, target_id) = match target {
        Target::Candidate(id) => ("crEmployee", id),
        Target::Application(id) => ("crMatch", id),
    };
    let document = format!("query {{ {root}(_id: {}) {{ _id {field} }} }}", id(target_id)?);
    let record = graphql::execute(settings, &document, root)?;
    Ok(record.get(field).and_then(Value::as_str).unwrap_or_default().to_string())
}

fn update(
    settings: &Settings,
    target: &Target,
    fields: Map<String, Value>,
) -> Result<WriteReceipt, AtsError> {
    let remote_id = match target {
        Target::Candidate(id) => {
            candidates::update(settings, id, fields)?;
            id.clone()
        }
        Target::Application(id) => {
            matches::update(settings, id, fields)?;
            id.clone()
        }
    };
    Ok(WriteReceipt { remote_id: Some(remote_id), remark: None })
}

pub fn add_note(settings: &Settings, input: &NoteInput) -> Result<WriteReceipt, AtsError> {
    let Some(field) = &settings.note_field else {
        return Err(AtsError::Unsupported(
            "add-note is turned off for this connection (config `note-field` is `none`)".into(),
        ));
    };
    if input.body.trim().is_empty() {
        return Err(AtsError::InvalidInput("a note needs a body".into()));
    }
    let existing = current(settings, &input.target, field)?;
    let mut fields = Map::new();
    fields.insert(field.clone(), json!(appended(&existing, &input.body)));
    update(settings, &input.target, fields)
}

/// Free text with `body` appended after a blank line.
pub fn appended(existing: &str, body: &str) -> String {
    if existing.trim().is_empty() {
        body.to_string()
    } else {
        format!("{}\n\n{body}", existing.trim_end())
    }
}

/// The tag field and the tag of `input`, checked.
fn tag_of<'a>(settings: &'a Settings, input: &'a TagInput) -> Result<(&'a str, &'a str), AtsError> {
    let Some(field) = &settings.tag_field else {
        return Err(AtsError::Unsupported(
            "tags are turned off for this connection (config `tag-field` is `none`)".into(),
        ));
    };
    let tag = input.tag.trim();
    if tag.is_empty() || tag.contains(',') {
        return Err(AtsError::InvalidInput(format!(
            "`{tag}` is not a tag (empty, or has a comma)"
        )));
    }
    Ok((field, tag))
}

fn unchanged(target: &Target, remark: String) -> WriteReceipt {
    WriteReceipt { remote_id: Some(target_id(target).to_string()), remark: Some(remark) }
}

pub fn add_tag(settings: &Settings, input: &TagInput) -> Result<WriteReceipt, AtsError> {
    let (field, tag) = tag_of(settings, input)?;
    let mut tags = tags(&current(settings, &input.target, field)?);
    if tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
        return Ok(unchanged(&input.target, format!("already tagged `{tag}`")));
    }
    tags.push(tag.to_string());
    let mut fields = Map::new();
    fields.insert(field.to_string(), json!(tags.join(",")));
    update(settings, &input.target, fields)
}

/// Removes the tag (case-insensitively) from the tag field; a tag not there is no error.
pub fn remove_tag(settings: &Settings, input: &TagInput) -> Result<WriteReceipt, AtsError> {
    let (field, tag) = tag_of(settings, input)?;
    let tags = tags(&current(settings, &input.target, field)?);
    let kept: Vec<&String> = tags.iter().filter(|t| !t.eq_ignore_ascii_case(tag)).collect();
    if kept.len() == tags.len() {
        return Ok(unchanged(&input.target, format!("not tagged `{tag}`")));
    }
    let mut fields = Map::new();
    fields.insert(
        field.to_string(),
        json!(kept.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")),
    );
    update(settings, &input.target, fields)
}

fn target_id(target: &Target) -> &str {
    match target {
        Target::Candidate(id) | Target::Application(id) => id,
    }
}

pub fn add_attachment(
    settings: &Settings,
    input: &AttachmentInput,
) -> Result<WriteReceipt, AtsError> {
    if input.content.is_empty() || input.filename.trim().is_empty() {
        return Err(AtsError::InvalidInput("an attachment needs a file name and content".into()));
    }
    let mut attachment = json!({
        "_kind": "CRAttachment",
        "label": input.filename,
        "filePath": input.filename,
        "toAttachmentData": {"_kind": "CRAttachmentData", "content": base64(&input.content)},
    });
    if input.kind == AttachmentKind::Cv {
        attachment["toTypeNode"] = json!({
            "_kind": "CRDataNode", "_lookup": {"key": "tag", "value": settings.cv_type_tag},
        });
    }
    let mut fields = Map::new();
    fields.insert("attachments".into(), json!({"items": [attachment]}));
    update(settings, &input.target, fields)
}
