//! The source text of each record of a list page, for its `raw` field: a second pass over
//! the answer that follows the `records` selector's keys and takes the list's elements as
//! `RawValue`s (slices of the body, nothing allocated per record). Cheaper than writing each
//! mapped record's tree back out as JSON, and it keeps the ATS's own text (key order,
//! number spelling). Selectors with indexes or `[*]` fall back to writing the tree out.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json_borrow::KeyStrType;
use std::fmt;

/// The elements of the list at `keys` in `body`, as text; `None` when the body has no list
/// there (the caller then writes each record out itself).
pub(crate) fn records<'b>(body: &'b [u8], keys: &[&str]) -> Option<Vec<&'b RawValue>> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    AtPath { keys }.deserialize(&mut deserializer).ok().flatten()
}

/// Follows `keys` down objects to a list.
struct AtPath<'k> {
    keys: &'k [&'k str],
}

impl<'de> DeserializeSeed<'de> for AtPath<'_> {
    type Value = Option<Vec<&'de RawValue>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.keys.split_first() {
            None => <Vec<&'de RawValue> as de::Deserialize>::deserialize(deserializer).map(Some),
            Some((key, rest)) => deserializer.deserialize_map(Step { key, rest }),
        }
    }
}

/// One object on the way: the value of `key` (the last, when repeated, as `serde_json`
/// keeps it), the rest skipped.
struct Step<'k> {
    key: &'k str,
    rest: &'k [&'k str],
}

impl<'de> Visitor<'de> for Step<'_> {
    type Value = Option<Vec<&'de RawValue>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(name) = map.next_key::<KeyStrType<'de>>()? {
            if &*name == self.key {
                found = map.next_value_seed(AtPath { keys: self.rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_each_record_as_the_ats_wrote_it() {
        let body = br#"{"meta": {"n": 2}, "data": {"jobs": [{"id": 1,  "b": "x"}, {"id":2}]}}"#;
        let found = records(body, &["data", "jobs"]).expect("a list");
        let texts: Vec<&str> = found.iter().map(|raw| raw.get()).collect();
        assert_eq!(texts, [r#"{"id": 1,  "b": "x"}"#, r#"{"id":2}"#]);
        assert_eq!(records(br#"[{"a": 1}]"#, &[]).map(|r| r.len()), Some(1));
        assert!(records(br#"{"data": {"jobs": 3}}"#, &["data", "jobs"]).is_none());
        assert!(records(br#"{"data": {}}"#, &["data", "jobs"]).is_none());
    }
}
