//! A fake Carerix, written from research §2 (`ats-apis-benelux.md`): a Keycloak-style token
//! endpoint per tenant realm (`/auth/realms/<tenant>/protocol/openid-connect/token`,
//! `client_credentials` with `client_id`, `client_secret`, `scope`; `invalid_client` /
//! `invalid_scope` answers; tokens living `expires_in` = 3600 s), and the GraphQL endpoint
//! (`/graphql/v1/graphql`, Bearer token, 401 without a live one, 403 for a token without the
//! required scope) serving the CR* slice of [`schema`]:
//!
//! - queries `cr<Entity>(_id)` and `cr<Entity>Page(qualifier, pageable: {page, size})`
//!   answered as `{totalElements, items}`; pages are zero-based and at most 100 records long
//!   (the [L] soft cap: a larger `size` is cut to 100); records in `_id` order;
//! - qualifiers parsed and evaluated by [`qualifier`] (typed dates need a timezone);
//! - mutations `crEmployeeCreate(request)`, `crEmployeeUpdate(_id, request)`,
//!   `crEmployeeApply(dedupe, pub, request)` and `crMatchUpdate(_id, request)`, with the
//!   `_kind` of every request checked, attachments nested as base64 `CRAttachmentData`;
//! - errors the graphql-java way: HTTP 200 with `{"data": null, "errors": [{message,
//!   extensions: {classification}}]}` (`InvalidSyntax`, `ValidationError`,
//!   `DataFetchingException`);
//! - an account's schema may lack a field ([`CarerixFake::hide_field`]): asking for it, in a
//!   selection, a qualifier or a request input, is a validation error as on the real API;
//! - `crEmployeeApply` makes a new match on every call (nothing documents that it looks for
//!   one), so a connector must look for an existing match itself;
//! - the Webhooks API ([`webhooks`]): applications and hooks under them, with a token of
//!   scope `urn:cx/webhooks:data:manage`.
//!
//! Carerix pages by number, so the client makes the page tokens;
//! `Faults::set_repeat_page_token` makes the fake a stuck server: every page query answers
//! page 0.

mod execute;
mod qualifier;
mod schema;
pub mod store;
mod webhooks;

use super::lock;
use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use store::{Store, text};

/// The realm (tenant) of the fake's token URL.
pub const TENANT: &str = "acme-staffing";
/// The scope of the CR* GraphQL schema the fake requires by default (research §2.2).
pub const GRAPHQL_SCOPE: &str = "urn:cx/graphql:data:manage";
/// The other scope third parties name for the full CR* schema.
pub const WRAPPER_SCOPE: &str = "urn:cx/cx5Wrapper:data:manage";
/// The scope of the Webhooks API ([H], research §2.2).
pub const WEBHOOKS_SCOPE: &str = "urn:cx/webhooks:data:manage";
/// Records per page at most (the [L] soft cap).
pub const MAX_PAGE_SIZE: u64 = 100;

/// A GraphQL error as graphql-java reports it.
#[derive(Debug, Clone)]
pub struct GqlError {
    message: String,
    classification: &'static str,
}

impl GqlError {
    pub fn validation(message: &str) -> Self {
        Self { message: message.to_string(), classification: "ValidationError" }
    }
    pub fn data(message: &str) -> Self {
        Self { message: message.to_string(), classification: "DataFetchingException" }
    }
    fn syntax(message: &str) -> Self {
        Self { message: message.to_string(), classification: "InvalidSyntax" }
    }
    fn body(&self) -> Value {
        json!({
            "data": null,
            "errors": [{ "message": self.message, "extensions": { "classification": self.classification } }],
        })
    }
}

struct Token {
    live: bool,
    scope: String,
}

struct Shared {
    client_id: String,
    client_secret: String,
    faults: Faults,
    grants: AtomicUsize,
    store: Mutex<Store>,
    tokens: Mutex<HashMap<String, Token>>,
    required_scope: Mutex<String>,
    /// New tokens are refused by the API at once (a client whose roles were withdrawn).
    dead_tokens: AtomicBool,
    /// Every GraphQL document received, in order.
    documents: Mutex<Vec<String>>,
    /// Webhooks API applications and their hooks.
    webhook_apps: Mutex<Vec<webhooks::App>>,
    webhook_ids: AtomicUsize,
}

