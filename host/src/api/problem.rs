//! API errors as RFC 9457 `application/problem+json`: a status, a title, a detail that says
//! what is wrong and how to fix it, and (for body errors) the offending fields.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One offending field of a request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// An API error answer.
#[derive(Debug, Clone, Serialize)]
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
        .with_fields(vec![FieldProblem { field: field.into(), problem }])
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
/// field, wrong content type, too large) becomes a [`Problem`] naming the field.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Problem> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            // serde's message names the path, e.g. "candidate.email: invalid type: ..."
            let text = std::error::Error::source(&error)
                .map(ToString::to_string)
                .unwrap_or_else(|| error.body_text());
            let (field, problem) = match text.split_once(": ") {
                Some((path, rest)) if !path.contains(' ') => (path.to_string(), rest.to_string()),
                _ => (field_from_message(&text), text.clone()),
            };
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid request body",
                format!("the body does not match the expected shape: {text}"),
            )
            .with_fields(vec![FieldProblem { field, problem }])
        }
        JsonRejection::JsonSyntaxError(error) => Problem::bad_request(format!(
            "the body is not valid JSON: {}",
            std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default()
        )),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(error) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
            format!(
                "{}; JSON bodies are limited to {} bytes (send files as attachments in their own request)",
                error.body_text(),
                super::MAX_JSON_BODY_BYTES
            ),
        ),
        other => Problem::bad_request(other.body_text()),
    }
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
            problem.with_fields(vec![FieldProblem { field, problem: problem_text }])
        }
        None => problem,
    }
}

/// An optional JSON body: empty means `T::default()`.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        if e.is_syntax() || e.is_eof() {
            Problem::bad_request(format!("the body is not valid JSON: {text}"))
        } else {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid request body",
                format!("the body does not match the expected shape: {text}"),
            )
            .with_fields(vec![FieldProblem {
                field: field_from_message(&text),
                problem: text.clone(),
            }])
        }
    })
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
