//! The OpenAPI document: the served `/v1/openapi.json` is a valid OpenAPI 3.1 document (the
//! official JSON Schemas of the OpenAPI Initiative, vendored under `tests/vendor/openapi-3.1/`
//! with their source and version), and it tells the truth: real answers of a host, success
//! and error, validate against the schema the document declares for their route and status,
//! and a wrong body is refused by the same validator.

use super::end_to_end::wait_run;
use ats_tests::api_host::{ApiHost, send};
use ats_tests::sync_rig::{KEY, start_sandbox};
use jsonschema::{Draft, Registry, Validator};
use reqwest::Method;
use serde_json::{Value, json};

/// The official schemas, by their `$id`s (see `tests/vendor/openapi-3.1/README.md`).
const OAS: [(&str, &str); 4] = [
    (
        "https://spec.openapis.org/oas/3.1/schema/2022-10-07",
        include_str!("../../vendor/openapi-3.1/schema.json"),
    ),
    (
        "https://spec.openapis.org/oas/3.1/schema-base/2022-10-07",
        include_str!("../../vendor/openapi-3.1/schema-base.json"),
    ),
    (
        "https://spec.openapis.org/oas/3.1/dialect/base",
        include_str!("../../vendor/openapi-3.1/dialect-base.schema.json"),
    ),
    (
        "https://spec.openapis.org/oas/3.1/meta/base",
        include_str!("../../vendor/openapi-3.1/meta-base.schema.json"),
    ),
];

/// Where the served document is registered for its `$ref`s to resolve.
const DOCUMENT_URI: &str = "https://ats-host.test/v1/openapi.json";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("vendored schema is JSON")
}

/// Every error of `instance` under `validator`, one line each.
fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// Validators of OpenAPI 3.1 documents: `schema.json` (the document) and `schema-base.json`
/// (also every Schema Object against the default OAS dialect, JSON Schema 2020-12).
fn oas_validators() -> [Validator; 2] {
    let registry = Registry::new()
        .extend(OAS.iter().map(|(id, text)| (*id, Draft::Draft202012.create_resource(parse(text)))))
        .expect("schema ids")
        .prepare()
        .expect("registry");
    let build = |text: &str| {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&registry)
            .build(&parse(text))
            .expect("the official schema compiles")
    };
    [build(OAS[0].1), build(OAS[1].1)]
}

/// The served document and validators for the schemas it declares.
struct Described {
    document: Value,
    registry: Registry<'static>,
}

impl Described {
    fn new(document: Value) -> Self {
        let registry = Registry::new()
            .add(DOCUMENT_URI, Draft::Draft202012.create_resource(document.clone()))
            .expect("document uri")
            .prepare()
            .expect("registry");
        Described { document, registry }
    }

    fn operation(&self, method: &str, path: &str) -> &Value {
        let operation = &self.document["paths"][path][method.to_ascii_lowercase()];
        assert!(operation.is_object(), "the document has no {method} {path}");
        operation
    }

    /// The schema the document declares for `method path` answering `status`: the status's
    /// own entry, else its class (`4XX`).
    fn schema(&self, method: &str, path: &str, status: u16) -> Value {
        let responses = &self.operation(method, path)["responses"];
        let entry = [status.to_string(), format!("{}XX", status / 100)]
            .into_iter()
            .map(|key| &responses[key])
            .find(|entry| entry.is_object())
            .unwrap_or_else(|| panic!("{method} {path} declares no answer {status}"));
        let content = entry["content"].as_object().expect("an answer with a body");
        let (_, media) = content.iter().next().expect("one media type");
        media["schema"].clone()
    }

