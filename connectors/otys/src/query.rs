//! `getListEx` / `getList` queries: the `what` / `condition` / `sort` / `limit` / `offset`
//! request (with `excludeLimitCheck` above `limit-check-rows`, as the official plugin asks
//! for 500 rows), the `result.listOutput` + `totalCount` answer, offset page tokens and the
//! `GE` condition on the modification time for incremental reads.

use crate::rpc;
use crate::settings::Settings;
use ats_connector_sdk::paging::offset_from_token;
use ats_connector_sdk::prelude::*;
use serde_json::{Value, json};

/// One page of a `getListEx` answer.
pub struct ListPage {
    pub rows: Vec<Value>,
    pub next_page_token: Option<String>,
}

/// A `COND` leaf of a condition tree.
pub fn condition(field: &str, op: &str, param: impl Into<Value>) -> Value {
    json!({ "type": "COND", "field": field, "op": op, "param": param.into() })
}

/// `AND` of the leaves; `null` (no condition) when there are none.
pub fn all_of(items: Vec<Value>) -> Value {
    if items.is_empty() { Value::Null } else { json!({ "type": "AND", "items": items }) }
}

/// The `GE` condition for `since` on the configured modification field, if any.
pub fn modified_since(settings: &Settings, since: Option<&str>) -> Result<Option<Value>, AtsError> {
    let Some(since) = since else { return Ok(None) };
    let remote = crate::clock::to_remote(since, settings.remote_offset_seconds)?;
    Ok(Some(condition(&settings.modified_field, "GE", remote)))
}

/// Calls `<service>.getListEx` for one page, ordered by the modification field then uid so
/// that offsets stay stable across pages.
pub fn list_page(
    settings: &Settings,
    service: &str,
    what: Value,
    condition: Value,
    page: &PageRequest,
) -> Result<ListPage, AtsError> {
    let mut sort = serde_json::Map::new();
    sort.insert(settings.modified_field.clone(), json!("ASC"));
    sort.insert("uid".into(), json!("ASC"));
    let request = json!({ "what": what, "condition": condition, "sort": sort });
    fetch_page(settings, &format!("Otys.Services.{service}.getListEx"), request, page)
}

/// Sets `limit` (and `excludeLimitCheck` when the limit is above `limit-check-rows`).
pub fn set_limit(settings: &Settings, request: &mut Value, limit: u32) {
    request["limit"] = json!(limit);
    if settings.exceeds_limit_check(limit) {
        request["excludeLimitCheck"] = json!(true);
    }
}

/// Calls a list `method` for the page `page` asks for: `request` plus `limit` (and
/// `excludeLimitCheck`), `offset` and `getTotalCount`.
pub fn fetch_page(
    settings: &Settings,
    method: &str,
    mut request: Value,
    page: &PageRequest,
) -> Result<ListPage, AtsError> {
    let limit = settings.page_size(page.limit);
    let offset = offset_from_token(page.page_token.as_deref())?;
    set_limit(settings, &mut request, limit);
    request["offset"] = json!(offset);
    request["getTotalCount"] = json!(1);
    let result = rpc::call(settings, method, vec![request])?;
    let rows = list_output(&result);
    let total = result.get("totalCount").and_then(as_u64);
    let fetched = offset + rows.len() as u64;
    let more = match total {
        Some(total) => fetched < total && !rows.is_empty(),
        None => rows.len() as u64 >= u64::from(limit),
    };
    let next_page_token = more.then(|| format!("offset:{fetched}"));
    Ok(ListPage { rows, next_page_token })
}

/// The rows of a list answer: `listOutput`, `data`, or the answer itself when it is a list.
pub fn list_output(result: &Value) -> Vec<Value> {
    let rows = match result {
        Value::Array(rows) => Some(rows),
        other => other.get("listOutput").or_else(|| other.get("data")).and_then(Value::as_array),
    };
    rows.cloned().unwrap_or_default()
}

fn as_u64(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}
