//! The Carerix GraphQL channel: the POST of one operation with the GraphQL token (`auth`),
//! and GraphQL `errors` mapped onto `ats-error` (a field the account does not have names the
//! config field that asked for it). Also builds GraphQL input literals, so no schema type
//! names (undocumented) are needed for variables.

use crate::auth::{self, Api};
use crate::settings::Settings;
use ats_connector_sdk::errors::{error_for_status, excerpt};
use ats_connector_sdk::http::Request;
use ats_connector_sdk::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct GraphQlAnswer {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
}

#[derive(Deserialize)]
struct GraphQlError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    extensions: Option<Value>,
}

/// Runs one operation (`query { … }` or `mutation { … }`) and returns its `data.<root>`.
pub fn execute(settings: &Settings, document: &str, root: &str) -> Result<Value, AtsError> {
    let body = json!({ "query": document });
    let response = auth::send(settings, Api::GraphQl, |token| {
        Request::post(&settings.graphql_url)
            .bearer(token)
            .header("accept", "application/json")
            .json(&body)
    })?;
    if !(200..300).contains(&response.status()) {
        return Err(error_for_status(
            response.status(),
            response.header("retry-after"),
            response.body(),
        ));
    }
    let answer: GraphQlAnswer = response.json()?;
    if let Some(error) = answer.errors.first() {
        return Err(map_error(settings, error, response.body()));
    }
    match answer.data.and_then(|mut data| data.get_mut(root).map(Value::take)) {
        Some(Value::Null) | None => {
            Err(AtsError::NotFound(format!("Carerix returned no `{root}` for the request")))
        }
        Some(value) => Ok(value),
    }
}

/// For a validation error about a field the connector asks for because of a config field:
/// which one, and how to turn it off.
fn config_hint(settings: &Settings, message: &str) -> Option<String> {
    message.split('\'').skip(1).step_by(2).find_map(|quoted| {
        settings.config_field_for(quoted).map(|config| {
            format!(
                " (the connector asks for `{quoted}` because of config field `{config}`; set it to the field this account has, or `none`)"
            )
        })
    })
}

/// A GraphQL error → the typed error, by its classification/code, then by its message.
fn map_error(settings: &Settings, error: &GraphQlError, body: &[u8]) -> AtsError {
    let code = error
        .extensions
        .as_ref()
        .and_then(|e| e.get("classification").or_else(|| e.get("code")))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let message = error.message.clone();
    let lower = message.to_ascii_lowercase();
    if code.contains("NOT_FOUND") || lower.contains("not found") {
        AtsError::NotFound(message)
    } else if code.contains("UNAUTHORIZED") || code.contains("UNAUTHENTICATED") {
        AtsError::Unauthorized(message)
    } else if code.contains("FORBIDDEN") || code.contains("ACCESS_DENIED") {
        AtsError::Forbidden(message)
    } else if code.contains("VALIDATION")
        || code.contains("BAD_REQUEST")
        || code.contains("BAD_USER_INPUT")
    {
        let hint = config_hint(settings, &message).unwrap_or_default();
        AtsError::InvalidInput(format!("{message}{hint}"))
    } else if code.contains("CONFLICT") || lower.contains("duplicate") {
        AtsError::Conflict(message)
    } else {
        AtsError::Remote(RemoteFailure { status: 200, body_excerpt: excerpt(body) })
    }
}

/// A GraphQL string literal: `"…"` with quotes, backslashes and control characters escaped.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value as a GraphQL input literal (`{firstName: "Ada", items: [...]}`).
pub fn literal(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(items) => {
            format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", "))
        }
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// An `ID` argument: Carerix ids are numbers; anything else is refused before sending.
pub fn id(value: &str) -> Result<String, AtsError> {
    let value = value.trim();
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(AtsError::InvalidInput(format!("`{value}` is not a Carerix id (digits)")));
    }
    Ok(string(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_strings_and_keep_structure() {
        assert_eq!(string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        let value = json!({"_kind": "CREmployee", "n": 3, "items": [{"ok": true}]});
        assert_eq!(literal(&value), r#"{_kind: "CREmployee", items: [{ok: true}], n: 3}"#);
        assert!(id("12").is_ok());
        assert!(id("12) { x }").is_err());
    }
}
