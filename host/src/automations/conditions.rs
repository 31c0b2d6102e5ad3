//! Typed conditions over a trigger's data document, with the operators of n8n's filter.
//!
//! JSON: a group is `{"all": [...]}` or `{"any": [...]}` (groups nest); a rule is
//! `{"path": "result.score", "type": "number", "op": "gt", "value": 80}` with an optional
//! `"case_sensitive": false` for strings and lists. An empty `all` always holds.
//!
//! Semantics: a rule reads the value at its dotted path (`candidate.emails`,
//! `result.attributes.qualified`; a number segment indexes a list) and converts it loosely
//! to its type (`"86"` is the number 86, `"2026-05-01"` a date). Every operator but
//! `not-exists` and `empty` needs the value to be there and of its type, so a missing value
//! fails `not-equals` too. Regexes use the `regex` crate (linear time) with a size limit.

use super::validate::Issue;
pub use super::values::{MAX_PATTERN_CHARS, lookup};
use super::values::{as_bool, as_date, as_number, as_string, compile, fold, is_empty};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Deepest nesting of groups.
pub const MAX_DEPTH: usize = 8;
/// Most rules in one automation.
pub const MAX_RULES: usize = 200;

/// A group of conditions or one rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Holds when every member holds (an empty group holds).
    All(Vec<Condition>),
    /// Holds when at least one member holds.
    Any(Vec<Condition>),
    Rule(Rule),
}

impl Default for Condition {
    fn default() -> Self {
        Condition::All(Vec::new())
    }
}

/// The type a rule compares its value as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ValueType {
    String,
    Number,
    Date,
    Boolean,
    List,
}

/// The operators (n8n's filter names in kebab-case).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    Exists,
    NotExists,
    Empty,
    NotEmpty,
    Equals,
    NotEquals,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Regex,
    NotRegex,
    Gt,
    Gte,
    Lt,
    Lte,
    Before,
    After,
    OnOrBefore,
    OnOrAfter,
    IsTrue,
    IsFalse,
    LengthEquals,
    LengthGt,
    LengthGte,
    LengthLt,
    LengthLte,
}

impl Operator {
    /// The operators each type accepts.
    pub fn allowed_for(self, value_type: ValueType) -> bool {
        use Operator::*;
        if matches!(self, Exists | NotExists) {
            return true;
        }
        match value_type {
            ValueType::String => matches!(
                self,
                Empty
                    | NotEmpty
                    | Equals
                    | NotEquals
                    | Contains
                    | NotContains
                    | StartsWith
                    | EndsWith
                    | Regex
                    | NotRegex
            ),
            ValueType::Number => matches!(self, Equals | NotEquals | Gt | Gte | Lt | Lte),
            ValueType::Date => {
                matches!(self, Equals | NotEquals | Before | After | OnOrBefore | OnOrAfter)
            }
            ValueType::Boolean => matches!(self, IsTrue | IsFalse | Equals | NotEquals),
            ValueType::List => matches!(
                self,
                Empty
                    | NotEmpty
                    | Contains
                    | NotContains
                    | LengthEquals
                    | LengthGt
                    | LengthGte
                    | LengthLt
                    | LengthLte
            ),
        }
    }

    /// Whether the operator compares with a `value`.
    pub fn takes_value(self) -> bool {
        use Operator::*;
        !matches!(self, Exists | NotExists | Empty | NotEmpty | IsTrue | IsFalse)
    }

    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// One comparison of the value at `path`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub path: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    pub op: Operator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub case_sensitive: bool,
}

