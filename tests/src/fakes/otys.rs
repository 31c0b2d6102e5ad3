//! A fake OTYS Web Services server, written from research §1 (`ats-apis-benelux.md`):
//! JSON-RPC 2.0 over POST on `/jservice.php`, `loginByUid` with the API key answering a
//! session id that every other call carries as `params[0]`, errors inside HTTP 200 bodies as
//! `{"error":{"code":..,"message":..}}` ("Access denied; please login first/again" for a
//! missing, unknown or expired session), list calls with `what`/`condition`/`sort`/`limit`/
//! `offset` answered as `{listOutput, totalCount}` with at most 200 rows unless
//! `excludeLimitCheck` is set, and multipart uploads on `/fileService.php` (parts `file` and
//! `sessionId`, answered `[{"ouid":..}]`).
//!
//! Beyond the stored records (`store`), this file serves what the official plugin shows
//! (`OTYS-WP`): `check` (the client the key belongs to), `VacancyService.getDetail` and the
//! vacancy fields the plugin requests (only those: `textField_*` as `{title, text}`, the
//! `location*` parts, `internalId`), `applicationUid` on attached documents (the vacancy's
//! `internalId`, as the plugin sends it), `UserService.getList` (a plain list) and
//! `WebhooksService.add/getList/delete` (`{serviceCall, webhookUrl, klantGlobal}`). A list
//! call with a `limit` above 200 is refused unless it sets `excludeLimitCheck`.
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
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use store::{Row, Store};

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
    /// (method, limit, excludeLimitCheck) of every list call.
    list_calls: Mutex<Vec<(String, u64, bool)>>,
    /// Webhook subscriptions by uid.
    webhooks: Mutex<BTreeMap<u64, Row>>,
    next_webhook: AtomicUsize,
    /// The account's users (`UserService`).
    users: Vec<Row>,
}

/// The client `check` names.
pub const CLIENT_NAME: &str = "Fake Uitzendbureau BV";
/// `internalId` of a vacancy is this plus its uid: the two differ, as in OTYS.
const INTERNAL_ID_BASE: u64 = 70_000;

/// A document attached with `AttachedDocumentsService.add`, with its uploaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeDocument {
    pub uid: String,
    pub candidate: String,
    pub application_uid: Option<String>,
    pub type_id: Option<u64>,
    pub subject: String,
    pub filename: String,
    pub content: Vec<u8>,
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
            list_calls: Mutex::new(Vec::new()),
            webhooks: Mutex::new(BTreeMap::new()),
            next_webhook: AtomicUsize::new(500),
            users: seed_users(),
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

    /// Every attached document with its file.
    pub fn documents(&self) -> Vec<FakeDocument> {
        let store = lock(&self.shared.store);
        store.documents.iter().map(|d| document_view(&store, d)).collect()
    }

    /// The `internalId` of vacancy `uid`.
    pub fn internal_id(&self, uid: &str) -> String {
        uid.parse::<u64>().map(|n| (INTERNAL_ID_BASE + n).to_string()).unwrap_or_default()
    }

    /// Sets fields of vacancy `uid`; a `null` value removes the field.
    pub fn set_vacancy_fields(&self, uid: &str, fields: Value) {
        let mut store = lock(&self.shared.store);
        let Some(vacancy) = uid.parse().ok().and_then(|uid: u64| store.vacancies.get_mut(&uid))
        else {
            return;
        };
        for (key, value) in fields.as_object().into_iter().flatten() {
            if value.is_null() {
                vacancy.remove(key);
            } else {
                vacancy.insert(key.clone(), value.clone());
            }
        }
    }

    /// (limit, excludeLimitCheck) of every call of list `method`.
    pub fn list_limits(&self, method: &str) -> Vec<(u64, bool)> {
        let calls = lock(&self.shared.list_calls);
        calls.iter().filter(|(m, ..)| m == method).map(|(_, l, e)| (*l, *e)).collect()
    }

    /// The live webhook subscriptions: (uid, serviceCall, webhookUrl, klantGlobal).
    pub fn webhook_subscriptions(&self) -> Vec<(String, String, String, bool)> {
        let hooks = lock(&self.shared.webhooks);
        hooks
            .values()
            .map(|row| {
                (
                    text(row.get("uid")),
                    text(row.get("serviceCall")),
                    text(row.get("webhookUrl")),
                    row.get("klantGlobal").and_then(Value::as_bool).unwrap_or(false),
                )
            })
            .collect()
    }
}

