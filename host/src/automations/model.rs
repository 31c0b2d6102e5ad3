//! The records of automations: an [`Automation`] (scope, job filter, trigger, conditions,
//! ordered actions), the [`AutomationInput`] the API accepts, and per connection the
//! tenant's [`StageMapping`] and [`PushDefaults`]. JSON: fields in snake_case, enum values
//! in kebab-case, tagged by `type` (triggers, actions) or `kind` (scope, jobs), like the
//! rest of the API.

use super::conditions::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which connections of the tenant an automation watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Scope {
    /// One connection.
    Connection { connection_id: String },
    /// Every connection of the tenant, present and future.
    All {},
}

impl Scope {
    pub fn covers(&self, connection_id: &str) -> bool {
        match self {
            Scope::Connection { connection_id: id } => id == connection_id,
            Scope::All {} => true,
        }
    }
}

/// Which jobs an automation watches (by ATS job id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum JobFilter {
    Any {},
    Listed { job_ids: Vec<String> },
}

impl Default for JobFilter {
    fn default() -> Self {
        JobFilter::Any {}
    }
}

impl JobFilter {
    /// Whether an event about `job_id` (none: the event has no job) passes.
    pub fn admits(&self, job_id: Option<&str>) -> bool {
        match self {
            JobFilter::Any {} => true,
            JobFilter::Listed { job_ids } => job_id.is_some_and(|j| job_ids.iter().any(|l| l == j)),
        }
    }
}

/// A stage, by the ATS's id or by the tenant's own name mapped per connection
/// (`{"stage_id": "st-3"}` or `{"mapped": "Assessment"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StageRef {
    StageId(String),
    Mapped(String),
}

impl StageRef {
    /// The ATS stage id on `connection_id`; `None` for a mapped name the connection has
    /// not mapped.
    pub fn resolve(&self, mapping: Option<&StageMapping>) -> Option<String> {
        match self {
            StageRef::StageId(id) => Some(id.clone()),
            StageRef::Mapped(name) => mapping.and_then(|m| m.stage_id(name)).map(str::to_string),
        }
    }

    /// Readable form for messages: `stage st-3` or `mapped stage "Assessment"`.
    pub fn describe(&self) -> String {
        match self {
            StageRef::StageId(id) => format!("stage `{id}`"),
            StageRef::Mapped(name) => format!("mapped stage \"{name}\""),
        }
    }
}

/// What a product reported about a result (`review event` trigger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewKind {
    ThumbUp,
    ThumbDown,
    Comment,
}

/// The one thing that starts an automation. Each trigger provides its own data document
/// (see [`super::document`]), which conditions and templates read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Trigger {
    /// An application entered a stage (`application.stage_changed`). "Of job J" is the
    /// automation's `jobs` filter.
    StageEntered {
        stage: StageRef,
    },
    ApplicationCreated {},
    JobCreated {},
    JobClosed {},
    JobReopened {},
    CandidateUpdated {},
    /// The product posted an assessment or interview result (on an order or directly).
    ResultSubmitted {},
    /// The product posted a review of a result; `kinds` empty means every kind.
    ReviewEvent {
        #[serde(default)]
        kinds: Vec<ReviewKind>,
    },
    /// A candidate was pushed into the ATS through the host.
    CandidatePushed {},
}

impl Trigger {
    /// The event type (of the host's event log) this trigger listens to.
    pub fn event_type(&self) -> &'static str {
        use super::document::event_types as t;
        match self {
            Trigger::StageEntered { .. } => t::STAGE_CHANGED,
            Trigger::ApplicationCreated {} => t::APPLICATION_CREATED,
            Trigger::JobCreated {} => t::JOB_CREATED,
            Trigger::JobClosed {} => t::JOB_CLOSED,
            Trigger::JobReopened {} => t::JOB_REOPENED,
            Trigger::CandidateUpdated {} => t::CANDIDATE_UPDATED,
            Trigger::ResultSubmitted {} => t::RESULT_SUBMITTED,
            Trigger::ReviewEvent { .. } => t::RESULT_REVIEWED,
            Trigger::CandidatePushed {} => t::CANDIDATE_PUSHED,
        }
    }

    /// The kebab-case name used in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::StageEntered { .. } => "stage-entered",
            Trigger::ApplicationCreated {} => "application-created",
            Trigger::JobCreated {} => "job-created",
            Trigger::JobClosed {} => "job-closed",
            Trigger::JobReopened {} => "job-reopened",
            Trigger::CandidateUpdated {} => "candidate-updated",
            Trigger::ResultSubmitted {} => "result-submitted",
            Trigger::ReviewEvent { .. } => "review-event",
            Trigger::CandidatePushed {} => "candidate-pushed",
        }
    }
}

