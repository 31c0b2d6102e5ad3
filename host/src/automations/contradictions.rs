//! Refuses condition groups that can never hold. Under `all` (nested `all` groups count as
//! one), the rules on the same path are compared: a value cannot be both absent and
//! present, empty and not empty, true and false, equal to two different values, equal to a
//! value and not equal to it, inside two disjoint ranges (numbers, dates, list lengths:
//! `score > 80` and `score < 50`), nor at the single point a range leaves and also not that
//! point (`≥ 5`, `≤ 5`, `≠ 5`). A string equal to a value must also start, end, contain and
//! match what the other rules ask. Only certain contradictions are reported; rules of
//! different types on one path are not compared. An `any` group is not refused for one
//! impossible member, but an `all` inside it is checked like any other.

use super::conditions::{Condition, Operator, Rule, ValueType};
use super::validate::Issue;
use super::values::{as_date, as_number, as_string, compile, fold};

/// What one rule says about its value.
#[derive(Debug, Clone)]
enum Fact {
    Absent,
    /// Present and non-empty / empty-or-absent.
    NotEmpty,
    Empty,
    /// A value in a range of one ordered domain.
    Range(Domain, Bound, Bound),
    NotPoint(Domain, f64),
    Bool(bool),
    Text(TextFact, String, bool),
    ListHas(String, bool),
    ListLacks(String, bool),
    /// Present, nothing more known.
    Present,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Domain {
    Number,
    Date,
    Length,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TextFact {
    Equals,
    NotEquals,
    StartsWith,
    EndsWith,
    Contains,
    NotContains,
    Regex,
    NotRegex,
}

/// One end of a range: `None` is unbounded; the flag says whether the end is included.
type Bound = Option<(f64, bool)>;

fn fact(rule: &Rule) -> Option<Fact> {
    use Operator::*;
    let value = rule.value.as_ref();
    let number = || match rule.value_type {
        ValueType::Date => value.and_then(as_date).map(|ms| ms as f64),
        _ => value.and_then(as_number),
    };
    let domain = if rule.value_type == ValueType::Date { Domain::Date } else { Domain::Number };
    let cs = rule.case_sensitive;
    let text = |kind| value.and_then(as_string).map(|s| Fact::Text(kind, s, cs));
    Some(match (rule.value_type, rule.op) {
        (_, NotExists) => Fact::Absent,
        (_, Exists) => Fact::Present,
        (_, Empty) => Fact::Empty,
        (_, NotEmpty) => Fact::NotEmpty,
        (ValueType::Boolean, IsTrue) => Fact::Bool(true),
        (ValueType::Boolean, IsFalse) => Fact::Bool(false),
        (ValueType::Boolean, Equals) => Fact::Bool(value?.as_bool()?),
        (ValueType::Boolean, NotEquals) => Fact::Bool(!value?.as_bool()?),
        (ValueType::Number | ValueType::Date, Equals) => {
            let n = number()?;
            Fact::Range(domain, Some((n, true)), Some((n, true)))
        }
        (ValueType::Number | ValueType::Date, NotEquals) => Fact::NotPoint(domain, number()?),
        (ValueType::Number | ValueType::Date, Gt | After) => {
            Fact::Range(domain, Some((number()?, false)), None)
        }
        (ValueType::Number | ValueType::Date, Gte | OnOrAfter) => {
            Fact::Range(domain, Some((number()?, true)), None)
        }
        (ValueType::Number | ValueType::Date, Lt | Before) => {
            Fact::Range(domain, None, Some((number()?, false)))
        }
        (ValueType::Number | ValueType::Date, Lte | OnOrBefore) => {
            Fact::Range(domain, None, Some((number()?, true)))
        }
        (ValueType::List, LengthEquals | LengthGt | LengthGte | LengthLt | LengthLte) => {
            let n = value?.as_u64()? as f64;
            let (lo, hi) = match rule.op {
                LengthEquals => (Some((n, true)), Some((n, true))),
                LengthGt => (Some((n, false)), None),
                LengthGte => (Some((n, true)), None),
                LengthLt => (None, Some((n, false))),
                _ => (None, Some((n, true))),
            };
            Fact::Range(Domain::Length, lo, hi)
        }
        (ValueType::List, Contains) => Fact::ListHas(as_string(value?)?, cs),
        (ValueType::List, NotContains) => Fact::ListLacks(as_string(value?)?, cs),
        (ValueType::String, Equals) => text(TextFact::Equals)?,
        (ValueType::String, NotEquals) => text(TextFact::NotEquals)?,
        (ValueType::String, StartsWith) => text(TextFact::StartsWith)?,
        (ValueType::String, EndsWith) => text(TextFact::EndsWith)?,
        (ValueType::String, Contains) => text(TextFact::Contains)?,
        (ValueType::String, NotContains) => text(TextFact::NotContains)?,
        (ValueType::String, Regex) => text(TextFact::Regex)?,
        (ValueType::String, NotRegex) => text(TextFact::NotRegex)?,
        _ => Fact::Present,
    })
}

/// The intersection of two ranges, or `None` when empty.
fn intersect(a: (Bound, Bound), b: (Bound, Bound)) -> Option<(Bound, Bound)> {
    let lower = match (a.0, b.0) {
        (None, x) | (x, None) => x,
        (Some((x, xi)), Some((y, yi))) => Some(if x > y || (x == y && !xi) {
            (x, xi)
        } else if y > x {
            (y, yi)
        } else {
            (x, xi && yi)
        }),
    };
    let upper = match (a.1, b.1) {
        (None, x) | (x, None) => x,
        (Some((x, xi)), Some((y, yi))) => Some(if x < y || (x == y && !xi) {
            (x, xi)
        } else if y < x {
            (y, yi)
        } else {
            (x, xi && yi)
        }),
    };
    if let (Some((lo, lo_in)), Some((hi, hi_in))) = (lower, upper)
        && (lo > hi || (lo == hi && !(lo_in && hi_in)))
    {
        return None;
    }
    Some((lower, upper))
}

fn contains_point(range: (Bound, Bound), point: f64) -> bool {
    intersect(range, (Some((point, true)), Some((point, true)))).is_some()
}

/// The single point a range leaves, if it is one.
fn single_point(range: (Bound, Bound)) -> Option<f64> {
    match range {
        (Some((lo, true)), Some((hi, true))) if lo == hi => Some(lo),
        _ => None,
    }
}

/// Why two facts about one value cannot both hold, if they cannot.
fn clash(a: &Fact, b: &Fact) -> Option<String> {
    use Fact::*;
    match (a, b) {
        (Absent, Absent | Empty) | (Empty, Absent) => None,
        (Absent, _) | (_, Absent) => Some("the value cannot be absent and present".into()),
        (Empty, NotEmpty) | (NotEmpty, Empty) => {
            Some("the value cannot be empty and not empty".into())
        }
        (Empty, Range(Domain::Length, lo, hi)) | (Range(Domain::Length, lo, hi), Empty)
            if !contains_point((*lo, *hi), 0.0) =>
        {
            Some("an empty list has length 0".into())
        }
        (NotEmpty, Range(Domain::Length, lo, hi)) | (Range(Domain::Length, lo, hi), NotEmpty)
            if intersect((*lo, *hi), (Some((1.0, true)), None)).is_none() =>
        {
            Some("a list that is not empty has at least one item".into())
        }
        (Empty, ListHas(..)) | (ListHas(..), Empty) => {
            Some("an empty list contains nothing".into())
        }
        (Empty, Range(..) | Bool(_)) | (Range(..) | Bool(_), Empty) => {
            Some("an empty value is neither a number, a date nor a boolean".into())
        }
        (Empty, Text(kind, s, _)) | (Text(kind, s, _), Empty)
            if !s.is_empty()
                && matches!(
                    kind,
                    TextFact::Equals
                        | TextFact::StartsWith
                        | TextFact::EndsWith
                        | TextFact::Contains
                ) =>
        {
            Some(format!("an empty value cannot hold `{s}`"))
        }
        (Range(d1, l1, h1), Range(d2, l2, h2))
            if d1 == d2 && intersect((*l1, *h1), (*l2, *h2)).is_none() =>
        {
            Some("the two ranges do not overlap".into())
        }
        (Range(d1, l, h), NotPoint(d2, p)) | (NotPoint(d2, p), Range(d1, l, h))
            if d1 == d2 && single_point((*l, *h)) == Some(*p) =>
        {
            Some("the value cannot equal and not equal the same value".into())
        }
        (Bool(x), Bool(y)) if x != y => Some("the value cannot be true and false".into()),
        (ListHas(x, xc), ListLacks(y, yc)) | (ListLacks(y, yc), ListHas(x, xc))
            if (*yc && *xc && x == y) || (!*yc && x.to_lowercase() == y.to_lowercase()) =>
        {
            Some(format!("the list cannot contain and not contain `{x}`"))
        }
        (Text(k1, s1, c1), Text(k2, s2, c2)) => text_clash((*k1, s1, *c1), (*k2, s2, *c2))
            .or_else(|| text_clash((*k2, s2, *c2), (*k1, s1, *c1))),
        _ => None,
    }
}

fn text_clash(a: (TextFact, &str, bool), b: (TextFact, &str, bool)) -> Option<String> {
    use TextFact::*;
    let (ka, sa, ca) = a;
    let (kb, sb, cb) = b;
    // Compared case-sensitively only when both are.
    let both = ca && cb;
    let (fa, fb) = (fold(sa, both), fold(sb, both));
    match (ka, kb) {
        (Equals, Equals) if fa != fb => {
            Some(format!("the value cannot equal both `{sa}` and `{sb}`"))
        }
        // A case-insensitive `equals` admits several spellings; only a certain clash counts.
        (Equals, NotEquals) if (ca || !cb) && fold(sa, cb) == fold(sb, cb) => {
            Some(format!("the value cannot equal and not equal `{sa}`"))
        }
        (Equals, StartsWith) if !fa.starts_with(&fb) => {
            Some(format!("`{sa}` does not start with `{sb}`"))
        }
        (Equals, EndsWith) if !fa.ends_with(&fb) => {
            Some(format!("`{sa}` does not end with `{sb}`"))
        }
        (Equals, Contains) if !fa.contains(&fb) => Some(format!("`{sa}` does not contain `{sb}`")),
        (Equals, NotContains) if (ca || !cb) && fold(sa, cb).contains(&fold(sb, cb)) => {
            Some(format!("`{sa}` contains `{sb}`"))
        }
        (Equals, Regex) if ca && compile(sb, cb).is_ok_and(|r| !r.is_match(sa)) => {
            Some(format!("`{sa}` does not match `{sb}`"))
        }
        (Equals, NotRegex) if ca && compile(sb, cb).is_ok_and(|r| r.is_match(sa)) => {
            Some(format!("`{sa}` matches `{sb}`"))
        }
        (StartsWith, StartsWith) if !fa.starts_with(&fb) && !fb.starts_with(&fa) => {
            Some(format!("the value cannot start with both `{sa}` and `{sb}`"))
        }
        (EndsWith, EndsWith) if !fa.ends_with(&fb) && !fb.ends_with(&fa) => {
            Some(format!("the value cannot end with both `{sa}` and `{sb}`"))
        }
        (Contains | StartsWith | EndsWith, NotContains)
            if (ca || !cb) && fold(sa, cb).contains(&fold(sb, cb)) =>
        {
            Some(format!("a value holding `{sa}` contains `{sb}`"))
        }
        (Regex, NotRegex) if sa == sb && ca == cb => {
            Some(format!("the value cannot match and not match `{sa}`"))
        }
        _ => None,
    }
}

/// Every group under `condition` (at `at`, e.g. `conditions`) that can never hold.
pub fn find(condition: &Condition, at: &str) -> Vec<Issue> {
    let mut issues = Vec::new();
    walk(condition, at, false, &mut issues);
    issues
}

fn walk(condition: &Condition, at: &str, inside_all: bool, issues: &mut Vec<Issue>) {
    match condition {
        Condition::All(items) => {
            if !inside_all {
                check_all(condition, at, issues);
            }
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}.all[{i}]"), true, issues);
            }
        }
        Condition::Any(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}.any[{i}]"), false, issues);
            }
        }
        Condition::Rule(_) => {}
    }
}

