//! Checks of an automation on save. Every problem is an [`Issue`] naming the field path in
//! the input (`actions[2].template`, `conditions.all[0]`) and saying how to fix it; a
//! contradiction names every rule involved. The API answers 422 with the issues as fields.

use super::document::{check_path, sections};
use super::model::{
    Action, AutomationInput, JobFilter, PushDefaults, Scope, StageMapping, StageRef, Trigger,
};
use super::{contradictions, template};
use serde::Serialize;
use std::collections::BTreeMap;

/// Longest automation name.
pub const MAX_NAME_CHARS: usize = 200;
/// Most actions of one automation.
pub const MAX_ACTIONS: usize = 20;
/// Longest expiry of an assessment order (days).
pub const MAX_EXPIRY_DAYS: u32 = 365;
/// Most stages one connection's mapping names.
pub const MAX_MAPPED_STAGES: usize = 200;
/// Automations one tenant may keep (every event is matched against each enabled one).
pub const MAX_AUTOMATIONS_PER_TENANT: usize = 1_000;

/// One problem of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Where, as a path into the input.
    pub field: String,
    /// What is wrong and how to fix it.
    pub problem: String,
    /// Other fields involved (the other rules of a contradiction).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
}

impl Issue {
    pub fn new(field: &str, problem: impl Into<String>) -> Self {
        Issue { field: field.to_string(), problem: problem.into(), related: Vec::new() }
    }
}

/// Why an automation was not saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the automation is not valid: {}", .issues.iter().map(|i| format!("{}: {}", i.field, i.problem)).collect::<Vec<_>>().join("; "))]
pub struct InvalidAutomation {
    pub issues: Vec<Issue>,
}

/// What the tenant has configured, for checks that depend on it.
#[derive(Debug, Clone, Default)]
pub struct SaveContext {
    /// The stage mapping of each connection of the tenant (missing: none saved).
    pub mappings: BTreeMap<String, StageMapping>,
}

/// Whether a trigger's document has an application, a candidate and a result.
fn provides(trigger: &Trigger, section: &str) -> bool {
    sections(trigger).contains(&section)
}

/// Checks an automation before it is saved.
pub fn validate(input: &AutomationInput, context: &SaveContext) -> Result<(), InvalidAutomation> {
    let mut issues = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        issues.push(Issue::new("name", "give the automation a name"));
    } else if name.chars().count() > MAX_NAME_CHARS {
        issues.push(Issue::new("name", format!("longer than {MAX_NAME_CHARS} characters")));
    }
    if let Scope::Connection { connection_id } = &input.scope
        && connection_id.trim().is_empty()
    {
        issues.push(Issue::new(
            "scope.connection_id",
            "give a connection id, or use {\"kind\": \"all\"}",
        ));
    }
    if let JobFilter::Listed { job_ids } = &input.jobs {
        if job_ids.is_empty() || job_ids.iter().any(|j| j.trim().is_empty()) {
            issues.push(Issue::new("jobs.job_ids", "list ATS job ids, or use {\"kind\": \"any\"}"));
        }
        if !provides(&input.trigger, "job") {
            issues.push(Issue::new(
                "jobs",
                format!(
                    "the {} trigger concerns no job; use {{\"kind\": \"any\"}}",
                    input.trigger.name()
                ),
            ));
        }
    }
    if let Trigger::StageEntered { stage } = &input.trigger {
        check_stage(stage, "trigger.stage", &input.scope, context, &mut issues);
    }
    issues.extend(input.conditions.check("conditions"));
    let mut rules = Vec::new();
    input.conditions.rules("conditions", &mut rules);
    for (at, rule) in &rules {
        if let Err(problem) = check_path(&input.trigger, &rule.path) {
            issues.push(Issue::new(&format!("{at}.path"), problem));
        }
    }
    issues.extend(contradictions::find(&input.conditions, "conditions"));
    if input.actions.is_empty() {
        issues.push(Issue::new("actions", "add at least one action"));
    } else if input.actions.len() > MAX_ACTIONS {
        issues.push(Issue::new(
            "actions",
            format!("{} actions; the limit is {MAX_ACTIONS}", input.actions.len()),
        ));
    }
    for (i, action) in input.actions.iter().enumerate() {
        check_action(action, &format!("actions[{i}]"), input, context, &mut issues);
    }
    if input.backfill && !matches!(input.trigger, Trigger::StageEntered { .. }) {
        issues.push(Issue::new(
            "backfill",
            "backfill fires for applications already in the trigger stage: only a stage-entered trigger has one",
        ));
    }
    if issues.is_empty() { Ok(()) } else { Err(InvalidAutomation { issues }) }
}