/// Which parts of a result a `write-result` action writes. Where the ATS lacks a place for
/// one, the write falls back as the connector's manifest says and the firing reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ResultModes {
    pub score_field: bool,
    pub link: bool,
    pub note: bool,
    /// The result's report file (PDF).
    pub report: bool,
}

impl Default for ResultModes {
    fn default() -> Self {
        ResultModes { score_field: true, link: true, note: false, report: false }
    }
}

impl ResultModes {
    pub fn any(&self) -> bool {
        self.score_field || self.link || self.note || self.report
    }
}

/// `score ≥ min → tag`. Bands are matched highest `min` first; one tag per result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreBand {
    /// On the result's own scale (`result.score`), or a percentage with `percent: true`.
    pub min: f64,
    pub tag: String,
}

/// One step of an automation; actions run in order, each at most once per firing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// A signed outbound webhook (`automation.invite`) to the tenant's product carrying the
    /// candidate's contact details, job, application and stage; the product sends the
    /// e-mail.
    SendInvite {
        /// Free text the product uses to pick what to invite to (a test, an interview).
        #[serde(default)]
        package_id: Option<String>,
    },
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    /// A note on the application, rendered from the trigger's data.
    AddNote {
        template: String,
    },
    MoveToStage {
        stage: StageRef,
    },
    /// Attaches the result's report file to the application.
    AttachResultFile {},
    /// Rejects the application with a reason from the connection's synced list.
    Reject {
        reason_id: String,
        /// The reason text written to the ATS; the synced reason's name when absent.
        #[serde(default)]
        reason: Option<String>,
    },
    WriteResult {
        #[serde(default)]
        modes: ResultModes,
    },
    TagByScore {
        bands: Vec<ScoreBand>,
        /// Bands are percentages of `max_score` instead of raw scores.
        #[serde(default)]
        percent: bool,
    },
    /// Pushes the candidate to another connection of the tenant; fields left out take
    /// that connection's [`PushDefaults`].
    PushToConnection {
        connection_id: String,
        #[serde(default)]
        job_id: Option<String>,
        #[serde(default)]
        stage: Option<StageRef>,
        #[serde(default)]
        source: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
    },
    /// Orders an assessment: creates an order and tells the product (`assessment.ordered`).
    OrderAssessment {
        package_id: String,
        /// Days until an unfinished order expires; 56 (8 weeks) when absent.
        #[serde(default)]
        expires_after_days: Option<u32>,
    },
}

impl Action {
    /// The kebab-case name used in messages and firing reports.
    pub fn name(&self) -> &'static str {
        match self {
            Action::SendInvite { .. } => "send-invite",
            Action::AddTag { .. } => "add-tag",
            Action::RemoveTag { .. } => "remove-tag",
            Action::AddNote { .. } => "add-note",
            Action::MoveToStage { .. } => "move-to-stage",
            Action::AttachResultFile {} => "attach-result-file",
            Action::Reject { .. } => "reject",
            Action::WriteResult { .. } => "write-result",
            Action::TagByScore { .. } => "tag-by-score",
            Action::PushToConnection { .. } => "push-to-connection",
            Action::OrderAssessment { .. } => "order-assessment",
        }
    }
}

/// What happens to matching events while the connection is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WhilePaused {
    /// Firings are kept and run once the connection is resumed.
    #[default]
    Wait,
    /// Events seen while paused fire nothing.
    Skip,
}