    /// A validator of `schema`, a schema taken out of the document: its references point
    /// into the registered document.
    fn validator(&self, schema: &Value) -> Validator {
        fn anchor(schema: &mut Value) {
            match schema {
                Value::Object(map) => {
                    for (key, value) in map.iter_mut() {
                        match value {
                            Value::String(target) if key == "$ref" && target.starts_with('#') => {
                                *target = format!("{DOCUMENT_URI}{target}");
                            }
                            other => anchor(other),
                        }
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(anchor),
                _ => {}
            }
        }
        let mut anchored = schema.clone();
        anchor(&mut anchored);
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&anchored)
            .unwrap_or_else(|e| panic!("the declared schema {schema} compiles: {e}"))
    }

    /// What is wrong with `body` as the answer `status` of `method path`.
    fn errors(&self, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
        errors(&self.validator(&self.schema(method, path, status)), body)
    }

    /// Asserts that `body` is what the document says `method path` answers with `status`.
    fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        let wrong = self.errors(method, path, status, body);
        assert!(
            wrong.is_empty(),
            "{method} {path} answered {status} off its schema: {wrong:#?}\n{body:#}"
        );
    }
}

async fn served_document(host: &ApiHost) -> Value {
    let (status, document) = send(host.http.get(host.url("/v1/openapi.json"))).await;
    assert_eq!(status, 200, "{document}");
    document
}

#[tokio::test]
async fn the_served_document_is_valid_openapi_3_1_with_a_schema_for_every_answer() {
    let host = ApiHost::start().await;
    let document = served_document(&host).await;
    for validator in oas_validators() {
        let wrong = errors(&validator, &document);
        assert!(wrong.is_empty(), "not a valid OpenAPI 3.1 document: {wrong:#?}");
    }
    let described = Described::new(document.clone());
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            let responses = operation["responses"].as_object().expect("responses");
            let successes: Vec<&String> =
                responses.keys().filter(|status| status.starts_with('2')).collect();
            assert!(!successes.is_empty(), "{method} {path} declares no success answer");
            for (status, answer) in responses {
                for (media, content) in answer["content"].as_object().into_iter().flatten() {
                    assert!(
                        content.get("schema").is_some(),
                        "{method} {path} {status} {media} has no schema"
                    );
                }
            }
            for status in ["4XX", "5XX"] {
                assert!(
                    responses[status]["content"]["application/problem+json"]["schema"].is_object(),
                    "{method} {path} declares its {status} errors as problem+json"
                );
            }
            // Each example request body is one its own schema accepts.
            let body = &operation["requestBody"]["content"]["application/json"];
            if let (Some(example), Some(schema)) = (body.get("example"), body.get("schema")) {
                let wrong = errors(&described.validator(schema), example);
                assert!(wrong.is_empty(), "the example of {method} {path}: {wrong:#?}");
            }
        }
    }
    assert!(operations > 50, "every route is documented: {operations}");
    // Every component compiles and its references resolve.
    for name in document["components"]["schemas"].as_object().expect("components").keys() {
        described.validator(&json!({"$ref": format!("#/components/schemas/{name}")}));
    }

    // The validators can fail: documents that break the OpenAPI schema are refused.
    let [document_schema, with_dialect] = oas_validators();
    let mut no_description = document.clone();
    no_description["paths"]["/v1/jobs"]["get"]["responses"]["200"]
        .as_object_mut()
        .expect("GET /v1/jobs answers 200")
        .remove("description");
    assert!(!document_schema.is_valid(&no_description), "a response needs a description");
    let mut bad_schema = document.clone();
    bad_schema["components"]["schemas"]["Problem"]["type"] = json!("objekt");
    assert!(!with_dialect.is_valid(&bad_schema), "a component schema must be a JSON Schema");
    let mut bad_name = document.clone();
    bad_name["components"]["schemas"]["Data<Job>"] = json!({"type": "object"});
    assert!(!document_schema.is_valid(&bad_name), "component names are restricted");
}

