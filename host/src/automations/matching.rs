//! From events to firings: which enabled automations an event of the log fires (tenant,
//! scope, trigger, job filter, enabled since, conditions), the **trigger event key** that
//! makes the same trigger fire once, backfill on enable, and dry runs.
//!
//! **Trigger event keys** (a firing's id is derived from (automation id, key)):
//!
//! | event | key |
//! |---|---|
//! | `application.stage_changed` | `stage-entered:{connection}:{application}:{stage}:at:{stage_entered_at}` — the host's instant the application entered that stage, read from the stored application while it is still there (`event:{event id}` once it has moved on) |
//! | `application.created` | `application-created:{connection}:{application}` |
//! | `job.created` | `job-created:{connection}:{job}` |
//! | `result.submitted` | `result:{connection}:{order id}` (results are write-once per order) |
//! | `result.reviewed` | `review:{connection}:{review id}` |
//! | `candidate.pushed` | `pushed:{connection}:{push key}` |
//! | others (`job.closed`, `job.reopened`, `candidate.updated`) | `{type}:{connection}:{subject}:event:{event id}` |
//!
//! A stage entry is one stay of an application in a stage: change detection stamps
//! `stage_entered_at` once per transition, whether a poll or a webhook-triggered sync saw it
//! (a webhook joins the sync, it does not emit events of its own), so an event offered twice
//! (a crash before the cursor moved) or an application found by both an event and a backfill
//! keys the same. The ATS's `updated_at` is not used: many ATSs do not change it on a stage
//! move, and a second stay in the same stage must fire again.

use super::conditions::lookup;
use super::document::{self, Lookups, event_types};
use super::model::{Automation, Trigger, WhilePaused};
use super::outbox::{ActionRun, ActionStatus, Firing, FiringStatus, Outbox, firing_id};
use super::plan::{Effect, PlanError, PlanInputs, plan};
use super::storage::{AutomationStore, StorageError};
use crate::store::{ConnectionStatus, Event, RecordFilter, Store, StoreError, StoredApplication};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where matching reads and what it fills.
#[derive(Clone, Copy)]
pub struct Matcher<'a> {
    pub store: &'a dyn Store,
    pub automations: &'a dyn AutomationStore,
    pub outbox: &'a dyn Outbox,
}

fn text<'a>(data: &'a Value, key: &str) -> Option<&'a str> {
    data.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The job an event concerns.
fn event_job(event: &Event) -> Option<&str> {
    text(&event.data, "job_id")
        .or_else(|| event.event_type.starts_with("job.").then_some(event.subject_id.as_str()))
}

/// The stage-entry key of an application's current stay in `stage_id`.
fn stay_key(connection: &str, application: &StoredApplication, stage_id: &str) -> String {
    format!(
        "stage-entered:{connection}:{}:{stage_id}:at:{}",
        application.remote_id, application.stage_entered_at
    )
}

/// The trigger event key of `event` (see the module doc).
pub async fn trigger_key(event: &Event, store: &dyn Store) -> Result<String, StoreError> {
    let conn = &event.connection_id;
    let data = &event.data;
    let by_event =
        || format!("{}:{conn}:{}:event:{}", event.event_type, event.subject_id, event.id);
    Ok(match event.event_type.as_str() {
        event_types::STAGE_CHANGED => {
            let (Some(app_id), Some(stage_id)) =
                (text(data, "application_id"), text(data, "stage_id"))
            else {
                return Ok(by_event());
            };
            match store.application(conn, app_id).await? {
                Some(app) if app.stage_id.as_deref() == Some(stage_id) => {
                    stay_key(conn, &app, stage_id)
                }
                _ => format!("stage-entered:{conn}:{app_id}:{stage_id}:event:{}", event.id),
            }
        }
        event_types::APPLICATION_CREATED => {
            format!("application-created:{conn}:{}", event.subject_id)
        }
        event_types::JOB_CREATED => format!("job-created:{conn}:{}", event.subject_id),
        event_types::RESULT_SUBMITTED => match data.pointer("/order/id").and_then(Value::as_str) {
            Some(order) => format!("result:{conn}:{order}"),
            None => by_event(),
        },
        event_types::RESULT_REVIEWED => match data.pointer("/review/id").and_then(Value::as_str) {
            Some(review) => format!("review:{conn}:{review}"),
            None => by_event(),
        },
        event_types::CANDIDATE_PUSHED => match text(data, "push_key") {
            Some(push) => format!("pushed:{conn}:{push}"),
            None => by_event(),
        },
        _ => by_event(),
    })
}