/// An automation as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Automation {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub scope: Scope,
    pub jobs: JobFilter,
    pub enabled: bool,
    /// On enabling, fire for every application already in the trigger stage.
    pub backfill: bool,
    pub while_paused: WhilePaused,
    pub trigger: Trigger,
    pub conditions: Condition,
    pub actions: Vec<Action>,
    /// When it was last enabled (unix ms): events older than this fire nothing.
    pub enabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The body that creates or replaces an automation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationInput {
    pub name: String,
    pub scope: Scope,
    #[serde(default)]
    pub jobs: JobFilter,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub backfill: bool,
    #[serde(default)]
    pub while_paused: WhilePaused,
    pub trigger: Trigger,
    #[serde(default)]
    pub conditions: Condition,
    pub actions: Vec<Action>,
}

impl Automation {
    /// A new automation from a validated input.
    pub fn create(id: String, tenant_id: String, input: AutomationInput, now: i64) -> Self {
        let mut automation = Automation {
            id,
            tenant_id,
            name: String::new(),
            scope: Scope::All {},
            jobs: JobFilter::Any {},
            enabled: false,
            backfill: false,
            while_paused: WhilePaused::Wait,
            trigger: Trigger::ApplicationCreated {},
            conditions: Condition::default(),
            actions: Vec::new(),
            enabled_at: None,
            created_at: now,
            updated_at: now,
        };
        automation.replace(input, now);
        automation
    }

    /// Replaces the editable fields; enabling stamps `enabled_at`.
    pub fn replace(&mut self, input: AutomationInput, now: i64) {
        let was_enabled = self.enabled;
        self.name = input.name;
        self.scope = input.scope;
        self.jobs = input.jobs;
        self.backfill = input.backfill;
        self.while_paused = input.while_paused;
        self.trigger = input.trigger;
        self.conditions = input.conditions;
        self.actions = input.actions;
        self.set_enabled(input.enabled, now);
        if was_enabled && self.enabled {
            self.enabled_at = self.enabled_at.or(Some(now));
        }
        self.updated_at = now;
    }

    /// Enables or disables; returns whether this call enabled a disabled automation (the
    /// moment a backfill runs).
    pub fn set_enabled(&mut self, enabled: bool, now: i64) -> bool {
        let newly = enabled && !self.enabled;
        if newly {
            self.enabled_at = Some(now);
        }
        self.enabled = enabled;
        self.updated_at = now;
        newly
    }

    /// A disabled copy under a new id and name (the API's "duplicate").
    pub fn duplicate(&self, id: String, name: Option<String>, now: i64) -> Automation {
        Automation {
            id,
            name: name.unwrap_or_else(|| format!("{} (copy)", self.name)),
            enabled: false,
            enabled_at: None,
            created_at: now,
            updated_at: now,
            ..self.clone()
        }
    }

    /// The editable fields as an input (to edit a copy and save it again).
    pub fn to_input(&self) -> AutomationInput {
        AutomationInput {
            name: self.name.clone(),
            scope: self.scope.clone(),
            jobs: self.jobs.clone(),
            enabled: self.enabled,
            backfill: self.backfill,
            while_paused: self.while_paused,
            trigger: self.trigger.clone(),
            conditions: self.conditions.clone(),
            actions: self.actions.clone(),
        }
    }
}

/// A tenant's own pipeline stage names mapped to one connection's ATS stage ids, so one
/// automation serves customers on different ATSs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageMapping {
    /// Tenant stage name → ATS stage id.
    pub stages: BTreeMap<String, String>,
}

impl StageMapping {
    /// The ATS stage id of a tenant stage name (names compare without case).
    pub fn stage_id(&self, name: &str) -> Option<&str> {
        self.stages
            .iter()
            .find(|(mapped, _)| mapped.trim().eq_ignore_ascii_case(name.trim()))
            .map(|(_, id)| id.as_str())
    }

    /// The tenant's name of an ATS stage id, if mapped.
    pub fn name_of(&self, stage_id: &str) -> Option<&str> {
        self.stages.iter().find(|(_, id)| *id == stage_id).map(|(name, _)| name.as_str())
    }
}

