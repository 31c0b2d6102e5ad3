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
        ["connection_id", "status", "active", "country", "updated_after", "cursor", "limit"]
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

/// A missing or invalid field inside a nested body object is named by its full path.
#[tokio::test]
async fn nested_body_errors_name_the_full_path_of_the_field() {
    let host = ApiHost::start().await;
    let (url, _sandbox) = ats_tests::sync_rig::start_sandbox().await;
    send(host.op(Method::POST, "/v1/tenants").json(&json!({"id": "acme"}))).await;
    let (status, created) = send(host.op(Method::POST, "/v1/connections").json(&json!({
        "tenant_id": "acme", "connector_id": "sandbox", "config": {"base-url": url},
        "secrets": {"api-key": ats_tests::sync_rig::KEY}, "allow_private_networks": true,
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    let push = format!("/v1/connections/{}/candidates", created["id"].as_str().expect("id"));
    for (body, field, says) in [
        (
            json!({"candidate": {"first_name": "A", "emails": ["a@b.c"]}}),
            "candidate.last_name",
            "missing field",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": 7}}),
            "candidate.last_name",
            "invalid type",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B", "emails": [1]}}),
            "candidate.emails[0]",
            "invalid type",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B", "colour": "red"}}),
            "candidate.colour",
            "unknown field",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B"}, "cv": {"filename": "cv.pdf"}}),
            "cv.content_base64",
            "missing field",
        ),
        (
            json!({"candidate": {"first_name": "A", "last_name": "B"}, "colour": 1}),
            "colour",
            "unknown field",
        ),
        (json!({"job_id": "1"}), "candidate", "missing field"),
    ] {
        let response = host.op(Method::POST, &push).json(&body).send().await.expect("send");
        assert_eq!(response.status(), 422, "{body}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = response.json().await.expect("problem");
        assert_eq!(problem["fields"][0]["field"], field, "{body} → {problem}");
        let text = problem["fields"][0]["problem"].as_str().unwrap_or_default();
        assert!(text.starts_with(says), "{body} → {problem}");
        assert!(!text.contains(" at line "), "positions are noise in a field list: {text}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(field), "{problem}");
    }
    // Trailing garbage after the JSON is a syntax error, not a shape error.
    let (status, problem) = send(
        host.op(Method::POST, &push)
            .header("content-type", "application/json")
            .body(r#"{"candidate": {"first_name": "A", "last_name": "B"}} x"#),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("not valid JSON")), "{problem}");
}

/// Errors hyper answers by itself, before any route (a URI over its 65,534-byte limit, too
/// many headers), are problem+json too: checked on a real `ats-host serve`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uri_over_the_limit_and_too_many_headers_are_problem_json() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().expect("temp dir");
    let host = crate::process::HostProcess::start(dir.path(), &["--no-bundled"]).await;
    let addr = host.base.trim_start_matches("http://").to_string();
    let raw = |request: String| {
        let addr = addr.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
            stream.write_all(request.as_bytes()).await.expect("send the request");
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer).await;
            String::from_utf8_lossy(&answer).into_owned()
        }
    };
    let long_uri = format!("/v1/jobs?q={}", "x".repeat(70_000));
    let many_headers: String = (0..120).map(|i| format!("x-header-{i}: 1\r\n")).collect();
    for (request, status, says) in [
        (format!("GET {long_uri} HTTP/1.1\r\nhost: {addr}\r\n\r\n"), 414, "65534 bytes"),
        (format!("GET /health HTTP/1.1\r\nhost: {addr}\r\n{many_headers}\r\n"), 431, "headers"),
        (format!("GET /health HTTP/1.1\r\nhost: {addr}\r\nbad header\r\n\r\n"), 400, "malformed"),
    ] {
        let answer = raw(request).await;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
        assert!(head.contains("content-type: application/problem+json"), "{head}");
        let problem: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(problem["status"], status, "{answer}");
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains(says)), "{problem}");
    }
    // A long URI under the limit reaches the API, which names the unknown query field.
    let (status, problem) =
        send(host.op(Method::GET, &format!("/v1/jobs?{}=1", "y".repeat(30_000)))).await;
    assert_eq!(status, 400, "{problem}");
    host.terminate(std::time::Duration::from_secs(30)).await;
}
