//! `/v1/connectors`: upload through validation, rollback, activation.

use ats_tests::api_host::{ApiHost, send};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_bad_upload_is_422_and_changes_nothing() {
    let host = ApiHost::start().await;
    let (_, before) = send(host.op(Method::GET, "/v1/connectors")).await;
    for (bytes, expected) in [
        (b"garbage".to_vec(), "not a WebAssembly file"),
        (b"\0asm\x01\0\0\0".to_vec(), "core WebAssembly module"),
    ] {
        let (status, body) = send(host.op(Method::POST, "/v1/connectors").body(bytes)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["detail"].as_str().expect("detail").contains(expected), "{body}");
    }
    let (status, body) = send(host.op(Method::POST, "/v1/connectors")).await;
    assert_eq!(status, 400, "{body}");
    let (_, after) = send(host.op(Method::GET, "/v1/connectors")).await;
    assert_eq!(before, after);
    let saved =
        std::fs::read_dir(host.data_dir.path().join("connectors")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(saved, 0, "nothing saved for rejected uploads");
}

#[tokio::test]
async fn upload_activates_a_new_version_and_rollback_returns_to_the_previous_one() {
    let host = ApiHost::start().await;
    let echo_v1 = ats_tests::read(ats_tests::guests::ECHO_V1);
    let echo_v2 = ats_tests::read(ats_tests::guests::ECHO_V2);
    let (status, body) = send(host.op(Method::POST, "/v1/connectors").body(echo_v1)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["active"]["id"].as_str().expect("id").to_string();
    let (status, body) = send(host.op(Method::POST, "/v1/connectors").body(echo_v2)).await;
    assert_eq!(status, 201, "{body}");
    let v2 = body["active"]["version"].as_str().expect("version").to_string();
    assert!(body["replaced"].as_str().is_some());
    assert_eq!(host.registry.active(&id).expect("active").manifest.connector_version, v2);
    let files = std::fs::read_dir(host.data_dir.path().join("connectors")).expect("dir").count();
    assert_eq!(files, 2, "uploads are saved to the watched directory");

    let (status, body) =
        send(host.op(Method::POST, &format!("/v1/connectors/{id}/rollback"))).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["active"]["version"], v2.as_str());
    let (status, body) = send(
        host.op(Method::POST, &format!("/v1/connectors/{id}/activate"))
            .json(&json!({"version": v2})),
    )
    .await;
    assert_eq!((status, body["active"]["version"].as_str()), (200, Some(v2.as_str())));
    let (status, body) = send(
        host.op(Method::POST, &format!("/v1/connectors/{id}/activate"))
            .json(&json!({"version": "9.9.9"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().expect("detail").contains("9.9.9"));
    let (status, _) = send(host.op(Method::POST, "/v1/connectors/nope/rollback")).await;
    assert_eq!(status, 404);
    let tenant = host.tenant_key("acme").await;
    let (status, _) =
        send(host.with_key(&tenant, Method::POST, "/v1/connectors").body(vec![1, 2])).await;
    assert_eq!(status, 403, "tenants cannot upload connectors");
}
