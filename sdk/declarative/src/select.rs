//! Selector paths into JSON: `data.jobs`, `items[0].id`, `labels[*].name`, `["odd.key"]`,
//! and `""` for the value itself. A `[*]` collects every element (of a list, or every value
//! of an object) into a list, skipping missing values and nulls.
//!
//! Selectors walk either JSON tree ([`Json`]): `serde_json::Value` (inputs, matched records,
//! webhook bodies) and the borrowed [`Document`] tree an ATS's answer is parsed into, whose
//! strings point into the response body and whose objects are vectors (a page of records
//! is read without a map or a string allocation per field).

use crate::limits::MAX_SELECTOR_DEPTH;
use crate::memo::Memo;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

/// An ATS's answer as a borrowed tree (see the module doc).
pub(crate) type Document<'body> = serde_json_borrow::Value<'body>;

/// A JSON tree a selector can walk.
pub(crate) trait Json: Clone {
    /// The value of `key`, when `self` is an object that has it.
    fn key(&self, key: &str) -> Option<&Self>;
    /// The element at `index`, when `self` is a list that long.
    fn index(&self, index: usize) -> Option<&Self>;
    /// The elements of a list or the values of an object, else nothing.
    fn children(&self) -> Vec<&Self>;
    fn is_null(&self) -> bool;
    /// A list of `items`.
    fn list(items: Vec<Self>) -> Self;
    /// The value as an owned `serde_json::Value`.
    fn to_value(&self) -> Value;
}

impl Json for Value {
    fn key(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn index(&self, index: usize) -> Option<&Self> {
        self.get(index)
    }
    fn children(&self) -> Vec<&Self> {
        match self {
            Value::Array(items) => items.iter().collect(),
            Value::Object(map) => map.values().collect(),
            _ => Vec::new(),
        }
    }
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
    fn list(items: Vec<Self>) -> Self {
        Value::Array(items)
    }
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl Json for Document<'_> {
    /// Of repeated keys the last counts, as in `serde_json`.
    fn key(&self, key: &str) -> Option<&Self> {
        match self {
            Document::Object(map) => map
                .as_vec()
                .iter()
                .rev()
                .find_map(|(name, value)| (&**name == key).then_some(value)),
            _ => None,
        }
    }
    fn index(&self, index: usize) -> Option<&Self> {
        match self {
            Document::Array(items) => items.get(index),
            _ => None,
        }
    }
    fn children(&self) -> Vec<&Self> {
        match self {
            Document::Array(items) => items.iter().collect(),
            Document::Object(map) => map.values().collect(),
            _ => Vec::new(),
        }
    }
    fn is_null(&self) -> bool {
        matches!(self, Document::Null)
    }
    fn list(items: Vec<Self>) -> Self {
        Document::Array(items)
    }
    fn to_value(&self) -> Value {
        self.into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Each,
}

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    steps: Vec<Step>,
}

impl Selector {
    /// Parses a selector; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        let mut rest = text.trim();
        let mut expect_key = false;
        while !rest.is_empty() {
            if steps.len() >= MAX_SELECTOR_DEPTH {
                return Err(format!(
                    "selector `{text}` has more than {MAX_SELECTOR_DEPTH} segments"
                ));
            }
            if let Some(inner) = rest.strip_prefix('[') {
                let close = match inner.strip_prefix('"') {
                    Some(quoted) => quoted.find('"').map(|i| i + 2),
                    None => inner.find(']'),
                };
                let close = close
                    .filter(|&i| inner[i..].starts_with(']'))
                    .ok_or_else(|| format!("selector `{text}` has an unclosed `[`"))?;
                let content = &inner[..close];
                steps.push(match content {
                    "*" => Step::Each,
                    quoted if quoted.starts_with('"') => {
                        Step::Key(quoted.trim_matches('"').to_string())
                    }
                    digits => Step::Index(digits.parse().map_err(|_| {
                        format!(
                            "selector `{text}`: `[{digits}]` is not an index; use [0], [*] or [\"key\"]"
                        )
                    })?),
                });
                rest = &inner[close + 1..];
                expect_key = false;
            } else if let Some(after) = rest.strip_prefix('.') {
                if expect_key || steps.is_empty() {
                    return Err(format!("selector `{text}` has an empty segment"));
                }
                rest = after;
                expect_key = true;
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                let name = &rest[..end];
                if name.contains([']', '"', ' ']) {
                    return Err(format!("selector `{text}`: `{name}` is not a key"));
                }
                steps.push(Step::Key(name.to_string()));
                rest = &rest[end..];
                expect_key = false;
            }
        }
        if expect_key {
            return Err(format!("selector `{text}` ends with `.`"));
        }
        Ok(Self { steps })
    }

