//! Cross-cutting API behaviour: the OpenAPI document covers every route, errors are
//! problem+json with a useful message, keys are required, bodies are limited.

use ats_tests::api_host::{ApiHost, send};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_documented_route_exists_and_every_route_is_documented() {
    let host = ApiHost::start().await;
    let (status, document) = send(host.http.get(host.url("/v1/openapi.json"))).await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, methods) in paths {
        for method in methods.as_object().expect("methods").keys() {
            let concrete = path.replace("{", "x").replace("}", "");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let (status, body) = send(host.op(method.clone(), &concrete)).await;
            let title = body["title"].as_str().unwrap_or_default();
            assert!(
                title != "not found" && title != "method not allowed",
                "{method} {path} is documented but not routed: {status} {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} routes documented");
    let names = |path: &str, method: &str, place: &str| -> Vec<String> {
        paths[path][method]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == place)
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        names("/v1/jobs", "get", "query"),
        ["connection_id", "updated_after", "cursor", "limit"]
    );
    assert_eq!(names("/v1/runs", "get", "query"), ["connection_id", "status", "cursor", "limit"]);
    assert_eq!(names("/v1/events", "get", "query"), ["after", "limit"]);
    assert_eq!(names("/v1/connections/{id}/candidates", "post", "header"), ["Idempotency-Key"]);
    assert_eq!(names("/v1/connections/{id}/candidates", "post", "path"), ["id"]);
    // Every documented query parameter is one the route accepts (the document cannot drift
    // from the handlers' query structs, which refuse unknown fields).
    for path in paths.keys() {
        let concrete = path.replace("{", "x").replace("}", "");
        for name in names(path, "get", "query") {
            let (_, body) = send(host.op(Method::GET, &format!("{concrete}?{name}=1"))).await;
            let detail = body["detail"].as_str().unwrap_or_default();
            assert!(!detail.contains("unknown field"), "GET {path}?{name}: {detail}");
        }
    }
    // The reverse: routes the API is known to serve are in the document.
    for path in [
        "/v1/connectors",
        "/v1/webhooks",
        "/v1/webhook-deliveries/{id}/replay",
        "/v1/tenants/{tenant}/keys",
        "/v1/openapi.json",
        "/health",
        "/metrics",
        "/demo",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the OpenAPI document");
    }
}

#[tokio::test]
async fn missing_or_invalid_keys_get_401_and_tenant_keys_cannot_use_operator_routes() {
    let host = ApiHost::start().await;
    let (status, body) = send(host.http.get(host.url("/v1/connectors"))).await;
    assert_eq!(status, 401);
    assert!(body["detail"].as_str().expect("detail").contains("Authorization: Bearer"));
    let (status, _) = send(host.with_key("ats_tn_nope", Method::GET, "/v1/connectors")).await;
    assert_eq!(status, 401);
    let tenant = host.tenant_key("acme").await;
    let (status, me) = send(host.with_key(&tenant, Method::GET, "/v1/me")).await;
    assert_eq!((status, me["tenant_id"].as_str()), (200, Some("acme")));
    let (status, body) =
        send(host.with_key(&tenant, Method::POST, "/v1/tenants/acme/keys").json(&json!({}))).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().expect("detail").contains("operator key"));
}

#[tokio::test]
async fn unknown_routes_bad_json_and_oversized_bodies_are_problem_json() {
    let host = ApiHost::start().await;
    let response = host.op(Method::GET, "/v1/nope").send().await.expect("send");
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let (status, body) = send(
        host.op(Method::POST, "/v1/webhooks")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().expect("detail").contains("not valid JSON"), "{body}");
    let (status, body) = send(host.op(Method::POST, "/v1/webhooks").body("{}")).await;
    assert_eq!(status, 415, "{body}");
    let huge = json!({"url": "x".repeat(2 << 20), "tenant_id": "acme"});
    let (status, body) = send(host.op(Method::POST, "/v1/webhooks").json(&huge)).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = send(host.op(Method::DELETE, "/v1/connectors")).await;
    assert_eq!(status, 405, "{body}");
}

#[tokio::test]
async fn bad_query_strings_and_raw_bodies_are_problem_json_naming_the_field() {
    let host = ApiHost::start().await;
    for (path, field) in [
        ("/v1/runs?limit=many", "limit"),
        ("/v1/jobs?updated_after=yesterday", "updated_after"),
        ("/v1/events?colour=blue", "colour"),
    ] {
        let response = host.op(Method::GET, path).send().await.expect("send");
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{path}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["fields"][0]["field"], field, "{path}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("query string")), "{body}");
    }
    let (status, body) = send(host.op(Method::GET, "/v1/runs?status=exploded")).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("queued, running, success")),
        "{body}"
    );

    // Connector uploads have their own, larger limit: 2 MiB of garbage reaches the loader,
    // which names what is wrong, instead of stopping at the 1 MiB JSON limit.
    let garbage = vec![0x42u8; 2 << 20];
    let (status, body) = send(host.op(Method::POST, "/v1/connectors").body(garbage)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("not a WebAssembly")), "{body}");
    // A raw body over the limit of its route is a problem too.
    let (status, body) =
        send(host.op(Method::POST, "/v1/connections/x/sync").body(vec![b' '; 2 << 20])).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("limited to")), "{body}");
}
