//! Field transforms (`transform = ["trim", "date:%d-%m-%Y"]`) and the `map` table: what
//! turns a remote value into the unified one. A transform that cannot apply to a value
//! (a date that does not parse, text that is no number) makes the value missing, never an
//! error: the caller fills its default.

use crate::template::stringify;
use crate::time;
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;

/// One parsed transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transform {
    Lowercase,
    Uppercase,
    Trim,
    Split(String),
    Join(String),
    First,
    ToString,
    ToNumber,
    ToBool,
    Entries,
    Date(DateFormat),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DateFormat {
    Strftime(String),
    Unix,
    UnixMs,
    Rfc3339,
}

const KNOWN: &str = "lowercase, uppercase, trim, split:<sep>, join:<sep>, first, to-string, to-number, to-bool, entries, date:<format> (a %Y %m %d %H %M %S pattern, unix, unix-ms or rfc3339)";

impl Transform {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, argument) = match text.split_once(':') {
            Some((name, argument)) => (name, Some(argument)),
            None => (text, None),
        };
        Ok(match (name, argument) {
            ("lowercase", None) => Self::Lowercase,
            ("uppercase", None) => Self::Uppercase,
            ("trim", None) => Self::Trim,
            ("split", Some(sep)) if !sep.is_empty() => Self::Split(sep.to_string()),
            ("join", Some(sep)) => Self::Join(sep.to_string()),
            ("first", None) => Self::First,
            ("to-string", None) => Self::ToString,
            ("to-number", None) => Self::ToNumber,
            ("to-bool", None) => Self::ToBool,
            ("entries", None) => Self::Entries,
            ("date", Some("unix")) => Self::Date(DateFormat::Unix),
            ("date", Some("unix-ms")) => Self::Date(DateFormat::UnixMs),
            ("date", Some("rfc3339")) => Self::Date(DateFormat::Rfc3339),
            ("date", Some(format)) if !format.is_empty() => {
                time::check_format(format).map_err(|e| format!("transform `{text}`: {e}"))?;
                Self::Date(DateFormat::Strftime(format.to_string()))
            }
            _ => return Err(format!("unknown transform `{text}`; known: {KNOWN}")),
        })
    }

    /// Applies the transform; `None` in or out means missing.
    pub fn apply(&self, value: Option<Value>) -> Option<Value> {
        let value = value.filter(|v| !v.is_null())?;
        match self {
            Self::Lowercase => each_text(value, |s| Some(Value::String(s.to_lowercase()))),
            Self::Uppercase => each_text(value, |s| Some(Value::String(s.to_uppercase()))),
            Self::Trim => each_text(value, |s| Some(Value::String(s.trim().to_string()))),
            Self::Split(sep) => match value {
                Value::String(text) => Some(Value::Array(
                    text.split(sep.as_str())
                        .map(str::trim)
                        .filter(|part| !part.is_empty())
                        .map(|part| Value::String(part.to_string()))
                        .collect(),
                )),
                other => Some(other),
            },
            Self::Join(sep) => match value {
                Value::Array(items) => Some(Value::String(
                    items
                        .iter()
                        .filter(|v| !v.is_null())
                        .map(stringify)
                        .collect::<Vec<_>>()
                        .join(sep),
                )),
                other => Some(other),
            },
            Self::First => match value {
                Value::Array(items) => items.into_iter().find(|v| !v.is_null()),
                other => Some(other),
            },
            Self::ToString => each(value, &|v| match v {
                Value::Object(_) => Some(Value::String(v.to_string())),
                other => Some(Value::String(stringify(&other))),
            }),
            Self::ToNumber => each(value, &|v| match v {
                Value::Number(n) => Some(Value::Number(n)),
                Value::String(s) => number(s.trim()),
                _ => None,
            }),
            Self::ToBool => each(value, &|v| to_bool(&v).map(Value::Bool)),
            Self::Entries => match value {
                Value::Object(map) => Some(Value::Array(
                    map.into_iter()
                        .map(|(name, v)| {
                            let mut entry = Map::new();
                            entry.insert("name".into(), Value::String(name));
                            entry.insert("value".into(), Value::String(stringify(&v)));
                            Value::Object(entry)
                        })
                        .collect(),
                )),
                other => Some(other),
            },
            Self::Date(format) => each(value, &|v| date(&v, format)),
        }
    }
}

/// Applies `f` to a value, or to each element of a list (dropping the ones it rejects).
fn each(value: Value, f: &dyn Fn(Value) -> Option<Value>) -> Option<Value> {
    match value {
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(f).collect())),
        other => f(other),
    }
}