fn seed_users() -> Vec<Row> {
    let users = json!([
        { "uid": "11", "blocked": false, "Person": { "firstName": "Eva", "infix": "de",
          "lastName": "Boer", "emailPrimary": "eva@otys.example" } },
        { "uid": "12", "blocked": true, "Person": { "firstName": "Tom", "lastName": "Jansen",
          "emailPrimary": "tom@otys.example" } },
        { "uid": "13", "blocked": false, "Person": { "firstName": "Sara", "lastName": "Visser" } },
    ]);
    users.as_array().into_iter().flatten().filter_map(|u| u.as_object().cloned()).collect()
}

/// The fields of a vacancy the official plugin requests (`VacanciesListModel`,
/// `VacanciesDetailModel`); the fake refuses any other, so a client cannot rely on a field an
/// account may not have (`extraInfoN` must first be looked up, as the plugin does).
const VACANCY_WHAT: &str = "uid internalId title location relation category status userEmail \
    photoFileName applyCount PhotoGallery referenceNr externalReferenceNr entryDateTime \
    lastModified salaryCurrency salaryValue salaryUnit salaryMin salaryMax publicationStartDate \
    publicationEndDate publicationFirstDate publicationStatus publicationStatusId showEmployer \
    blockScanners removeApplyButton categoryId alternativeCategories statusId user userInitials \
    userId userPhoneMobile createdByUser locationAddress locationCity locationCityId \
    locationPostcode locationState locationCountry locationCountryCode applyCountToday \
    matchCriteriaNames locationLatitude locationLongitude applyUrls customApplyUrl \
    customDetailUrl hoursType hoursUnit hours housTotal tariffUnit tariff currencyId \
    assignmentType slug textField_description textField_companyProfile \
    textField_requirements textField_salary textField_companyCulture textField_summary";

fn check_vacancy_what(what: Option<&Value>) -> Result<(), RpcError> {
    let Some(what) = what.and_then(Value::as_object) else { return Ok(()) };
    let known = |field: &str| {
        VACANCY_WHAT.split_whitespace().any(|f| f == field)
            || field
                .strip_prefix("textField_extra")
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=10).contains(&n))
            || field
                .strip_prefix("matchCriteria_")
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=18).contains(&n))
    };
    match what.keys().find(|field| !known(field)) {
        Some(unknown) => {
            Err(RpcError::invalid_params(&format!("unknown vacancy field `{unknown}`")))
        }
        None => Ok(()),
    }
}

/// What the plugin's vacancies carry beyond the store's basics: `internalId`, text fields
/// (`{title, text}`, HTML, `null` when empty) and the location parts.
fn enrich_vacancy(vacancy: &mut Row, uid: u64) {
    let title = text(vacancy.get("title"));
    let extra = json!({
        "internalId": INTERNAL_ID_BASE + uid,
        "textField_summary": { "title": "About [functie_o]", "text": format!("<p>Join us as {title}.</p>") },
        "textField_description": { "title": "Functieomschrijving", "text": "<p>You build data pipelines.</p>" },
        "textField_requirements": { "title": "Functie-eisen", "text": "<ul><li>SQL</li></ul>" },
        "textField_salary": { "title": "Salaris", "text": null },
        "textField_companyProfile": { "title": "Bedrijfsprofiel", "text": "" },
        "textField_extra1": { "title": "Intern", "text": "<p>Internal remark</p>" },
        "locationCity": "Utrecht", "locationState": "Utrecht", "locationCountry": "Nederland",
        "locationCountryCode": "NL", "locationPostcode": "3511 AB",
    });
    for (key, value) in extra.as_object().into_iter().flatten() {
        vacancy.insert(key.clone(), value.clone());
    }
}

