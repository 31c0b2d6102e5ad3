//! `since` with a lookback, in each incremental format.

use crate::common::{Fake, executor, jobs_op, manifest};
use ats_declarative::DeclError;
use serde_json::json;

fn url_for(incremental: &str, since: Option<&str>) -> Result<String, DeclError> {
    let m = manifest(&jobs_op(&format!("incremental = {incremental}")));
    let mut fake = Fake::new().json(200, json!({"jobs": []}));
    executor(&m).list(&mut fake, "list-jobs", None, since, &json!({}))?;
    Ok(fake.last().url.clone())
}

const SINCE: &str = "2026-03-01T10:00:30.500+01:00";

#[test]
fn rfc3339_with_lookback_in_utc() {
    let url = url_for(
        "{ param = \"updated_since\", format = \"rfc3339\", lookback_seconds = 60 }",
        Some(SINCE),
    );
    assert_eq!(
        url.expect("lists"),
        "https://acme.example/api/jobs?updated_since=2026-03-01T08%3A59%3A30Z"
    );
}

#[test]
fn unix_seconds_and_milliseconds() {
    let url =
        url_for("{ param = \"since\", format = \"unix\", lookback_seconds = 30 }", Some(SINCE));
    // 2026-03-01T09:00:30.5Z - 30 s = 09:00:00.5Z
    assert_eq!(url.expect("lists"), "https://acme.example/api/jobs?since=1772355600");
    let url =
        url_for("{ param = \"since\", format = \"unix-ms\", lookback_seconds = 30 }", Some(SINCE));
    assert_eq!(url.expect("lists"), "https://acme.example/api/jobs?since=1772355600500");
}

#[test]
fn date_with_a_lookback_across_midnight() {
    let url = url_for(
        "{ param = \"from\", format = \"date\", lookback_seconds = 86400 }",
        Some("2026-03-01T00:10:00Z"),
    );
    assert_eq!(url.expect("lists"), "https://acme.example/api/jobs?from=2026-02-28");
}

#[test]
fn without_since_the_parameter_is_left_out() {
    let url = url_for("{ param = \"updated_since\" }", None);
    assert_eq!(url.expect("lists"), "https://acme.example/api/jobs");
}

#[test]
fn since_in_a_template_and_an_invalid_since() {
    let m = manifest(&jobs_op(
        "method = \"POST\"\nbody = { json = { filter = { modified_after = \"{{since}}\" } } }\nincremental = { format = \"unix\" }",
    ));
    let mut fake = Fake::new().json(200, json!({"jobs": []}));
    executor(&m)
        .list(&mut fake, "list-jobs", None, Some("1970-01-02T00:00:00Z"), &json!({}))
        .expect("lists");
    assert_eq!(fake.body_json(0), json!({"filter": {"modified_after": "86400"}}));
    let error = url_for("{ param = \"since\" }", Some("last tuesday")).expect_err("not RFC 3339");
    assert!(matches!(error, DeclError::InvalidInput(_)));
}
