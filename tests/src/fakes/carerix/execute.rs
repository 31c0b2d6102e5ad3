//! Executes one GraphQL request against the fake's store: parses the document, runs each
//! root field as a query (`cr<Entity>`, `cr<Entity>Page`) or a mutation, and projects the
//! answer onto the selection set. Unknown roots and arguments are validation errors.

use super::store::{Store, text};
use super::{GqlError, MAX_PAGE_SIZE, qualifier, schema};
use graphql_parser::query::{Definition, Document, OperationDefinition, SelectionSet};
use serde_json::{Map, Value, json};

/// A GraphQL argument value as JSON, variables substituted.
fn to_json(
    value: &graphql_parser::query::Value<'_, String>,
    variables: &Map<String, Value>,
) -> Value {
    use graphql_parser::query::Value as V;
    match value {
        V::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        V::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        V::Float(f) => json!(f),
        V::String(s) => json!(s),
        V::Boolean(b) => json!(b),
        V::Null => Value::Null,
        V::Enum(e) => json!(e),
        V::List(items) => Value::Array(items.iter().map(|v| to_json(v, variables)).collect()),
        V::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v, variables))).collect())
        }
    }
}

pub fn execute(
    store: &mut Store,
    document: &str,
    variables: &Map<String, Value>,
    stuck: bool,
) -> Result<Value, GqlError> {
    let parsed: Document<'_, String> = graphql_parser::parse_query(document)
        .map_err(|e| GqlError::syntax(&format!("Invalid Syntax : {e}")))?;
    let operations: Vec<&OperationDefinition<'_, String>> = parsed
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Operation(op) => Some(op),
            Definition::Fragment(_) => None,
        })
        .collect();
    let [operation] = operations.as_slice() else {
        return Err(GqlError::validation("send exactly one operation per request"));
    };
    let (is_mutation, selection) = match operation {
        OperationDefinition::Query(q) => (false, &q.selection_set),
        OperationDefinition::SelectionSet(s) => (false, s),
        OperationDefinition::Mutation(m) => (true, &m.selection_set),
        OperationDefinition::Subscription(_) => {
            return Err(GqlError::validation("subscriptions are not offered"));
        }
    };
    let mut data = Map::new();
    for field in schema::fields(selection)? {
        let mut args = Map::new();
        for (name, value) in &field.arguments {
            args.insert(name.clone(), to_json(value, variables));
        }
        let value = if is_mutation {
            mutation(store, &field.name, &args, &field.selection_set)?
        } else {
            query(store, &field.name, &args, &field.selection_set, stuck)?
        };
        data.insert(field.alias.clone().unwrap_or_else(|| field.name.clone()), value);
    }
    Ok(Value::Object(data))
}

fn check_arguments(
    root: &str,
    args: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), GqlError> {
    match args.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(GqlError::validation(&format!(
            "Validation error (UnknownArgument@[{root}]) : Unknown field argument '{unknown}'"
        ))),
        None => Ok(()),
    }
}

fn id_argument(root: &str, args: &Map<String, Value>) -> Result<String, GqlError> {
    let id = text(args.get("_id"));
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(GqlError::validation(&format!(
            "Validation error (WrongType@[{root}]) : argument '_id' must be an ID, got {:?}",
            args.get("_id")
        )));
    }
    Ok(id)
}

/// The entity type of a `cr<Entity>` / `cr<Entity>Page` root field.
fn root_type(root: &str) -> Option<(&'static str, bool)> {
    let (entity, is_page) = match root.strip_suffix("Page") {
        Some(entity) => (entity, true),
        None => (root, false),
    };
    let type_name = format!("CR{}", entity.strip_prefix("cr")?);
    schema::TYPES.iter().map(|(t, _)| *t).find(|t| *t == type_name).map(|t| (t, is_page))
}

fn undefined(root: &str, on: &str) -> GqlError {
    GqlError::validation(&format!(
        "Validation error (FieldUndefined@[{root}]) : Field '{root}' in type '{on}' is undefined"
    ))
}

fn query(
    store: &Store,
    root: &str,
    args: &Map<String, Value>,
    selection: &SelectionSet<'_, String>,
    stuck: bool,
) -> Result<Value, GqlError> {
    let (type_name, is_page) = root_type(root).ok_or_else(|| undefined(root, "Query"))?;
    if !is_page {
        check_arguments(root, args, &["_id"])?;
        let id = id_argument(root, args)?;
        return match store.get(type_name, &id) {
            Some(record) => schema::project(store, type_name, record, selection),
            None => Ok(Value::Null),
        };
    }
    check_arguments(root, args, &["qualifier", "pageable"])?;
    let filter = match args.get("qualifier") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(qualifier::parse(store, text, type_name)?),
        Some(_) => return Err(GqlError::validation("argument 'qualifier' must be a String")),
    };
    let pageable = args.get("pageable").cloned().unwrap_or(json!({}));
    if let Some(unknown) = pageable
        .as_object()
        .and_then(|p| p.keys().find(|k| !["page", "size", "sort"].contains(&k.as_str())))
    {
        return Err(GqlError::validation(&format!("pageable has no field '{unknown}'")));
    }
    let number = if stuck { 0 } else { pageable.get("page").and_then(Value::as_u64).unwrap_or(0) };
    let size = pageable.get("size").and_then(Value::as_u64).unwrap_or(10).clamp(1, MAX_PAGE_SIZE);
    let matching: Vec<&Value> = store
        .all(type_name)
        .filter(|r| filter.as_ref().is_none_or(|q| q.matches(store, type_name, r)))
        .collect();
    let start = usize::try_from(number * size).unwrap_or(usize::MAX).min(matching.len());
    let end = start.saturating_add(usize::try_from(size).unwrap_or(0)).min(matching.len());
    let size = usize::try_from(size).unwrap_or(0);
    schema::page(store, type_name, &matching[start..end], matching.len(), size, selection)
}

fn mutation(
    store: &mut Store,
    root: &str,
    args: &Map<String, Value>,
    selection: &SelectionSet<'_, String>,
) -> Result<Value, GqlError> {
    let request = args.get("request").cloned().unwrap_or(Value::Null);
    let (type_name, id) = match root {
        "crEmployeeCreate" => {
            check_arguments(root, args, &["request"])?;
            ("CREmployee", store.employee_create(&request)?)
        }
        "crEmployeeUpdate" => {
            check_arguments(root, args, &["_id", "request"])?;
            ("CREmployee", store.employee_update(&id_argument(root, args)?, &request)?)
        }
        "crMatchUpdate" => {
            check_arguments(root, args, &["_id", "request"])?;
            ("CRMatch", store.match_update(&id_argument(root, args)?, &request)?)
        }
        "crEmployeeApply" => {
            check_arguments(root, args, &["dedupe", "pub", "request"])?;
            let publication = text(args.get("pub"));
            let dedupe = args.get("dedupe").and_then(Value::as_bool).unwrap_or(false);
            ("CREmployee", store.employee_apply(dedupe, &publication, &request)?)
        }
        other => return Err(undefined(other, "Mutation")),
    };
    let record = store
        .get(type_name, &id)
        .ok_or_else(|| GqlError::data(&format!("{type_name} {id} vanished")))?;
    schema::project(store, type_name, record, selection)
}
