//! Mapping a remote record onto a unified one: each `fields`/`result` entry is evaluated
//! (path, template or constant → transforms → map → default), nested names
//! (`location.city`) and `each` build sub-records, and every value is coerced to the type
//! the contract gives the field, or left out. `raw` is the remote record's JSON text.
//! A mapped record is a [`Record`]: the contract's field names with their values.

use crate::error::DeclError;
use crate::schema::{FieldType, RecordDef};
use crate::select::{Document, Json as _};
use crate::spec::FieldSpec;
use crate::template::{Context, Template, stringify};
use crate::transform::{map_value, to_bool};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A mapped record: the contract's field names (snake_case) with their values, in the
/// order the manifest maps them, and the records mapped into nested fields
/// (`location.city`). Reads as a JSON object ([`Record::into_value`]) without building one
/// per record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    fields: Vec<(Cow<'static, str>, Value)>,
    nested: Vec<(&'static str, Record)>,
}

impl Record {
    /// A JSON object's fields as a record; anything else comes back as it is.
    pub fn from_object(value: Value) -> Result<Record, Value> {
        match value {
            Value::Object(map) => Ok(Record::from_map(map)),
            other => Err(other),
        }
    }

    /// A JSON object's fields as a record.
    pub fn from_map(map: Map<String, Value>) -> Record {
        let fields = map.into_iter().map(|(name, value)| (Cow::Owned(name), value)).collect();
        Record { fields, nested: Vec::new() }
    }

    /// The value of the field `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(field, _)| *field == name).map(|(_, value)| value)
    }

    /// Takes the field `name` out.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.fields.iter().position(|(field, _)| *field == name)?;
        Some(self.fields.swap_remove(at).1)
    }

    /// Takes the field `name` out as a record: the fields mapped into it (`location.city`,
    /// which win) and those of a JSON object mapped to it whole. A whole value that is not
    /// an object (a location as text) comes back as it is, when nothing was mapped into it.
    pub fn take_nested(&mut self, name: &str) -> Option<Result<Record, Value>> {
        let mapped = self
            .nested
            .iter()
            .position(|(field, _)| *field == name)
            .map(|at| self.nested.swap_remove(at).1);
        match (mapped, self.remove(name)) {
            (None, None) => None,
            (mapped, Some(Value::Object(whole))) => {
                let mut record = mapped.unwrap_or_default();
                record.fields.extend(Record::from_map(whole).fields);
                Some(Ok(record))
            }
            (Some(mapped), _) => Some(Ok(mapped)),
            (None, Some(other)) => Some(Err(other)),
        }
    }

    /// Sets `name` to `value` unless it is set already.
    pub(crate) fn set_default(&mut self, name: &'static str, value: impl FnOnce() -> Value) {
        if self.get(name).is_none() {
            self.fields.push((Cow::Borrowed(name), value()));
        }
    }

    /// Sets `name` to `value`.
    fn set(&mut self, name: &'static str, value: Value) {
        match self.fields.iter_mut().find(|(field, _)| *field == name) {
            Some((_, slot)) => *slot = value,
            None => self.fields.push((Cow::Borrowed(name), value)),
        }
    }

    /// The nested record `name`, added when missing.
    fn nested(&mut self, name: &'static str) -> &mut Record {
        let at = match self.nested.iter().position(|(field, _)| *field == name) {
            Some(at) => at,
            None => {
                self.nested.push((name, Record::default()));
                self.nested.len() - 1
            }
        };
        &mut self.nested[at].1
    }

    /// The record as a JSON object (a nested record's fields go into the object of its
    /// name, over those mapped to it whole).
    pub fn into_value(self) -> Value {
        let mut object: Map<String, Value> =
            self.fields.into_iter().map(|(name, value)| (name.into_owned(), value)).collect();
        for (name, record) in self.nested {
            let Value::Object(parts) = record.into_value() else { continue };
            match object.entry(name) {
                serde_json::map::Entry::Occupied(mut whole) => match whole.get_mut() {
                    Value::Object(fields) => fields.extend(parts),
                    other => *other = Value::Object(parts),
                },
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(Value::Object(parts));
                }
            }
        }
        Value::Object(object)
    }
}

impl From<Record> for Value {
    fn from(record: Record) -> Value {
        record.into_value()
    }
}

/// The contract field a `fields` entry fills: `title`, or `city` of `location`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    top: &'static str,
    nested: Option<&'static str>,
    kind: FieldType,
}

impl Target {
    /// The field `name` (`top` or `top.nested`) of `def`; `None` when it has none.
    fn of(name: &str, def: &RecordDef) -> Option<Target> {
        let (top, nested) = match name.split_once('.') {
            Some((top, nested)) => (top, Some(nested)),
            None => (name, None),
        };
        let (top, kind) = def.entry(top)?;
        match (nested, kind) {
            (None, kind) => Some(Target { top, nested: None, kind }),
            (Some(nested), FieldType::Record(sub)) => {
                let (nested, kind) = sub.entry(nested)?;
                Some(Target { top, nested: Some(nested), kind })
            }
            (Some(_), _) => None,
        }
    }
}

/// Maps `record` with `fields` onto `def`'s fields. `ctx.record` is set to `record`.
/// `raw` is `source` (the record's text in the answer) when given, else `record` written out.
pub(crate) fn map_record(
    record: &Document<'_>,
    source: Option<&str>,
    fields: &BTreeMap<String, FieldSpec>,
    def: &RecordDef,
    ctx: &Context<'_>,
) -> Result<Record, DeclError> {
    let ctx = Context { record: Some(record), ..*ctx };
    let mut out = Record { fields: Vec::with_capacity(fields.len() + 1), nested: Vec::new() };
    for (name, spec) in fields {
        let Some(target) = *spec.target.get_or_init(|| Target::of(name, def)) else { continue };
        let Some(value) = evaluate(record, spec, target.kind, &ctx)? else { continue };
        let Some(value) = coerce(value, target.kind) else { continue };
        match target.nested {
            None => out.fields.push((Cow::Borrowed(target.top), value)),
            Some(nested) => out.nested(target.top).fields.push((Cow::Borrowed(nested), value)),
        }
    }
    if def.has_raw {
        let raw = match source {
            Some(text) => text.to_string(),
            None => serde_json::to_string(record).unwrap_or_default(),
        };
        out.set("raw", Value::String(raw));
    }
    Ok(out)
}

/// The value of one field before coercion; `None` when missing.
fn evaluate(
    record: &Document<'_>,
    spec: &FieldSpec,
    kind: FieldType,
    ctx: &Context<'_>,
) -> Result<Option<Value>, DeclError> {
    let mut value = if spec.path.is_some() {
        spec.selector().and_then(|selector| selector.select(record)).map(|found| found.to_value())
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
            let mut sub_record = map_record(&Document::from(item), None, each, sub, ctx)?;
            sub_record.remove("raw");
            mapped.push(sub_record.into_value());
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
