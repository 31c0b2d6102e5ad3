//! A fake OTYS Web Services server, written from research §1 (`ats-apis-benelux.md`):
//! JSON-RPC 2.0 over POST on `/jservice.php`, `loginByUid` with the API key answering a
//! session id that every other call carries as `params[0]`, errors inside HTTP 200 bodies as
//! `{"error":{"code":..,"message":..}}` ("Access denied; please login first/again" for a
//! missing, unknown or expired session), list calls with `what`/`condition`/`sort`/`limit`/
//! `offset` answered as `{listOutput, totalCount}` with at most 200 rows unless
//! `excludeLimitCheck` is set, and multipart uploads on `/fileService.php` (parts `file` and
//! `sessionId`, answered `[{"ouid":..}]`).
//!
//! OTYS pages by offset, so the client makes the page tokens; `Faults::set_repeat_page_token`
//! makes the fake a stuck server instead: every list call answers its first page.
//!
//! OTYS documents no error codes; the fake uses JSON-RPC's standard codes (-32700 parse,
//! -32600 request, -32601 method, -32602 params) and -32000 for "not found" and access
//! errors. Clients match on the messages, as the official plugin does.

mod listing;
mod multipart;
mod store;

use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use store::Store;

/// How long a session lives (the third-party client says at most 14 h).
const SESSION_LIFETIME: Duration = Duration::from_secs(14 * 3600);
pub const LOGIN_AGAIN: &str = "Access denied; please login again";
pub const LOGIN_FIRST: &str = "Access denied; please login first";

/// An error as OWS puts it in the body of an HTTP 200.
#[derive(Debug, Clone)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i64, message: &str) -> Self {
        Self { code, message: message.to_string() }
    }
    pub fn invalid_params(detail: &str) -> Self {
        Self::new(-32602, &format!("Invalid params: {detail}"))
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(-32000, &format!("{what} not found"))
    }
    fn body(&self, id: Value) -> Value {
        json!({
            "jsonrpc": "2.0",
            "error": { "code": self.code, "message": self.message },
            "id": id,
        })
    }
}

struct Session {
    expires: Instant,
}

struct Shared {
    api_key: String,
    faults: Faults,
    logins: AtomicUsize,
    store: Mutex<Store>,
    sessions: Mutex<HashMap<String, Session>>,
    /// Every JSON-RPC method called, in order (login included).
    calls: Mutex<Vec<String>>,
    /// Errors to answer (in an HTTP 200) to the next API calls, whatever they ask.
    injected: Mutex<Vec<RpcError>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The fake OTYS, listening on 127.0.0.1.
pub struct OtysFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl OtysFake {
    pub async fn start() -> Self {
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let shared = Arc::new(Shared {
            api_key: format!("otys-api-key-{nanos:x}"),
            faults: Faults::default(),
            logins: AtomicUsize::new(0),
            store: Mutex::new(Store::new()),
            sessions: Mutex::new(HashMap::new()),
            calls: Mutex::new(Vec::new()),
            injected: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/jservice.php", post(jservice))
            .route("/fileService.php", post(file_service))
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many times `method` was called.
    pub fn calls_of(&self, method: &str) -> usize {
        lock(&self.shared.calls).iter().filter(|m| *m == method).count()
    }

    /// The next API call (not the login) is answered with this error in an HTTP 200.
    pub fn inject_error(&self, code: i64, message: &str) {
        lock(&self.shared.injected).push(RpcError::new(code, message));
    }

    /// How many procedures exist for `candidate` on `vacancy`.
    pub fn procedures_for(&self, candidate: &str, vacancy: &str) -> usize {
        let store = lock(&self.shared.store);
        store
            .procedures
            .values()
            .filter(|p| {
                text(p.get("candidateUid")) == candidate && text(p.get("vacancyUid")) == vacancy
            })
            .count()
    }

    /// The attached documents' `typeId`s of `candidate`.
    pub fn document_types(&self, candidate: &str) -> Vec<u64> {
        let store = lock(&self.shared.store);
        store
            .documents
            .iter()
            .filter(|d| text(d.get("candidateUid")) == candidate)
            .filter_map(|d| d.get("typeId").and_then(Value::as_u64))
            .collect()
    }

    /// How many files were uploaded to `fileService.php`.
    pub fn uploaded_files(&self) -> usize {
        lock(&self.shared.store).files.len()
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The `UtmTags.source` of a candidate or procedure: where OTYS records a source.
fn utm_source(row: &store::Row) -> Option<String> {
    row.get("UtmTags")?.get("source")?.as_str().map(str::to_string)
}

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
            "VacancyService.getListEx" => store.vacancy_list(args),
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
            "AttachedDocumentsService.add" => store.document_add(args),
            _ => Err(RpcError::new(-32601, &format!("Method not found: {method}"))),
        }
    }
}

async fn jservice(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
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

async fn file_service(
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

impl FakeAts for OtysFake {
    fn connector_package(&self) -> &'static str {
        "connector-otys"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![("base-url".into(), self.base_url()), ("api-key".into(), self.shared.api_key.clone())]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        vec![
            ("base-url".into(), self.base_url()),
            ("api-key".into(), "otys-revoked-key-0000".into()),
        ]
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.api_key.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        let first = store.vacancies.len();
        (0..count)
            .map(|n| store.add_vacancy(&format!("Vacancy {}", first + n + 1), updated_at))
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        lock(&self.shared.store).touch_vacancy(id, title, updated_at);
    }

    fn auth_count(&self) -> usize {
        self.shared.logins.load(Ordering::SeqCst)
    }

    fn expire_sessions(&self) {
        let past = Instant::now();
        for session in lock(&self.shared.sessions).values_mut() {
            session.expires = past;
        }
    }

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.shared.store);
        store
            .candidates
            .values()
            .map(|candidate| {
                let uid = text(candidate.get("uid"));
                let person = candidate.get("Person").cloned().unwrap_or(Value::Null);
                let applications = store
                    .procedures
                    .values()
                    .filter(|p| text(p.get("candidateUid")) == uid)
                    .map(|p| FakeApplication {
                        id: text(p.get("uid")),
                        job_id: text(p.get("vacancyUid")),
                        stage_id: p
                            .get("ProcedureStatus1")
                            .map(|s| format!("1_{}", text(s.get("uid")))),
                        source: utm_source(p),
                        answers_text: p
                            .get("KillerQuestions")
                            .and_then(Value::as_array)
                            .map(|answers| {
                                answers
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join("\n")
                            })
                            .unwrap_or_default(),
                        rejected_reason: None,
                        result_text: String::new(),
                    })
                    .collect();
                let attachments = store
                    .documents
                    .iter()
                    .filter(|d| text(d.get("candidateUid")) == uid)
                    .filter_map(|d| store.files.get(&text(d.get("fileUid"))).cloned())
                    .collect();
                FakeCandidate {
                    id: uid.clone(),
                    first_name: text(person.get("firstName")),
                    last_name: text(person.get("lastName")),
                    emails: person
                        .get("emailPrimary")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .into_iter()
                        .collect(),
                    phones: store::phones_of(&person),
                    notes: Vec::new(),
                    tags: utm_source(candidate).into_iter().collect(),
                    attachments,
                    applications,
                }
            })
            .collect()
    }
}
