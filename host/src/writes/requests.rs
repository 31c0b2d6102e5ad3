//! The JSON bodies of write requests, and their validation before anything is sent to the
//! ATS (so a bad CV encoding fails the request instead of leaving half a push behind).

use crate::model::{
    Answer, AttachmentKind, Field, Location, ProfileLink, ResultStatus, SubResult, Target,
};
use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest attachment accepted (decoded bytes).
pub const MAX_ATTACHMENT_BYTES: usize = 15 << 20;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateBody {
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    /// Where the candidate lives (free text and/or city, region, ISO country code).
    #[serde(default)]
    pub location: Option<Location>,
    /// Current employer.
    #[serde(default)]
    pub company: Option<String>,
    /// Current job title.
    #[serde(default)]
    pub title: Option<String>,
    /// Profiles elsewhere: `{"kind": "linkedin", "url": "https://..."}`.
    #[serde(default)]
    pub links: Vec<ProfileLink>,
}

impl CandidateBody {
    pub fn custom_field_list(&self) -> Vec<Field> {
        self.custom_fields
            .iter()
            .map(|(name, value)| Field { name: name.clone(), value: value.clone() })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The job's screening question this answers, when known.
    #[serde(default)]
    pub question_id: Option<String>,
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    pub filename: String,
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// The file, base64-encoded (standard alphabet).
    pub content_base64: String,
}

fn default_content_type() -> String {
    "application/octet-stream".into()
}

/// A decoded file.
#[derive(Debug, Clone)]
pub struct ValidatedFile {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

impl ValidatedFile {
    /// Decodes without the checks (only for already-validated bodies).
    pub fn from_parts(file: &FileBody) -> Self {
        ValidatedFile {
            filename: file.filename.clone(),
            content_type: file.content_type.clone(),
            content: base64::engine::general_purpose::STANDARD
                .decode(&file.content_base64)
                .unwrap_or_default(),
        }
    }
}

/// `POST /v1/connections/{id}/candidates`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushCandidate {
    pub candidate: CandidateBody,
    /// The ATS id of the job to apply to; without it only the candidate is upserted.
    pub job_id: Option<String>,
    /// Initial stage (ATS stage id); the ATS default otherwise.
    pub stage_id: Option<String>,
    /// Where the candidate came from, e.g. "AI sourcer".
    pub source: Option<String>,
    #[serde(default)]
    pub answers: Vec<AnswerBody>,
    pub cv: Option<FileBody>,
    /// The first message, written as a note.
    pub note: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(skip)]
    pub validated_cv: Option<ValidatedFile>,
}

impl PushCandidate {
    pub fn answer_list(&self) -> Vec<Answer> {
        self.answers
            .iter()
            .map(|a| Answer {
                question_id: a.question_id.clone(),
                question: a.question.clone(),
                answer: a.answer.clone(),
            })
            .collect()
    }
}

/// What a write addresses: exactly one of the two ids.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    pub candidate_id: Option<String>,
    pub application_id: Option<String>,
}