/// The fake Carerix, listening on 127.0.0.1.
pub struct CarerixFake {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl CarerixFake {
    pub async fn start() -> Self {
        let nanos =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let shared = Arc::new(Shared {
            client_id: "sourcing-integration".into(),
            client_secret: format!("cx-client-secret-{nanos:x}"),
            faults: Faults::default(),
            grants: AtomicUsize::new(0),
            store: Mutex::new(Store::new()),
            tokens: Mutex::new(HashMap::new()),
            required_scope: Mutex::new(GRAPHQL_SCOPE.into()),
            dead_tokens: AtomicBool::new(false),
            documents: Mutex::new(Vec::new()),
            webhook_apps: Mutex::new(Vec::new()),
            webhook_ids: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/auth/realms/{realm}/protocol/openid-connect/token", post(token))
            .route("/graphql/v1/graphql", post(graphql))
            .merge(webhooks::routes())
            .with_state(shared.clone());
        let addr = crate::serve(app).await;
        Self { shared, addr }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("{}/auth/realms/{TENANT}/protocol/openid-connect/token", self.base_url())
    }

    /// Successful token grants so far.
    pub fn grants(&self) -> usize {
        self.shared.grants.load(Ordering::SeqCst)
    }

    /// The scope the API demands of a token.
    pub fn require_scope(&self, scope: &str) {
        *lock(&self.shared.required_scope) = scope.to_string();
    }

    /// New tokens are refused by the API (401) from now on.
    pub fn issue_dead_tokens(&self, on: bool) {
        self.shared.dead_tokens.store(on, Ordering::SeqCst);
    }

    /// Every GraphQL document received so far.
    pub fn documents(&self) -> Vec<String> {
        lock(&self.shared.documents).clone()
    }

    /// A vacancy with no publication: candidates cannot apply to it.
    pub fn add_unpublished_vacancy(&self, title: &str) -> String {
        lock(&self.shared.store).add_vacancy(title, "2025-01-01T00:00:00Z", false)
    }

    /// Gives vacancy `id` the status node `tag` (e.g. `VacancyClosedTag`).
    pub fn set_vacancy_status(&self, id: &str, tag: &str, modified: &str) {
        lock(&self.shared.store).set_vacancy_status(id, tag, modified);
    }

    /// Marks vacancy `id` deleted.
    pub fn delete_vacancy(&self, id: &str, modified: &str) {
        lock(&self.shared.store).change_vacancy(id, modified, json!({ "deleted": 1 }));
    }

    /// The CRAttachments of candidate `id` and its matches: (label, type tag, content).
    pub fn attachments_of(&self, employee: &str) -> Vec<(String, Option<String>, Vec<u8>)> {
        let store = lock(&self.shared.store);
        attachments(&store, employee)
            .into_iter()
            .map(|a| {
                let tag = store
                    .get("CRDataNode", &text(a.get("toTypeNode")))
                    .map(|n| text(n.get("value")));
                (text(a.get("label")), tag, content(&store, a))
            })
            .collect()
    }

    /// Makes this account's schema lack `field` of `type_name` (e.g. `CREmployee.applyTags`).
    pub fn hide_field(&self, type_name: &str, field: &str) {
        lock(&self.shared.store).hide_field(type_name, field);
    }

    /// Sets scalar or relation (`_id`) fields of vacancy `id` (its modification date kept).
    pub fn set_vacancy_fields(&self, id: &str, fields: Value) {
        lock(&self.shared.store).set_fields("CRVacancy", id, fields);
    }

    /// Gives the status (CRStatusInfo) shown as `display_name` the `sortOrder` `order`.
    pub fn set_status_sort_order(&self, display_name: &str, order: u32) {
        let mut store = lock(&self.shared.store);
        let id = store
            .all("CRStatusInfo")
            .find(|s| s["displayName"] == display_name)
            .map(|s| text(s.get("_id")));
        if let Some(id) = id {
            store.set_fields("CRStatusInfo", &id, json!({ "sortOrder": order }));
        }
    }

    /// A CRUser (recruiter); returns its id.
    pub fn add_user(&self, first_name: &str, last_name: &str) -> String {
        lock(&self.shared.store).add_user(first_name, last_name)
    }

    /// Links `user` to `vacancy` through a CRVacancyUser.
    pub fn add_vacancy_user(&self, vacancy: &str, user: &str) -> String {
        lock(&self.shared.store).add_vacancy_user(vacancy, user)
    }

    /// A CRDataNode (e.g. a country) with `value` and `exportCode`; returns its id.
    pub fn add_data_node(&self, value: &str, export_code: &str) -> String {
        lock(&self.shared.store).add_data_node(value, export_code)
    }

    /// Webhooks API applications: (id, name, number of hooks).
    pub fn webhook_applications(&self) -> Vec<(String, String, usize)> {
        lock(&self.shared.webhook_apps)
            .iter()
            .map(|a| (a.id.clone(), a.name.clone(), a.hooks.len()))
            .collect()
    }

    /// The event types hook `id` subscribes to.
    pub fn webhook_filters(&self, id: &str) -> Vec<String> {
        lock(&self.shared.webhook_apps)
            .iter()
            .flat_map(|a| &a.hooks)
            .find(|h| h.id == id)
            .map(|h| h.filters.clone())
            .unwrap_or_default()
    }

    /// The matches (applications) of candidate `employee`.
    pub fn matches_of(&self, employee: &str) -> Vec<Value> {
        let store = lock(&self.shared.store);
        store.all("CRMatch").filter(|m| text(m.get("toEmployee")) == employee).cloned().collect()
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if realm != TENANT {
        return (StatusCode::NOT_FOUND, Json(json!({ "error": "Realm does not exist" })))
            .into_response();
    }
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type",
        );
    }
    if field("client_id") != shared.client_id || field("client_secret") != shared.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        );
    }
    let scope = field("scope");
    let known = [GRAPHQL_SCOPE, WRAPPER_SCOPE, WEBHOOKS_SCOPE];
    if !scope.split(' ').all(|s| s.is_empty() || known.contains(&s)) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("Invalid scopes: {scope}"),
        );
    }
    let number = shared.grants.fetch_add(1, Ordering::SeqCst) + 1;
    let nanos =
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let access_token = format!("eyJ.cx{number}.{nanos:x}");
    let live = !shared.dead_tokens.load(Ordering::SeqCst);
    lock(&shared.tokens).insert(access_token.clone(), Token { live, scope: scope.to_string() });
    Json(json!({
        "access_token": access_token, "expires_in": 3600, "refresh_expires_in": 0,
        "token_type": "Bearer", "not-before-policy": 0, "scope": scope,
    }))
    .into_response()
}

