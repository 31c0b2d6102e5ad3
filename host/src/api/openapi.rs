//! The route table and the OpenAPI 3.1 document generated from it. Every `/v1` route is
//! added through [`Routes::add`], which registers the handler with axum *and* its entry in
//! the document, so the two cannot drift: `GET /v1/openapi.json` is built from the same
//! list the router is.
//!
//! Request and response bodies are described by JSON Schemas derived from the Rust types the
//! handlers read and send (`.accepts::<T>()`, `.replies::<T>(status)` after `add`), with
//! [`schemars`]. schemars rather than utoipa: the document is already built here from the
//! route table, so only schemas are needed, and schemars (1.x) emits JSON Schema 2020-12,
//! the dialect OpenAPI 3.1 uses natively, follows every serde attribute the types use
//! (`rename_all`, `tag`, `flatten`, `skip_serializing_if`, `default`, `untagged`), and
//! describes a type as it is *serialised* (responses: an `Option` field is present and
//! nullable) or *deserialised* (requests: it may be left out). Response schemas are named
//! components (`#/components/schemas/…`); request schemas are inlined, so a type that is
//! both (schedules, a rate budget) keeps one component, its response form. Every route
//! answers its errors as `application/problem+json` ([`super::problem::Problem`]).

use axum::Router;
use axum::http::StatusCode;
use axum::routing::MethodRouter;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No key needed.
    Public,
    /// Operator or tenant key (tenant keys see only their tenant).
    AnyKey,
    /// Operator key only.
    Operator,
}

/// Writes the schema of a type: a `$ref` to its component for named types.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// What a route answers with one status.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// The media type and schema of the body; `None`: no body.
    pub body: Option<(&'static str, Option<SchemaFn>)>,
}

/// One documented route.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub access: Access,
    /// An example request body, when the route takes one.
    pub body: Option<Value>,
    /// The request body's media type and schema, when the route takes one.
    pub request: Option<(&'static str, Option<SchemaFn>)>,
    /// The request body may be left out (an empty body means the defaults).
    pub optional_body: bool,
    /// The success answers (errors are problem+json on every route).
    pub replies: Vec<Reply>,
    /// Query parameters the route reads (all optional).
    pub query: &'static [&'static str],
    /// Request headers the route reads besides `Authorization` (all optional).
    pub headers: &'static [&'static str],
}

/// A router that documents itself.
pub struct Routes<S> {
    router: Router<S>,
    endpoints: Vec<Endpoint>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Routes { router: Router::new(), endpoints: Vec::new() }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// Adds `handler` for `method path` and documents it.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call per route reads as a table: method, path, tag, access, summary, example, handler"
    )]
    pub fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        tag: &'static str,
        access: Access,
        summary: &'static str,
        body: Option<Value>,
        handler: MethodRouter<S>,
    ) -> Self {
        self.router = self.router.route(path, handler);
        self.endpoints.push(Endpoint {
            method,
            path,
            summary,
            tag,
            access,
            body,
            request: None,
            optional_body: false,
            replies: Vec::new(),
            query: &[],
            headers: &[],
        });
        self
    }

    fn last(mut self, change: impl FnOnce(&mut Endpoint)) -> Self {
        if let Some(last) = self.endpoints.last_mut() {
            change(last);
        }
        self
    }

    /// The JSON request body of the route added last is a `T`.
    pub fn accepts<T: JsonSchema>(self) -> Self {
        self.last(|e| e.request = Some(("application/json", Some(schema_of::<T>))))
    }

    /// The JSON request body of the route added last is a `T`, and may be left out.
    pub fn accepts_optional<T: JsonSchema>(self) -> Self {
        self.accepts::<T>().last(|e| e.optional_body = true)
    }

    /// The route added last takes a raw body of `media` type.
    pub fn accepts_bytes(self, media: &'static str) -> Self {
        self.last(|e| e.request = Some((media, None)))
    }

    /// The route added last answers `status` with a JSON `T`.
    pub fn replies<T: JsonSchema>(self, status: u16) -> Self {
        self.last(|e| {
            e.replies.push(Reply { status, body: Some(("application/json", Some(schema_of::<T>))) })
        })
    }

    /// The route added last answers `status` with a `T` of media type `media`.
    pub fn replies_as<T: JsonSchema>(self, status: u16, media: &'static str) -> Self {
        self.last(|e| e.replies.push(Reply { status, body: Some((media, Some(schema_of::<T>))) }))
    }

    /// The route added last answers `status` without a body.
    pub fn replies_empty(self, status: u16) -> Self {
        self.last(|e| e.replies.push(Reply { status, body: None }))
    }

    /// Documents the query parameters of the route added last.
    pub fn query(self, names: &'static [&'static str]) -> Self {
        self.last(|e| e.query = names)
    }

    /// Documents request headers on every route of `tag` added so far.
    pub fn headers_on(mut self, tag: &str, names: &'static [&'static str]) -> Self {
        for endpoint in self.endpoints.iter_mut().filter(|e| e.tag == tag) {
            endpoint.headers = names;
        }
        self
    }

    pub fn into_parts(self) -> (Router<S>, Vec<Endpoint>) {
        (self.router, self.endpoints)
    }
}