fn document_view(store: &Store, document: &Row) -> FakeDocument {
    let (filename, content) =
        store.files.get(&text(document.get("fileUid"))).cloned().unwrap_or_default();
    let application = text(document.get("applicationUid"));
    FakeDocument {
        uid: text(document.get("uid")),
        candidate: text(document.get("candidateUid")),
        application_uid: (!application.is_empty()).then_some(application),
        type_id: document.get("typeId").and_then(Value::as_u64),
        subject: text(document.get("subject")),
        filename,
        content,
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

    /// `UserService.getList`: a plain list, as the plugin reads it (`$userList[0]`).
    fn user_list(&self, args: &[Value]) -> Result<Value, RpcError> {
        let options = listing::ListOptions::parse(
            args.first().ok_or_else(|| RpcError::invalid_params("missing argument 1"))?,
        )?;
        let fields = ["uid", "blocked", "Person.emailPrimary", "Person.lastName"];
        let answer = options.answer(self.users.iter(), &fields)?;
        Ok(answer.get("listOutput").cloned().unwrap_or(Value::Array(Vec::new())))
    }

    /// `WebhooksService.add({serviceCall, webhookUrl, klantGlobal})` → the new uid.
    fn webhook_add(&self, args: &[Value]) -> Result<Value, RpcError> {
        let fields = args
            .first()
            .and_then(Value::as_object)
            .ok_or_else(|| RpcError::invalid_params("the webhook must be an object"))?;
        let allowed = ["serviceCall", "webhookUrl", "klantGlobal"];
        if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(RpcError::invalid_params(&format!("unknown webhook field `{unknown}`")));
        }
        let call = fields.get("serviceCall").and_then(Value::as_str).unwrap_or("");
        let call_ok = call.split_once('.').is_some_and(|(service, verb)| {
            service.ends_with("Service")
                && service.chars().all(|c| c.is_ascii_alphanumeric())
                && !verb.is_empty()
                && verb.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !call_ok {
            return Err(RpcError::invalid_params(&format!(
                "serviceCall must be <Service>.<method>, got `{call}`"
            )));
        }
        let url = fields.get("webhookUrl").and_then(Value::as_str).unwrap_or("");
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(RpcError::invalid_params(&format!("invalid webhookUrl `{url}`")));
        }
        if fields.get("klantGlobal").is_some_and(|g| !g.is_boolean()) {
            return Err(RpcError::invalid_params("klantGlobal must be a boolean"));
        }
        let uid = self.next_webhook.fetch_add(1, Ordering::SeqCst) as u64 + 1;
        let mut row = fields.clone();
        row.insert("uid".into(), json!(uid.to_string()));
        lock(&self.webhooks).insert(uid, row);
        Ok(json!(uid.to_string()))
    }

    fn webhook_delete(&self, args: &[Value]) -> Result<Value, RpcError> {
        let uid = args
            .first()
            .and_then(|v| text(Some(v)).parse::<u64>().ok())
            .ok_or_else(|| RpcError::invalid_params("bad webhook uid"))?;
        match lock(&self.webhooks).remove(&uid) {
            Some(_) => Ok(json!(true)),
            None => Err(RpcError::not_found("Webhook")),
        }
    }
}

/// `VacancyService.getDetail(uid, what)`.
fn vacancy_detail(store: &Store, args: &[Value]) -> Result<Value, RpcError> {
    let uid = args
        .first()
        .and_then(|v| text(Some(v)).parse::<u64>().ok())
        .ok_or_else(|| RpcError::invalid_params("bad vacancy uid"))?;
    check_vacancy_what(args.get(1))?;
    let vacancy = store.vacancies.get(&uid).ok_or_else(|| RpcError::not_found("Vacancy"))?;
    match args.get(1) {
        Some(what) if what.is_object() => listing::project(vacancy, what),
        _ => Ok(Value::Object(vacancy.clone())),
    }
}

/// An `applicationUid` must be a vacancy's `internalId` (the plugin sends nothing else).
fn check_application_uid(store: &Store, args: &[Value]) -> Result<(), RpcError> {
    let Some(application) = args.first().and_then(|d| d.get("applicationUid")) else {
        return Ok(());
    };
    let wanted = text(Some(application));
    if store.vacancies.values().any(|v| !wanted.is_empty() && text(v.get("internalId")) == wanted) {
        Ok(())
    } else {
        Err(RpcError::not_found(&format!("Application {wanted}")))
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
            .map(|n| {
                let uid = store.add_vacancy(&format!("Vacancy {}", first + n + 1), updated_at);
                let number = uid.parse::<u64>().unwrap_or_default();
                if let Some(vacancy) = store.vacancies.get_mut(&number) {
                    enrich_vacancy(vacancy, number);
                }
                uid
            })
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

    fn webhooks(&self) -> Vec<(String, String)> {
        self.webhook_subscriptions().into_iter().map(|(uid, _, url, _)| (uid, url)).collect()
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
                        result_text: application_documents(&store, &uid, p),
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

/// The documents on procedure `procedure` of `candidate` (with the `applicationUid` of its
/// vacancy), as text: subject and content of each.
fn application_documents(store: &Store, candidate: &str, procedure: &Row) -> String {
    let vacancy = text(procedure.get("vacancyUid"));
    let internal = vacancy
        .parse::<u64>()
        .ok()
        .and_then(|uid| store.vacancies.get(&uid))
        .map(|v| text(v.get("internalId")))
        .unwrap_or_default();
    store
        .documents
        .iter()
        .map(|d| document_view(store, d))
        .filter(|d| d.candidate == candidate && d.application_uid.as_deref() == Some(&internal))
        .map(|d| format!("{}\n{}", d.subject, String::from_utf8_lossy(&d.content)))
        .collect::<Vec<_>>()
        .join("\n")
}
