//! The slice of the Carerix GraphQL schema the fake serves: the CR* types with the fields
//! research §2.3 lists (from the official client's generated entity classes, `CX-CLIENT`;
//! the vacancy's place, texts and users, and CRUser / CRVacancyUser, from the same classes),
//! the writable fields of their `…Request` inputs, and the projection of a stored record
//! onto a query's selection set. As in graphql-java, asking for a field a type does not have,
//! selecting inside a scalar or leaving an object without a selection is a validation error.
//! A field can be hidden per fake ([`Store::hide_field`]): an account whose schema lacks it
//! (research rates `applyTags` on a candidate, for one, [L]).

use super::GqlError;
use super::store::Store;
use graphql_parser::query::{Selection, SelectionSet};
use serde_json::{Map, Value};

/// What a field of a type holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Scalar,
    /// A to-one relation: the stored record keeps the related `_id`.
    One(&'static str),
    /// A to-many relation, answered as a page (`items`, `totalElements`): the records of
    /// the type whose field (the second name) points back at this record.
    Many(&'static str, &'static str),
}

use Kind::{Many, One, Scalar};

const VACANCY: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("vacancyID", Scalar),
    ("jobTitle", Scalar),
    ("modificationDate", Scalar),
    ("creationDate", Scalar),
    ("deleted", Scalar),
    ("isOpenApplication", Scalar),
    ("toStatusNode", One("CRDataNode")),
    ("publications", Many("CRPublication", "toVacancy")),
    ("matches", Many("CRMatch", "toVacancy")),
    ("workCity", Scalar),
    ("workPostalCode", Scalar),
    ("workLocation", Scalar),
    ("introInformation", Scalar),
    ("vacancyInformation", Scalar),
    ("requirements", Scalar),
    ("offerInformation", Scalar),
    ("toWorkCountryNode", One("CRDataNode")),
    ("owner", One("CRUser")),
    ("toUser", One("CRUser")),
    ("vacancyUsers", Many("CRVacancyUser", "toVacancy")),
];

const PUBLICATION: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("publicationStart", Scalar),
    ("publicationEnd", Scalar),
    ("modificationDate", Scalar),
    ("creationDate", Scalar),
    ("toVacancy", One("CRVacancy")),
    ("toStatusNode", One("CRDataNode")),
];

const EMPLOYEE: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("employeeID", Scalar),
    ("firstName", Scalar),
    ("lastName", Scalar),
    ("emailAddress", Scalar),
    ("phoneNumber", Scalar),
    ("mobileNumber", Scalar),
    ("creationDate", Scalar),
    ("modificationDate", Scalar),
    ("notes", Scalar),
    ("applyTags", Scalar),
    ("deleted", Scalar),
    ("toStatusNode", One("CRDataNode")),
    ("matches", Many("CRMatch", "toEmployee")),
    ("attachments", Many("CRAttachment", "toEmployee")),
];

const MATCH: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("toEmployee", One("CREmployee")),
    ("toVacancy", One("CRVacancy")),
    ("toPublication", One("CRPublication")),
    ("statusInfo", One("CRStatusInfo")),
    ("statusInfoModificationDate", Scalar),
    ("modificationDate", Scalar),
    ("creationDate", Scalar),
    ("notes", Scalar),
    ("motivation", Scalar),
    ("applySource", Scalar),
    ("applyTags", Scalar),
    ("fitScore", Scalar),
    ("owner", One("CRUser")),
    ("attachments", Many("CRAttachment", "toMatch")),
];

const STATUS_INFO: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("statusName", Scalar),
    ("displayName", Scalar),
    ("statusValue", Scalar),
    ("sortOrder", Scalar),
    ("isFinal", Scalar),
    ("isSuccessfullyFilled", Scalar),
    ("isScreening", Scalar),
    ("notActive", Scalar),
    ("isDefault", Scalar),
];

const DATA_NODE: &[(&str, Kind)] =
    &[("_id", Scalar), ("value", Scalar), ("dataNodeID", Scalar), ("exportCode", Scalar)];

const USER: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("userID", Scalar),
    ("firstName", Scalar),
    ("lastName", Scalar),
    ("userName", Scalar),
    ("isActive", Scalar),
    ("deleted", Scalar),
];

const VACANCY_USER: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("toUser", One("CRUser")),
    ("toVacancy", One("CRVacancy")),
    ("toVacancyRoleNode", One("CRDataNode")),
];

const ATTACHMENT: &[(&str, Kind)] = &[
    ("_id", Scalar),
    ("label", Scalar),
    ("filePath", Scalar),
    ("creationDate", Scalar),
    ("toTypeNode", One("CRDataNode")),
    ("toEmployee", One("CREmployee")),
    ("toMatch", One("CRMatch")),
    ("toAttachmentData", One("CRAttachmentData")),
];

const ATTACHMENT_DATA: &[(&str, Kind)] = &[("_id", Scalar), ("content", Scalar)];

