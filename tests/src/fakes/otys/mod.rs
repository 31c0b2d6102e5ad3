//! A fake OTYS Web Services server, written from research §1 (`ats-apis-benelux.md`):
//! JSON-RPC 2.0 over POST on `/jservice.php`, `loginByUid` with the API key answering a
//! session id that every other call carries as `params[0]`, errors inside HTTP 200 bodies as
//! `{"error":{"code":..,"message":..}}` ("Access denied; please login first/again" for a
//! missing, unknown or expired session), list calls with `what`/`condition`/`sort`/`limit`/
//! `offset` answered as `{listOutput, totalCount}` with at most 200 rows unless
//! `excludeLimitCheck` is set, and multipart uploads on `/fileService.php` (parts `file` and
//! `sessionId`, answered `[{"ouid":..}]`).
//!
//! Beyond the stored records (`store`), this module serves what the official plugin shows
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

mod documents;
mod fake_ats;
mod listing;
mod multipart;
mod rpc;
mod store;
mod users;
mod vacancies;
mod webhooks;

pub use documents::FakeDocument;

use super::Faults;
use axum::routing::post;
use documents::document_view;
use rpc::{file_service, jservice};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use store::{Row, Store};
use users::seed_users;

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

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}
