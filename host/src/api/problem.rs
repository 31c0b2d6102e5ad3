//! API errors as RFC 9457 `application/problem+json`: a status, a title, a detail that says
//! what is wrong and how to fix it, and (for body errors) the offending fields.

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

/// One offending field of a request.
#[derive(Debug, Clone, Serialize, PartialEq, JsonSchema)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
    /// Other fields involved (e.g. the other conditions of a contradiction).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldProblem { field: field.into(), problem: problem.into(), related: Vec::new() }
    }
}

/// An API error answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

impl Problem {
    pub fn new(status: StatusCode, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("https://ats-host.dev/problems/{}", slug(title)),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            fields: Vec::new(),
        }
    }

    pub fn with_fields(mut self, fields: Vec<FieldProblem>) -> Self {
        self.fields = fields;
        self
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            &format!("{what} not found"),
            format!("no {what} `{id}`"),
        )
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad request", detail)
    }

    pub fn invalid(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid request",
            format!("{field}: {problem}"),
        )
        .with_fields(vec![FieldProblem::new(field, problem)])
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "API request failed");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", error.to_string())
    }

    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid API key; send `Authorization: Bearer <key>`",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// A JSON body whose rejection (malformed JSON, wrong field type, missing field, unknown
/// field, wrong content type, too large) becomes a [`Problem`] naming the field by its full
/// path (`candidate.last_name`, `candidate.emails[0]`).
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Problem> {
        if !is_json(request.headers()) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported media type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = match Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request body too large",
                    format!(
                        "{}; JSON bodies are limited to {} bytes (send files as attachments in their own request)",
                        rejection.body_text(),
                        super::MAX_JSON_BODY_BYTES
                    ),
                ));
            }
            Err(rejection) => return Err(Problem::bad_request(rejection.body_text())),
        };
        parse_json(&bytes).map(Body)
    }
}

/// `application/json`, or a `+json` type (`application/merge-patch+json`).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads `T` from JSON; a mismatch names the offending field by its full path.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let not_json = |error: &serde_json::Error| {
        Problem::bad_request(format!("the body is not valid JSON: {error}"))
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return not_json(inner);
        }
        let (field, problem) = field_of(error.path(), &inner.to_string());
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid request body",
            format!("the body does not match the expected shape: {field}: {problem}"),
        )
        .with_fields(vec![FieldProblem::new(field, problem)])
    })?;
    deserializer.end().map_err(|error| not_json(&error))?;
    Ok(value)
}

/// Reads `T` from a JSON value already parsed (a body with a field taken out first); a
/// mismatch names the offending field by its full path, as [`Body`] does.
pub fn from_value<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let (field, problem) = field_of(error.path(), &error.inner().to_string());
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid request body",
            format!("the body does not match the expected shape: {field}: {problem}"),
        )
        .with_fields(vec![FieldProblem::new(field, problem)])
    })
}

/// The full path of the offending field and what is wrong with it. serde reports a missing
/// or unknown field at the object holding it, so its name is appended to the path.
fn field_of(path: &serde_path_to_error::Path, message: &str) -> (String, String) {
    let path = path.to_string();
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let field = match (named, path.as_str()) {
        (Some(name), ".") => name.to_string(),
        (Some(name), path) if path.rsplit('.').next() != Some(name) => format!("{path}.{name}"),
        (_, path) => path.to_string(),
    };
    // serde_json appends " at line L column C" to data errors: not useful in a field list.
    let problem = message.rsplit_once(" at line ").map_or(message, |(problem, _)| problem);
    (field, problem.to_string())
}

/// A [`Problem`] from the text of one of axum's rejections, naming the offending query
/// field where the text does (`Failed to deserialize query string: limit: invalid digit…`).
pub fn from_rejection_text(status: StatusCode, title: &str, text: &str) -> Problem {
    let detail = if text.is_empty() { title.to_string() } else { text.to_string() };
    let field = text
        .strip_prefix("Failed to deserialize query string: ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(field, _)| !field.contains(' '))
        .map(|(field, problem)| (field.to_string(), problem.to_string()))
        .or_else(|| {
            text.strip_prefix("Failed to deserialize query string: ")
                .filter(|rest| rest.contains("field"))
                .map(|rest| (field_from_message(rest), rest.to_string()))
        });
    let problem = Problem::new(status, title, detail);
    match field {
        Some((field, problem_text)) => {
            problem.with_fields(vec![FieldProblem::new(field, problem_text)])
        }
        None => problem,
    }
}

/// An optional JSON body: empty means `T::default()`.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(bytes)
}

/// `missing field `email`` / `unknown field `foo`` → the field's name.
fn field_from_message(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .map(str::to_string)
        .unwrap_or_else(|| ".".into())
}

fn slug(title: &str) -> String {
    title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect()
}
