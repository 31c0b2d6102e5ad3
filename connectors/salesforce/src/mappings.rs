//! Notes, tags and the pipeline. Neither package documents its objects for them (research
//! §3.4, §4.2), so each is a mapping in the connection config with a documented default:
//!
//! - notes go to Salesforce's standard `Note` object (`ParentId`, `Title`, `Body`) [H,
//!   platform] unless `note-object` says otherwise or `none`;
//! - tags are appended (`;`-separated, the multi-select picklist format) to `tag-field` of
//!   the candidate record; no default;
//! - stages are the records of `stage-object` (name in `stage-name-field`, order in
//!   `stage-order-field`), and an application's stage is the `application-stage-field` of
//!   its `application-object` record; no default.
//!
//! Where no mapping is configured the operation answers `unsupported` naming the config
//! field to set, never a silent no-op.

use crate::client::{Client, record_id, text};
use crate::settings::{CandidateMapping, api_name, field};
use crate::soql::quote;
use ats_connector_sdk::prelude::*;
use serde_json::json;

/// How notes are written.
#[derive(Debug, Clone)]
pub struct NoteMapping {
    pub object: String,
    pub parent_field: String,
    pub title_field: String,
    pub body_field: String,
}

/// How stages are read and set.
#[derive(Debug, Clone)]
pub struct PipelineMapping {
    pub stage_object: String,
    pub name_field: String,
    pub order_field: Option<String>,
    /// `application-object` + `application-stage-field`, when both are configured.
    pub application: Option<(String, String)>,
}

fn optional(
    config: &Config,
    name: &str,
    default: Option<&str>,
) -> Result<Option<String>, AtsError> {
    match config.value(name).or(default).map(str::trim) {
        None | Some("none") => Ok(None),
        Some(value) => api_name(name, value).map(Some),
    }
}

fn named(config: &Config, name: &str, default: &str) -> Result<String, AtsError> {
    api_name(name, config.value(name).unwrap_or(default))
}

impl NoteMapping {
    /// `None` when notes are turned off (`note-object = none`).
    pub fn from_config(config: &Config) -> Result<Option<Self>, AtsError> {
        let Some(object) = optional(config, "note-object", Some("Note"))? else { return Ok(None) };
        Ok(Some(NoteMapping {
            object,
            parent_field: named(config, "note-parent-field", "ParentId")?,
            title_field: named(config, "note-title-field", "Title")?,
            body_field: named(config, "note-body-field", "Body")?,
        }))
    }
}

impl PipelineMapping {
    /// `None` when no `stage-object` is configured.
    pub fn from_config(config: &Config) -> Result<Option<Self>, AtsError> {
        let Some(stage_object) = optional(config, "stage-object", None)? else { return Ok(None) };
        let application = match (
            optional(config, "application-object", None)?,
            optional(config, "application-stage-field", None)?,
        ) {
            (Some(object), Some(field)) => Some((object, field)),
            _ => None,
        };
        Ok(Some(PipelineMapping {
            stage_object,
            name_field: named(config, "stage-name-field", "Name")?,
            order_field: optional(config, "stage-order-field", None)?,
            application,
        }))
    }

    /// The application mapping, or `unsupported` naming what to configure.
    fn application(&self) -> Result<&(String, String), AtsError> {
        self.application.as_ref().ok_or_else(|| {
            AtsError::Unsupported(
                "setting an application's stage needs config `application-object` and \
                 `application-stage-field`"
                    .into(),
            )
        })
    }
}

/// The pipeline mapping, or `unsupported` naming what to configure.
pub fn pipeline(config: &Config) -> Result<PipelineMapping, AtsError> {
    PipelineMapping::from_config(config)?.ok_or_else(|| {
        AtsError::Unsupported(
            "this org's pipeline is not mapped: set config `stage-object` (and \
             `application-object`, `application-stage-field` to move applications)"
                .into(),
        )
    })
}

fn target_id(target: &Target) -> &str {
    match target {
        Target::Candidate(id) | Target::Application(id) => id,
    }
}