/// Like [`each`], for string values only; other values pass unchanged.
fn each_text(value: Value, f: impl Fn(&str) -> Option<Value>) -> Option<Value> {
    each(value, &|v| match v {
        Value::String(s) => f(&s),
        other => Some(other),
    })
}

fn number(text: &str) -> Option<Value> {
    if let Ok(integer) = text.parse::<i64>() {
        return Some(Value::Number(integer.into()));
    }
    text.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number)
}

/// `true`/`yes`/`y`/`1`/`on` and their opposites, any case; numbers 0 and 1.
pub(crate) fn to_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "on" => Some(true),
            "false" | "no" | "n" | "0" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn date(value: &Value, format: &DateFormat) -> Option<Value> {
    let seconds = match (format, value) {
        (DateFormat::Unix, v) => v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())?,
        (DateFormat::UnixMs, v) => {
            v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())?.div_euclid(1000)
        }
        (DateFormat::Rfc3339, Value::String(s)) => time::parse_rfc3339(s)?.div_euclid(1000),
        (DateFormat::Strftime(pattern), Value::String(s)) => time::parse_with_format(s, pattern)?,
        _ => return None,
    };
    // Years 1..=9999 only, as RFC 3339 can write them.
    (-62_135_596_800..=253_402_300_799)
        .contains(&seconds)
        .then(|| Value::String(time::format_rfc3339(seconds)))
}

/// Looks a value up in a `map` table (by its text); a list is mapped element by element.
/// A value not in the table becomes `fallback` when given, else stays as it is.
pub(crate) fn map_value(
    value: Value,
    table: &BTreeMap<String, Value>,
    fallback: Option<&Value>,
) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|item| map_one(item, table, None)).collect())
        }
        other => map_one(other, table, fallback),
    }
}

fn map_one(value: Value, table: &BTreeMap<String, Value>, fallback: Option<&Value>) -> Value {
    match table.get(&stringify(&value)) {
        Some(mapped) => mapped.clone(),
        None => fallback.cloned().unwrap_or(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(transform: &str, value: Value) -> Option<Value> {
        Transform::parse(transform).expect("known transform").apply(Some(value))
    }

    #[test]
    fn every_transform() {
        assert_eq!(run("lowercase", json!("ABC")), Some(json!("abc")));
        assert_eq!(run("uppercase", json!(["a", 1])), Some(json!(["A", 1])));
        assert_eq!(run("trim", json!("  x ")), Some(json!("x")));
        assert_eq!(run("split:,", json!("a, b,,c")), Some(json!(["a", "b", "c"])));
        assert_eq!(run("join: / ", json!(["a", 2])), Some(json!("a / 2")));
        assert_eq!(run("first", json!([null, "x", "y"])), Some(json!("x")));
        assert_eq!(run("first", json!([])), None);
        assert_eq!(run("to-string", json!(42)), Some(json!("42")));
        assert_eq!(run("to-number", json!(" 4.5")), Some(json!(4.5)));
        assert_eq!(run("to-number", json!("x")), None);
        assert_eq!(run("to-bool", json!("Yes")), Some(json!(true)));
        assert_eq!(run("entries", json!({"a": 1})), Some(json!([{"name": "a", "value": "1"}])));
        assert_eq!(run("date:%d-%m-%Y", json!("05-11-2026")), Some(json!("2026-11-05T00:00:00Z")));
        assert_eq!(run("date:unix", json!(86400)), Some(json!("1970-01-02T00:00:00Z")));
        assert_eq!(run("date:unix-ms", json!("1000")), Some(json!("1970-01-01T00:00:01Z")));
        assert_eq!(
            run("date:rfc3339", json!("2026-01-01T01:00:00+01:00")),
            Some(json!("2026-01-01T00:00:00Z"))
        );
        assert_eq!(run("date:%Y-%m-%d", json!("not a date")), None);
        assert!(Transform::parse("reverse").is_err());
        assert!(Transform::parse("date:%B").is_err());
    }

    #[test]
    fn map_with_and_without_a_fallback() {
        let table: BTreeMap<String, Value> =
            [("published".to_string(), json!("open"))].into_iter().collect();
        assert_eq!(map_value(json!("published"), &table, None), json!("open"));
        assert_eq!(map_value(json!("odd"), &table, Some(&json!("closed"))), json!("closed"));
        assert_eq!(map_value(json!("odd"), &table, None), json!("odd"));
        assert_eq!(map_value(json!(["published", "x"]), &table, None), json!(["open", "x"]));
    }
}
