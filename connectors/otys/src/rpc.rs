//! The OTYS Web Services transport: JSON-RPC 2.0 over HTTP POST to `jservice.php`, the
//! `loginByUid` session (cached in the host `state` for 8 hours, as the official plugin
//! does, and sent as `params[0]` of every call), exactly one re-login when OTYS answers
//! "Access denied; please login again/first", and the mapping of errors that OTYS returns
//! inside HTTP 200 bodies onto the typed `ats-error`.

use crate::settings::Settings;
use ats_connector_sdk::errors::excerpt;
use ats_connector_sdk::http::{Multipart, Request};
use ats_connector_sdk::prelude::*;
use ats_connector_sdk::state;
use serde_json::{Value, json};

/// Where the session id is kept in the host's per-connection state.
const SESSION_KEY: &str = "otys-session";
/// The official plugin caches a session for 8 h (28 800 s).
const SESSION_TTL_SECONDS: u32 = 28_800;
const LOGIN_METHOD: &str = "loginByUid";

/// What went wrong with one RPC before it is turned into an `ats-error`.
enum RpcFailure {
    /// OTYS no longer accepts the session: log in again.
    SessionRejected(String),
    Failed(AtsError),
}

impl From<AtsError> for RpcFailure {
    fn from(error: AtsError) -> Self {
        Self::Failed(error)
    }
}

/// Calls `method` with the session as `params[0]` followed by `args`; logs in when there is
/// no session and logs in again (once) when OTYS rejects the cached one.
pub fn call(settings: &Settings, method: &str, args: Vec<Value>) -> Result<Value, AtsError> {
    let cached = state::get(SESSION_KEY);
    let fresh_login = cached.is_none();
    let session = match cached {
        Some(session) => session,
        None => login(settings)?,
    };
    match send(settings, method, &session, &args) {
        Ok(result) => Ok(result),
        Err(RpcFailure::Failed(error)) => Err(error),
        Err(RpcFailure::SessionRejected(message)) if fresh_login => {
            state::delete(SESSION_KEY);
            Err(AtsError::Unauthorized(format!("OTYS rejected a new session: {message}")))
        }
        Err(RpcFailure::SessionRejected(message)) => {
            log(
                Level::Info,
                &format!("OTYS session no longer valid ({message}); logging in again"),
            );
            state::delete(SESSION_KEY);
            let session = login(settings)?;
            send(settings, method, &session, &args).map_err(|failure| match failure {
                RpcFailure::Failed(error) => error,
                RpcFailure::SessionRejected(message) => AtsError::Unauthorized(format!(
                    "OTYS rejected the session right after a new login: {message}"
                )),
            })
        }
    }
}

/// Exchanges the API key for a session id and caches it.
fn login(settings: &Settings) -> Result<String, AtsError> {
    let body = json!({
        "jsonrpc": "2.0",
        "method": LOGIN_METHOD,
        "params": [settings.api_key],
        "id": 1,
    });
    let response = Request::post(settings.rpc_url()).json(&body)?.send_ok()?;
    let answer: Value = response.json()?;
    if let Some(error) = answer.get("error") {
        return Err(AtsError::Unauthorized(format!(
            "OTYS refused the API key: {}",
            error_message(error)
        )));
    }
    let session = answer
        .get("result")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            AtsError::Unauthorized("OTYS login answered without a session id".to_string())
        })?
        .to_string();
    ats_connector_sdk::remember(SESSION_KEY, &session, Some(SESSION_TTL_SECONDS));
    Ok(session)
}

fn send(
    settings: &Settings,
    method: &str,
    session: &str,
    args: &[Value],
) -> Result<Value, RpcFailure> {
    let mut params = Vec::with_capacity(args.len() + 1);
    params.push(Value::String(session.to_string()));
    params.extend(args.iter().cloned());
    let body = json!({ "jsonrpc": "2.0", "method": method, "params": params, "id": 1 });
    let response = Request::post(settings.rpc_url()).json(&body)?.send_ok()?;
    let answer: Value = response.json()?;
    match answer.get("error") {
        Some(error) if is_session_error(error) => {
            Err(RpcFailure::SessionRejected(error_message(error)))
        }
        Some(error) => Err(RpcFailure::Failed(map_error(method, error))),
        None => answer.get("result").cloned().ok_or_else(|| {
            RpcFailure::Failed(AtsError::Remote(RemoteFailure {
                status: response.status(),
                body_excerpt: format!(
                    "JSON-RPC answer without result or error: {}",
                    excerpt(response.body())
                ),
            }))
        }),
    }
}

/// Uploads a file to `fileService.php` (multipart: `file`, `sessionId`); returns its `ouid`.
pub fn upload_file(
    settings: &Settings,
    filename: &str,
    content_type: &str,
    content: &[u8],
) -> Result<String, AtsError> {
    let attempt = |session: &str| -> Result<Value, AtsError> {
        let form = Multipart::new()
            .file("file", filename, content_type, content)
            .text("sessionId", session);
        Request::post(settings.file_service_url()).multipart(form).send_ok()?.json()
    };
    let session = match state::get(SESSION_KEY) {
        Some(session) => session,
        None => login(settings)?,
    };
    let mut answer = attempt(&session)?;
    if answer.get("error").is_some_and(is_session_error) {
        state::delete(SESSION_KEY);
        answer = attempt(&login(settings)?)?;
    }
    if let Some(error) = answer.get("error") {
        return Err(map_error("fileService.php", error));
    }
    answer
        .get(0)
        .and_then(|first| first.get("ouid"))
        .and_then(|ouid| match ouid {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .ok_or_else(|| {
            AtsError::Remote(RemoteFailure {
                status: 200,
                body_excerpt: format!("fileService.php answered without an ouid: {answer}"),
            })
        })
}

fn error_message(error: &Value) -> String {
    error
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| error.to_string())
}

/// "Access denied; please login again" / "Access denied; please login first".
fn is_session_error(error: &Value) -> bool {
    let message = error_message(error).to_ascii_lowercase();
    message.starts_with("access denied") && message.contains("please login")
}

/// Maps an OTYS error object (HTTP 200) onto the typed error. OTYS documents no error codes
/// beyond the message; JSON-RPC's standard codes are honoured, messages are classified.
fn map_error(method: &str, error: &Value) -> AtsError {
    let message = error_message(error);
    let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
    let lower = message.to_ascii_lowercase();
    let detail = format!("{method}: {message}");
    if lower.contains("not found") || lower.contains("does not exist") {
        AtsError::NotFound(detail)
    } else if lower.starts_with("access denied") || lower.contains("no rights") {
        AtsError::Forbidden(detail)
    } else if matches!(code, -32700 | -32600 | -32602) || lower.contains("invalid") {
        AtsError::InvalidInput(detail)
    } else if code == -32601 {
        AtsError::Unsupported(detail)
    } else {
        AtsError::Remote(RemoteFailure {
            status: u16::try_from(code).unwrap_or(0),
            body_excerpt: excerpt(detail.as_bytes()),
        })
    }
}
