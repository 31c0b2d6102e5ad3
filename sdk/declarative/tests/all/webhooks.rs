//! `[webhook]`: events selected and mapped onto change events (unknown kinds skipped), the
//! HMAC-SHA256 signature checked (missing, wrong, or not configured), the reply, and the
//! section's own errors.

use crate::common::{config, manifest_text};
use ats_declarative::{DeclError, Executor, Manifest};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

const WEBHOOK: &str = r#"
[[config]]
name = "webhook-secret"
secret = true

[webhook]
events = "payload.events"
fields.kind = { path = "action", map = { candidate_stage_change = "application-stage-changed", job_updated = "job-changed" } }
fields.remote_id = "subject.id"
fields.occurred_at = { path = "at", transform = "date:unix" }
signature = { header = "Signature", prefix = "sha256 ", secret = "{{config.webhook-secret}}" }
reply = { status = 200, body = "{\"received\":true}" }
"#;

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn parsed_manifest() -> Manifest {
    let text = manifest_text(WEBHOOK);
    Manifest::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn with_secret(secret: &str) -> Vec<(String, String)> {
    let mut config = config();
    config.push(("webhook-secret".into(), secret.into()));
    config
}

fn body() -> Vec<u8> {
    json!({"payload": {"events": [
        {"action": "candidate_stage_change", "subject": {"id": 42}, "at": 1764763200},
        {"action": "prospect_created", "subject": {"id": 7}},
        {"action": "job_updated", "subject": {"id": "job-9"}}
    ]}})
    .to_string()
    .into_bytes()
}

#[test]
fn events_are_mapped_and_unknown_kinds_skipped_after_the_signature_checks() {
    let manifest = parsed_manifest();
    assert!(manifest.operations().contains(&"parse-webhook".to_string()));
    let executor = Executor::new(&manifest, &with_secret("s3cret")).expect("config");
    let body = body();
    let headers = vec![("signature".to_string(), format!("sha256 {}", sign("s3cret", &body)))];
    let parsed = executor.parse_webhook(&headers, &body).expect("parses");
    let kinds: Vec<_> =
        parsed.events.iter().map(|e| (e["kind"].clone(), e["remote_id"].clone())).collect();
    assert_eq!(
        kinds,
        [(json!("application-stage-changed"), json!("42")), (json!("job-changed"), json!("job-9"))]
    );
    assert_eq!(parsed.events[0]["occurred_at"], "2025-12-03T12:00:00Z");
    assert!(
        parsed.events[0]["raw"].as_str().is_some_and(|raw| raw.contains("candidate_stage_change"))
    );
    let reply = parsed.reply.expect("a reply");
    assert_eq!((reply.status, reply.body.as_str()), (200, "{\"received\":true}"));
}

#[test]
fn a_missing_or_wrong_signature_is_unauthorized_and_no_secret_means_no_check() {
    let manifest = parsed_manifest();
    let body = body();
    let executor = Executor::new(&manifest, &with_secret("s3cret")).expect("config");
    for headers in [
        vec![],
        vec![("Signature".to_string(), format!("sha256 {}", sign("other", &body)))],
        vec![("Signature".to_string(), "sha256 not-hex".to_string())],
    ] {
        let error = executor.parse_webhook(&headers, &body).expect_err("refused");
        assert!(matches!(error, DeclError::Unauthorized(_)), "{error:?}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
    let tampered = [&body[..], b" "].concat();
    let headers = vec![("Signature".to_string(), format!("sha256 {}", sign("s3cret", &body)))];
    assert!(
        executor.parse_webhook(&headers, &tampered).is_err(),
        "the body is signed, not the header"
    );

    let unchecked = Executor::new(&manifest, &config()).expect("config");
    assert_eq!(unchecked.parse_webhook(&[], &body).expect("no secret, no check").events.len(), 2);
    let error = unchecked.parse_webhook(&[], b"<xml/>").expect_err("not JSON");
    assert!(matches!(error, DeclError::InvalidInput(_)), "{error:?}");
}

#[test]
fn without_a_webhook_section_parse_webhook_is_unsupported_and_the_section_is_checked() {
    let plain = Manifest::parse(&manifest_text("")).expect("parses");
    assert!(!plain.operations().contains(&"parse-webhook".to_string()));
    let error = Executor::new(&plain, &config()).expect("config").parse_webhook(&[], b"{}");
    assert!(matches!(error, Err(DeclError::Unsupported(_))), "{error:?}");

    let bad = manifest_text(
        "[webhook]\nfields.kind = { path = \"a\", map = { x = \"job-exploded\" } }\nsignature = { header = \"Bad Header\", secret = \"{{config.nope}}\" }\n",
    );
    let errors = Manifest::parse(&bad).expect_err("invalid").to_string();
    for needle in ["job-exploded", "remote_id", "Bad Header", "config.nope"] {
        assert!(errors.contains(needle), "{needle}: {errors}");
    }
    let declared = manifest_text("[operations.parse-webhook]\npath = \"/x\"\n");
    let errors = Manifest::parse(&declared).expect_err("invalid").to_string();
    assert!(errors.contains("[webhook]"), "{errors}");
}