/// A note on the candidate or application record.
pub fn add_note(
    client: &mut Client,
    config: &Config,
    input: &NoteInput,
) -> Result<WriteReceipt, AtsError> {
    let Some(mapping) = NoteMapping::from_config(config)? else {
        return Err(AtsError::Unsupported(
            "notes are turned off: config `note-object` is `none`".into(),
        ));
    };
    if input.body.trim().is_empty() {
        return Err(AtsError::InvalidInput("a note needs a body".into()));
    }
    let parent = record_id(target_id(&input.target))?;
    let first_line = input.body.lines().find(|l| !l.trim().is_empty()).unwrap_or("Note");
    let title: String = first_line.trim().chars().take(80).collect();
    let id = client.create(
        &mapping.object,
        &json!({ &mapping.parent_field: parent, &mapping.title_field: title, &mapping.body_field: input.body }),
    )?;
    Ok(WriteReceipt {
        remote_id: Some(id),
        remark: Some(format!("stored as a {}", mapping.object)),
    })
}

/// A tag added to `tag-field` of the candidate record (not doubled, case-insensitively).
pub fn add_tag(
    client: &mut Client,
    config: &Config,
    input: &TagInput,
) -> Result<WriteReceipt, AtsError> {
    let Some(tag_field) = optional(config, "tag-field", None)? else {
        return Err(AtsError::Unsupported(
            "tags are not mapped: set config `tag-field` to a text or multi-select field of the candidate object".into(),
        ));
    };
    let Target::Candidate(candidate_id) = &input.target else {
        return Err(AtsError::InvalidInput(
            "tags are kept on the candidate; target the candidate".into(),
        ));
    };
    let tag = input.tag.trim();
    if tag.is_empty() || tag.contains(';') {
        return Err(AtsError::InvalidInput(format!("`{tag}` is not a tag (empty, or has a `;`)")));
    }
    let mapping = CandidateMapping::from_config(config)?;
    let record = client.read(&mapping.object, record_id(candidate_id)?, &["Id", &tag_field])?;
    let current = text(&record, &tag_field).unwrap_or_default();
    let mut tags: Vec<&str> = current.split(';').map(str::trim).filter(|t| !t.is_empty()).collect();
    if tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
        return Ok(WriteReceipt {
            remote_id: Some(candidate_id.clone()),
            remark: Some(format!("already tagged `{tag}`")),
        });
    }
    tags.push(tag);
    client.update(&mapping.object, candidate_id, &json!({ &tag_field: tags.join(";") }))?;
    Ok(WriteReceipt { remote_id: Some(candidate_id.clone()), remark: None })
}

/// The stages: every record of `stage-object`, in `stage-order-field` (else name) order.
pub fn list_stages(client: &mut Client, config: &Config) -> Result<StagePage, AtsError> {
    let mapping = pipeline(config)?;
    let order = mapping.order_field.clone().unwrap_or_else(|| mapping.name_field.clone());
    let mut fields = vec!["Id".to_string(), mapping.name_field.clone()];
    if let Some(order_field) = &mapping.order_field {
        fields.push(order_field.clone());
    }
    let soql =
        format!("SELECT {} FROM {} ORDER BY {order}, Id", fields.join(", "), mapping.stage_object);
    let mut items = Vec::new();
    let mut page = client.query(&soql, None)?;
    loop {
        for record in &page.records {
            items.push(Stage {
                id: text(record, "Id").unwrap_or_default(),
                name: text(record, &mapping.name_field).unwrap_or_default(),
                job_id: None,
                position: u32::try_from(items.len()).unwrap_or(u32::MAX),
                raw: record.to_string(),
            });
        }
        match page.next_records_url.take() {
            Some(next) => page = client.query_more(&next, None)?,
            None => break,
        }
    }
    Ok(StagePage { items, next_page_token: None })
}

/// `Ok` when an application's stage can be set (checked before a write that needs it).
pub fn require_stage_mapping(config: &Config) -> Result<(), AtsError> {
    pipeline(config)?.application().map(|_| ())
}