/// What every push into one connection gets unless the push says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PushDefaults {
    pub initial_stage: Option<StageRef>,
    pub source: Option<String>,
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(value: serde_json::Value) -> Result<AutomationInput, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn an_input_reads_from_the_api_json_shape() {
        let parsed = input(json!({
            "name": "Invite on Assessment",
            "scope": {"kind": "connection", "connection_id": "conn_1"},
            "jobs": {"kind": "listed", "job_ids": ["job-1"]},
            "trigger": {"type": "stage-entered", "stage": {"mapped": "Assessment"}},
            "actions": [
                {"type": "send-invite"},
                {"type": "add-note", "template": "Score {{result.score}}"},
                {"type": "move-to-stage", "stage": {"stage_id": "st-4"}},
                {"type": "write-result", "modes": {"note": true, "report": true}},
                {"type": "tag-by-score", "bands": [{"min": 80, "tag": "top"}]}
            ]
        }))
        .expect("parses");
        assert_eq!(
            parsed.trigger,
            Trigger::StageEntered { stage: StageRef::Mapped("Assessment".into()) }
        );
        assert_eq!(parsed.jobs, JobFilter::Listed { job_ids: vec!["job-1".into()] });
        assert_eq!(
            parsed.actions[3],
            Action::WriteResult {
                modes: ResultModes { score_field: true, link: true, note: true, report: true }
            }
        );
        assert!(!parsed.enabled, "disabled unless asked");
        let back = serde_json::to_value(&parsed).expect("serialises");
        assert_eq!(back["actions"][2]["stage"], json!({"stage_id": "st-4"}));
        assert_eq!(back["scope"], json!({"kind": "connection", "connection_id": "conn_1"}));
    }

    #[test]
    fn unknown_fields_are_refused_everywhere() {
        let base = json!({"name": "x", "scope": {"kind": "all"}, "trigger": {"type": "job-created"}, "actions": []});
        assert!(input(base.clone()).is_ok());
        let mut extra = base.clone();
        extra["colour"] = json!("red");
        assert!(input(extra).is_err());
        let mut bad_trigger = base.clone();
        bad_trigger["trigger"] = json!({"type": "job-created", "stage": "x"});
        assert!(input(bad_trigger).is_err());
        let mut bad_scope = base.clone();
        bad_scope["scope"] = json!({"kind": "all", "connection_id": "c"});
        assert!(input(bad_scope).is_err());
        let mut bad_action = base;
        bad_action["actions"] = json!([{"type": "add-tag", "tag": "a", "colour": 1}]);
        assert!(input(bad_action).is_err());
    }

    #[test]
    fn enabling_stamps_the_instant_and_duplicates_start_disabled() {
        let raw = json!({"name": "x", "scope": {"kind": "all"}, "enabled": true, "trigger": {"type": "job-created"}, "actions": []});
        let mut automation =
            Automation::create("a1".into(), "t".into(), input(raw).expect("ok"), 10);
        assert_eq!(automation.enabled_at, Some(10));
        assert!(!automation.set_enabled(true, 20), "already enabled");
        assert_eq!(automation.enabled_at, Some(10));
        automation.set_enabled(false, 30);
        assert!(automation.set_enabled(true, 40));
        assert_eq!(automation.enabled_at, Some(40));
        let copy = automation.duplicate("a2".into(), None, 50);
        assert_eq!((copy.enabled, copy.name.as_str(), copy.enabled_at), (false, "x (copy)", None));
        assert_eq!(copy.trigger, automation.trigger);
    }

    #[test]
    fn scopes_job_filters_and_mappings_match() {
        assert!(Scope::All {}.covers("c"));
        assert!(!Scope::Connection { connection_id: "a".into() }.covers("b"));
        let listed = JobFilter::Listed { job_ids: vec!["j1".into()] };
        assert!(listed.admits(Some("j1")) && !listed.admits(Some("j2")) && !listed.admits(None));
        assert!(JobFilter::Any {}.admits(None));
        let mapping = StageMapping { stages: BTreeMap::from([("Invited".into(), "st-2".into())]) };
        assert_eq!(
            StageRef::Mapped("invited ".into()).resolve(Some(&mapping)),
            Some("st-2".into())
        );
        assert_eq!(StageRef::Mapped("Hired".into()).resolve(Some(&mapping)), None);
        assert_eq!(mapping.name_of("st-2"), Some("Invited"));
    }
}
