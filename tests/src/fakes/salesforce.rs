//! One emulated Salesforce org, written from research §3–§5 (`ats-apis-benelux.md`), serving
//! both Salesforce-based ATSs: Tigris (managed package `Tigris__`) and MySolution (`msf__`).
//!
//! - `POST /services/oauth2/token`: form body, `grant_type=client_credentials` with the
//!   connected app's `client_id`/`client_secret`; bad credentials → 400 `invalid_client`.
//!   The answer carries `access_token` and `instance_url` (this server).
//! - REST under `/services/data/v{NN.N}/` (version ≥ 31.0, else 404 `NOT_FOUND`), bearer
//!   checked: a missing, unknown or expired token → 401 `INVALID_SESSION_ID`. Every answer
//!   carries `Sforce-Limit-Info: api-usage=n/100000`.
//!   - `GET query?q=SOQL` (see [`soql`]), batches of at most [`SalesforceOrg::set_batch_size`]
//!     rows (and of `Sforce-Query-Options: batchSize=`), `nextRecordsUrl` cursors on
//!     `GET query/{locator}`; `Faults::set_repeat_page_token` makes a cursor never advance.
//!   - `POST sobjects/{Object}`, `PATCH`/`GET sobjects/{Object}/{id}` with field validation
//!     and the org's Contact e-mail duplicate rule (see [`store`]).
//! - MySolution's Apex REST (see [`apex`]).
//!
//! Errors are Salesforce's JSON array `[{message, errorCode, fields}]`.

mod apex;
mod soql;
pub mod store;
mod views;

pub use views::{MAPPING_FIELDS, MySolutionFake, TigrisFake, unmapped};

use super::Faults;
pub(crate) use super::lock;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use store::Store;

/// Salesforce's own query batch default is 2,000 rows; the fake starts lower so paging
/// shows up with a few hundred records. Tests lower it further.
const DEFAULT_BATCH_SIZE: usize = 200;

/// A Salesforce error answer: an HTTP status and the JSON body.
#[derive(Debug, Clone)]
pub struct SfError {
    pub status: u16,
    pub body: Value,
}

impl SfError {
    pub fn new(status: u16, code: &str, message: &str) -> Self {
        Self { status, body: json!([{"message": message, "errorCode": code, "fields": []}]) }
    }

    pub fn with_fields(status: u16, code: &str, message: &str, field: &str) -> Self {
        Self { status, body: json!([{"message": message, "errorCode": code, "fields": [field]}]) }
    }

    fn invalid_session() -> Self {
        Self::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }
}

impl IntoResponse for SfError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, axum::Json(self.body)).into_response()
    }
}

pub(crate) struct Org {
    pub client_id: String,
    pub client_secret: String,
    pub faults: Faults,
    pub grants: AtomicUsize,
    /// Tokens issued, and whether each is still valid.
    tokens: Mutex<HashMap<String, bool>>,
    pub store: Mutex<Store>,
    batch_size: AtomicUsize,
    /// Query locators → the rows not handed out yet.
    cursors: Mutex<HashMap<String, Cursor>>,
    cursor_counter: AtomicU64,
    api_usage: AtomicU64,
    /// `METHOD path` of every API request, in order (token requests included).
    pub requests: Mutex<Vec<String>>,
    addr: Mutex<Option<SocketAddr>>,
    /// Errors answered to the next API requests (after the faults, before the token check).
    injected: Mutex<VecDeque<SfError>>,
    /// When set, every token is issued already invalid.
    dead_tokens: AtomicBool,
}

/// The fake org, listening on 127.0.0.1.
pub struct SalesforceOrg {
    pub(crate) org: Arc<Org>,
    addr: SocketAddr,
}

