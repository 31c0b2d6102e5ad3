//! The pipeline: Carerix statuses (CRStatusInfo, [H] fields) are global, the same for every
//! job. They are read whole (a handful of records), ordered by `sortOrder` then `_id`, and
//! numbered 0, 1, 2… as the contract's `position` says; `list-stages` pages through that
//! ordered list with offset tokens. Also picks the status `reject-application` moves to.

use crate::records::{self, flag, text};
use crate::selection::{STATUS, Selection};
use crate::settings::Settings;
use ats_connector_sdk::paging::offset_from_token;
use ats_connector_sdk::prelude::*;
use serde_json::Value;

/// Pages of statuses read at most (a stuck server cannot keep the connector paging).
const MAX_PAGES: usize = 50;

/// Every status, in pipeline order.
pub fn all(settings: &Settings) -> Result<Vec<Value>, AtsError> {
    let fields = Selection::of(STATUS).render();
    let mut statuses: Vec<Value> = Vec::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let request = PageRequest { page_token: token, since: None, limit: None };
        let page = records::page(settings, &settings.stage_query, &fields, None, &request)?;
        for status in page.items {
            let id = text(&status, &["_id"]);
            if !statuses.iter().any(|known| text(known, &["_id"]) == id) {
                statuses.push(status);
            }
        }
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    let key = |status: &Value| {
        let number = |field: &str| {
            status.get(field).and_then(|v| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
        };
        (number("sortOrder").unwrap_or(f64::MAX), number("_id").unwrap_or(f64::MAX))
    };
    statuses.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal));
    Ok(statuses)
}

/// One page of the ordered pipeline, positions counted from 0 over the whole pipeline.
pub fn list(settings: &Settings, request: &PageRequest) -> Result<StagePage, AtsError> {
    let statuses = all(settings)?;
    let start = usize::try_from(offset_from_token(request.page_token.as_deref())?)
        .unwrap_or(usize::MAX)
        .min(statuses.len());
    let size = usize::try_from(settings.page_size(request.limit)).unwrap_or(usize::MAX);
    let end = start.saturating_add(size).min(statuses.len());
    Ok(StagePage {
        items: statuses[start..end]
            .iter()
            .enumerate()
            .map(|(i, status)| records::stage(status, start + i))
            .collect::<Result<_, _>>()?,
        next_page_token: (end < statuses.len()).then(|| format!("offset:{end}")),
    })
}

/// A final status that is not successfully filled: what Kombo's mapping reads as declined.
fn declines(status: &Value) -> bool {
    flag(status, "isFinal") && !flag(status, "isSuccessfullyFilled")
}

fn name_of(status: &Value) -> String {
    text(status, &["displayName"])
        .or_else(|| text(status, &["statusName"]))
        .or_else(|| text(status, &["_id"]))
        .unwrap_or_default()
}

/// The status `reject-application` moves a match to: config `reject-status` (an `_id`,
/// `statusName` or `displayName`), else the first active final status that is not
/// successfully filled.
pub fn reject_target(settings: &Settings, statuses: &[Value]) -> Result<Value, AtsError> {
    let Some(wanted) = &settings.reject_status else {
        return statuses
            .iter()
            .find(|status| declines(status) && !flag(status, "notActive"))
            .cloned()
            .ok_or_else(|| {
                AtsError::InvalidInput(
                    "Carerix has no active final status that is not successfully filled; set config field `reject-status`".into(),
                )
            });
    };
    let found = statuses.iter().find(|status| {
        text(status, &["_id"]).as_deref() == Some(wanted.as_str())
            || ["statusName", "displayName"].iter().any(|field| {
                text(status, &[field]).is_some_and(|name| name.eq_ignore_ascii_case(wanted))
            })
    });
    match found {
        Some(status) if declines(status) => Ok(status.clone()),
        Some(status) => Err(AtsError::InvalidInput(format!(
            "config field `reject-status`: `{}` is not a final status that is not successfully filled, so a match in it would not read as rejected",
            name_of(status)
        ))),
        None => Err(AtsError::InvalidInput(format!(
            "config field `reject-status`: no Carerix status `{wanted}` (known: {})",
            statuses.iter().map(name_of).collect::<Vec<_>>().join(", ")
        ))),
    }
}
