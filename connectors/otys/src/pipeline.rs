//! The procedure statuses (stages).
//!
//! OTYS keeps three independent status levels per procedure, each its own service
//! (`ProcedureStatus1Service`, `…2…`, `…3…`). They map onto one global pipeline: every
//! level's statuses are listed as stages with ids `<level>_<uid>` (the form OTYS itself
//! expects in `ProcedureService.add`), level 1 first, then 2, then 3, each in the order OTYS
//! returns them. Level 1 is the main phase: an application's `stage-id` is its level-1
//! status; levels 2 and 3 appear in its custom fields. Moving to a stage sets its level only.

use crate::query::list_output;
use crate::records::text;
use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;

pub const STATUS_LEVELS: [u8; 3] = [1, 2, 3];
/// `automaticallySelectEvent` value meaning "joined via website": the default status the
/// official plugin gives a new procedure.
const JOINED_VIA_WEBSITE: i64 = 1;

/// One status of one level, as OTYS lists it.
pub struct Status {
    pub level: u8,
    pub row: Value,
}

impl Status {
    pub fn stage_id(&self) -> Option<String> {
        text(&self.row, "uid").map(|uid| format!("{}_{uid}", self.level))
    }

    fn auto_selected_on_join(&self) -> bool {
        let event = self.row.get("automaticallySelectEvent");
        event.and_then(Value::as_i64).or_else(|| event?.as_str()?.parse().ok())
            == Some(JOINED_VIA_WEBSITE)
    }
}

/// The names (`code`) of the statuses by stage id.
pub fn names(all: &[Status]) -> HashMap<String, String> {
    all.iter().filter_map(|s| Some((s.stage_id()?, text(&s.row, "code")?))).collect()
}

/// Every status of the three levels.
pub fn statuses(settings: &Settings) -> Result<Vec<Status>, AtsError> {
    let mut all = Vec::new();
    for level in STATUS_LEVELS {
        let request = json!({
            "limit": 500,
            "excludeLimitCheck": true,
            "condition": null,
            "what": { "uid": 1, "code": 1, "automaticallySelectEvent": 1 },
        });
        let method = format!("Otys.Services.ProcedureStatus{level}Service.getList");
        let result = rpc::call(settings, &method, vec![request])?;
        all.extend(list_output(&result).into_iter().map(|row| Status { level, row }));
    }
    Ok(all)
}

pub fn list_stages(settings: &Settings) -> Result<StagePage, AtsError> {
    let items = statuses(settings)?
        .into_iter()
        .filter_map(|status| {
            let id = status.stage_id()?;
            Some((id, status))
        })
        .enumerate()
        .map(|(position, (id, status))| Stage {
            name: text(&status.row, "code").unwrap_or_else(|| id.clone()),
            id,
            job_id: None,
            position: u32::try_from(position).unwrap_or(u32::MAX),
            raw: json!({ "level": status.level, "status": status.row }).to_string(),
        })
        .collect();
    Ok(StagePage { items, next_page_token: None })
}

/// The status each level gets on a new procedure: `requested` for its own level, the
/// "joined via website" status for the others (as the official plugin does).
pub fn initial_statuses(
    all: &[Status],
    requested: Option<&StageRef>,
) -> Result<Vec<StageRef>, AtsError> {
    if let Some(requested) = requested {
        let known = all.iter().any(|s| s.stage_id().as_deref() == Some(requested.id.as_str()));
        if !known {
            return Err(AtsError::InvalidInput(format!(
                "stage `{}` is not a procedure status of this OTYS account",
                requested.id
            )));
        }
    }
    let mut chosen = Vec::new();
    for level in STATUS_LEVELS {
        match requested {
            Some(stage) if stage.level == level => chosen.push(stage.clone()),
            _ => {
                let auto = all.iter().find(|s| s.level == level && s.auto_selected_on_join());
                if let Some(id) = auto.and_then(Status::stage_id) {
                    chosen.push(StageRef { level, id });
                }
            }
        }
    }
    Ok(chosen)
}

/// A stage id `<level>_<uid>`, parsed.
#[derive(Debug, Clone)]
pub struct StageRef {
    pub level: u8,
    pub id: String,
}

impl StageRef {
    pub fn parse(stage_id: &str) -> Result<Self, AtsError> {
        let level = stage_id
            .split_once('_')
            .filter(|(_, uid)| !uid.is_empty())
            .and_then(|(level, _)| level.parse::<u8>().ok())
            .filter(|level| STATUS_LEVELS.contains(level))
            .ok_or_else(|| {
                AtsError::InvalidInput(format!(
                    "stage id `{stage_id}` is not of the form <level 1-3>_<status uid>"
                ))
            })?;
        Ok(Self { level, id: stage_id.to_string() })
    }

    /// The key of this level in a procedure object, e.g. `ProcedureStatus2`.
    pub fn field(&self) -> String {
        format!("ProcedureStatus{}", self.level)
    }
}
