//! The route table and the OpenAPI 3.1 document generated from it. Every `/v1` route is
//! added through [`Routes::add`], which registers the handler with axum *and* its entry in
//! the document, so the two cannot drift: `GET /v1/openapi.json` is built from the same
//! list the router is.

use axum::Router;
use axum::routing::MethodRouter;
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
            query: &[],
            headers: &[],
        });
        self
    }

    /// Documents the query parameters of the route added last.
    pub fn query(mut self, names: &'static [&'static str]) -> Self {
        if let Some(last) = self.endpoints.last_mut() {
            last.query = names;
        }
        self
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
        let mut operation = json!({
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": operation_id(endpoint),
            "parameters": parameters,
            "responses": {
                "2XX": {"description": "success", "content": {"application/json": {}}},
                "4XX": {"description": "client error", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
            },
        });
        match endpoint.access {
            Access::Public => operation["security"] = json!([]),
            Access::AnyKey => {}
            Access::Operator => {
                operation["description"] = json!("Requires an operator key.");
            }
        }
        if let Some(example) = &endpoint.body {
            operation["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"example": example}},
            });
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
            "schemas": {"Problem": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"},
                    "status": {"type": "integer"}, "detail": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "object", "properties": {
                        "field": {"type": "string"}, "problem": {"type": "string"}}}},
                },
            }},
        },
        "paths": paths,
    })
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