impl SalesforceOrg {
    pub async fn start() -> Self {
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let org = Arc::new(Org {
            client_id: format!("3MVG9fake-client-{nanos:x}"),
            client_secret: format!("sf-secret-{nanos:x}"),
            faults: Faults::default(),
            grants: AtomicUsize::new(0),
            tokens: Mutex::new(HashMap::new()),
            store: Mutex::new(Store::new()),
            batch_size: AtomicUsize::new(DEFAULT_BATCH_SIZE),
            cursors: Mutex::new(HashMap::new()),
            cursor_counter: AtomicU64::new(0),
            api_usage: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            addr: Mutex::new(None),
            injected: Mutex::new(VecDeque::new()),
            dead_tokens: AtomicBool::new(false),
        });
        let data = "/services/data/{version}";
        let app = Router::new()
            .route("/services/oauth2/token", post(token).fallback(method_not_allowed))
            .route(&format!("{data}/query"), get(query).fallback(method_not_allowed))
            .route(
                &format!("{data}/query/{{locator}}"),
                get(query_more).fallback(method_not_allowed),
            )
            .route(
                &format!("{data}/sobjects/{{object}}"),
                post(insert).fallback(method_not_allowed),
            )
            .route(
                &format!("{data}/sobjects/{{object}}/{{id}}"),
                get(read).patch(update).fallback(method_not_allowed),
            )
            .route(
                "/services/apexrest/msf/api/job/Get",
                get(apex::jobs).fallback(method_not_allowed),
            )
            .route(
                "/services/apexrest/msf/api/job/Apply",
                post(apex::apply).fallback(method_not_allowed),
            )
            .fallback(not_found)
            .with_state(org.clone());
        let addr = crate::serve(app).await;
        *lock(&org.addr) = Some(addr);
        Self { org, addr }
    }

    /// The login URL, and (from the token answer) the instance URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// At most `rows` records per query batch.
    pub fn set_batch_size(&self, rows: usize) {
        self.org.batch_size.store(rows.max(1), Ordering::SeqCst);
    }

    /// How many requests matched `method` and a path containing `path_part`.
    pub fn requests_to(&self, method: &str, path_part: &str) -> usize {
        lock(&self.org.requests)
            .iter()
            .filter(|r| r.starts_with(&format!("{method} ")) && r.contains(path_part))
            .count()
    }

    /// Every SOQL query the org answered (first batches only).
    pub fn queries(&self) -> Vec<String> {
        lock(&self.org.requests)
            .iter()
            .filter_map(|r| r.strip_prefix("QUERY ").map(str::to_string))
            .collect()
    }

    /// A copy of the records of `object`.
    pub fn records(&self, object: &str) -> Vec<store::Record> {
        lock(&self.org.store).records(object).to_vec()
    }

    /// The decoded file of a ContentVersion.
    pub fn file(&self, content_version_id: &str) -> Option<Vec<u8>> {
        lock(&self.org.store).blobs.get(content_version_id).cloned()
    }

    pub fn client_id(&self) -> &str {
        &self.org.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.org.client_secret
    }

    pub fn faults(&self) -> &Faults {
        &self.org.faults
    }

    pub fn grants(&self) -> usize {
        self.org.grants.load(Ordering::SeqCst)
    }

    /// The next API request is answered `status` with a Salesforce error `code`.
    pub fn inject_error(&self, status: u16, code: &str, message: &str) {
        lock(&self.org.injected).push_back(SfError::new(status, code, message));
    }

    /// From now on, every token is issued already expired (a broken org session setting).
    pub fn issue_dead_tokens(&self, on: bool) {
        self.org.dead_tokens.store(on, Ordering::SeqCst);
    }

    /// Adds a Contact as a recruiter would in the Salesforce UI (no API validation).
    pub fn seed_contact(&self, first: &str, last: &str, email: &str, phone: &str) -> String {
        let fields =
            json!({"FirstName": first, "LastName": last, "Email": email, "MobilePhone": phone});
        let Value::Object(fields) = fields else { return String::new() };
        lock(&self.org.store).insert_unchecked("Contact", fields, "2025-01-01T00:00:00Z")
    }

    /// Every token issued so far answers `INVALID_SESSION_ID` from now on.
    pub fn expire_tokens(&self) {
        for valid in lock(&self.org.tokens).values_mut() {
            *valid = false;
        }
    }
}

impl Org {
    fn log(&self, entry: String) {
        lock(&self.requests).push(entry);
    }

    fn base_url(&self) -> String {
        lock(&self.addr).map(|a| format!("http://{a}")).unwrap_or_default()
    }

    /// Faults, then the bearer token: what every API route does first.
    async fn admit(&self, headers: &HeaderMap) -> Result<(), Response> {
        if let Some(fault) = self.faults.intercept().await {
            return Err(fault);
        }
        if let Some(injected) = lock(&self.injected).pop_front() {
            return Err(injected.into_response());
        }
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let valid = token.is_some_and(|t| lock(&self.tokens).get(t).copied().unwrap_or(false));
        if valid { Ok(()) } else { Err(SfError::invalid_session().into_response()) }
    }