/// The OpenAPI document of `endpoints`.
pub fn document(endpoints: &[Endpoint]) -> Value {
    // Responses: named components, as the types serialise.
    let mut responses = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas/".into())
        .for_serialize()
        .into_generator();
    // Requests: inlined, as the types deserialise.
    let mut requests = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .for_deserialize()
        .into_generator();
    let problem = json!({"application/problem+json": {
        "schema": responses.subschema_for::<super::problem::Problem>(),
    }});
    let mut paths = Map::new();
    for endpoint in endpoints {
        let entry = paths.entry(endpoint.path.to_string()).or_insert_with(|| json!({}));
        let mut parameters: Vec<Value> = path_parameters(endpoint.path)
            .into_iter()
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(endpoint.query.iter().map(|name| {
            json!({"name": name, "in": "query", "required": false, "schema": query_schema(name)})
        }));
        parameters.extend(endpoint.headers.iter().map(|name| {
            json!({"name": name, "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}})
        }));
        let mut answers = Map::new();
        for reply in &endpoint.replies {
            let description = StatusCode::from_u16(reply.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("success");
            let mut answer = json!({"description": description});
            if let Some((media, schema)) = reply.body {
                let schema = schema.map(|schema| schema(&mut responses));
                answer["content"] = json!({media: media_type(schema)});
            }
            answers.insert(reply.status.to_string(), answer);
        }
        answers.insert(
            "4XX".into(),
            json!({"description": "the request cannot be served as sent", "content": problem}),
        );
        answers.insert(
            "5XX".into(),
            json!({"description": "the host or the ATS failed", "content": problem}),
        );
        let mut operation = json!({
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": operation_id(endpoint),
            "parameters": parameters,
            "responses": answers,
        });
        match endpoint.access {
            Access::Public => operation["security"] = json!([]),
            Access::AnyKey => {}
            Access::Operator => {
                operation["description"] = json!("Requires an operator key.");
            }
        }
        if endpoint.request.is_some() || endpoint.body.is_some() {
            let (media, schema) = endpoint.request.unwrap_or(("application/json", None));
            let mut content = media_type(schema.map(|schema| schema(&mut requests)));
            if let Some(example) = &endpoint.body {
                content["example"] = example.clone();
            }
            operation["requestBody"] =
                json!({"required": !endpoint.optional_body, "content": {media: content}});
        }
        if let Some(map) = entry.as_object_mut() {
            map.insert(endpoint.method.to_ascii_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ATS connector host API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Connectors, connections, syncs, unified reads, writes through the outbox, events and outbound webhooks. Authenticate with `Authorization: Bearer <key>`. Writes accept an `Idempotency-Key` header.",
        },
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": responses.take_definitions(true),
        },
        "paths": paths,
    })
}

/// A media type object with `schema` (none: any body).
fn media_type(schema: Option<Schema>) -> Value {
    match schema {
        Some(schema) => json!({"schema": schema}),
        None => json!({}),
    }
}

/// The schema of a query parameter, by its name (the API's names are uniform).
fn query_schema(name: &str) -> Value {
    match name {
        "limit" => json!({"type": "integer", "minimum": 1}),
        "updated_after" => json!({"type": "integer", "description": "unix milliseconds"}),
        _ => json!({"type": "string"}),
    }
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}')).collect()
}

fn operation_id(endpoint: &Endpoint) -> String {
    let mut id = endpoint.method.to_ascii_lowercase();
    for segment in endpoint.path.split('/').filter(|s| !s.is_empty() && *s != "v1") {
        let word = segment.trim_start_matches('{').trim_end_matches('}');
        id.push('_');
        id.push_str(&word.replace('-', "_"));
    }
    id
}