    /// The selector's keys, when it is keys only (`data.jobs`; `""` has none).
    pub fn keys(&self) -> Option<Vec<&str>> {
        self.steps
            .iter()
            .map(|step| match step {
                Step::Key(key) => Some(key.as_str()),
                Step::Index(_) | Step::Each => None,
            })
            .collect()
    }

    /// The value at the selector, `None` when missing (or null).
    pub fn select<'a, T: Json>(&self, root: &'a T) -> Option<Cow<'a, T>> {
        if self.steps.contains(&Step::Each) {
            let mut found = Vec::new();
            collect(root, &self.steps, &mut found);
            return Some(Cow::Owned(T::list(found.into_iter().cloned().collect())));
        }
        let mut value = root;
        for step in &self.steps {
            value = match step {
                Step::Key(key) => value.key(key)?,
                Step::Index(index) => value.index(*index)?,
                Step::Each => return None,
            };
        }
        (!value.is_null()).then_some(Cow::Borrowed(value))
    }
}

fn collect<'a, T: Json>(value: &'a T, steps: &[Step], found: &mut Vec<&'a T>) {
    let Some((step, rest)) = steps.split_first() else {
        if !value.is_null() {
            found.push(value);
        }
        return;
    };
    match step {
        Step::Key(key) => {
            if let Some(next) = value.key(key) {
                collect(next, rest, found);
            }
        }
        Step::Index(index) => {
            if let Some(next) = value.index(*index) {
                collect(next, rest, found);
            }
        }
        Step::Each => value.children().into_iter().for_each(|item| collect(item, rest, found)),
    }
}

/// Selects `text` from `root`; a selector that does not parse selects nothing (manifests are
/// validated before they run).
pub(crate) fn select<'a, T: Json>(root: &'a T, text: &str) -> Option<Cow<'a, T>> {
    parsed(text)?.select(root)
}

/// `text` parsed (once per thread); `None` when it does not parse.
pub(crate) fn parsed(text: &str) -> Option<Rc<Selector>> {
    thread_local! {
        static PARSED: RefCell<Memo<Selector>> = RefCell::default();
    }
    Memo::get_or_parse(&PARSED, text, Selector::parse).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_keys_indexes_wildcards_and_the_root() {
        let body = json!({"data": {"jobs": [{"id": 1, "labels": [{"name": "a"}, {"name": "b"}]},
                                            {"id": 2, "labels": [{"name": "c"}]}]},
                          "odd.key": true});
        let pick = |s: &str| select(&body, s).map(Cow::into_owned);
        assert_eq!(pick("data.jobs[1].id"), Some(json!(2)));
        assert_eq!(pick("data.jobs[*].labels[*].name"), Some(json!(["a", "b", "c"])));
        assert_eq!(pick("data.jobs[*].id"), Some(json!([1, 2])));
        assert_eq!(pick("[\"odd.key\"]"), Some(json!(true)));
        assert_eq!(pick("data.missing"), None);
        assert_eq!(pick(""), Some(body.clone()));
    }

    #[test]
    fn rejects_malformed_selectors() {
        for bad in ["a..b", ".a", "a.", "a[", "a[x]", "a[1"] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
        let deep = vec!["a"; MAX_SELECTOR_DEPTH + 1].join(".");
        assert!(Selector::parse(&deep).is_err());
    }
}