/// Checks a connection's stage mapping: names and ids given, names unique without case
/// (they are looked up without case), a bounded number of names.
pub fn check_stage_mapping(mapping: &StageMapping) -> Vec<Issue> {
    let mut issues = Vec::new();
    if mapping.stages.len() > MAX_MAPPED_STAGES {
        issues.push(Issue::new(
            "stages",
            format!("{} stages; the limit is {MAX_MAPPED_STAGES}", mapping.stages.len()),
        ));
    }
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (name, stage_id) in &mapping.stages {
        let at = format!("stages.{name}");
        let folded = name.trim().to_lowercase();
        if folded.is_empty() {
            issues.push(Issue::new(&at, "give the stage a name"));
        } else if name.chars().count() > MAX_NAME_CHARS {
            issues.push(Issue::new(&at, format!("names are at most {MAX_NAME_CHARS} characters")));
        }
        if stage_id.trim().is_empty() {
            issues.push(Issue::new(&at, "give the ATS stage id this name stands for"));
        }
        match seen.get(&folded) {
            Some(other) if !folded.is_empty() => {
                let mut issue = Issue::new(
                    &at,
                    format!(
                        "names compare without case: \"{name}\" and \"{other}\" are one name; keep one"
                    ),
                );
                issue.related.push(format!("stages.{other}"));
                issues.push(issue);
            }
            _ => {
                seen.insert(folded, name);
            }
        }
    }
    issues
}

/// Checks a connection's push defaults against its stage mapping.
pub fn check_push_defaults(defaults: &PushDefaults, mapping: Option<&StageMapping>) -> Vec<Issue> {
    let mut issues = Vec::new();
    match &defaults.initial_stage {
        Some(StageRef::StageId(id)) if id.trim().is_empty() => {
            issues.push(Issue::new("initial_stage", "give an ATS stage id, or leave it out"));
        }
        Some(StageRef::Mapped(name)) if mapping.and_then(|m| m.stage_id(name)).is_none() => {
            issues.push(Issue::new(
                "initial_stage",
                format!(
                    "the connection maps no stage \"{name}\"; add it to its stage mapping first"
                ),
            ));
        }
        _ => {}
    }
    if defaults.source.as_ref().is_some_and(|s| s.trim().is_empty()) {
        issues.push(Issue::new("source", "leave it out, or write the source"));
    }
    for (i, tag) in defaults.tags.iter().enumerate() {
        if tag.trim().is_empty() {
            issues.push(Issue::new(&format!("tags[{i}]"), "remove the empty tag"));
        }
    }
    issues
}

fn check_stage(
    stage: &StageRef,
    at: &str,
    scope: &Scope,
    context: &SaveContext,
    issues: &mut Vec<Issue>,
) {
    match stage {
        StageRef::StageId(id) if id.trim().is_empty() => {
            issues.push(Issue::new(
                at,
                "give an ATS stage id, or a mapped stage name as {\"mapped\": \"…\"}",
            ));
        }
        StageRef::Mapped(name) if name.trim().is_empty() => {
            issues.push(Issue::new(at, "give the name of a mapped stage"));
        }
        StageRef::Mapped(name) => {
            if let Scope::Connection { connection_id } = scope
                && context.mappings.get(connection_id).and_then(|m| m.stage_id(name)).is_none()
            {
                issues.push(Issue::new(
                    at,
                    format!("connection `{connection_id}` maps no stage \"{name}\"; add it to the connection's stage mapping first"),
                ));
            }
        }
        StageRef::StageId(_) => {}
    }
}