/// Described by hand because its JSON is read by hand: a group `{"all": [...]}` /
/// `{"any": [...]}` or a rule. Members of a group are conditions again; the schema says so
/// in words rather than by recursion, so request schemas can be inlined.
impl JsonSchema for Condition {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let member = json_schema!({
            "type": "object",
            "description": "a condition: a group ({\"all\": [...]} or {\"any\": [...]}) or a rule",
        });
        let group = |key: &str, meaning: &str| {
            json_schema!({
                "type": "object",
                "description": meaning,
                "properties": {key: {"type": "array", "items": member.clone()}},
                "required": [key],
                "additionalProperties": false,
            })
        };
        json_schema!({
            "description": "A group of conditions (groups nest) or one rule; an empty `all` always holds.",
            "oneOf": [
                group("all", "holds when every member holds"),
                group("any", "holds when at least one member holds"),
                generator.subschema_for::<Rule>(),
            ],
        })
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Condition::All(items) | Condition::Any(items) => {
                let mut map = serializer.serialize_map(Some(1))?;
                let key = if matches!(self, Condition::All(_)) { "all" } else { "any" };
                map.serialize_entry(key, items)?;
                map.end()
            }
            Condition::Rule(rule) => rule.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Value::Object(map) = &value else {
            return Err(D::Error::custom(
                "a condition is an object: {\"all\": [...]}, {\"any\": [...]} or a rule {\"path\", \"type\", \"op\", \"value\"}",
            ));
        };
        for (key, group) in [("all", true), ("any", false)] {
            if let Some(items) = map.get(key) {
                if map.len() != 1 {
                    return Err(D::Error::custom(format!(
                        "a `{key}` group holds only `{key}`; put rules inside its list"
                    )));
                }
                let items: Vec<Condition> =
                    serde_json::from_value(items.clone()).map_err(D::Error::custom)?;
                return Ok(if group { Condition::All(items) } else { Condition::Any(items) });
            }
        }
        serde_json::from_value(value).map(Condition::Rule).map_err(D::Error::custom)
    }
}

impl Condition {
    /// Whether the condition holds on `document`.
    pub fn holds(&self, document: &Value) -> bool {
        match self {
            Condition::All(items) => items.iter().all(|c| c.holds(document)),
            Condition::Any(items) => items.iter().any(|c| c.holds(document)),
            Condition::Rule(rule) => rule.holds(document),
        }
    }

    /// Every rule with its location (`conditions.all[0]`), depth first.
    pub fn rules<'a>(&'a self, at: &str, out: &mut Vec<(String, &'a Rule)>) {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                let key = if matches!(self, Condition::All(_)) { "all" } else { "any" };
                for (i, item) in items.iter().enumerate() {
                    item.rules(&format!("{at}.{key}[{i}]"), out);
                }
            }
            Condition::Rule(rule) => out.push((at.to_string(), rule)),
        }
    }

    fn depth(&self) -> usize {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                1 + items.iter().map(Condition::depth).max().unwrap_or(0)
            }
            Condition::Rule(_) => 0,
        }
    }

    /// Checks nesting, size and every rule; `at` is the location of this condition.
    pub fn check(&self, at: &str) -> Vec<Issue> {
        let mut issues = Vec::new();
        if self.depth() > MAX_DEPTH {
            issues
                .push(Issue::new(at, format!("groups nest deeper than {MAX_DEPTH}; flatten them")));
        }
        let mut rules = Vec::new();
        self.rules(at, &mut rules);
        if rules.len() > MAX_RULES {
            issues.push(Issue::new(at, format!("{} rules; the limit is {MAX_RULES}", rules.len())));
        }
        for (location, rule) in rules {
            if let Err(issue) = rule.check(&location) {
                issues.push(issue);
            }
        }
        issues
    }
}