/// A new firing of `automation` for a trigger with `document`.
pub fn new_firing(
    automation: &Automation,
    event: &Event,
    key: &str,
    document: Value,
    backfill: bool,
    now: i64,
) -> Firing {
    let id_at =
        |pointer: &str| lookup(&document, pointer).and_then(Value::as_str).map(str::to_string);
    Firing {
        id: firing_id(&automation.id, key),
        tenant_id: automation.tenant_id.clone(),
        automation_id: automation.id.clone(),
        connection_id: event.connection_id.clone(),
        trigger_key: key.to_string(),
        event_id: (!backfill).then(|| event.id.clone()),
        event_type: event.event_type.clone(),
        application_id: id_at("application.id"),
        candidate_id: id_at("candidate.id"),
        job_id: id_at("job.id"),
        backfill,
        status: FiringStatus::Pending,
        actions: automation
            .actions
            .iter()
            .map(|action| ActionRun {
                action: action.clone(),
                status: ActionStatus::Pending,
                attempts: 0,
                detail: None,
                reason: None,
                error: None,
                updated_at: now,
            })
            .collect(),
        next_attempt_at: now,
        failed_action: None,
        created_at: now,
        updated_at: now,
        document,
    }
}

/// What an automation makes of one event, before conditions.
async fn admits(
    automation: &Automation,
    event: &Event,
    matcher: &Matcher<'_>,
    ignore_enabled: bool,
) -> Result<bool, EngineError> {
    if automation.tenant_id != event.tenant_id
        || !automation.scope.covers(&event.connection_id)
        || automation.trigger.event_type() != event.event_type
        || !automation.jobs.admits(event_job(event))
    {
        return Ok(false);
    }
    if !ignore_enabled
        && (!automation.enabled || automation.enabled_at.is_none_or(|at| event.occurred_at < at))
    {
        return Ok(false);
    }
    Ok(match &automation.trigger {
        Trigger::StageEntered { stage } => {
            let mapping = matcher.automations.stage_mapping(&event.connection_id).await?;
            stage
                .resolve(mapping.as_ref())
                .is_some_and(|id| text(&event.data, "stage_id") == Some(id.as_str()))
        }
        Trigger::ReviewEvent { kinds } if !kinds.is_empty() => {
            let kind = event.data.pointer("/review/kind").cloned();
            kinds.iter().any(|k| serde_json::to_value(k).ok() == kind)
        }
        _ => true,
    })
}