async fn graphql(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(fault) = shared.faults.intercept().await {
        return fault;
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let scope = match lock(&shared.tokens).get(bearer) {
        Some(token) if token.live => token.scope.clone(),
        _ => {
            return (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer error=\"invalid_token\"")],
                Json(
                    json!({ "error": "invalid_token", "error_description": "Token is not active" }),
                ),
            )
                .into_response();
        }
    };
    let required = lock(&shared.required_scope).clone();
    if !scope.split(' ').any(|s| s == required) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "insufficient_scope", "error_description": format!("requires {required}") })),
        )
            .into_response();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "request body must be JSON").into_response();
    };
    let Some(document) = request.get("query").and_then(Value::as_str) else {
        return Json(GqlError::syntax("the request has no `query`").body()).into_response();
    };
    lock(&shared.documents).push(document.to_string());
    let variables =
        request.get("variables").and_then(Value::as_object).cloned().unwrap_or_default();
    let stuck = shared.faults.repeat_page_token();
    let mut store = lock(&shared.store);
    match execute::execute(&mut store, document, &variables, stuck) {
        Ok(data) => Json(json!({ "data": data })),
        Err(error) => Json(error.body()),
    }
    .into_response()
}

/// The attachments of an employee and of its matches.
fn attachments<'a>(store: &'a Store, employee: &str) -> Vec<&'a Value> {
    let matches: Vec<String> = store
        .all("CRMatch")
        .filter(|m| text(m.get("toEmployee")) == employee)
        .map(|m| text(m.get("_id")))
        .collect();
    store
        .all("CRAttachment")
        .filter(|a| {
            text(a.get("toEmployee")) == employee || matches.contains(&text(a.get("toMatch")))
        })
        .collect()
}

fn content(store: &Store, attachment: &Value) -> Vec<u8> {
    let data = store.get("CRAttachmentData", &text(attachment.get("toAttachmentData")));
    let encoded = data.map(|d| text(d.get("content"))).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.decode(encoded).unwrap_or_default()
}