/// Sets `application-stage-field` of application `application_id` to stage `stage_id`,
/// which must be a record of `stage-object`.
pub fn set_stage(
    client: &mut Client,
    config: &Config,
    application_id: &str,
    stage_id: &str,
) -> Result<WriteReceipt, AtsError> {
    let mapping = pipeline(config)?;
    let (object, stage_field) = mapping.application()?.clone();
    let exists = format!(
        "SELECT Id FROM {} WHERE Id = {}",
        mapping.stage_object,
        quote(record_id(stage_id)?)
    );
    if client.query(&exists, None)?.records.is_empty() {
        return Err(AtsError::NotFound(format!("no {} `{stage_id}`", mapping.stage_object)));
    }
    client.update(&object, record_id(application_id)?, &json!({ &stage_field: stage_id }))?;
    Ok(WriteReceipt { remote_id: Some(application_id.to_string()), remark: None })
}

/// Creates an application with `create`, then gives it its initial stage through the
/// pipeline mapping; a `stage-id` the mapping cannot set is refused before anything is
/// written.
pub fn create_with_stage(
    client: &mut Client,
    config: &Config,
    input: ApplicationInput,
    create: impl FnOnce(&mut Client, &ApplicationInput) -> Result<Application, AtsError>,
) -> Result<Application, AtsError> {
    let stage = input.stage_id.clone();
    if stage.is_some() {
        require_stage_mapping(config)?;
    }
    let mut application = create(client, &ApplicationInput { stage_id: None, ..input })?;
    if let Some(stage) = stage {
        set_stage(client, config, &application.id, &stage)?;
        application.stage_id = Some(stage);
    }
    Ok(application)
}

/// The `Connector` methods a Salesforce-based connector answers through these mappings:
/// list-stages, move-application, add-note, add-tag. Use inside `impl Connector for …`
/// (the SDK prelude in scope).
#[macro_export]
macro_rules! mapped_operations {
    () => {
        /// The pipeline of `stage-object` (config); `unsupported` until it is mapped.
        fn list_stages(
            config: Config,
            _job_id: Option<String>,
            _page: PageRequest,
        ) -> Result<StagePage, AtsError> {
            $crate::mappings::list_stages(&mut $crate::Client::from_config(&config)?, &config)
        }

        fn move_application(
            config: Config,
            application_id: String,
            stage_id: String,
        ) -> Result<WriteReceipt, AtsError> {
            let mut client = $crate::Client::from_config(&config)?;
            $crate::mappings::set_stage(&mut client, &config, &application_id, &stage_id)
        }

        fn add_note(config: Config, input: NoteInput) -> Result<WriteReceipt, AtsError> {
            $crate::mappings::add_note(&mut $crate::Client::from_config(&config)?, &config, &input)
        }

        fn add_tag(config: Config, input: TagInput) -> Result<WriteReceipt, AtsError> {
            $crate::mappings::add_tag(&mut $crate::Client::from_config(&config)?, &config, &input)
        }
    };
}

/// The config fields of these mappings.
pub fn config_fields() -> Vec<ConfigField> {
    vec![
        field(
            "note-object",
            false,
            false,
            "sObject notes are written to; default Note (standard), `none` to turn notes off",
        ),
        field(
            "note-parent-field",
            false,
            false,
            "Field of the note linking it to the candidate or application; default ParentId",
        ),
        field("note-title-field", false, false, "Title field of the note; default Title"),
        field("note-body-field", false, false, "Body field of the note; default Body"),
        field(
            "tag-field",
            false,
            false,
            "Text or multi-select field of the candidate object tags are added to (`;`-separated); no default: add-tag answers unsupported until set",
        ),
        field(
            "stage-object",
            false,
            false,
            "sObject whose records are the pipeline stages; no default: list-stages answers unsupported until set",
        ),
        field("stage-name-field", false, false, "Name field of a stage; default Name"),
        field("stage-order-field", false, false, "Field ordering the stages; default: by name"),
        field(
            "application-object",
            false,
            false,
            "sObject of the application records (for move-application and an initial stage)",
        ),
        field(
            "application-stage-field",
            false,
            false,
            "Field of the application record holding its stage id",
        ),
    ]
}