    /// Adds `Sforce-Limit-Info` to an API answer.
    fn with_limits(&self, mut response: Response) -> Response {
        let used = self.api_usage.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(value) = HeaderValue::from_str(&format!("api-usage={used}/100000")) {
            response.headers_mut().insert("sforce-limit-info", value);
        }
        response
    }

    fn batch(&self, headers: &HeaderMap) -> usize {
        let cap = self.batch_size.load(Ordering::SeqCst);
        let asked = headers
            .get("sforce-query-options")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().strip_prefix("batchSize="))
            .and_then(|n| n.parse::<usize>().ok())
            .map(|n| n.clamp(200, 2000));
        asked.map_or(cap, |n| n.min(cap))
    }

    /// One batch of the cursor's rows; the rest is kept behind a locator
    /// `{cursor}-{position}`, where position counts the rows handed out so far (like
    /// Salesforce's `01g…-2000`).
    fn page(&self, version: &str, cursor: Cursor) -> Value {
        let Cursor { name, mut rows, batch, position, total } = cursor;
        let rest = if rows.len() > batch { rows.split_off(batch) } else { Vec::new() };
        let position = position + rows.len();
        let mut body = json!({"totalSize": total, "done": rest.is_empty(), "records": rows});
        if !rest.is_empty() {
            body["nextRecordsUrl"] =
                json!(format!("/services/data/{version}/query/{name}-{position}"));
            lock(&self.cursors)
                .insert(name.clone(), Cursor { name, rows: rest, batch, position, total });
        }
        body
    }
}

/// The rows of a query not handed out yet.
#[derive(Clone)]
struct Cursor {
    name: String,
    rows: Vec<Value>,
    batch: usize,
    /// Rows handed out before these.
    position: usize,
    total: usize,
}

fn new_cursor_name(org: &Org) -> String {
    let n = org.cursor_counter.fetch_add(1, Ordering::SeqCst) + 1;
    format!("01gFAKE{n:08}")
}

/// `v60.0` → ok when the version is one Salesforce still serves (≥ 31.0).
fn check_version(version: &str) -> Result<(), SfError> {
    let supported = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .filter(|(_, minor)| *minor == "0")
        .and_then(|(major, _)| major.parse::<u32>().ok())
        .is_some_and(|major| (31..=62).contains(&major));
    if supported {
        Ok(())
    } else {
        Err(SfError::new(404, "NOT_FOUND", "The requested resource does not exist"))
    }
}

async fn method_not_allowed() -> Response {
    SfError::new(405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed for this resource")
        .into_response()
}

async fn not_found() -> Response {
    SfError::new(404, "NOT_FOUND", "The requested resource does not exist").into_response()
}

fn oauth_error(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error, "error_description": description})))
        .into_response()
}

async fn token(
    State(org): State<Arc<Org>>,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    org.log("POST /services/oauth2/token".into());
    let Ok(Form(form)) = form else {
        return oauth_error("invalid_request", "request must be application/x-www-form-urlencoded");
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error("unsupported_grant_type", "grant type not supported");
    }
    let id_ok = form.get("client_id") == Some(&org.client_id);
    let secret_ok = form.get("client_secret") == Some(&org.client_secret);
    if !(id_ok && secret_ok) {
        return oauth_error("invalid_client", "invalid client credentials");
    }
    let grant = org.grants.fetch_add(1, Ordering::SeqCst) + 1;
    let nanos =
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let access_token = format!("00DFAKE!AQ{grant}.{nanos:x}");
    let alive = !org.dead_tokens.load(Ordering::SeqCst);
    lock(&org.tokens).insert(access_token.clone(), alive);
    let base = org.base_url();
    axum::Json(json!({
        "access_token": access_token,
        "instance_url": base,
        "id": format!("{base}/id/00DFAKE000000000AAA/005FAKE000000000AAA"),
        "token_type": "Bearer",
        "issued_at": (nanos / 1_000_000).to_string(),
        "signature": "ZmFrZS1zaWduYXR1cmU=",
    }))
    .into_response()
}

