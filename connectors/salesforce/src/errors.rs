//! Salesforce's error answers mapped onto `ats-error`. REST errors are a JSON array of
//! `{message, errorCode, fields}` (duplicate-rule errors add a `duplicateResult` with the
//! matching records); the error code decides the variant, the HTTP status is the fallback.

use ats_connector_sdk::errors::{error_for_status, excerpt, parse_retry_after};
use ats_connector_sdk::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use std::time::SystemTime;

/// One item of a Salesforce error array.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "errorCode", default)]
    pub error_code: String,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(rename = "duplicateResult", default)]
    pub duplicate_result: Option<Value>,
}

/// The error items of a body, when it is a Salesforce error array (or a single item).
pub fn api_errors(body: &[u8]) -> Vec<ApiError> {
    if let Ok(items) = serde_json::from_slice::<Vec<ApiError>>(body) {
        return items;
    }
    serde_json::from_slice::<ApiError>(body).map(|item| vec![item]).unwrap_or_default()
}

/// Whether the answer says the access token is no longer valid.
pub fn is_invalid_session(status: u16, body: &[u8]) -> bool {
    status == 401 && api_errors(body).iter().any(|e| e.error_code == "INVALID_SESSION_ID")
}

/// Ids of the existing records a `DUPLICATES_DETECTED` error names.
pub fn duplicate_ids(body: &[u8]) -> Vec<String> {
    api_errors(body)
        .iter()
        .filter(|e| e.error_code == "DUPLICATES_DETECTED")
        .filter_map(|e| e.duplicate_result.as_ref())
        .filter_map(|d| d.get("matchResults").and_then(Value::as_array))
        .flatten()
        .filter_map(|m| m.get("matchRecords").and_then(Value::as_array))
        .flatten()
        .filter_map(|r| r.get("record")?.get("Id")?.as_str().map(str::to_string))
        .collect()
}

fn describe(item: &ApiError) -> String {
    if item.fields.is_empty() {
        format!("{}: {}", item.error_code, item.message)
    } else {
        format!("{}: {} (fields: {})", item.error_code, item.message, item.fields.join(", "))
    }
}

/// The typed error for a non-2xx Salesforce answer.
pub fn to_ats_error(status: u16, retry_after: Option<&str>, body: &[u8]) -> AtsError {
    let items = api_errors(body);
    let Some(first) = items.iter().find(|e| !e.error_code.is_empty()) else {
        return error_for_status(status, retry_after, body);
    };
    let detail = describe(first);
    match first.error_code.as_str() {
        "INVALID_SESSION_ID" => AtsError::Unauthorized(detail),
        "REQUEST_LIMIT_EXCEEDED" => AtsError::RateLimited(RateLimit {
            retry_after_seconds: retry_after.and_then(|v| parse_retry_after(v, SystemTime::now())),
            message: detail,
        }),
        "DUPLICATES_DETECTED" | "DUPLICATE_VALUE" => AtsError::Conflict(detail),
        "NOT_FOUND" | "ENTITY_IS_DELETED" => AtsError::NotFound(detail),
        code if code.starts_with("INSUFFICIENT_ACCESS") || code == "API_DISABLED_FOR_ORG" => {
            AtsError::Forbidden(detail)
        }
        "MALFORMED_QUERY"
        | "MALFORMED_ID"
        | "INVALID_FIELD"
        | "INVALID_TYPE"
        | "REQUIRED_FIELD_MISSING"
        | "JSON_PARSER_ERROR"
        | "INVALID_CROSS_REFERENCE_KEY"
        | "FIELD_INTEGRITY_EXCEPTION"
        | "STRING_TOO_LONG"
        | "INVALID_FIELD_FOR_INSERT_UPDATE"
        | "INVALID_QUERY_LOCATOR"
        | "INVALID_EMAIL_ADDRESS"
        | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        | "FIELD_CUSTOM_VALIDATION_EXCEPTION" => AtsError::InvalidInput(detail),
        // Raw Apex exceptions: retrying the same input will not help.
        "APEX_ERROR" => {
            AtsError::Remote(RemoteFailure { status, body_excerpt: excerpt(detail.as_bytes()) })
        }
        _ => match error_for_status(status, retry_after, body) {
            AtsError::Remote(failure) => AtsError::Remote(failure),
            AtsError::Transient(_) => AtsError::Transient(detail),
            AtsError::InvalidInput(_) => AtsError::InvalidInput(detail),
            other => other,
        },
    }
}