/// Every type of the slice: name, fields.
pub const TYPES: &[(&str, &[(&str, Kind)])] = &[
    ("CRVacancy", VACANCY),
    ("CRPublication", PUBLICATION),
    ("CREmployee", EMPLOYEE),
    ("CRMatch", MATCH),
    ("CRStatusInfo", STATUS_INFO),
    ("CRDataNode", DATA_NODE),
    ("CRAttachment", ATTACHMENT),
    ("CRAttachmentData", ATTACHMENT_DATA),
    ("CRUser", USER),
    ("CRVacancyUser", VACANCY_USER),
];

/// The fields a `…Request` input of `kind` may set (besides `_kind`).
pub fn writable(kind: &str) -> &'static [&'static str] {
    match kind {
        "CREmployee" => &[
            "firstName",
            "lastName",
            "emailAddress",
            "phoneNumber",
            "mobileNumber",
            "notes",
            "applyTags",
            "attachments",
        ],
        "CRMatch" => &[
            "statusInfo",
            "applySource",
            "motivation",
            "notes",
            "applyTags",
            "fitScore",
            "attachments",
        ],
        _ => &[],
    }
}

/// What field `name` of `type_name` holds, on this fake's account (hidden fields are not
/// there).
pub fn field(store: &Store, type_name: &str, name: &str) -> Result<Kind, GqlError> {
    TYPES
        .iter()
        .find(|(t, _)| *t == type_name)
        .and_then(|(_, fields)| fields.iter().find(|(f, _)| *f == name))
        .filter(|_| !store.is_hidden(type_name, name))
        .map(|(_, kind)| *kind)
        .ok_or_else(|| {
            GqlError::validation(&format!(
                "Validation error (FieldUndefined@[{name}]) : Field '{name}' in type '{type_name}' is undefined"
            ))
        })
}

/// The fields selected directly in `selection` (aliases honoured; fragments refused).
pub fn fields<'a, 'doc>(
    selection: &'a SelectionSet<'doc, String>,
) -> Result<Vec<&'a graphql_parser::query::Field<'doc, String>>, GqlError> {
    selection
        .items
        .iter()
        .map(|item| match item {
            Selection::Field(field) => Ok(field),
            _ => Err(GqlError::validation("fragments are not supported by this fake")),
        })
        .collect()
}

fn key_of(field: &graphql_parser::query::Field<'_, String>) -> String {
    field.alias.clone().unwrap_or_else(|| field.name.clone())
}

/// `record` (of `type_name`) projected onto `selection`.
pub fn project(
    store: &Store,
    type_name: &str,
    record: &Value,
    selection: &SelectionSet<'_, String>,
) -> Result<Value, GqlError> {
    let mut out = Map::new();
    for selected in fields(selection)? {
        let name = selected.name.as_str();
        let has_selection = !selected.selection_set.items.is_empty();
        let value = match field(store, type_name, name)? {
            Scalar if has_selection => {
                return Err(GqlError::validation(&format!(
                    "Validation error (SubselectionNotAllowed@[{name}]) : Sub selection not allowed on leaf type of field '{name}'"
                )));
            }
            Scalar => record.get(name).cloned().unwrap_or(Value::Null),
            _ if !has_selection => {
                return Err(GqlError::validation(&format!(
                    "Validation error (SubselectionRequired@[{name}]) : Sub selection required for type of field '{name}'"
                )));
            }
            One(target) => {
                match record.get(name).and_then(Value::as_str).and_then(|id| store.get(target, id))
                {
                    Some(related) => project(store, target, related, &selected.selection_set)?,
                    None => Value::Null,
                }
            }
            Many(target, back) => {
                let id = record.get("_id").and_then(Value::as_str).unwrap_or_default();
                let items: Vec<&Value> = store
                    .all(target)
                    .filter(|r| r.get(back).and_then(Value::as_str) == Some(id))
                    .collect();
                let total = items.len();
                page(store, target, &items, total, 0, &selected.selection_set)?
            }
        };
        out.insert(key_of(selected), value);
    }
    Ok(Value::Object(out))
}

/// A page of `item_type` records projected onto a page selection
/// (`totalElements totalPages number size items { … }`).
pub fn page(
    store: &Store,
    item_type: &str,
    items: &[&Value],
    total: usize,
    size: usize,
    selection: &SelectionSet<'_, String>,
) -> Result<Value, GqlError> {
    let mut out = Map::new();
    for selected in fields(selection)? {
        let value = match selected.name.as_str() {
            "items" => Value::Array(
                items
                    .iter()
                    .map(|record| project(store, item_type, record, &selected.selection_set))
                    .collect::<Result<_, _>>()?,
            ),
            "totalElements" => Value::from(total),
            "totalPages" => Value::from(if size == 0 { 1 } else { total.div_ceil(size) }),
            "size" => Value::from(size),
            other => {
                return Err(GqlError::validation(&format!(
                    "Validation error (FieldUndefined@[{other}]) : Field '{other}' in type '{item_type}Page' is undefined"
                )));
            }
        };
        out.insert(key_of(selected), value);
    }
    Ok(Value::Object(out))
}