async fn query(
    State(org): State<Arc<Org>>,
    Path(version): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = org.admit(&headers).await {
        return refused;
    }
    let answer = (|| {
        check_version(&version)?;
        let q = params.get("q").filter(|q| !q.trim().is_empty()).ok_or_else(|| {
            SfError::new(400, "MALFORMED_QUERY", "A query string has to be specified")
        })?;
        org.log(format!("QUERY {q}"));
        let parsed = soql::parse(q)?;
        let rows = parsed.run(
            lock(&org.store).objects.get(parsed.object()).map_or(&[], Vec::as_slice),
            &version,
        );
        let total = rows.len();
        let cursor = Cursor {
            name: new_cursor_name(&org),
            rows,
            batch: org.batch(&headers),
            position: 0,
            total,
        };
        Ok::<_, SfError>(org.page(&version, cursor))
    })();
    org.with_limits(match answer {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => error.into_response(),
    })
}

async fn query_more(
    State(org): State<Arc<Org>>,
    Path((version, locator)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = org.admit(&headers).await {
        return refused;
    }
    org.log(format!("GET query/{locator}"));
    let answer = (|| {
        check_version(&version)?;
        let invalid = || SfError::new(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
        let (name, position) = locator.rsplit_once('-').ok_or_else(invalid)?;
        let position: usize = position.parse().map_err(|_| invalid())?;
        let repeat = org.faults.repeat_page_token();
        let cursor = {
            let mut cursors = lock(&org.cursors);
            let found = cursors
                .get(name)
                .filter(|c| c.position == position)
                .cloned()
                .ok_or_else(invalid)?;
            if !repeat {
                cursors.remove(name);
            }
            found
        };
        let mut body = org.page(&version, cursor.clone());
        if repeat {
            // A stuck server: the same cursor again, whatever was handed out.
            lock(&org.cursors).insert(name.to_string(), cursor);
            body["nextRecordsUrl"] = json!(format!("/services/data/{version}/query/{locator}"));
            body["done"] = json!(false);
        }
        Ok::<_, SfError>(body)
    })();
    org.with_limits(match answer {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => error.into_response(),
    })
}

fn parse_json(body: &Bytes) -> Result<Value, SfError> {
    serde_json::from_slice(body)
        .map_err(|e| SfError::new(400, "JSON_PARSER_ERROR", &format!("Unexpected character: {e}")))
}

fn require_json(headers: &HeaderMap) -> Result<(), SfError> {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        Ok(())
    } else {
        Err(SfError::new(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"))
    }
}

async fn insert(
    State(org): State<Arc<Org>>,
    Path((version, object)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = org.admit(&headers).await {
        return refused;
    }
    org.log(format!("POST sobjects/{object}"));
    let answer = (|| {
        check_version(&version)?;
        require_json(&headers)?;
        let body = parse_json(&body)?;
        lock(&org.store).insert(&object, &body)
    })();
    org.with_limits(match answer {
        Ok(id) => {
            (StatusCode::CREATED, axum::Json(json!({"id": id, "success": true, "errors": []})))
                .into_response()
        }
        Err(error) => error.into_response(),
    })
}

async fn update(
    State(org): State<Arc<Org>>,
    Path((version, object, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = org.admit(&headers).await {
        return refused;
    }
    org.log(format!("PATCH sobjects/{object}/{id}"));
    let answer = (|| {
        check_version(&version)?;
        require_json(&headers)?;
        let body = parse_json(&body)?;
        lock(&org.store).update(&object, &id, &body)
    })();
    org.with_limits(match answer {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    })
}

async fn read(
    State(org): State<Arc<Org>>,
    Path((version, object, id)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = org.admit(&headers).await {
        return refused;
    }
    org.log(format!("GET sobjects/{object}/{id}"));
    let answer = (|| {
        check_version(&version)?;
        let schema = store::schema(&object)?;
        let store = lock(&org.store);
        let record =
            store.records(schema.name).iter().find(|r| store::text(r, "Id") == id).ok_or_else(
                || SfError::new(404, "NOT_FOUND", "The requested resource does not exist"),
            )?;
        let fields: Vec<&str> = match params.get("fields") {
            Some(list) => {
                let mut fields = Vec::new();
                for name in list.split(',').map(str::trim).collect::<HashSet<_>>() {
                    fields.push(schema.field(name).ok_or_else(|| schema.no_such_column(name))?.0);
                }
                fields
            }
            None => store::SYSTEM_FIELDS.iter().chain(schema.fields).map(|(n, _)| *n).collect(),
        };
        Ok::<_, SfError>(soql::shape(schema.name, record, &fields, &version))
    })();
    org.with_limits(match answer {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => error.into_response(),
    })
}