#[tokio::test]
async fn real_answers_match_the_schemas_the_document_declares() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = start_sandbox().await;
    let api = Described::new(served_document(&host).await);

    // Operator routes: health, connectors, a tenant and its key.
    let (status, health) = send(host.http.get(host.url("/health"))).await;
    api.check("GET", "/health", status, &health);
    let (status, connectors) = send(host.op(Method::GET, "/v1/connectors")).await;
    api.check("GET", "/v1/connectors", status, &connectors);
    let (status, sandbox) = send(host.op(Method::GET, "/v1/connectors/sandbox")).await;
    api.check("GET", "/v1/connectors/{id}", status, &sandbox);
    let (status, tenant) =
        send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme", "name": "Acme"})))
            .await;
    assert_eq!(status, 201, "{tenant}");
    api.check("POST", "/v1/tenants", status, &tenant);
    let (status, minted) = send(
        host.op(Method::POST, "/v1/tenants/acme/keys").json(&json!({"label": "openapi test"})),
    )
    .await;
    api.check("POST", "/v1/tenants/{tenant}/keys", status, &minted);
    let key = minted["key"].as_str().expect("key").to_string();
    let as_tenant = |method: Method, path: &str| host.with_key(&key, method, path);
    let (status, me) = send(as_tenant(Method::GET, "/v1/me")).await;
    api.check("GET", "/v1/me", status, &me);

    // A connection: create, get, check.
    let (status, created) = send(as_tenant(Method::POST, "/v1/connections").json(&json!({
        "connector_id": "sandbox", "name": "Sandbox",
        "config": {"base-url": url}, "secrets": {"api-key": KEY},
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    api.check("POST", "/v1/connections", status, &created);
    let id = created["id"].as_str().expect("id").to_string();
    // The sandbox listens on loopback: the operator lets this connection reach it.
    let (status, granted) = send(
        host.op(Method::PATCH, &format!("/v1/connections/{id}"))
            .json(&json!({"allow_private_networks": true})),
    )
    .await;
    api.check("PATCH", "/v1/connections/{id}", status, &granted);
    let (status, connection) = send(as_tenant(Method::GET, &format!("/v1/connections/{id}"))).await;
    assert_eq!(status, 200, "{connection}");
    api.check("GET", "/v1/connections/{id}", status, &connection);
    let (status, check) =
        send(as_tenant(Method::POST, &format!("/v1/connections/{id}/check"))).await;
    assert_eq!((status, check["status"].as_str()), (200, Some("ok")), "{check}");
    api.check("POST", "/v1/connections/{id}/check", status, &check);
    for path in ["schedules", "rate-budget"] {
        let (status, body) =
            send(as_tenant(Method::GET, &format!("/v1/connections/{id}/{path}"))).await;
        api.check("GET", &format!("/v1/connections/{{id}}/{path}"), status, &body);
    }

    // A sync run: started, followed to its end, listed; then the jobs it read.
    let (status, started) = send(
        as_tenant(Method::POST, &format!("/v1/connections/{id}/sync"))
            .json(&json!({"kind": "jobs"})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    api.check("POST", "/v1/connections/{id}/sync", status, &started);
    let run = wait_run(&host, &key, started["run_id"].as_str().expect("run id")).await;
    assert_eq!(run["state"], "success", "{run}");
    api.check("GET", "/v1/runs/{id}", 200, &run);
    let (status, runs) =
        send(as_tenant(Method::GET, &format!("/v1/runs?connection_id={id}"))).await;
    api.check("GET", "/v1/runs", status, &runs);
    let (status, jobs) =
        send(as_tenant(Method::GET, &format!("/v1/jobs?connection_id={id}&limit=3"))).await;
    assert_eq!(status, 200, "{jobs}");
    api.check("GET", "/v1/jobs", status, &jobs);
    let job_id = jobs["data"][0]["remote_id"].as_str().expect("a job").to_string();
    let (status, stages) =
        send(as_tenant(Method::GET, &format!("/v1/connections/{id}/stages"))).await;
    api.check("GET", "/v1/connections/{id}/stages", status, &stages);

    // A candidate push (created: 201), its replay, a move and a result.
    let push = json!({
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com"]},
        "job_id": job_id, "note": "Hi Ada", "tags": ["sourced"],
    });
    let path = format!("/v1/connections/{id}/candidates");
    let (status, pushed) =
        send(as_tenant(Method::POST, &path).header("idempotency-key", "p-1").json(&push)).await;
    assert_eq!(status, 201, "{pushed}");
    api.check("POST", "/v1/connections/{id}/candidates", status, &pushed);
    let (status, replayed) =
        send(as_tenant(Method::POST, &path).header("idempotency-key", "p-1").json(&push)).await;
    assert_eq!((status, &replayed), (201, &pushed), "the replay is the first answer");
    let application = pushed["application_id"].as_str().expect("an application").to_string();
    let writes = format!("/v1/connections/{id}/applications/{application}");
    let (status, moved) = send(
        as_tenant(Method::POST, &format!("{writes}/move")).json(&json!({"stage_id": "stage-3"})),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    api.check("POST", "/v1/connections/{id}/applications/{application}/move", status, &moved);
    let (status, result) = send(
        as_tenant(Method::POST, &format!("{writes}/result"))
            .json(&json!({"score": 42, "max_score": 50, "summary": "Strong"})),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    api.check("POST", "/v1/connections/{id}/applications/{application}/result", status, &result);

    // Applications, their candidates, and the event log.
    let (status, started) = send(
        as_tenant(Method::POST, &format!("/v1/connections/{id}/sync"))
            .json(&json!({"kind": "applications"})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    wait_run(&host, &key, started["run_id"].as_str().expect("run id")).await;
    let (status, applications) = send(as_tenant(
        Method::GET,
        &format!("/v1/applications?connection_id={id}&include=candidate&limit=5"),
    ))
    .await;
    api.check("GET", "/v1/applications", status, &applications);
    let (status, candidates) = send(as_tenant(Method::GET, "/v1/candidates?limit=5")).await;
    api.check("GET", "/v1/candidates", status, &candidates);
    let (status, events) = send(as_tenant(Method::GET, "/v1/events?limit=5")).await;
    assert!(events["data"].as_array().is_some_and(|e| !e.is_empty()), "{events}");
    api.check("GET", "/v1/events", status, &events);

    // Automations: a stage mapping, push defaults, automations (listed, duplicated,
    // enabled, disabled, dry run), an order with progress, result and review, a result
    // without an order, the firings they made, and an invalid automation.
    let path_of = |tail: &str| format!("/v1/connections/{id}/{tail}");
    let (status, mapping) = send(
        as_tenant(Method::PUT, &path_of("stage-mappings"))
            .json(&json!({"stages": {"Assessment": "stage-3"}})),
    )
    .await;
    assert_eq!(status, 200, "{mapping}");
    api.check("PUT", "/v1/connections/{id}/stage-mappings", status, &mapping);
    let (status, mapping) = send(as_tenant(Method::GET, &path_of("stage-mappings"))).await;
    api.check("GET", "/v1/connections/{id}/stage-mappings", status, &mapping);
    let (status, defaults) = send(
        as_tenant(Method::PUT, &path_of("push-defaults"))
            .json(&json!({"initial_stage": {"mapped": "Assessment"}, "source": "AI sourcer"})),
    )
    .await;
    assert_eq!(status, 200, "{defaults}");
    api.check("PUT", "/v1/connections/{id}/push-defaults", status, &defaults);
    let (status, defaults) = send(as_tenant(Method::GET, &path_of("push-defaults"))).await;
    api.check("GET", "/v1/connections/{id}/push-defaults", status, &defaults);
    let (status, write_back) = send(as_tenant(Method::POST, "/v1/automations").json(&json!({
        "name": "Write back", "enabled": true, "scope": {"kind": "connection", "connection_id": id},
        "trigger": {"type": "result-submitted"},
        "conditions": {"all": [{"path": "result.score", "type": "number", "op": "gte", "value": 50}]},
        "actions": [{"type": "add-note", "template": "Score {{result.score}}"}, {"type": "tag-by-score", "bands": [{"min": 80, "tag": "top"}]}],
    })))
    .await;
    assert_eq!(status, 201, "{write_back}");
    api.check("POST", "/v1/automations", status, &write_back);
    let automation = write_back["id"].as_str().expect("id").to_string();
    let (status, invite) = send(as_tenant(Method::POST, "/v1/automations").json(&json!({
        "name": "Invite", "scope": {"kind": "connection", "connection_id": id},
        "trigger": {"type": "stage-entered", "stage": {"mapped": "Assessment"}},
        "actions": [{"type": "send-invite"}, {"type": "add-note", "template": "Invited {{candidate.full_name}}"}],
    })))
    .await;
    assert_eq!(status, 201, "{invite}");
    let invite = invite["id"].as_str().expect("id").to_string();
    let (status, dry) =
        send(as_tenant(Method::POST, &format!("/v1/automations/{invite}/dry-run"))).await;
    assert!(dry["firings"].as_array().is_some_and(|f| !f.is_empty()), "{dry}");
    api.check("POST", "/v1/automations/{id}/dry-run", status, &dry);
    let (status, automations) = send(as_tenant(Method::GET, "/v1/automations")).await;
    api.check("GET", "/v1/automations", status, &automations);
    let (status, shown) =
        send(as_tenant(Method::GET, &format!("/v1/automations/{automation}"))).await;
    api.check("GET", "/v1/automations/{id}", status, &shown);
    let (status, copy) =
        send(as_tenant(Method::POST, &format!("/v1/automations/{invite}/duplicate"))).await;
    api.check("POST", "/v1/automations/{id}/duplicate", status, &copy);
    let copy = copy["id"].as_str().expect("id").to_string();
    let (status, enabled) =
        send(as_tenant(Method::POST, &format!("/v1/automations/{copy}/enable"))).await;
    assert_eq!(status, 200, "{enabled}");
    api.check("POST", "/v1/automations/{id}/enable", status, &enabled);
    let (status, disabled) =
        send(as_tenant(Method::POST, &format!("/v1/automations/{copy}/disable"))).await;
    api.check("POST", "/v1/automations/{id}/disable", status, &disabled);
    let (status, order) = send(as_tenant(Method::POST, "/v1/orders").json(
        &json!({"connection_id": id, "application_id": application, "package_id": "coding-test"}),
    ))
    .await;
    assert_eq!(status, 201, "{order}");
    api.check("POST", "/v1/orders", status, &order);
    let order = order["id"].as_str().expect("id").to_string();
    let (status, progressed) = send(
        as_tenant(Method::POST, &format!("/v1/orders/{order}/progress"))
            .json(&json!({"state": "started", "note": "opened the test"})),
    )
    .await;
    api.check("POST", "/v1/orders/{id}/progress", status, &progressed);
    let result = json!({"score": 86, "max_score": 100, "link": "https://assess.example/r/1",
                        "attributes": {"qualified": true}});
    let (status, posted) =
        send(as_tenant(Method::POST, &format!("/v1/orders/{order}/result")).json(&result)).await;
    assert_eq!(status, 201, "{posted}");
    api.check("POST", "/v1/orders/{id}/result", status, &posted);
    let (status, again) =
        send(as_tenant(Method::POST, &format!("/v1/orders/{order}/result")).json(&result)).await;
    assert_eq!(status, 200, "{again}");
    api.check("POST", "/v1/orders/{id}/result", status, &again);
    let (status, reviewed) = send(
        as_tenant(Method::POST, &format!("/v1/orders/{order}/reviews"))
            .json(&json!({"id": "rev-1", "kind": "comment", "comment": "Convincing"})),
    )
    .await;
    api.check("POST", "/v1/orders/{id}/reviews", status, &reviewed);
    let (status, direct) = send(as_tenant(Method::POST, &path_of("results")).json(
        &json!({"application_id": application, "package_id": "interview", "result": result}),
    ))
    .await;
    assert_eq!(status, 201, "{direct}");
    api.check("POST", "/v1/connections/{id}/results", status, &direct);
    let (status, orders) = send(as_tenant(Method::GET, "/v1/orders")).await;
    api.check("GET", "/v1/orders", status, &orders);
    let (status, shown) = send(as_tenant(Method::GET, &format!("/v1/orders/{order}"))).await;
    api.check("GET", "/v1/orders/{id}", status, &shown);
    let mut firings = Value::Null;
    for _ in 0..500 {
        let (_, page) =
            send(as_tenant(Method::GET, &format!("/v1/firings?automation_id={automation}"))).await;
        let all = page["data"].as_array().cloned().unwrap_or_default();
        firings = page;
        if all.len() == 2 && all.iter().all(|f| f["status"] != "pending") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    api.check("GET", "/v1/firings", 200, &firings);
    let firing = firings["data"][0]["id"].as_str().expect("a firing").to_string();
    let (status, shown) = send(as_tenant(Method::GET, &format!("/v1/firings/{firing}"))).await;
    assert_eq!(status, 200, "{shown}");
    api.check("GET", "/v1/firings/{id}", status, &shown);
    let (status, invalid) = send(as_tenant(Method::POST, "/v1/automations").json(&json!({
        "name": "Never", "scope": {"kind": "all"}, "trigger": {"type": "result-submitted"},
        "conditions": {"all": [
            {"path": "result.attributes.qualified", "type": "boolean", "op": "is-true"},
            {"path": "result.attributes.qualified", "type": "boolean", "op": "is-false"}
        ]},
        "actions": [{"type": "add-tag", "tag": "never"}],
    })))
    .await;
    assert_eq!(status, 422, "{invalid}");
    api.check("POST", "/v1/automations", status, &invalid);

    // Webhook subscriptions.
    let (status, subscribed) = send(
        as_tenant(Method::POST, "/v1/webhooks")
            .json(&json!({"url": "http://127.0.0.1:9/hooks", "event_types": ["job.*"]})),
    )
    .await;
    api.check("POST", "/v1/webhooks", status, &subscribed);
    let (status, subscriptions) = send(as_tenant(Method::GET, "/v1/webhooks")).await;
    api.check("GET", "/v1/webhooks", status, &subscriptions);

    // Errors: problem+json, as declared.
    let (status, missing) = send(as_tenant(Method::GET, "/v1/connections/conn_nope")).await;
    assert_eq!(status, 404, "{missing}");
    api.check("GET", "/v1/connections/{id}", status, &missing);
    let (status, invalid) =
        send(as_tenant(Method::POST, &path).json(&json!({"candidate": {}}))).await;
    assert_eq!(status, 422, "{invalid}");
    api.check("POST", "/v1/connections/{id}/candidates", status, &invalid);
    let (status, unauthorized) = send(host.with_key("wrong", Method::GET, "/v1/jobs")).await;
    assert_eq!(status, 401, "{unauthorized}");
    api.check("GET", "/v1/jobs", status, &unauthorized);

    // The same validator refuses answers that are off their schema.
    let route = "/v1/connections/{id}/candidates";
    let mut wrong = pushed.clone();
    wrong["candidate_outcome"] = json!("maybe");
    assert!(!api.errors("POST", route, 201, &wrong).is_empty(), "an unknown outcome is refused");
    let mut wrong = pushed.clone();
    wrong.as_object_mut().expect("object").remove("complete");
    assert!(!api.errors("POST", route, 201, &wrong).is_empty(), "a missing field is refused");
    let mut wrong = run.clone();
    wrong["counts"]["seen"] = json!("twelve");
    assert!(!api.errors("GET", "/v1/runs/{id}", 200, &wrong).is_empty(), "a wrong type is refused");
    let mut wrong = connectors.clone();
    wrong["data"][0]["active"]["unexpected"] = json!(true);
    assert!(
        !api.errors("GET", "/v1/connectors", 200, &wrong).is_empty(),
        "a field the document does not know is refused where the schema is closed"
    );
    assert!(
        !api.errors("GET", "/v1/jobs", 404, &json!({"title": "not found"})).is_empty(),
        "a problem without status and detail is refused"
    );
}