impl Matcher<'_> {
    /// The document of `event` if `automation` fires on it (conditions included).
    async fn document_if_fires(
        &self,
        automation: &Automation,
        event: &Event,
        ignore_enabled: bool,
    ) -> Result<Option<Value>, EngineError> {
        if !admits(automation, event, self, ignore_enabled).await? {
            return Ok(None);
        }
        let mapping = self.automations.stage_mapping(&event.connection_id).await?;
        let doc = document::build(event, &Lookups { store: self.store, mapping: mapping.as_ref() })
            .await?;
        Ok(automation.conditions.holds(&doc).then_some(doc))
    }

    /// Enqueues the firings of `event` for the automations it fires; returns the ids of
    /// firings new now.
    pub async fn offer(
        &self,
        event: &Event,
        automations: &[Automation],
        now: i64,
    ) -> Result<Vec<String>, EngineError> {
        let mut fired = Vec::new();
        for automation in automations {
            let Some(doc) = self.document_if_fires(automation, event, false).await? else {
                continue;
            };
            if automation.while_paused == WhilePaused::Skip
                && self
                    .store
                    .connection(&event.connection_id)
                    .await?
                    .is_some_and(|c| c.status == ConnectionStatus::Paused)
            {
                continue;
            }
            let key = trigger_key(event, self.store).await?;
            let firing = new_firing(automation, event, &key, doc, false, now);
            if self.outbox.enqueue(&firing).await? {
                fired.push(firing.id);
            }
        }
        Ok(fired)
    }

    /// Matches the events after the outbox's cursor (at most `limit`), enqueues their
    /// firings and moves the cursor; returns how many events were read.
    pub async fn process_events(&self, limit: usize, now: i64) -> Result<usize, EngineError> {
        let events = self.store.events(None, self.outbox.cursor().await?, limit).await?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(0) };
        let automations = self.automations.automations(None).await?;
        for event in &events {
            let mine: Vec<Automation> = automations
                .iter()
                .filter(|a| a.tenant_id == event.tenant_id && a.enabled)
                .cloned()
                .collect();
            if !mine.is_empty() {
                self.offer(event, &mine, now).await?;
            }
        }
        self.outbox.set_cursor(last).await?;
        Ok(events.len())
    }

    /// The applications an automation's stage-entered trigger covers now, with the event
    /// standing for their entry.
    async fn current_entries(
        &self,
        automation: &Automation,
    ) -> Result<Vec<(StoredApplication, Event)>, EngineError> {
        let Trigger::StageEntered { stage } = &automation.trigger else { return Ok(Vec::new()) };
        let mut entries = Vec::new();
        for connection in self.store.connections(Some(&automation.tenant_id)).await? {
            if !automation.scope.covers(&connection.id) {
                continue;
            }
            let mapping = self.automations.stage_mapping(&connection.id).await?;
            let Some(stage_id) = stage.resolve(mapping.as_ref()) else { continue };
            let filter = RecordFilter {
                tenant_id: Some(automation.tenant_id.clone()),
                connection_id: Some(connection.id.clone()),
                limit: usize::MAX,
                fields: crate::store::FieldFilter {
                    stage_id: Some(stage_id.clone()),
                    ..Default::default()
                },
                ..RecordFilter::default()
            };
            for application in self.store.applications(&filter).await? {
                if !automation.jobs.admits(Some(&application.job_id)) {
                    continue;
                }
                let event = Event {
                    seq: 0,
                    id: format!("backfill:{}:{}", connection.id, application.remote_id),
                    tenant_id: automation.tenant_id.clone(),
                    connection_id: connection.id.clone(),
                    event_type: event_types::STAGE_CHANGED.into(),
                    subject_id: application.remote_id.clone(),
                    data: json!({"application_id": application.remote_id, "candidate_id": application.candidate_id,
                                 "job_id": application.job_id, "stage_id": stage_id, "status": application.status}),
                    occurred_at: application.stage_entered_at,
                };
                entries.push((application, event));
            }
        }
        Ok(entries)
    }

    /// On enabling with `backfill`: fires for every application now in the trigger stage
    /// (once each: the key is the one their entry event has). Returns the new firings.
    pub async fn backfill(
        &self,
        automation: &Automation,
        now: i64,
    ) -> Result<Vec<String>, EngineError> {
        let mut fired = Vec::new();
        for (application, event) in self.current_entries(automation).await? {
            let Some(doc) = self.document_if_fires(automation, &event, true).await? else {
                continue;
            };
            let stage_id = text(&event.data, "stage_id").unwrap_or_default();
            let key = stay_key(&event.connection_id, &application, stage_id);
            let firing = new_firing(automation, &event, &key, doc, true, now);
            if self.outbox.enqueue(&firing).await? {
                fired.push(firing.id);
            }
        }
        Ok(fired)
    }

    /// Which current applications would fire and what each action would do, writing
    /// nothing. Stage-entered automations look at the applications now in the stage,
    /// application-created ones at every current application; other triggers need an
    /// event ([`Matcher::dry_run_event`]).
    pub async fn dry_run(
        &self,
        automation: &Automation,
        limit: usize,
        now: i64,
    ) -> Result<Vec<DryRunFiring>, EngineError> {
        let entries = match &automation.trigger {
            Trigger::StageEntered { .. } => self.current_entries(automation).await?,
            Trigger::ApplicationCreated {} => self.all_applications(automation).await?,
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        for (_, event) in entries.into_iter().take(limit) {
            if let Some(found) = self.dry_run_event(automation, &event, now).await? {
                out.push(found);
            }
        }
        Ok(out)
    }

    async fn all_applications(
        &self,
        automation: &Automation,
    ) -> Result<Vec<(StoredApplication, Event)>, EngineError> {
        let filter = RecordFilter {
            tenant_id: Some(automation.tenant_id.clone()),
            limit: usize::MAX,
            ..RecordFilter::default()
        };
        Ok(self
            .store
            .applications(&filter).await?
            .into_iter()
            .filter(|a| automation.scope.covers(&a.connection_id) && automation.jobs.admits(Some(&a.job_id)))
            .map(|a| {
                let event = Event {
                    seq: 0,
                    id: format!("dry-run:{}:{}", a.connection_id, a.remote_id),
                    tenant_id: a.tenant_id.clone(),
                    connection_id: a.connection_id.clone(),
                    event_type: event_types::APPLICATION_CREATED.into(),
                    subject_id: a.remote_id.clone(),
                    data: json!({"application_id": a.remote_id, "candidate_id": a.candidate_id, "job_id": a.job_id, "stage_id": a.stage_id}),
                    occurred_at: a.first_seen_at,
                };
                (a, event)
            })
            .collect())
    }

    /// What `automation` would do for `event` (`None`: it would not fire).
    pub async fn dry_run_event(
        &self,
        automation: &Automation,
        event: &Event,
        now: i64,
    ) -> Result<Option<DryRunFiring>, EngineError> {
        let Some(doc) = self.document_if_fires(automation, event, true).await? else {
            return Ok(None);
        };
        let firing = new_firing(automation, event, "dry-run", doc, false, now);
        let inputs = PlanInputs { store: self.store, automations: self.automations };
        let mut actions = Vec::new();
        for (index, run) in firing.actions.iter().enumerate() {
            let planned = match plan(&firing, index, &inputs).await {
                Ok(Effect::Nothing { reason }) => DryRunAction::Skipped { reason },
                Ok(effect) => DryRunAction::Would {
                    effect: serde_json::to_value(&effect).unwrap_or(Value::Null),
                },
                Err(PlanError::Impossible(reason)) => DryRunAction::Fails { reason },
                Err(PlanError::Store(e)) => return Err(e.into()),
                Err(PlanError::Storage(e)) => return Err(e.into()),
            };
            actions.push(DryRunStep { index, action: run.action.name(), outcome: planned });
        }
        Ok(Some(DryRunFiring {
            connection_id: firing.connection_id,
            application_id: firing.application_id,
            candidate_id: firing.candidate_id,
            job_id: firing.job_id,
            document: firing.document,
            actions,
        }))
    }
}

/// One firing a dry run found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DryRunFiring {
    pub connection_id: String,
    pub application_id: Option<String>,
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    /// The trigger's data the conditions and templates saw.
    pub document: Value,
    pub actions: Vec<DryRunStep>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DryRunStep {
    pub index: usize,
    pub action: &'static str,
    #[serde(flatten)]
    pub outcome: DryRunAction,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum DryRunAction {
    /// The writes, webhook or order it would make (rendered notes, resolved stage ids).
    Would {
        effect: Value,
    },
    Skipped {
        reason: String,
    },
    /// It would fail for good, and why.
    Fails {
        reason: String,
    },
}
