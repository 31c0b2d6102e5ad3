//! The fake's two endpoints, `jservice.php` (JSON-RPC 2.0) and `fileService.php` (multipart
//! uploads): sessions from `loginByUid` and their checks, injected errors, `check`, the
//! 200-row cap on list calls, and the dispatch of each method to the service that serves it.

use super::documents::check_application_uid;
use super::vacancies::{check_vacancy_what, vacancy_detail};
use super::{CLIENT_NAME, LOGIN_AGAIN, LOGIN_FIRST, RpcError, SESSION_LIFETIME, Session, Shared};
use super::{listing, lock, multipart};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

impl Shared {
    fn new_session(&self) -> String {
        let number = self.logins.fetch_add(1, Ordering::SeqCst) + 1;
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let session = format!("sess{number}-{nanos:x}");
        lock(&self.sessions)
            .insert(session.clone(), Session { expires: Instant::now() + SESSION_LIFETIME });
        session
    }

    /// `Ok` for a live session; the OWS message for a missing, unknown or expired one.
    fn check_session(&self, session: Option<&Value>) -> Result<(), RpcError> {
        let Some(session) = session.and_then(Value::as_str) else {
            return Err(RpcError::new(-32000, LOGIN_FIRST));
        };
        match lock(&self.sessions).get(session) {
            Some(live) if live.expires > Instant::now() => Ok(()),
            Some(_) => Err(RpcError::new(-32000, LOGIN_AGAIN)),
            None => Err(RpcError::new(-32000, LOGIN_FIRST)),
        }
    }

    fn handle(&self, method: &str, params: &[Value]) -> Result<Value, RpcError> {
        lock(&self.calls).push(method.to_string());
        if method == "loginByUid" {
            return match params.first().and_then(Value::as_str) {
                Some(key) if key == self.api_key => Ok(json!(self.new_session())),
                _ => Err(RpcError::new(-32000, "Access denied; invalid uid")),
            };
        }
        self.check_session(params.first())?;
        if let Some(error) = lock(&self.injected).pop() {
            return Err(error);
        }
        if method == "check" {
            return Ok(json!({
                "client": CLIENT_NAME, "clientId": 4711, "partnerId": "12",
                "defaultContentLanguage": "nl",
            }));
        }
        if method.ends_with(".getListEx") || method.ends_with(".getList") {
            self.check_limit(method, params.get(1))?;
        }
        let mut args = params[1..].to_vec();
        if self.faults.repeat_page_token() {
            // A stuck server: every list call answers the first page, whatever the offset.
            if let Some(options) = args.first_mut().and_then(Value::as_object_mut) {
                options.remove("offset");
            }
        }
        let args = args.as_slice();
        let mut store = lock(&self.store);
        match method.strip_prefix("Otys.Services.").unwrap_or("") {
            "VacancyService.getListEx" => {
                check_vacancy_what(args.first().and_then(|options| options.get("what")))?;
                store.vacancy_list(args)
            }
            "VacancyService.getDetail" => vacancy_detail(&store, args),
            "ProcedureStatus1Service.getList" => store.status_list(1, args),
            "ProcedureStatus2Service.getList" => store.status_list(2, args),
            "ProcedureStatus3Service.getList" => store.status_list(3, args),
            "CandidateService.getListEx" => store.candidate_list(args),
            "CandidateService.getDetail" => store.candidate_detail(args),
            "CandidateService.add" => store.candidate_add(args),
            "CandidateService.updateEx" => store.candidate_update_ex(args),
            "ProcedureService.getListEx" => store.procedure_list(args),
            "ProcedureService.add" => store.procedure_add(args),
            "ProcedureService.update" => store.procedure_update(args),
            "AttachedDocumentsService.add" => {
                check_application_uid(&store, args)?;
                store.document_add(args)
            }
            "UserService.getList" => self.user_list(args),
            "WebhooksService.add" => self.webhook_add(args),
            "WebhooksService.getList" => Ok(Value::Array(
                lock(&self.webhooks).values().cloned().map(Value::Object).collect(),
            )),
            "WebhooksService.delete" => self.webhook_delete(args),
            _ => Err(RpcError::new(-32601, &format!("Method not found: {method}"))),
        }
    }

    /// Refuses a `limit` above the row cap without `excludeLimitCheck`; records the call.
    fn check_limit(&self, method: &str, options: Option<&Value>) -> Result<(), RpcError> {
        let Some(options) = options.and_then(Value::as_object) else { return Ok(()) };
        let limit = options.get("limit").and_then(Value::as_u64).unwrap_or(listing::ROW_CAP);
        let unchecked = options.get("excludeLimitCheck").is_some_and(listing::truthy);
        lock(&self.list_calls).push((method.to_string(), limit, unchecked));
        if limit > listing::ROW_CAP && !unchecked {
            return Err(RpcError::invalid_params(&format!(
                "limit {limit} exceeds {}; set excludeLimitCheck",
                listing::ROW_CAP
            )));
        }
        Ok(())
    }
}

pub(super) async fn jservice(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if let Some(fault) = shared.faults.intercept().await {
        return fault;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return Json(RpcError::new(-32700, "Parse error").body(Value::Null)).into_response();
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str);
    let params = request.get("params").and_then(Value::as_array);
    let (Some("2.0"), Some(method), Some(params)) =
        (request.get("jsonrpc").and_then(Value::as_str), method, params)
    else {
        return Json(RpcError::new(-32600, "Invalid Request").body(id)).into_response();
    };
    match shared.handle(method, params) {
        Ok(result) => Json(json!({ "jsonrpc": "2.0", "result": result, "id": id })),
        Err(error) => Json(error.body(id)),
    }
    .into_response()
}

pub(super) async fn file_service(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = shared.faults.intercept().await {
        return fault;
    }
    lock(&shared.calls).push("fileService.php".to_string());
    let error = |e: RpcError| Json(json!({ "error": { "code": e.code, "message": e.message } }));
    let content_type =
        headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(boundary) = multipart::boundary(content_type) else {
        return error(RpcError::new(-32600, "Expected multipart/form-data")).into_response();
    };
    let Some(parts) = multipart::parse(&body, &boundary) else {
        return error(RpcError::new(-32600, "Malformed multipart body")).into_response();
    };
    let session = parts
        .iter()
        .find(|p| p.name == "sessionId")
        .map(|p| Value::String(String::from_utf8_lossy(&p.content).into_owned()));
    if let Err(e) = shared.check_session(session.as_ref()) {
        return error(e).into_response();
    }
    let Some(file) = parts.into_iter().find(|p| p.name == "file" && p.filename.is_some()) else {
        return error(RpcError::invalid_params("no `file` part with a filename")).into_response();
    };
    let filename = file.filename.unwrap_or_default();
    let size = file.content.len();
    let ouid = lock(&shared.store).store_file(filename.clone(), file.content);
    Json(json!([{ "ouid": ouid, "name": filename, "size": size }])).into_response()
}
