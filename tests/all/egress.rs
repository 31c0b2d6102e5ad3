//! The `http` import: allow-list, private-network block, and what the guest sees.

use ats_host::runtime::{CallError, Invocation, Output, call::first_page};
use ats_tests::{context, guests, load, runtime, slow_server, test_limits};

async fn fetch(url: &str, allow_private: bool) -> Result<Output, CallError> {
    let runtime = runtime(test_limits());
    let guest = load(&runtime, guests::MISBEHAVE).await;
    let mut ctx = context("egress", &[("behaviour", "fetch"), ("url", url)]);
    ctx.allow_private_networks = allow_private;
    runtime.call(&guest, &ctx, Invocation::ListJobs(first_page())).await
}

/// The reason of a call that failed because the host denied its request: typed by the
/// runtime (`egress-denied`), whatever the connector made of the denial.
fn denial(result: Result<Output, CallError>) -> String {
    match result {
        Err(error @ CallError::EgressDenied { .. }) => {
            assert_eq!(error.kind(), "egress-denied");
            error.to_string()
        }
        other => panic!("expected an egress denial, got {other:?}"),
    }
}

#[tokio::test]
async fn host_not_on_the_allow_list_is_denied_with_a_clear_error() {
    let server = slow_server().await;
    // 127.0.0.2 is loopback too, but not on the guest's list (127.0.0.1, localhost).
    let message = denial(fetch(&format!("http://127.0.0.2:{}/ok", server.port()), true).await);
    assert!(message.contains("not on this connector's egress allow-list"), "{message}");
    let message = denial(fetch("https://example.com/", true).await);
    assert!(message.contains("https://example.com:443"), "{message}");
}

#[tokio::test]
async fn private_addresses_are_denied_unless_the_connection_allows_them() {
    let server = slow_server().await;
    let port = server.port();
    for url in [format!("http://127.0.0.1:{port}/ok"), format!("http://localhost:{port}/ok")] {
        let message = denial(fetch(&url, false).await);
        assert!(message.contains("private or local address"), "{url}: {message}");
    }
    match fetch(&format!("http://127.0.0.1:{port}/ok"), true).await {
        Ok(Output::Jobs(page)) => assert_eq!(page.items[0].title, "status 200"),
        other => panic!("allowed request failed: {other:?}"),
    }
}
