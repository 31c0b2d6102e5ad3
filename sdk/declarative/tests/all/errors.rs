//! Error rules: the defaults, custom rules that beat them, rate-limit waits from
//! `Retry-After` (seconds or HTTP-date) and reset headers, transport failures, redaction.

use crate::common::{Fake, config, jobs_op, manifest};
use ats_declarative::{DeclError, Executor, Manifest, TransportError};
use serde_json::json;

const NOW: i64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

fn call(m: &Manifest, fake: Fake) -> DeclError {
    let mut fake = fake;
    let executor = Executor::new(m, &config()).expect("config").with_now(NOW);
    executor.list(&mut fake, "list-jobs", None, None, &json!({})).expect_err("fails")
}

fn status(m: &Manifest, status: u16, headers: &[(&str, &str)], body: &str) -> DeclError {
    call(m, Fake::new().raw(status, headers, body))
}

#[test]
fn default_rules() {
    let m = manifest(&jobs_op(""));
    assert!(matches!(status(&m, 401, &[], ""), DeclError::Unauthorized(_)));
    assert!(matches!(status(&m, 403, &[], ""), DeclError::Unauthorized(_)));
    assert!(matches!(status(&m, 404, &[], ""), DeclError::NotFound(_)));
    assert!(matches!(status(&m, 409, &[], ""), DeclError::Conflict(_)));
    assert!(matches!(status(&m, 502, &[], ""), DeclError::Transient(_)));
    let long = "x".repeat(400);
    let DeclError::Remote { status: 418, body_excerpt } = status(&m, 418, &[], &long) else {
        panic!("remote")
    };
    assert_eq!(body_excerpt.chars().count(), 301, "300 characters and an ellipsis");
}

#[test]
fn retry_after_in_seconds_as_an_http_date_or_from_a_reset_header() {
    let m = manifest(&jobs_op(""));
    let wait = |error: DeclError| match error {
        DeclError::RateLimited { retry_after_seconds, .. } => retry_after_seconds,
        other => panic!("{other:?}"),
    };
    assert_eq!(wait(status(&m, 429, &[("Retry-After", "7")], "")), Some(7));
    assert_eq!(
        wait(status(&m, 429, &[("retry-after", "Sun, 06 Nov 1994 08:51:07 GMT")], "")),
        Some(90)
    );
    assert_eq!(
        wait(status(&m, 429, &[("Retry-After", "Sun, 06 Nov 1994 08:00:00 GMT")], "")),
        Some(0)
    );
    let reset = (NOW + 42).to_string();
    assert_eq!(wait(status(&m, 429, &[("X-RateLimit-Reset", &reset)], "")), Some(42));
    assert_eq!(wait(status(&m, 429, &[], "")), None);
}

#[test]
fn a_custom_rule_with_body_contains_beats_the_default() {
    let m = manifest(&format!(
        r#"[[errors]]
status = [401]
body_contains = "EXPIRED"
action = "transient"
message = "the session expired"

[[errors]]
status = ["4xx"]
body_contains = "slow down"
action = "rate-limited"
retry_after_header = "X-Wait"

[[errors]]
status = [200]
body_contains = "\"error\""
action = "remote"

[[errors]]
status = ["500-503"]
action = "not-found"
{}"#,
        jobs_op("")
    ));
    assert_eq!(
        status(&m, 401, &[], "token expired"),
        DeclError::Transient("the session expired (HTTP 401)".into())
    );
    assert!(
        matches!(status(&m, 401, &[], "bad key"), DeclError::Unauthorized(_)),
        "no body match: default"
    );
    assert!(matches!(
        status(&m, 400, &[("X-Wait", "12")], "please slow down"),
        DeclError::RateLimited { retry_after_seconds: Some(12), .. }
    ));
    assert!(matches!(
        status(&m, 200, &[], r#"{"error": "no"}"#),
        DeclError::Remote { status: 200, .. }
    ));
    assert!(matches!(status(&m, 503, &[], ""), DeclError::NotFound(_)));
    assert!(matches!(status(&m, 504, &[], ""), DeclError::Transient(_)));
}

#[test]
fn transport_failures_map_to_typed_errors() {
    let m = manifest(&jobs_op(""));
    assert!(matches!(
        call(&m, Fake::new().fail(TransportError::Timeout("slow".into()))),
        DeclError::Transient(_)
    ));
    assert!(matches!(
        call(&m, Fake::new().fail(TransportError::Denied("egress".into()))),
        DeclError::Forbidden(_)
    ));
    assert!(matches!(
        call(&m, Fake::new().fail(TransportError::TooLarge(10))),
        DeclError::Remote { status: 0, .. }
    ));
    assert!(matches!(
        call(&m, Fake::new().fail(TransportError::Other("dns".into()))),
        DeclError::Transient(_)
    ));
}

#[test]
fn secrets_are_cut_out_of_excerpts() {
    let m = manifest(&format!(
        "[auth]\nkind = \"bearer\"\ntoken = \"{{{{config.api-key}}}}\"\n{}",
        jobs_op("")
    ));
    let DeclError::Remote { body_excerpt, .. } =
        status(&m, 400, &[], "bad key sekrit-key-123 given")
    else {
        panic!("remote")
    };
    assert_eq!(body_excerpt, "bad key [redacted] given");
}

#[test]
fn a_non_json_answer_is_a_remote_failure() {
    let m = manifest(&jobs_op(""));
    let error = call(&m, Fake::new().raw(200, &[], "<html>maintenance</html>"));
    assert!(
        matches!(&error, DeclError::Remote { status: 200, body_excerpt } if body_excerpt.contains("not JSON")),
        "{error:?}"
    );
}

#[test]
fn undeclared_unsupported_and_misused_operations() {
    let m = manifest(&format!(
        "{}[operations.add-tag]\nunsupported = \"Acme has no tags API\"\n",
        jobs_op("")
    ));
    let executor = Executor::new(&m, &config()).expect("config");
    let mut fake = Fake::new();
    assert_eq!(
        executor.one(&mut fake, "add-tag", &json!({})),
        Err(DeclError::Unsupported("Acme has no tags API".into()))
    );
    assert!(matches!(
        executor.one(&mut fake, "add-note", &json!({})),
        Err(DeclError::Unsupported(_))
    ));
    assert!(matches!(
        executor.one(&mut fake, "list-jobs", &json!({})),
        Err(DeclError::InvalidInput(_))
    ));
    assert_eq!(executor.operations(), ["list-jobs"]);
    assert!(fake.requests.is_empty());
}

#[test]
fn an_executor_never_shows_config_values() {
    let m = manifest(&jobs_op(""));
    let executor = Executor::new(&m, &config()).expect("config");
    let shown = format!("{executor:?}");
    assert!(shown.contains("api-key") && !shown.contains("sekrit"), "{shown}");
}