fn check_action(
    action: &Action,
    at: &str,
    input: &AutomationInput,
    context: &SaveContext,
    issues: &mut Vec<Issue>,
) {
    let trigger = &input.trigger;
    let needs = |section: &str, what: &str, issues: &mut Vec<Issue>| {
        if !provides(trigger, section) {
            issues.push(Issue::new(
                at,
                format!(
                    "`{}` {what}, and the {} trigger provides no {section}; use a trigger that does or remove the action",
                    action.name(),
                    trigger.name()
                ),
            ));
        }
    };
    match action {
        Action::SendInvite { .. } => needs("candidate", "invites a candidate", issues),
        Action::AddTag { tag } | Action::RemoveTag { tag } => {
            needs("candidate", "tags a candidate", issues);
            if tag.trim().is_empty() {
                issues.push(Issue::new(&format!("{at}.tag"), "give the tag"));
            }
        }
        Action::AddNote { template: text } => {
            needs("candidate", "writes on a candidate or application", issues);
            issues.extend(template::check(text, trigger, &format!("{at}.template")));
        }
        Action::MoveToStage { stage } => {
            needs("application", "moves an application", issues);
            check_stage(stage, &format!("{at}.stage"), &input.scope, context, issues);
        }
        Action::AttachResultFile {} => needs("result", "attaches the result's report", issues),
        Action::Reject { reason_id, reason } => {
            needs("application", "rejects an application", issues);
            if reason_id.trim().is_empty() {
                issues.push(Issue::new(
                    &format!("{at}.reason_id"),
                    "give a rejection reason id from the connection's synced reasons",
                ));
            }
            if reason.as_ref().is_some_and(|r| r.trim().is_empty()) {
                issues.push(Issue::new(
                    &format!("{at}.reason"),
                    "leave it out to use the synced reason's name, or write it",
                ));
            }
        }
        Action::WriteResult { modes } => {
            needs("result", "writes the result", issues);
            if !modes.any() {
                issues.push(Issue::new(
                    &format!("{at}.modes"),
                    "choose at least one of score_field, link, note, report",
                ));
            }
        }
        Action::TagByScore { bands, .. } => {
            needs("result", "tags by the result's score", issues);
            if bands.is_empty() {
                issues.push(Issue::new(
                    &format!("{at}.bands"),
                    "add bands such as {\"min\": 80, \"tag\": \"top\"}",
                ));
            }
            for (i, band) in bands.iter().enumerate() {
                if !band.min.is_finite() {
                    issues.push(Issue::new(
                        &format!("{at}.bands[{i}].min"),
                        "must be a finite number",
                    ));
                }
                if band.tag.trim().is_empty() {
                    issues.push(Issue::new(&format!("{at}.bands[{i}].tag"), "give the tag"));
                }
            }
        }
        Action::PushToConnection { connection_id, stage, tags, .. } => {
            needs("candidate", "pushes a candidate", issues);
            if connection_id.trim().is_empty() {
                issues.push(Issue::new(
                    &format!("{at}.connection_id"),
                    "give the connection to push to",
                ));
            }
            if input.scope == (Scope::Connection { connection_id: connection_id.clone() }) {
                issues.push(Issue::new(
                    &format!("{at}.connection_id"),
                    "push to another connection than the one the automation watches",
                ));
            }
            if let Some(stage) = stage {
                let target = Scope::Connection { connection_id: connection_id.clone() };
                check_stage(stage, &format!("{at}.stage"), &target, context, issues);
            }
            if tags.iter().any(|t| t.trim().is_empty()) {
                issues.push(Issue::new(&format!("{at}.tags"), "remove the empty tag"));
            }
        }
        Action::OrderAssessment { package_id, expires_after_days } => {
            needs("application", "orders an assessment for an application", issues);
            if package_id.trim().is_empty() {
                issues
                    .push(Issue::new(&format!("{at}.package_id"), "give the product's package id"));
            }
            if expires_after_days.is_some_and(|d| d == 0 || d > MAX_EXPIRY_DAYS) {
                issues.push(Issue::new(
                    &format!("{at}.expires_after_days"),
                    format!("between 1 and {MAX_EXPIRY_DAYS}"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn input(value: Value) -> AutomationInput {
        serde_json::from_value(value).expect("input")
    }

    fn base() -> Value {
        json!({
            "name": "Assessed",
            "scope": {"kind": "connection", "connection_id": "conn_1"},
            "trigger": {"type": "result-submitted"},
            "conditions": {"all": [
                {"path": "result.attributes.qualified", "type": "boolean", "op": "is-true"},
                {"path": "result.attributes.cheating", "type": "boolean", "op": "is-false"}
            ]},
            "actions": [
                {"type": "add-note", "template": "Report: {{result.link}}"},
                {"type": "add-tag", "tag": "assessed"},
                {"type": "move-to-stage", "stage": {"mapped": "Review"}}
            ]
        })
    }

    fn context() -> SaveContext {
        let mapping = StageMapping { stages: [("Review".to_string(), "st-5".to_string())].into() };
        SaveContext { mappings: [("conn_1".to_string(), mapping)].into() }
    }

    fn fields(value: Value) -> Vec<String> {
        match validate(&input(value), &context()) {
            Ok(()) => Vec::new(),
            Err(e) => e.issues.into_iter().map(|i| i.field).collect(),
        }
    }

    #[test]
    fn stage_mappings_and_push_defaults_are_checked() {
        let mapping: StageMapping = serde_json::from_value(
            json!({"stages": {"Assessment": "st-3", "assessment": "st-4", " ": "st-1", "Review": ""}}),
        )
        .expect("mapping");
        let issues = check_stage_mapping(&mapping);
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, vec!["stages. ", "stages.Review", "stages.assessment"], "{issues:?}");
        assert_eq!(issues[2].related, vec!["stages.Assessment".to_string()]);
        assert!(check_stage_mapping(&context().mappings["conn_1"]).is_empty());

        let defaults: PushDefaults = serde_json::from_value(
            json!({"initial_stage": {"mapped": "Hired"}, "source": " ", "tags": ["ok", ""]}),
        )
        .expect("defaults");
        let fields: Vec<String> = check_push_defaults(&defaults, context().mappings.get("conn_1"))
            .into_iter()
            .map(|i| i.field)
            .collect();
        assert_eq!(fields, vec!["initial_stage", "source", "tags[1]"]);
        let mapped = PushDefaults {
            initial_stage: Some(StageRef::Mapped("review".into())),
            ..PushDefaults::default()
        };
        assert!(check_push_defaults(&mapped, context().mappings.get("conn_1")).is_empty());
    }

    #[test]
    fn a_sound_automation_passes() {
        assert_eq!(fields(base()), Vec::<String>::new());
    }

    #[test]
    fn a_contradiction_is_refused_naming_both_rules() {
        let mut raw = base();
        raw["conditions"]["all"][1] =
            json!({"path": "result.attributes.qualified", "type": "boolean", "op": "is-false"});
        let error = validate(&input(raw), &context()).expect_err("refused");
        assert_eq!(error.issues[0].field, "conditions.all[0]");
        assert_eq!(error.issues[0].related, vec!["conditions.all[1]".to_string()]);
        assert!(error.to_string().contains("never hold"));
    }

    #[test]
    fn fields_the_trigger_lacks_are_named() {
        let mut raw = base();
        raw["trigger"] = json!({"type": "application-created"});
        let found = fields(raw);
        assert!(found.contains(&"conditions.all[0].path".to_string()), "{found:?}");
        assert!(found.contains(&"actions[0].template".to_string()), "{found:?}");
        let mut raw = base();
        raw["trigger"] = json!({"type": "job-created"});
        raw["conditions"] = json!({"all": []});
        raw["actions"] = json!([{"type": "send-invite"}]);
        assert_eq!(fields(raw), vec!["actions[0]".to_string()]);
    }

    #[test]
    fn unmapped_stages_empty_values_and_bad_backfill_are_named() {
        let mut raw = base();
        raw["actions"] = json!([
            {"type": "move-to-stage", "stage": {"mapped": "Hired"}},
            {"type": "add-tag", "tag": " "},
            {"type": "write-result", "modes": {"score_field": false, "link": false}},
            {"type": "tag-by-score", "bands": []},
            {"type": "push-to-connection", "connection_id": "conn_1"},
            {"type": "order-assessment", "package_id": "p", "expires_after_days": 0}
        ]);
        raw["backfill"] = json!(true);
        assert_eq!(
            fields(raw),
            vec![
                "actions[0].stage",
                "actions[1].tag",
                "actions[2].modes",
                "actions[3].bands",
                "actions[4].connection_id",
                "actions[5].expires_after_days",
                "backfill"
            ]
        );
        let mut raw = base();
        raw["name"] = json!("");
        raw["actions"] = json!([]);
        raw["jobs"] = json!({"kind": "listed", "job_ids": []});
        assert_eq!(fields(raw), vec!["name", "jobs.job_ids", "actions"]);
        let mut raw = base();
        raw["trigger"] = json!({"type": "candidate-updated"});
        raw["conditions"] = json!({"all": []});
        raw["actions"] = json!([{"type": "add-tag", "tag": "changed"}]);
        raw["jobs"] = json!({"kind": "listed", "job_ids": ["j1"]});
        assert_eq!(fields(raw), vec!["jobs"]);
    }
}
