//! The generic parts of OTYS list calls as the fake serves them: the `what` field-selection
//! tree, `condition` trees (`AND`/`OR` of `COND` leaves with `EQ, NE, GT, GE, LT, LE, LIKE`),
//! `sort`, and `limit`/`offset` with the 200-row cap (`excludeLimitCheck` lifts it).

use super::RpcError;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Most rows one list call returns unless `excludeLimitCheck` is set.
pub const ROW_CAP: u64 = 200;

/// Keeps only the fields selected by `what` (`{"field":1, "Sub":{"field":1}}`).
pub fn project(row: &Map<String, Value>, what: &Value) -> Result<Value, RpcError> {
    let selection =
        what.as_object().ok_or_else(|| RpcError::invalid_params("`what` must be an object"))?;
    let mut out = Map::new();
    for (field, selected) in selection {
        let Some(value) = row.get(field) else { continue };
        match (selected, value) {
            (Value::Object(sub), Value::Object(inner)) if !sub.is_empty() => {
                out.insert(field.clone(), project(inner, selected)?);
            }
            (Value::Bool(false), _) | (Value::Null, _) => {}
            (Value::Number(n), _) if n.as_i64() == Some(0) => {}
            _ => {
                out.insert(field.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

/// The value at a dotted path, e.g. `Person.emailPrimary`.
fn lookup<'a>(row: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = row.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    Some(current)
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Numbers compare numerically, everything else as text (OTYS datetimes sort as text).
fn compare(left: &Value, right: &Value) -> Ordering {
    let (l, r) = (as_text(left), as_text(right));
    match (l.parse::<f64>(), r.parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => l.cmp(&r),
    }
}

/// Whether `row` satisfies `condition` (`null` matches everything). Fields must be in
/// `fields`: OTYS rejects conditions on unknown fields.
pub fn matches(
    row: &Map<String, Value>,
    condition: &Value,
    fields: &[&str],
) -> Result<bool, RpcError> {
    if condition.is_null() {
        return Ok(true);
    }
    let kind = condition.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "AND" | "OR" => {
            let items = condition
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| RpcError::invalid_params("condition without `items`"))?;
            let mut results = Vec::with_capacity(items.len());
            for item in items {
                results.push(matches(row, item, fields)?);
            }
            Ok(if kind == "AND" { results.iter().all(|r| *r) } else { results.iter().any(|r| *r) })
        }
        "COND" => {
            let field = condition
                .get("field")
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("COND without `field`"))?;
            if !fields.contains(&field) {
                return Err(RpcError::invalid_params(&format!(
                    "unknown condition field `{field}`"
                )));
            }
            let param = condition.get("param").cloned().unwrap_or(Value::Null);
            let value = lookup(row, field).cloned().unwrap_or(Value::Null);
            let order = compare(&value, &param);
            let op = condition.get("op").and_then(Value::as_str).unwrap_or("");
            Ok(match op {
                "EQ" => as_text(&value) == as_text(&param),
                "NE" => as_text(&value) != as_text(&param),
                "GT" => order == Ordering::Greater,
                "GE" => order != Ordering::Less,
                "LT" => order == Ordering::Less,
                "LE" => order != Ordering::Greater,
                "LIKE" => as_text(&value)
                    .to_lowercase()
                    .contains(&as_text(&param).trim_matches('%').to_lowercase()),
                other => {
                    return Err(RpcError::invalid_params(&format!("unknown operator `{other}`")));
                }
            })
        }
        other => Err(RpcError::invalid_params(&format!("unknown condition type `{other}`"))),
    }
}

/// Sorts by `{"field":"ASC"|"DESC", ...}` in key order.
pub fn sort(
    rows: &mut [&Map<String, Value>],
    sort: &Value,
    fields: &[&str],
) -> Result<(), RpcError> {
    let Some(keys) = sort.as_object() else {
        return if sort.is_null() {
            Ok(())
        } else {
            Err(RpcError::invalid_params("`sort` must be an object"))
        };
    };
    let mut order = Vec::new();
    for (field, direction) in keys {
        if !fields.contains(&field.as_str()) {
            return Err(RpcError::invalid_params(&format!("unknown sort field `{field}`")));
        }
        let descending = match direction.as_str() {
            Some("ASC") => false,
            Some("DESC") => true,
            _ => return Err(RpcError::invalid_params("sort direction must be ASC or DESC")),
        };
        order.push((field.clone(), descending));
    }
    rows.sort_by(|a, b| {
        for (field, descending) in &order {
            let null = Value::Null;
            let ordering =
                compare(lookup(a, field).unwrap_or(&null), lookup(b, field).unwrap_or(&null));
            let ordering = if *descending { ordering.reverse() } else { ordering };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
    Ok(())
}

/// The options a list call may carry; anything else is rejected.
const LIST_OPTIONS: [&str; 8] = [
    "what",
    "condition",
    "sort",
    "limit",
    "offset",
    "getTotalCount",
    "excludeLimitCheck",
    "search",
];

/// The parsed options of a `getListEx`/`getList` call.
pub struct ListOptions<'a> {
    pub what: &'a Value,
    pub condition: &'a Value,
    pub sort: &'a Value,
    pub limit: u64,
    pub offset: u64,
    pub total_count: bool,
    pub search: Option<&'a Value>,
}

impl<'a> ListOptions<'a> {
    pub fn parse(options: &'a Value) -> Result<Self, RpcError> {
        let object = options
            .as_object()
            .ok_or_else(|| RpcError::invalid_params("list options must be an object"))?;
        if let Some(unknown) = object.keys().find(|k| !LIST_OPTIONS.contains(&k.as_str())) {
            return Err(RpcError::invalid_params(&format!("unknown list option `{unknown}`")));
        }
        let what = object
            .get("what")
            .filter(|w| w.is_object())
            .ok_or_else(|| RpcError::invalid_params("`what` is required"))?;
        let number = |key: &str, default: u64| -> Result<u64, RpcError> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(value) => value.as_u64().ok_or_else(|| {
                    RpcError::invalid_params(&format!("`{key}` must be a non-negative integer"))
                }),
            }
        };
        let limit = number("limit", ROW_CAP)?;
        if limit == 0 {
            return Err(RpcError::invalid_params("`limit` must be positive"));
        }
        let unchecked = object.get("excludeLimitCheck").is_some_and(truthy);
        Ok(Self {
            what,
            condition: object.get("condition").unwrap_or(&Value::Null),
            sort: object.get("sort").unwrap_or(&Value::Null),
            limit: if unchecked { limit } else { limit.min(ROW_CAP) },
            offset: number("offset", 0)?,
            total_count: object.get("getTotalCount").is_some_and(truthy),
            search: object.get("search"),
        })
    }

    /// Filters, sorts, pages and projects `rows` into `{listOutput, totalCount}`.
    pub fn answer<'r>(
        &self,
        rows: impl Iterator<Item = &'r Map<String, Value>>,
        fields: &[&str],
    ) -> Result<Value, RpcError> {
        let mut selected = Vec::new();
        for row in rows {
            if matches(row, self.condition, fields)? {
                selected.push(row);
            }
        }
        sort(&mut selected, self.sort, fields)?;
        let total = selected.len();
        let page: Vec<Value> = selected
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .map(|row| project(row, self.what))
            .collect::<Result<_, _>>()?;
        let mut answer = serde_json::json!({ "listOutput": page });
        if self.total_count {
            answer["totalCount"] = Value::from(total);
        }
        Ok(answer)
    }
}

pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        _ => false,
    }
}
