//! Reading values from a trigger's document for conditions and templates: dotted-path
//! lookup, loose conversion to each condition type (`"86"` is a number, an RFC 3339 string a
//! date), case folding, and regexes built with a size limit (the `regex` crate runs in linear
//! time, so a pattern cannot stall a firing).

use serde_json::Value;

/// Longest regex pattern accepted.
pub const MAX_PATTERN_CHARS: usize = 500;
/// Compiled-size limit of one regex (bytes).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The value at a dotted path of a document (a number segment indexes a list).
pub fn lookup<'a>(document: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(document, |current, segment| match current {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

pub(crate) fn as_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

pub(crate) fn as_date(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => crate::time::parse_ms(s),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

pub(crate) fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

pub(crate) fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    }
}

/// Builds a bounded regex.
pub(crate) fn compile(pattern: &str, case_sensitive: bool) -> Result<regex::Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("the pattern is longer than {MAX_PATTERN_CHARS} characters"));
    }
    regex::RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("not a valid regex: {e}"))
}

/// Text compared under a rule's case sensitivity.
pub(crate) fn fold(text: &str, case_sensitive: bool) -> String {
    if case_sensitive { text.to_string() } else { text.to_lowercase() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn huge_regexes_are_refused() {
        assert!(compile(&"a".repeat(MAX_PATTERN_CHARS + 1), true).is_err());
        assert!(compile(r"\w{1000}\w{1000}\w{1000}", true).is_err(), "over the size limit");
    }

    #[test]
    fn values_convert_loosely() {
        let doc = json!({"a": {"b": ["x", "y"]}, "n": "86", "d": "2026-05-01", "t": "TRUE"});
        assert_eq!(lookup(&doc, "a.b.1"), Some(&json!("y")));
        assert_eq!(lookup(&doc, "a.c"), None);
        assert_eq!(as_number(&doc["n"]), Some(86.0));
        assert!(as_date(&doc["d"]).is_some());
        assert_eq!(as_bool(&doc["t"]), Some(true));
        assert!(is_empty(Some(&json!([]))) && is_empty(None) && !is_empty(Some(&json!(0))));
        assert_eq!(fold("AbC", false), "abc");
    }
}