impl From<TargetBody> for Target {
    fn from(body: TargetBody) -> Target {
        match (body.application_id, body.candidate_id) {
            (Some(application), _) => Target::Application(application),
            (None, candidate) => Target::Candidate(candidate.unwrap_or_default()),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KindBody {
    Cv,
    Report,
    Other,
}

impl From<KindBody> for AttachmentKind {
    fn from(kind: KindBody) -> AttachmentKind {
        match kind {
            KindBody::Cv => AttachmentKind::Cv,
            KindBody::Report => AttachmentKind::Report,
            KindBody::Other => AttachmentKind::Other,
        }
    }
}

/// `POST /v1/connections/{id}/applications/{application}/result`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultRequest {
    /// From the path.
    #[serde(skip)]
    pub application_id: String,
    #[serde(default)]
    pub status: ResultStatus,
    pub score: Option<f64>,
    /// The score's scale; 100 when absent.
    pub max_score: Option<f64>,
    pub link: Option<String>,
    pub summary: Option<String>,
    #[serde(default)]
    pub sub_results: Vec<SubResult>,
    /// The report (e.g. a PDF), base64 like every file.
    pub report: Option<FileBody>,
    /// The application's candidate, when the caller knows it (it pushed the candidate): where
    /// the ATS keeps notes or files on candidates only, the host writes them there without
    /// asking the ATS (`get-application`) first.
    #[serde(default)]
    pub candidate_id: Option<String>,
    #[serde(skip)]
    pub validated_report: Option<ValidatedFile>,
}

/// Every write the API offers.
#[derive(Debug, Clone, Serialize)]
pub enum WriteRequest {
    PushCandidate(Box<PushCandidate>),
    MoveStage {
        application_id: String,
        stage_id: String,
    },
    AddNote {
        target: TargetBody,
        body: String,
    },
    AddTag {
        target: TargetBody,
        tag: String,
    },
    RemoveTag {
        target: TargetBody,
        tag: String,
    },
    AddAttachment {
        target: TargetBody,
        file: FileBody,
        kind: KindBody,
        #[serde(skip)]
        validated: Option<ValidatedFile>,
    },
    Reject {
        application_id: String,
        reason: String,
        reason_id: Option<String>,
    },
    WriteResult(Box<ResultRequest>),
}

type Invalid = (String, String);

impl WriteRequest {
    /// Route name, part of the idempotency fingerprint.
    pub fn route(&self) -> &'static str {
        match self {
            WriteRequest::PushCandidate(_) => "push-candidate",
            WriteRequest::MoveStage { .. } => "move-stage",
            WriteRequest::AddNote { .. } => "add-note",
            WriteRequest::AddTag { .. } => "add-tag",
            WriteRequest::RemoveTag { .. } => "remove-tag",
            WriteRequest::AddAttachment { .. } => "add-attachment",
            WriteRequest::Reject { .. } => "reject",
            WriteRequest::WriteResult(_) => "write-result",
        }
    }

    pub fn fingerprint_body(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Checks the request and decodes its files.
    pub fn validate(&self) -> Result<WriteRequest, Invalid> {
        let mut checked = self.clone();
        match &mut checked {
            WriteRequest::PushCandidate(push) => {
                let c = &push.candidate;
                require("candidate.first_name", &c.first_name)?;
                require("candidate.last_name", &c.last_name)?;
                if c.emails.iter().all(|e| e.trim().is_empty())
                    && c.phones.iter().all(|p| p.trim().is_empty())
                {
                    return Err(invalid(
                        "candidate.emails",
                        "give at least one e-mail address or phone number: the ATS matches candidates on them",
                    ));
                }
                if let Some(bad) = c.emails.iter().find(|e| !e.contains('@')) {
                    return Err(invalid(
                        "candidate.emails",
                        &format!("`{bad}` is not an e-mail address"),
                    ));
                }
                if push.stage_id.is_some() && push.job_id.is_none() {
                    return Err(invalid("stage_id", "a stage needs a job_id to apply to"));
                }
                if !push.answers.is_empty() && push.job_id.is_none() {
                    return Err(invalid(
                        "answers",
                        "answers are stored on the application: give the job_id they answer for",
                    ));
                }
                if let Some(tag) = push.tags.iter().find(|t| t.trim().is_empty()) {
                    return Err(invalid("tags", &format!("empty tag `{tag}`")));
                }
                if let Some(cv) = &push.cv {
                    push.validated_cv = Some(decode_file("cv", cv)?);
                }
            }
            WriteRequest::MoveStage { application_id, stage_id } => {
                require("application_id", application_id)?;
                require("stage_id", stage_id)?;
            }
            WriteRequest::AddNote { target, body } => {
                check_target(target)?;
                require("body", body)?;
            }
            WriteRequest::AddTag { target, tag } | WriteRequest::RemoveTag { target, tag } => {
                check_target(target)?;
                require("tag", tag)?;
            }
            WriteRequest::AddAttachment { target, file, validated, .. } => {
                check_target(target)?;
                *validated = Some(decode_file("file", file)?);
            }
            WriteRequest::Reject { application_id, reason, reason_id } => {
                require("application_id", application_id)?;
                require("reason", reason)?;
                if let Some(id) = reason_id {
                    require("reason_id", id)?;
                }
            }
            WriteRequest::WriteResult(result) => validate_result(result)?,
        }
        Ok(checked)
    }
}

fn validate_result(result: &mut ResultRequest) -> Result<(), Invalid> {
    require("application_id", &result.application_id)?;
    if result.score.is_some_and(|s| !s.is_finite()) {
        return Err(invalid("score", "must be a finite number"));
    }
    if let Some(max) = result.max_score
        && !(max.is_finite() && max > 0.0)
    {
        return Err(invalid("max_score", "must be a finite number above 0"));
    }
    if let (Some(score), Some(max)) = (result.score, result.max_score)
        && score > max
    {
        return Err(invalid("score", &format!("{score} is above max_score {max}")));
    }
    let completed = result.status == ResultStatus::Completed;
    if completed
        && result.score.is_none()
        && result.link.is_none()
        && result.summary.is_none()
        && result.report.is_none()
    {
        return Err(invalid("score", "give at least one of score, link, summary, report"));
    }
    if let Some(link) = &result.link
        && url::Url::parse(link).is_err()
    {
        return Err(invalid("link", &format!("`{link}` is not an absolute URL")));
    }
    for (i, part) in result.sub_results.iter().enumerate() {
        require(&format!("sub_results[{i}].label"), &part.label)?;
        if !part.score.is_finite() {
            return Err(invalid(&format!("sub_results[{i}].score"), "must be a finite number"));
        }
    }
    if result.sub_results.len() > MAX_SUB_RESULTS {
        return Err(invalid(
            "sub_results",
            &format!("{} parts; the limit is {MAX_SUB_RESULTS}", result.sub_results.len()),
        ));
    }
    if let Some(report) = &result.report {
        result.validated_report = Some(decode_file("report", report)?);
    }
    Ok(())
}

/// Most sub-results one result may carry.
pub const MAX_SUB_RESULTS: usize = 100;

fn invalid(field: &str, problem: &str) -> Invalid {
    (field.to_string(), problem.to_string())
}

fn require(field: &str, value: &str) -> Result<(), Invalid> {
    if value.trim().is_empty() { Err(invalid(field, "must not be empty")) } else { Ok(()) }
}

fn check_target(target: &TargetBody) -> Result<(), Invalid> {
    match (&target.candidate_id, &target.application_id) {
        (Some(id), None) | (None, Some(id)) if !id.trim().is_empty() => Ok(()),
        _ => Err(invalid("target", "give exactly one of candidate_id or application_id")),
    }
}

fn decode_file(field: &str, file: &FileBody) -> Result<ValidatedFile, Invalid> {
    require(&format!("{field}.filename"), &file.filename)?;
    let content =
        base64::engine::general_purpose::STANDARD.decode(file.content_base64.trim()).map_err(
            |e| invalid(&format!("{field}.content_base64"), &format!("not valid base64: {e}")),
        )?;
    if content.is_empty() {
        return Err(invalid(&format!("{field}.content_base64"), "the file is empty"));
    }
    if content.len() > MAX_ATTACHMENT_BYTES {
        return Err(invalid(
            &format!("{field}.content_base64"),
            &format!("the file is {} bytes; the limit is {MAX_ATTACHMENT_BYTES}", content.len()),
        ));
    }
    Ok(ValidatedFile {
        filename: file.filename.clone(),
        content_type: file.content_type.clone(),
        content,
    })
}