/// The rules of an `all` group and of the `all` groups nested straight inside it.
fn conjuncts<'a>(condition: &'a Condition, at: &str, out: &mut Vec<(String, &'a Rule)>) {
    match condition {
        Condition::All(items) => {
            for (i, item) in items.iter().enumerate() {
                conjuncts(item, &format!("{at}.all[{i}]"), out);
            }
        }
        Condition::Rule(rule) => out.push((at.to_string(), rule)),
        Condition::Any(_) => {}
    }
}

fn check_all(condition: &Condition, at: &str, issues: &mut Vec<Issue>) {
    let mut rules = Vec::new();
    conjuncts(condition, at, &mut rules);
    let facts: Vec<(String, &Rule, Fact)> =
        rules.into_iter().filter_map(|(loc, rule)| fact(rule).map(|f| (loc, rule, f))).collect();
    for (i, (loc_a, rule_a, fact_a)) in facts.iter().enumerate() {
        for (loc_b, rule_b, fact_b) in &facts[i + 1..] {
            if rule_a.path != rule_b.path {
                continue;
            }
            let same_type = rule_a.value_type == rule_b.value_type;
            let presence = matches!(fact_a, Fact::Absent | Fact::Empty | Fact::NotEmpty)
                || matches!(fact_b, Fact::Absent | Fact::Empty | Fact::NotEmpty);
            if !same_type && !presence {
                continue;
            }
            if let Some(reason) = clash(fact_a, fact_b) {
                issues.push(contradiction(&rule_a.path, reason, &[loc_a, loc_b]));
            }
        }
    }
    // A range that leaves one point, and a rule excluding that point.
    for (loc_x, rule_x, fact_x) in &facts {
        let Fact::NotPoint(domain, point) = fact_x else { continue };
        let bounds: Vec<&(String, &Rule, Fact)> = facts
            .iter()
            .filter(|(_, r, f)| {
                r.path == rule_x.path && matches!(f, Fact::Range(d, ..) if d == domain)
            })
            .collect();
        let mut range: (Bound, Bound) = (None, None);
        for (_, _, f) in &bounds {
            if let Fact::Range(_, lo, hi) = f {
                range = intersect(range, (*lo, *hi)).unwrap_or(range);
            }
        }
        if single_point(range) == Some(*point) && bounds.len() > 1 {
            let mut locations: Vec<&String> = bounds.iter().map(|(l, ..)| l).collect();
            locations.push(loc_x);
            issues.push(contradiction(
                &rule_x.path,
                "the other rules leave only the value this one excludes".into(),
                &locations,
            ));
        }
    }
}