fn tags(record: &Value) -> impl Iterator<Item = String> + '_ {
    record
        .get("applyTags")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

impl FakeAts for CarerixFake {
    fn connector_package(&self) -> &'static str {
        "connector-carerix"
    }

    fn config(&self) -> Vec<(String, String)> {
        vec![
            ("token-url".into(), self.token_url()),
            ("graphql-url".into(), format!("{}/graphql/v1/graphql", self.base_url())),
            ("webhooks-url".into(), format!("{}/webhooks/v1", self.base_url())),
            ("client-id".into(), self.shared.client_id.clone()),
            ("client-secret".into(), self.shared.client_secret.clone()),
        ]
    }

    fn bad_credentials_config(&self) -> Vec<(String, String)> {
        let mut config = self.config();
        for (name, value) in &mut config {
            if name == "client-secret" {
                *value = "cx-revoked-secret-0000".into();
            }
        }
        config
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.shared.client_secret.clone()]
    }

    fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    fn seed_jobs(&self, count: usize, updated_at: &str) -> Vec<String> {
        let mut store = lock(&self.shared.store);
        let first = store.all("CRVacancy").count();
        (0..count)
            .map(|n| store.add_vacancy(&format!("Vacancy {}", first + n + 1), updated_at, true))
            .collect()
    }

    fn touch_job(&self, id: &str, title: &str, updated_at: &str) {
        lock(&self.shared.store).change_vacancy(id, updated_at, json!({ "jobTitle": title }));
    }

    fn auth_count(&self) -> usize {
        self.grants()
    }

    fn expire_sessions(&self) {
        for token in lock(&self.shared.tokens).values_mut() {
            token.live = false;
        }
    }

    fn candidates(&self) -> Vec<FakeCandidate> {
        let store = lock(&self.shared.store);
        store
            .all("CREmployee")
            .map(|employee| {
                let id = text(employee.get("_id"));
                let matches: Vec<&Value> =
                    store.all("CRMatch").filter(|m| text(m.get("toEmployee")) == id).collect();
                let field = |key: &str| text(employee.get(key));
                let notes = std::iter::once(employee)
                    .chain(matches.iter().copied())
                    .map(|r| text(r.get("notes")))
                    .filter(|n| !n.is_empty())
                    .collect();
                let mut all_tags: Vec<String> = tags(employee).collect();
                for m in &matches {
                    all_tags.extend(tags(m));
                    all_tags
                        .extend(m.get("applySource").and_then(Value::as_str).map(str::to_string));
                }
                FakeCandidate {
                    id: id.clone(),
                    first_name: field("firstName"),
                    last_name: field("lastName"),
                    emails: Some(field("emailAddress"))
                        .filter(|e| !e.is_empty())
                        .into_iter()
                        .collect(),
                    phones: [field("phoneNumber"), field("mobileNumber")]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect(),
                    notes,
                    tags: all_tags,
                    attachments: attachments(&store, &id)
                        .into_iter()
                        .map(|a| (text(a.get("label")), content(&store, a)))
                        .collect(),
                    applications: matches
                        .iter()
                        .map(|m| {
                            let status = store.get("CRStatusInfo", &text(m.get("statusInfo")));
                            let flag = |key: &str| status.is_some_and(|s| s[key] == 1);
                            // Kombo's mapping (research §6.2): final, not filled = declined.
                            let declined = flag("isFinal") && !flag("isSuccessfullyFilled");
                            FakeApplication {
                                id: text(m.get("_id")),
                                job_id: text(m.get("toVacancy")),
                                stage_id: Some(text(m.get("statusInfo"))).filter(|s| !s.is_empty()),
                                source: m
                                    .get("applySource")
                                    .and_then(Value::as_str)
                                    .map(str::to_string),
                                answers_text: text(m.get("motivation")),
                                rejected_reason: declined.then(|| text(m.get("notes"))),
                                result_text: String::new(),
                            }
                        })
                        .collect(),
                }
            })
            .collect()
    }

    fn webhooks(&self) -> Vec<(String, String)> {
        lock(&self.shared.webhook_apps)
            .iter()
            .flat_map(|a| &a.hooks)
            .map(|h| (h.id.clone(), h.url.clone()))
            .collect()
    }
}
