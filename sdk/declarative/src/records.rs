//! Mapping a remote record onto a unified one: each `fields`/`result` entry is evaluated
//! (path, template or constant → transforms → map → default), nested names
//! (`location.city`) and `each` build sub-records, and every value is coerced to the type
//! the contract gives the field, or left out. `raw` is the remote record's JSON text.

use crate::error::DeclError;
use crate::schema::{FieldType, RecordDef};
use crate::spec::FieldSpec;
use crate::template::{Context, Template, stringify};
use crate::transform::{map_value, to_bool};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Maps `record` with `fields` onto `def`'s fields. `ctx.record` is set to `record`.
pub(crate) fn map_record(
    record: &Value,
    fields: &BTreeMap<String, FieldSpec>,
    def: &RecordDef,
    ctx: &Context<'_>,
) -> Result<Map<String, Value>, DeclError> {
    let ctx = Context { record: Some(record), ..*ctx };
    let mut out = Map::new();
    for (name, spec) in fields {
        let (top, nested) = match name.split_once('.') {
            Some((top, nested)) => (top, Some(nested)),
            None => (name.as_str(), None),
        };
        let target = spec.target.get_or_init(|| match (nested, def.field(top)?) {
            (Some(nested), FieldType::Record(sub)) => sub.field(nested),
            (Some(_), _) => None,
            (None, kind) => Some(kind),
        });
        let Some(field_kind) = *target else { continue };
        let Some(value) = evaluate(record, spec, field_kind, &ctx)? else { continue };
        let Some(value) = coerce(value, field_kind) else { continue };
        match nested {
            None => {
                out.insert(top.to_string(), value);
            }
            Some(nested) => {
                let slot = out.entry(top.to_string()).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(sub) = slot {
                    sub.insert(nested.to_string(), value);
                }
            }
        }
    }
    if def.has_raw {
        out.insert("raw".into(), Value::String(serde_json::to_string(record).unwrap_or_default()));
    }
    Ok(out)
}

/// The value of one field before coercion; `None` when missing.
fn evaluate(
    record: &Value,
    spec: &FieldSpec,
    kind: FieldType,
    ctx: &Context<'_>,
) -> Result<Option<Value>, DeclError> {
    let mut value = if spec.path.is_some() {
        spec.selector().and_then(|selector| selector.select(record)).map(Cow::into_owned)
    } else if let Some(template) = &spec.template {
        Some(Template::checked(template)?.render_value(ctx)?)
    } else {
        spec.value.clone()
    };
    let transforms = spec
        .transforms()
        .map_err(|e| DeclError::InvalidInput(format!("manifest transform: {e}")))?;
    for transform in transforms {
        value = transform.apply(value);
    }
    if let Some(table) = &spec.map {
        value = value.filter(|v| !v.is_null()).map(|v| map_value(v, table, spec.default.as_ref()));
    }
    if is_empty(value.as_ref()) {
        value = spec.default.clone();
    }
    if let (Some(each), FieldType::Records(sub)) = (&spec.each, kind) {
        let items = match value {
            Some(Value::Array(items)) => items,
            Some(item @ Value::Object(_)) => vec![item],
            _ => return Ok(None),
        };
        let mut mapped = Vec::with_capacity(items.len());
        for item in &items {
            let mut sub_record = map_record(item, each, sub, ctx)?;
            sub_record.remove("raw");
            mapped.push(Value::Object(sub_record));
        }
        value = Some(Value::Array(mapped));
    }
    Ok(value.filter(|v| !is_empty(Some(v))))
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(_) => false,
    }
}

/// `value` as the contract's `kind`, or `None` when it cannot be.
pub(crate) fn coerce(value: Value, kind: FieldType) -> Option<Value> {
    match kind {
        FieldType::Text => match value {
            Value::String(_) => Some(value),
            Value::Number(_) | Value::Bool(_) => Some(Value::String(stringify(&value))),
            _ => None,
        },
        FieldType::Integer => {
            let number = match &value {
                Value::Number(n) => n.as_f64(),
                Value::String(text) => text.trim().parse::<f64>().ok(),
                _ => None,
            }?;
            let valid = number.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&number);
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "range and fraction checked above"
            )]
            valid.then(|| Value::from(number as u32))
        }
        FieldType::Bool => to_bool(&value).map(Value::Bool),
        FieldType::Enum(allowed) => {
            if let Value::String(text) = &value
                && allowed.contains(&text.as_str())
            {
                return Some(value);
            }
            let text = stringify(&value).trim().to_ascii_lowercase().replace(['_', ' '], "-");
            allowed.contains(&text.as_str()).then_some(Value::String(text))
        }
        FieldType::Texts => match value {
            Value::Array(items) => Some(Value::Array(
                items.into_iter().filter_map(|item| coerce(item, FieldType::Text)).collect(),
            )),
            Value::Object(_) | Value::Null => None,
            scalar => coerce(scalar, FieldType::Text).map(|text| Value::Array(vec![text])),
        },
        FieldType::Record(def) => match value {
            Value::Object(map) => Some(Value::Object(coerce_record(map, def))),
            Value::String(text) if def.field("text").is_some() => {
                let mut map = Map::new();
                map.insert("text".into(), Value::String(text));
                Some(Value::Object(map))
            }
            _ => None,
        },
        FieldType::Records(def) => {
            let items = match value {
                Value::Array(items) => items,
                item @ Value::Object(_) => vec![item],
                _ => return None,
            };
            Some(Value::Array(
                items
                    .into_iter()
                    .filter_map(|item| match item {
                        Value::Object(map) => Some(Value::Object(coerce_record(map, def))),
                        _ => None,
                    })
                    .collect(),
            ))
        }
    }
}

/// Keeps the fields `def` knows, each coerced.
fn coerce_record(map: Map<String, Value>, def: &RecordDef) -> Map<String, Value> {
    map.into_iter()
        .filter_map(|(name, value)| {
            let kind = def.field(&name)?;
            coerce(value, kind).map(|value| (name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::operation;
    use serde_json::json;

    #[test]
    fn coerces_to_the_contract_types() {
        let job = operation("list-jobs").expect("known").output;
        let stage = operation("list-stages").expect("known").output;
        assert_eq!(coerce(json!(17), FieldType::Text), Some(json!("17")));
        assert_eq!(coerce(json!("3"), stage.field("position").expect("f")), Some(json!(3)));
        assert_eq!(coerce(json!(-1), FieldType::Integer), None);
        assert_eq!(
            coerce(json!("Full_Time"), job.field("employment_type").expect("f")),
            Some(json!("full-time"))
        );
        assert_eq!(coerce(json!("weird"), job.field("status").expect("f")), None);
        assert_eq!(coerce(json!("a@b"), FieldType::Texts), Some(json!(["a@b"])));
        assert_eq!(
            coerce(json!("Utrecht"), job.field("location").expect("f")),
            Some(json!({"text": "Utrecht"}))
        );
    }
}