fn contradiction(path: &str, reason: String, locations: &[&String]) -> Issue {
    let (first, others) =
        locations.split_first().map(|(f, o)| ((*f).clone(), o)).unwrap_or_default();
    let others: Vec<String> = others.iter().map(|l| (*l).clone()).collect();
    Issue {
        problem: format!(
            "can never hold together with {} under `all` (`{path}`: {reason}); remove or change one of them, or group them with `any`",
            others.join(" and ")
        ),
        field: first,
        related: others,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn issues(value: Value) -> Vec<Issue> {
        let condition: Condition = serde_json::from_value(value).expect("condition");
        find(&condition, "conditions")
    }

    fn r(path: &str, value_type: &str, op: &str, value: Value) -> Value {
        let mut rule = json!({"path": path, "type": value_type, "op": op});
        if !value.is_null() {
            rule["value"] = value;
        }
        rule
    }

    fn refused(rules: Vec<Value>) -> Vec<Issue> {
        issues(json!({"all": rules}))
    }

    #[test]
    fn booleans_and_disjoint_ranges_are_refused_naming_both_rules() {
        let found = refused(vec![
            r("result.attributes.qualified", "boolean", "is-true", Value::Null),
            r("result.score", "number", "gt", json!(10)),
            r("result.attributes.qualified", "boolean", "equals", json!(false)),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "conditions.all[0]");
        assert_eq!(found[0].related, vec!["conditions.all[2]".to_string()]);
        let found = refused(vec![
            r("result.score", "number", "gt", json!(80)),
            r("result.score", "number", "lt", json!(50)),
        ]);
        assert_eq!(
            (found[0].field.as_str(), found[0].related[0].as_str()),
            ("conditions.all[0]", "conditions.all[1]")
        );
        assert!(found[0].problem.contains("do not overlap"), "{}", found[0].problem);
    }

    #[test]
    fn satisfiable_groups_pass() {
        let ok = |rules: Vec<Value>| assert!(refused(rules.clone()).is_empty(), "{rules:?}");
        ok(vec![r("s", "number", "gt", json!(5)), r("s", "number", "lt", json!(6))]);
        ok(vec![r("s", "number", "gte", json!(5)), r("s", "number", "lte", json!(5))]);
        ok(vec![r("s", "number", "gt", json!(80)), r("t", "number", "lt", json!(50))]);
        ok(vec![r("s", "string", "equals", json!("A")), r("s", "string", "equals", json!("a"))]
            .into_iter()
            .map(|mut v| {
                v["case_sensitive"] = json!(false);
                v
            })
            .collect());
        ok(vec![
            r("s", "string", "not-exists", Value::Null),
            r("s", "string", "empty", Value::Null),
        ]);
        ok(vec![
            r("s", "string", "starts-with", json!("ab")),
            r("s", "string", "starts-with", json!("abc")),
        ]);
        ok(vec![r("s", "number", "gt", json!(80)), r("s", "string", "equals", json!("x"))]);
        // An `any` is not refused for one impossible member.
        assert!(issues(json!({"any": [r("s", "number", "gt", json!(80)), r("s", "number", "lt", json!(50))]})).is_empty());
    }

    #[test]
    fn equals_not_equals_points_and_presence_are_refused() {
        let one = |rules: Vec<Value>| {
            let found = refused(rules.clone());
            assert!(!found.is_empty(), "{rules:?} should be refused");
            found
        };
        one(vec![r("s", "string", "equals", json!("a")), r("s", "string", "equals", json!("b"))]);
        one(vec![
            r("s", "string", "equals", json!("a")),
            r("s", "string", "not-equals", json!("a")),
        ]);
        one(vec![r("s", "number", "equals", json!(3)), r("s", "number", "not-equals", json!(3))]);
        one(vec![r("s", "number", "equals", json!(3)), r("s", "number", "equals", json!(4))]);
        one(vec![
            r("s", "string", "exists", Value::Null),
            r("s", "string", "not-exists", Value::Null),
        ]);
        one(vec![r("s", "number", "gt", json!(1)), r("s", "number", "not-exists", Value::Null)]);
        one(vec![
            r("s", "string", "empty", Value::Null),
            r("s", "string", "not-empty", Value::Null),
        ]);
        one(vec![
            r("d", "date", "after", json!("2026-05-01")),
            r("d", "date", "before", json!("2026-04-01")),
        ]);
        one(vec![r("l", "list", "length-gt", json!(2)), r("l", "list", "empty", Value::Null)]);
        one(vec![
            r("l", "list", "contains", json!("x")),
            r("l", "list", "not-contains", json!("x")),
        ]);
        one(vec![
            r("s", "string", "equals", json!("abc")),
            r("s", "string", "starts-with", json!("x")),
        ]);
        one(vec![r("s", "string", "equals", json!("abc")), r("s", "string", "regex", json!("^z"))]);
        one(vec![
            r("s", "string", "starts-with", json!("ab")),
            r("s", "string", "starts-with", json!("x")),
        ]);
        let three = one(vec![
            r("s", "number", "gte", json!(5)),
            r("s", "number", "lte", json!(5)),
            r("s", "number", "not-equals", json!(5)),
        ]);
        assert_eq!(three[0].related.len(), 2, "names all three rules");
    }

    #[test]
    fn nested_all_groups_count_as_one_and_all_inside_any_is_checked() {
        let found = issues(
            json!({"all": [r("s", "number", "gt", json!(80)), {"all": [r("s", "number", "lt", json!(50))]}]}),
        );
        assert_eq!(found.len(), 1, "reported once");
        assert_eq!(found[0].related, vec!["conditions.all[1].all[0]".to_string()]);
        let found = issues(json!({"any": [r("x", "string", "exists", Value::Null),
            {"all": [r("b", "boolean", "is-true", Value::Null), r("b", "boolean", "is-false", Value::Null)]}]}));
        assert_eq!(found[0].field, "conditions.any[1].all[0]");
    }
}
