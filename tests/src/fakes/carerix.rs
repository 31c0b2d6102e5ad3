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
//!   `DataFetchingException`).
//!
//! Carerix pages by number, so the client makes the page tokens;
//! `Faults::set_repeat_page_token` makes the fake a stuck server: every page query answers
//! page 0.

mod qualifier;
mod schema;
pub mod store;

use super::{FakeApplication, FakeAts, FakeCandidate, Faults};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use graphql_parser::query::{Definition, Document, OperationDefinition, SelectionSet};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;
use store::{Store, text};

/// The realm (tenant) of the fake's token URL.
pub const TENANT: &str = "acme-staffing";
/// The scope of the CR* GraphQL schema the fake requires by default (research §2.2).
pub const GRAPHQL_SCOPE: &str = "urn:cx/graphql:data:manage";
/// The other scope third parties name for the full CR* schema.
pub const WRAPPER_SCOPE: &str = "urn:cx/cx5Wrapper:data:manage";
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
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
        });
        let app = axum::Router::new()
            .route("/auth/realms/{realm}/protocol/openid-connect/token", post(token))
            .route("/graphql/v1/graphql", post(graphql))
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
    if !scope.split(' ').all(|s| s.is_empty() || s == GRAPHQL_SCOPE || s == WRAPPER_SCOPE) {
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
    match execute(&mut store, document, &variables, stuck) {
        Ok(data) => Json(json!({ "data": data })),
        Err(error) => Json(error.body()),
    }
    .into_response()
}

/// A GraphQL argument value as JSON, variables substituted.
fn to_json(
    value: &graphql_parser::query::Value<'_, String>,
    variables: &Map<String, Value>,
) -> Value {
    use graphql_parser::query::Value as V;
    match value {
        V::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        V::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        V::Float(f) => json!(f),
        V::String(s) => json!(s),
        V::Boolean(b) => json!(b),
        V::Null => Value::Null,
        V::Enum(e) => json!(e),
        V::List(items) => Value::Array(items.iter().map(|v| to_json(v, variables)).collect()),
        V::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v, variables))).collect())
        }
    }
}

fn execute(
    store: &mut Store,
    document: &str,
    variables: &Map<String, Value>,
    stuck: bool,
) -> Result<Value, GqlError> {
    let parsed: Document<'_, String> = graphql_parser::parse_query(document)
        .map_err(|e| GqlError::syntax(&format!("Invalid Syntax : {e}")))?;
    let operations: Vec<&OperationDefinition<'_, String>> = parsed
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Operation(op) => Some(op),
            Definition::Fragment(_) => None,
        })
        .collect();
    let [operation] = operations.as_slice() else {
        return Err(GqlError::validation("send exactly one operation per request"));
    };
    let (is_mutation, selection) = match operation {
        OperationDefinition::Query(q) => (false, &q.selection_set),
        OperationDefinition::SelectionSet(s) => (false, s),
        OperationDefinition::Mutation(m) => (true, &m.selection_set),
        OperationDefinition::Subscription(_) => {
            return Err(GqlError::validation("subscriptions are not offered"));
        }
    };
    let mut data = Map::new();
    for field in schema::fields(selection)? {
        let mut args = Map::new();
        for (name, value) in &field.arguments {
            args.insert(name.clone(), to_json(value, variables));
        }
        let value = if is_mutation {
            mutation(store, &field.name, &args, &field.selection_set)?
        } else {
            query(store, &field.name, &args, &field.selection_set, stuck)?
        };
        data.insert(field.alias.clone().unwrap_or_else(|| field.name.clone()), value);
    }
    Ok(Value::Object(data))
}

fn check_arguments(
    root: &str,
    args: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), GqlError> {
    match args.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(GqlError::validation(&format!(
            "Validation error (UnknownArgument@[{root}]) : Unknown field argument '{unknown}'"
        ))),
        None => Ok(()),
    }
}

fn id_argument(root: &str, args: &Map<String, Value>) -> Result<String, GqlError> {
    let id = text(args.get("_id"));
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(GqlError::validation(&format!(
            "Validation error (WrongType@[{root}]) : argument '_id' must be an ID, got {:?}",
            args.get("_id")
        )));
    }
    Ok(id)
}