impl Rule {
    /// Checks the operator against the type and the value against both.
    pub fn check(&self, at: &str) -> Result<(), Issue> {
        let field = |name: &str| format!("{at}.{name}");
        if self.path.trim().is_empty() || self.path.split('.').any(str::is_empty) {
            return Err(Issue::new(
                &field("path"),
                "give a dotted path into the trigger's data, e.g. `result.score`",
            ));
        }
        if !self.op.allowed_for(self.value_type) {
            let allowed: Vec<String> = <Operator as strum::IntoEnumIterator>::iter()
                .filter(|op| op.allowed_for(self.value_type))
                .map(|op| op.name())
                .collect();
            return Err(Issue::new(
                &field("op"),
                format!(
                    "`{}` does not apply to type `{}`; use one of: {}",
                    self.op.name(),
                    type_name(self.value_type),
                    allowed.join(", ")
                ),
            ));
        }
        let value = match (&self.value, self.op.takes_value()) {
            (None, true) => {
                return Err(Issue::new(
                    &field("value"),
                    format!("`{}` compares with a value: add `value`", self.op.name()),
                ));
            }
            (Some(_), false) => {
                return Err(Issue::new(
                    &field("value"),
                    format!("`{}` takes no value: remove `value`", self.op.name()),
                ));
            }
            (None, false) => return Ok(()),
            (Some(value), true) => value,
        };
        let wrong = |expected: &str| {
            Err(Issue::new(
                &field("value"),
                format!("`{}` needs {expected}, not {value}", self.op.name()),
            ))
        };
        use Operator::*;
        match (self.value_type, self.op) {
            (_, LengthEquals | LengthGt | LengthGte | LengthLt | LengthLte)
                if value.as_u64().is_none() =>
            {
                return wrong("a whole number ≥ 0");
            }
            (_, LengthEquals | LengthGt | LengthGte | LengthLt | LengthLte) => {}
            (ValueType::Number, _) if !matches!(value, Value::Number(_)) => {
                return wrong("a number");
            }
            (ValueType::Date, _) if value.as_str().and_then(crate::time::parse_ms).is_none() => {
                return wrong("an RFC 3339 date such as \"2026-05-01T09:00:00Z\"");
            }
            (ValueType::Boolean, _) if !value.is_boolean() => return wrong("true or false"),
            (ValueType::String, Regex | NotRegex) => match value.as_str() {
                Some(pattern) => {
                    compile(pattern, self.case_sensitive)
                        .map_err(|e| Issue::new(&field("value"), e))?;
                }
                None => return wrong("a regex as a string"),
            },
            (ValueType::String, _) if !value.is_string() => return wrong("a string"),
            (ValueType::List, Contains | NotContains) if as_string(value).is_none() => {
                return wrong("a string, number or boolean");
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the rule holds on `document`.
    pub fn holds(&self, document: &Value) -> bool {
        let found = lookup(document, &self.path).filter(|v| !v.is_null());
        use Operator::*;
        match self.op {
            Exists => return found.is_some(),
            NotExists => return found.is_none(),
            Empty => return is_empty(found),
            NotEmpty => return !is_empty(found),
            _ => {}
        }
        let (Some(actual), expected) = (found, self.value.as_ref()) else { return false };
        match self.value_type {
            ValueType::String => self.string_holds(actual, expected),
            ValueType::Number => {
                let (Some(a), Some(b)) = (as_number(actual), expected.and_then(as_number)) else {
                    return false;
                };
                compare(self.op, a.partial_cmp(&b))
            }
            ValueType::Date => {
                let (Some(a), Some(b)) = (as_date(actual), expected.and_then(as_date)) else {
                    return false;
                };
                compare(self.op, Some(a.cmp(&b)))
            }
            ValueType::Boolean => {
                let Some(a) = as_bool(actual) else { return false };
                match self.op {
                    IsTrue => a,
                    IsFalse => !a,
                    Equals => expected.and_then(as_bool) == Some(a),
                    NotEquals => expected.and_then(as_bool).is_some_and(|b| b != a),
                    _ => false,
                }
            }
            ValueType::List => {
                let Value::Array(items) = actual else { return false };
                let length = items.len() as u64;
                let wanted = expected.and_then(Value::as_u64);
                match self.op {
                    Contains | NotContains => {
                        let Some(needle) = expected.and_then(as_string) else { return false };
                        let needle = fold(&needle, self.case_sensitive);
                        let has = items
                            .iter()
                            .filter_map(as_string)
                            .any(|item| fold(&item, self.case_sensitive) == needle);
                        has == (self.op == Contains)
                    }
                    LengthEquals => wanted == Some(length),
                    LengthGt => wanted.is_some_and(|n| length > n),
                    LengthGte => wanted.is_some_and(|n| length >= n),
                    LengthLt => wanted.is_some_and(|n| length < n),
                    LengthLte => wanted.is_some_and(|n| length <= n),
                    _ => false,
                }
            }
        }
    }

    fn string_holds(&self, actual: &Value, expected: Option<&Value>) -> bool {
        let (Some(actual), Some(expected)) = (as_string(actual), expected.and_then(as_string))
        else {
            return false;
        };
        use Operator::*;
        if matches!(self.op, Regex | NotRegex) {
            return match compile(&expected, self.case_sensitive) {
                Ok(regex) => regex.is_match(&actual) == (self.op == Regex),
                Err(_) => false,
            };
        }
        let (a, b) = (fold(&actual, self.case_sensitive), fold(&expected, self.case_sensitive));
        match self.op {
            Equals => a == b,
            NotEquals => a != b,
            Contains => a.contains(&b),
            NotContains => !a.contains(&b),
            StartsWith => a.starts_with(&b),
            EndsWith => a.ends_with(&b),
            _ => false,
        }
    }
}

fn compare(op: Operator, ordering: Option<std::cmp::Ordering>) -> bool {
    use Operator::*;
    use std::cmp::Ordering::*;
    let Some(ordering) = ordering else { return false };
    match op {
        Equals => ordering == Equal,
        NotEquals => ordering != Equal,
        Gt | After => ordering == Greater,
        Gte | OnOrAfter => ordering != Less,
        Lt | Before => ordering == Less,
        Lte | OnOrBefore => ordering != Greater,
        _ => false,
    }
}

pub fn type_name(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::String => "string",
        ValueType::Number => "number",
        ValueType::Date => "date",
        ValueType::Boolean => "boolean",
        ValueType::List => "list",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn condition(value: Value) -> Condition {
        serde_json::from_value(value).expect("a condition")
    }

    fn rule(path: &str, value_type: &str, op: &str, value: Value) -> Value {
        if value.is_null() {
            json!({"path": path, "type": value_type, "op": op})
        } else {
            json!({"path": path, "type": value_type, "op": op, "value": value})
        }
    }

    fn doc() -> Value {
        json!({
            "result": {"score": 86, "max_score": "100", "link": "https://assess.example/r/1",
                        "submitted_at": "2026-05-02T10:00:00Z", "attributes": {"qualified": true, "cheating": "false"}},
            "candidate": {"emails": ["Ada@Example.com"], "tags": [], "first_name": "Ada", "title": null}
        })
    }

    #[test]
    fn groups_round_trip_and_nest() {
        let raw = json!({"all": [rule("result.score", "number", "gt", json!(80)),
                                 {"any": [rule("candidate.first_name", "string", "equals", json!("ada")) ]}]});
        let parsed = condition(raw.clone());
        assert_eq!(serde_json::to_value(&parsed).expect("ser"), raw);
        assert!(matches!(condition(json!({"all": []})), Condition::All(ref v) if v.is_empty()));
        assert!(serde_json::from_value::<Condition>(json!({"all": [], "any": []})).is_err());
        assert!(serde_json::from_value::<Condition>(json!([1])).is_err());
        assert!(
            serde_json::from_value::<Condition>(
                json!({"path": "a", "type": "string", "op": "exists", "x": 1})
            )
            .is_err()
        );
    }

    #[test]
    fn each_type_compares_loosely_and_missing_values_fail() {
        let d = doc();
        let holds = |v: Value| condition(v).holds(&d);
        assert!(holds(rule("result.score", "number", "gte", json!(86))));
        assert!(!holds(rule("result.score", "number", "gt", json!(86))));
        assert!(holds(rule("result.max_score", "number", "equals", json!(100))), "numeric string");
        assert!(holds(rule("result.submitted_at", "date", "after", json!("2026-05-01"))));
        assert!(holds(rule(
            "result.submitted_at",
            "date",
            "on-or-before",
            json!("2026-05-02T10:00:00Z")
        )));
        assert!(holds(rule("result.attributes.qualified", "boolean", "is-true", Value::Null)));
        assert!(holds(rule("result.attributes.cheating", "boolean", "is-false", Value::Null)));
        assert!(holds(rule("result.link", "string", "starts-with", json!("https://"))));
        assert!(holds(rule("result.link", "string", "regex", json!(r"/r/\d+$"))));
        assert!(!holds(rule("result.link", "string", "not-regex", json!(r"/r/\d+$"))));
        assert!(holds(rule("candidate.emails", "list", "length-equals", json!(1))));
        assert!(!holds(
            json!({"path": "candidate.emails", "type": "list", "op": "contains", "value": "ada@example.com"})
        ));
        assert!(holds(
            json!({"path": "candidate.emails", "type": "list", "op": "contains", "value": "ada@example.com", "case_sensitive": false})
        ));
        assert!(holds(
            json!({"path": "candidate.emails.0", "type": "string", "op": "ends-with", "value": "example.com", "case_sensitive": false})
        ));
        assert!(holds(rule("candidate.tags", "list", "empty", Value::Null)));
        assert!(
            holds(rule("candidate.title", "string", "not-exists", Value::Null)),
            "null is absent"
        );
        assert!(holds(rule("candidate.title", "string", "empty", Value::Null)));
        assert!(
            !holds(rule("candidate.nickname", "string", "not-equals", json!("x"))),
            "missing fails"
        );
        assert!(!holds(rule("candidate.first_name", "number", "gt", json!(1))), "wrong type fails");
    }

    #[test]
    fn all_and_any_combine() {
        let d = doc();
        let high = rule("result.score", "number", "gt", json!(80));
        let low = rule("result.score", "number", "lt", json!(50));
        assert!(!condition(json!({"all": [high, low]})).holds(&d));
        assert!(condition(json!({"any": [high, low]})).holds(&d));
        assert!(Condition::default().holds(&d));
        assert!(!condition(json!({"any": []})).holds(&d));
    }

    #[test]
    fn checks_name_the_field_and_the_fix() {
        let check = |v: Value| condition(v).check("conditions");
        assert!(
            check(json!({"all": [rule("result.score", "number", "gt", json!(80))]})).is_empty()
        );
        let issues =
            check(json!({"all": [rule("result.score", "number", "starts-with", json!("8"))]}));
        assert_eq!(issues[0].field, "conditions.all[0].op");
        assert!(issues[0].problem.contains("gt"), "{}", issues[0].problem);
        let issues = check(json!({"all": [rule("a", "number", "gt", Value::Null)]}));
        assert_eq!(issues[0].field, "conditions.all[0].value");
        let issues = check(json!({"any": [rule("a", "string", "regex", json!("("))]}));
        assert!(issues[0].problem.contains("regex"), "{}", issues[0].problem);
        let issues = check(json!({"all": [rule("a", "date", "before", json!("soon"))]}));
        assert!(issues[0].problem.contains("RFC 3339"));
        let issues = check(json!({"all": [rule("a", "string", "exists", json!("x"))]}));
        assert!(issues[0].problem.contains("remove `value`"));
        let issues = check(json!({"all": [rule("a..b", "string", "exists", Value::Null)]}));
        assert_eq!(issues[0].field, "conditions.all[0].path");
        let mut deep = rule("a", "string", "exists", Value::Null);
        for _ in 0..=MAX_DEPTH {
            deep = json!({"all": [deep]});
        }
        assert!(!check(deep).is_empty());
    }
}
