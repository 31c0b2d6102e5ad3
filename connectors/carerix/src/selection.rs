//! GraphQL selection sets built from field paths: the fixed fields of each read (the ones
//! research §2.3 rates [H]) plus the configurable ones (settings: [L] fields are asked for
//! only when configured), merged into one tree so a relation named twice is selected once;
//! and the values at a path read back out of an answer (through `items` lists).

use crate::settings::{FieldPath, Settings};
use serde_json::Value;
use std::collections::BTreeMap;

/// CREmployee fields every candidate read asks for ([H]: GraphQL apply example, CX-CLIENT).
const EMPLOYEE: &[&str] = &[
    "_id",
    "employeeID",
    "firstName",
    "lastName",
    "emailAddress",
    "phoneNumber",
    "creationDate",
    "modificationDate",
];

/// CRVacancy fields every job read asks for ([H], CX-CLIENT / CX-EX).
const VACANCY: &[&str] = &[
    "_id",
    "vacancyID",
    "jobTitle",
    "modificationDate",
    "creationDate",
    "deleted",
    "isOpenApplication",
    "toStatusNode.value",
];

/// CRMatch fields every application read asks for ([H], CX-CLIENT `AbstractCRMatch`, and
/// CRStatusInfo's own fields).
const MATCH: &[&str] = &[
    "_id",
    "modificationDate",
    "creationDate",
    "statusInfoModificationDate",
    "applySource",
    "motivation",
    "toEmployee._id",
    "toVacancy._id",
    "toPublication._id",
    "statusInfo._id",
    "statusInfo.statusName",
    "statusInfo.displayName",
    "statusInfo.isFinal",
    "statusInfo.isSuccessfullyFilled",
];

/// CRStatusInfo fields of a stage ([H], CX-CLIENT `AbstractCRStatusInfo`).
pub const STATUS: &[&str] = &[
    "_id",
    "statusName",
    "displayName",
    "sortOrder",
    "isFinal",
    "isSuccessfullyFilled",
    "notActive",
];

/// A selection set: field name → its own selection (empty for a scalar).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Selection(BTreeMap<String, Selection>);

impl Selection {
    /// The selection of dotted paths (`statusInfo._id`).
    pub fn of(paths: &[&str]) -> Self {
        let mut selection = Selection::default();
        for path in paths {
            selection.add(path.split('.'));
        }
        selection
    }

    /// Adds one path (field names from the record down).
    pub fn add<'a>(&mut self, path: impl IntoIterator<Item = &'a str>) -> &mut Self {
        let mut node = &mut *self;
        for step in path {
            node = node.0.entry(step.to_string()).or_default();
        }
        self
    }

    pub fn add_path(&mut self, path: &FieldPath) -> &mut Self {
        self.add(path.iter().map(String::as_str))
    }

    /// The selection as GraphQL text: `_id statusInfo { _id statusName }`.
    pub fn render(&self) -> String {
        self.0
            .iter()
            .map(|(name, inner)| {
                if inner.0.is_empty() {
                    name.clone()
                } else {
                    format!("{name} {{ {} }}", inner.render())
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A candidate read: the fixed fields, the mobile field and the tag field when configured.
pub fn employee(settings: &Settings) -> String {
    let mut selection = Selection::of(EMPLOYEE);
    for field in [&settings.mobile_field, &settings.tag_field].into_iter().flatten() {
        selection.add([field.as_str()]);
    }
    selection.render()
}

/// A job read: the fixed fields and the configured location, description and user paths.
pub fn vacancy(settings: &Settings) -> String {
    let mut selection = Selection::of(VACANCY);
    for (_, path) in &settings.vacancy_location {
        selection.add_path(path);
    }
    for path in &settings.vacancy_description {
        selection.add_path(path);
    }
    for path in &settings.vacancy_users {
        selection.add(path.iter().map(String::as_str).chain(["_id"]));
    }
    selection.render()
}

/// An application read.
pub fn application() -> String {
    Selection::of(MATCH).render()
}

/// The values at `path` in `record`; a list on the way (a page's `items`) fans out.
pub fn values<'a>(record: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return vec![record];
    };
    match record {
        Value::Array(items) => items.iter().flat_map(|item| values(item, path)).collect(),
        Value::Object(fields) => fields.get(first).map(|v| values(v, rest)).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The first non-empty text (or number) at `path`, trimmed.
pub fn text_at(record: &Value, path: &[String]) -> Option<String> {
    values(record, path).into_iter().find_map(|value| match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_merge_and_values_fan_out_through_items() {
        let mut selection = Selection::of(&["_id", "statusInfo._id", "statusInfo.statusName"]);
        selection.add(["statusInfo", "_id"]).add(["vacancyUsers", "items", "toUser", "_id"]);
        assert_eq!(
            selection.render(),
            "_id statusInfo { _id statusName } vacancyUsers { items { toUser { _id } } }"
        );
        let record = json!({"vacancyUsers": {"items": [
            {"toUser": {"_id": "7"}}, {"toUser": null}, {"toUser": {"_id": 8}}
        ]}});
        let path: FieldPath = ["vacancyUsers", "items", "toUser", "_id"].map(String::from).into();
        let ids: Vec<String> =
            values(&record, &path).into_iter().filter_map(|v| text_at(v, &[])).collect();
        assert_eq!(ids, ["7", "8"]);
    }
}