/// The entity type of a `cr<Entity>` / `cr<Entity>Page` root field.
fn root_type(root: &str) -> Option<(&'static str, bool)> {
    let (entity, is_page) = match root.strip_suffix("Page") {
        Some(entity) => (entity, true),
        None => (root, false),
    };
    let type_name = format!("CR{}", entity.strip_prefix("cr")?);
    schema::TYPES.iter().map(|(t, _)| *t).find(|t| *t == type_name).map(|t| (t, is_page))
}

fn undefined(root: &str, on: &str) -> GqlError {
    GqlError::validation(&format!(
        "Validation error (FieldUndefined@[{root}]) : Field '{root}' in type '{on}' is undefined"
    ))
}

fn query(
    store: &Store,
    root: &str,
    args: &Map<String, Value>,
    selection: &SelectionSet<'_, String>,
    stuck: bool,
) -> Result<Value, GqlError> {
    let (type_name, is_page) = root_type(root).ok_or_else(|| undefined(root, "Query"))?;
    if !is_page {
        check_arguments(root, args, &["_id"])?;
        let id = id_argument(root, args)?;
        return match store.get(type_name, &id) {
            Some(record) => schema::project(store, type_name, record, selection),
            None => Ok(Value::Null),
        };
    }
    check_arguments(root, args, &["qualifier", "pageable"])?;
    let filter = match args.get("qualifier") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(qualifier::parse(text, type_name)?),
        Some(_) => return Err(GqlError::validation("argument 'qualifier' must be a String")),
    };
    let pageable = args.get("pageable").cloned().unwrap_or(json!({}));
    if let Some(unknown) = pageable
        .as_object()
        .and_then(|p| p.keys().find(|k| !["page", "size", "sort"].contains(&k.as_str())))
    {
        return Err(GqlError::validation(&format!("pageable has no field '{unknown}'")));
    }
    let number = if stuck { 0 } else { pageable.get("page").and_then(Value::as_u64).unwrap_or(0) };
    let size = pageable.get("size").and_then(Value::as_u64).unwrap_or(10).clamp(1, MAX_PAGE_SIZE);
    let matching: Vec<&Value> = store
        .all(type_name)
        .filter(|r| filter.as_ref().is_none_or(|q| q.matches(store, type_name, r)))
        .collect();
    let start = usize::try_from(number * size).unwrap_or(usize::MAX).min(matching.len());
    let end = start.saturating_add(usize::try_from(size).unwrap_or(0)).min(matching.len());
    let size = usize::try_from(size).unwrap_or(0);
    schema::page(store, type_name, &matching[start..end], matching.len(), size, selection)
}

fn mutation(
    store: &mut Store,
    root: &str,
    args: &Map<String, Value>,
    selection: &SelectionSet<'_, String>,
) -> Result<Value, GqlError> {
    let request = args.get("request").cloned().unwrap_or(Value::Null);
    let (type_name, id) = match root {
        "crEmployeeCreate" => {
            check_arguments(root, args, &["request"])?;
            ("CREmployee", store.employee_create(&request)?)
        }
        "crEmployeeUpdate" => {
            check_arguments(root, args, &["_id", "request"])?;
            ("CREmployee", store.employee_update(&id_argument(root, args)?, &request)?)
        }
        "crMatchUpdate" => {
            check_arguments(root, args, &["_id", "request"])?;
            ("CRMatch", store.match_update(&id_argument(root, args)?, &request)?)
        }
        "crEmployeeApply" => {
            check_arguments(root, args, &["dedupe", "pub", "request"])?;
            let publication = text(args.get("pub"));
            let dedupe = args.get("dedupe").and_then(Value::as_bool).unwrap_or(false);
            ("CREmployee", store.employee_apply(dedupe, &publication, &request)?)
        }
        other => return Err(undefined(other, "Mutation")),
    };
    let record = store
        .get(type_name, &id)
        .ok_or_else(|| GqlError::data(&format!("{type_name} {id} vanished")))?;
    schema::project(store, type_name, record, selection)
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
                        .map(|m| FakeApplication {
                            id: text(m.get("_id")),
                            job_id: text(m.get("toVacancy")),
                            stage_id: Some(text(m.get("statusInfo"))).filter(|s| !s.is_empty()),
                            source: m
                                .get("applySource")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                            answers_text: text(m.get("motivation")),
                            rejected_reason: None,
                            result_text: String::new(),
                        })
                        .collect(),
                }
            })
            .collect()
    }
}
