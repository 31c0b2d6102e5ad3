//! What one action of a firing does, decided without doing it: the writes to the ATS (each
//! under its own journal part), the signed webhook to the product, the assessment order to
//! create — or nothing, with why. Running a firing performs the plan; a dry run shows it.
//! A plan that cannot be made (an unmapped stage, an unknown rejection reason, a trigger
//! without a candidate) is a [`PlanError`]: the action fails for good with that reason.

use super::model::{Action, PushDefaults, ResultModes, ScoreBand, StageMapping, StageRef};
use super::orders::{DEFAULT_EXPIRY, NewOrder, OrderResult};
use super::outbox::Firing;
use super::storage::{AutomationStore, StorageError};
use super::template;
use crate::model::ResultStatus;
use crate::store::{Store, StoreError};
use crate::webhooks::OutboundEvent;
use crate::writes::requests::{
    CandidateBody, FileBody, KindBody, PushCandidate, ResultRequest, TargetBody, WriteRequest,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Event type of the invite webhook.
pub const INVITE_EVENT: &str = "automation.invite";
/// Event type of the webhook announcing an assessment order.
pub const ORDERED_EVENT: &str = "assessment.ordered";

/// One write of an action; `part` names it within the action's journal key.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedWrite {
    pub part: String,
    pub connection_id: String,
    pub request: WriteRequest,
}

/// What an action does.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "effect", rename_all = "kebab-case")]
pub enum Effect {
    /// Writes to the ATS, in order, each through the journal.
    Writes { writes: Vec<PlannedWrite> },
    /// A signed webhook to the tenant's product.
    Notify { event: OutboundEvent },
    /// An assessment order to create, then announce to the product.
    Order {
        #[serde(skip)]
        order: Box<NewOrder>,
        #[serde(skip)]
        expiry: Duration,
        event: OutboundEvent,
    },
    /// Nothing to do, and why (e.g. no score band matches).
    Nothing { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The action cannot run on this firing; the reason says what to change.
    #[error("{0}")]
    Impossible(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where plans read from.
pub struct PlanInputs<'a> {
    pub store: &'a dyn Store,
    pub automations: &'a dyn AutomationStore,
}

fn text(document: &Value, pointer: &str) -> Option<String> {
    document.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

fn impossible(reason: impl Into<String>) -> PlanError {
    PlanError::Impossible(reason.into())
}

/// A stable id derived from a firing and an action index (`inv_…`, `ord_…`).
pub fn derived_id(prefix: &str, firing_id: &str, index: usize) -> String {
    let digest = Sha256::digest(format!("{firing_id}\n{index}").as_bytes());
    format!("{prefix}_{}", &hex::encode(digest)[..24])
}

fn resolve_stage(
    stage: &StageRef,
    mapping: Option<&StageMapping>,
    connection_id: &str,
) -> Result<String, PlanError> {
    stage.resolve(mapping).ok_or_else(|| {
        impossible(format!(
            "connection `{connection_id}` maps no {}; add it to the connection's stage mapping and retry the firing",
            stage.describe()
        ))
    })
}

/// Plans action `index` of `firing`.
pub async fn plan(
    firing: &Firing,
    index: usize,
    inputs: &PlanInputs<'_>,
) -> Result<Effect, PlanError> {
    let action = &firing.actions.get(index).ok_or_else(|| impossible("no such action"))?.action;
    let doc = &firing.document;
    let connection = firing.connection_id.as_str();
    let application = text(doc, "/application/id");
    let candidate = text(doc, "/candidate/id");
    let need_application = || {
        application.clone().ok_or_else(|| {
            impossible(format!(
                "`{}` needs an application; this trigger carried none",
                action.name()
            ))
        })
    };
    let need_candidate = || {
        candidate.clone().ok_or_else(|| {
            impossible(format!("`{}` needs a candidate; this trigger carried none", action.name()))
        })
    };
    let target = || match &application {
        Some(id) => Ok(TargetBody { application_id: Some(id.clone()), candidate_id: None }),
        None => {
            need_candidate().map(|id| TargetBody { candidate_id: Some(id), application_id: None })
        }
    };
    let write = |part: &str, request: WriteRequest| PlannedWrite {
        part: part.to_string(),
        connection_id: connection.to_string(),
        request,
    };
    let one = |request: WriteRequest| Ok(Effect::Writes { writes: vec![write("write", request)] });
    match action {
        Action::SendInvite { package_id } => {
            need_candidate()?;
            let data = json!({
                "automation_id": firing.automation_id, "firing_id": firing.id, "connection_id": connection,
                "package_id": package_id, "candidate": doc.get("candidate"), "job": doc.get("job"),
                "application": doc.get("application"), "stage": doc.get("stage"),
            });
            Ok(Effect::Notify { event: outbound(firing, index, "inv", INVITE_EVENT, data) })
        }
        Action::AddTag { tag } => one(WriteRequest::AddTag {
            target: candidate_target(need_candidate()?),
            tag: tag.clone(),
        }),
        Action::RemoveTag { tag } => one(WriteRequest::RemoveTag {
            target: candidate_target(need_candidate()?),
            tag: tag.clone(),
        }),
        Action::AddNote { template: text } => {
            let body = template::render(text, doc);
            if body.trim().is_empty() {
                return Ok(Effect::Nothing { reason: "the note rendered empty".into() });
            }
            one(WriteRequest::AddNote { target: target()?, body })
        }
        Action::MoveToStage { stage } => {
            let application_id = need_application()?;
            let mapping = inputs.automations.stage_mapping(connection).await?;
            let stage_id = resolve_stage(stage, mapping.as_ref(), connection)?;
            one(WriteRequest::MoveStage { application_id, stage_id })
        }
        Action::AttachResultFile {} => {
            let application_id = need_application()?;
            match order_result(doc, inputs).await?.report {
                Some(report) => one(WriteRequest::AddAttachment {
                    target: TargetBody { application_id: Some(application_id), candidate_id: None },
                    file: FileBody {
                        filename: report.filename,
                        content_type: report.content_type,
                        content_base64: report.content_base64,
                    },
                    kind: KindBody::Report,
                    validated: None,
                }),
                None => Ok(Effect::Nothing { reason: "the result has no report file".into() }),
            }
        }
        Action::Reject { reason_id, reason } => {
            let application_id = need_application()?;
            let reason = match reason {
                Some(reason) => reason.clone(),
                None => synced_reason(inputs.store, connection, reason_id).await?,
            };
            one(WriteRequest::Reject { application_id, reason, reason_id: Some(reason_id.clone()) })
        }
        Action::WriteResult { modes } => {
            let application_id = need_application()?;
            let result = order_result(doc, inputs).await?;
            Ok(Effect::Writes {
                writes: result_writes(
                    &application_id,
                    text(doc, "/application/candidate_id"),
                    &result,
                    *modes,
                    connection,
                ),
            })
        }
        Action::TagByScore { bands, percent } => {
            let score_path = if *percent { "/result/score_percent" } else { "/result/score" };
            let Some(score) = doc.pointer(score_path).and_then(Value::as_f64) else {
                return Ok(Effect::Nothing { reason: "the result has no score".into() });
            };
            match band_for(bands, score) {
                Some(band) => one(WriteRequest::AddTag {
                    target: candidate_target(need_candidate()?),
                    tag: band.tag.clone(),
                }),
                None => {
                    Ok(Effect::Nothing { reason: format!("score {score} is below every band") })
                }
            }
        }
        Action::PushToConnection { connection_id, job_id, stage, source, tags } => {
            let candidate_id = need_candidate()?;
            let push = push_body(
                inputs,
                connection,
                &candidate_id,
                connection_id,
                job_id,
                stage.as_ref(),
                source,
                tags,
            )
            .await?;
            Ok(Effect::Writes {
                writes: vec![PlannedWrite {
                    part: "push".into(),
                    connection_id: connection_id.clone(),
                    request: WriteRequest::PushCandidate(Box::new(push)),
                }],
            })
        }
        Action::OrderAssessment { package_id, expires_after_days } => {
            let application_id = need_application()?;
            let candidate_id = need_candidate()?;
            let order = NewOrder {
                id: derived_id("ord", &firing.id, index),
                tenant_id: firing.tenant_id.clone(),
                connection_id: connection.to_string(),
                application_id,
                candidate_id,
                job_id: text(doc, "/job/id"),
                package_id: package_id.clone(),
                automation_id: Some(firing.automation_id.clone()),
                firing_id: Some(firing.id.clone()),
            };
            let expiry = expires_after_days
                .map(|days| Duration::from_secs(u64::from(days) * 24 * 3600))
                .unwrap_or(DEFAULT_EXPIRY);
            let data = json!({
                "order_id": order.id, "package_id": package_id, "automation_id": firing.automation_id,
                "connection_id": connection, "candidate": doc.get("candidate"), "job": doc.get("job"),
                "application": doc.get("application"), "stage": doc.get("stage"),
            });
            let event = outbound(firing, index, "ordev", ORDERED_EVENT, data);
            Ok(Effect::Order { order: Box::new(order), expiry, event })
        }
    }
}

fn candidate_target(id: String) -> TargetBody {
    TargetBody { candidate_id: Some(id), application_id: None }
}

fn outbound(
    firing: &Firing,
    index: usize,
    prefix: &str,
    event_type: &str,
    data: Value,
) -> OutboundEvent {
    OutboundEvent {
        id: derived_id(prefix, &firing.id, index),
        tenant_id: firing.tenant_id.clone(),
        event_type: event_type.to_string(),
        data,
        occurred_at: firing.created_at,
    }
}

/// The highest band the score reaches.
pub fn band_for(bands: &[ScoreBand], score: f64) -> Option<&ScoreBand> {
    bands
        .iter()
        .filter(|b| score >= b.min)
        .max_by(|a, b| a.min.partial_cmp(&b.min).unwrap_or(std::cmp::Ordering::Equal))
}

async fn synced_reason(
    store: &dyn Store,
    connection: &str,
    reason_id: &str,
) -> Result<String, PlanError> {
    store
        .reference(connection, "rejection-reasons")
        .await?
        .iter()
        .find(|r| r.get("id").and_then(Value::as_str) == Some(reason_id))
        .and_then(|r| r.get("name").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| {
            impossible(format!(
                "rejection reason `{reason_id}` is not among connection `{connection}`'s synced reasons; sync its reference lists or give the reason text"
            ))
        })
}

/// The full result of the firing's order (the document carries no report bytes).
async fn order_result(doc: &Value, inputs: &PlanInputs<'_>) -> Result<OrderResult, PlanError> {
    let id = text(doc, "/order/id")
        .ok_or_else(|| impossible("the trigger carries no assessment order with a result"))?;
    inputs
        .automations
        .order(&id)
        .await?
        .and_then(|order| order.result)
        .ok_or_else(|| impossible(format!("assessment order `{id}` has no result")))
}

/// The writes of a result in the chosen modes: the result (score, link, report, as the
/// connector's manifest allows, with its fallbacks) and a note.
pub fn result_writes(
    application_id: &str,
    candidate_id: Option<String>,
    result: &OrderResult,
    modes: ResultModes,
    connection: &str,
) -> Vec<PlannedWrite> {
    let mut writes = Vec::new();
    let request = ResultRequest {
        application_id: application_id.to_string(),
        status: ResultStatus::Completed,
        score: result.score.filter(|_| modes.score_field),
        max_score: result.max_score.filter(|_| modes.score_field),
        link: Some(result.link.clone()).filter(|_| modes.link),
        summary: result.summary.clone().filter(|_| modes.score_field || modes.link),
        sub_results: Vec::new(),
        report: result.report.as_ref().filter(|_| modes.report).map(|r| FileBody {
            filename: r.filename.clone(),
            content_type: r.content_type.clone(),
            content_base64: r.content_base64.clone(),
        }),
        candidate_id,
        validated_report: None,
    };
    if request.score.is_some() || request.link.is_some() || request.report.is_some() {
        writes.push(PlannedWrite {
            part: "result".into(),
            connection_id: connection.to_string(),
            request: WriteRequest::WriteResult(Box::new(request)),
        });
    }
    if modes.note {
        let score = match (result.score, result.max_score) {
            (Some(s), Some(m)) => {
                format!("Score {}/{}", template::display(&json!(s)), template::display(&json!(m)))
            }
            (Some(s), None) => format!("Score {}", template::display(&json!(s))),
            _ => "Result".to_string(),
        };
        let summary = result.summary.as_deref().map(|s| format!("\n{s}")).unwrap_or_default();
        writes.push(PlannedWrite {
            part: "note".into(),
            connection_id: connection.to_string(),
            request: WriteRequest::AddNote {
                target: TargetBody {
                    application_id: Some(application_id.to_string()),
                    candidate_id: None,
                },
                body: format!("{score} – {}{summary}", result.link),
            },
        });
    }
    writes
}

#[allow(clippy::too_many_arguments, reason = "the fields of one push-to-connection action")]
async fn push_body(
    inputs: &PlanInputs<'_>,
    from: &str,
    candidate_id: &str,
    to: &str,
    job_id: &Option<String>,
    stage: Option<&StageRef>,
    source: &Option<String>,
    tags: &[String],
) -> Result<PushCandidate, PlanError> {
    let stored = inputs
        .store
        .candidate(from, candidate_id)
        .await?
        .ok_or_else(|| impossible(format!("candidate `{candidate_id}` of connection `{from}` is not synced yet; retry after its next sync")))?;
    let defaults: PushDefaults = inputs.automations.push_defaults(to).await?.unwrap_or_default();
    let mapping = inputs.automations.stage_mapping(to).await?;
    let stage_id = match (stage, job_id) {
        (Some(stage), Some(_)) => Some(resolve_stage(stage, mapping.as_ref(), to)?),
        _ => None,
    };
    let custom_fields = stored.custom_fields.iter().cloned().collect();
    let mut push = PushCandidate {
        candidate: CandidateBody {
            first_name: stored.first_name,
            last_name: stored.last_name,
            emails: stored.emails,
            phones: stored.phones,
            custom_fields,
            location: None,
            company: stored.company,
            title: stored.title,
            links: Vec::new(),
        },
        job_id: job_id.clone(),
        stage_id,
        source: source.clone(),
        answers: Vec::new(),
        cv: None,
        note: None,
        tags: tags.to_vec(),
        validated_cv: None,
    };
    apply_push_defaults(&mut push, &defaults, mapping.as_ref())
        .map_err(|error| impossible(format!("connection `{to}`: {error}")))?;
    Ok(push)
}

/// The push defaults name a mapped stage the connection's stage mapping lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the push defaults start pushes in {stage}, which the stage mapping does not map; map it or change the push defaults"
)]
pub struct UnmappedDefaultStage {
    /// The stage as [`StageRef::describe`] names it.
    pub stage: String,
}

/// Fills in what a push into a connection left out from that connection's push defaults:
/// the initial stage (a mapped name resolved through the connection's stage mapping; only
/// for a push with a job, as a stage belongs to an application), the source, and the
/// default tags, added to the push's own. Pushes through the API and `push-to-connection`
/// actions both go through here.
pub fn apply_push_defaults(
    push: &mut PushCandidate,
    defaults: &PushDefaults,
    mapping: Option<&StageMapping>,
) -> Result<(), UnmappedDefaultStage> {
    if push.stage_id.is_none()
        && push.job_id.is_some()
        && let Some(stage) = &defaults.initial_stage
    {
        let id = stage
            .resolve(mapping)
            .ok_or_else(|| UnmappedDefaultStage { stage: stage.describe() })?;
        push.stage_id = Some(id);
    }
    if push.source.is_none() {
        push.source = defaults.source.clone();
    }
    for tag in &defaults.tags {
        if !push.tags.contains(tag) {
            push.tags.push(tag.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(job: Option<&str>) -> PushCandidate {
        PushCandidate {
            candidate: CandidateBody {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                emails: vec!["ada@example.com".into()],
                phones: Vec::new(),
                custom_fields: Default::default(),
                location: None,
                company: None,
                title: None,
                links: Vec::new(),
            },
            job_id: job.map(str::to_string),
            stage_id: None,
            source: None,
            answers: Vec::new(),
            cv: None,
            note: None,
            tags: vec!["mine".into()],
            validated_cv: None,
        }
    }

    #[test]
    fn push_defaults_fill_only_what_the_push_left_out() {
        let mapping = StageMapping { stages: [("Sourced".to_string(), "st-2".to_string())].into() };
        let defaults = PushDefaults {
            initial_stage: Some(StageRef::Mapped("sourced".into())),
            source: Some("AI sourcer".into()),
            tags: vec!["via-host".into(), "mine".into()],
        };
        let mut with_job = push(Some("job-1"));
        apply_push_defaults(&mut with_job, &defaults, Some(&mapping)).expect("applies");
        assert_eq!(with_job.stage_id.as_deref(), Some("st-2"));
        assert_eq!(with_job.source.as_deref(), Some("AI sourcer"));
        assert_eq!(with_job.tags, vec!["mine".to_string(), "via-host".to_string()]);

        let mut own = push(Some("job-1"));
        own.stage_id = Some("st-4".into());
        own.source = Some("Referral".into());
        apply_push_defaults(&mut own, &defaults, Some(&mapping)).expect("applies");
        assert_eq!(
            (own.stage_id.as_deref(), own.source.as_deref()),
            (Some("st-4"), Some("Referral"))
        );

        let mut no_job = push(None);
        apply_push_defaults(&mut no_job, &defaults, None).expect("no stage without a job");
        assert_eq!(no_job.stage_id, None);

        let error = apply_push_defaults(&mut push(Some("job-1")), &defaults, None)
            .expect_err("an unmapped default stage");
        assert!(error.to_string().contains("\"sourced\""), "{error}");
    }
}
