//! JSON bodies with typed leaves, forms, multipart and text bodies.

use crate::common::{Fake, executor, manifest};
use serde_json::json;

#[test]
fn json_leaves_that_are_one_variable_keep_their_type() {
    let m = manifest(
        r#"[operations.upsert-candidate]
method = "POST"
path = "/api/candidates"
result = { candidate_id = "data.id" }

[operations.upsert-candidate.body.json]
first_name = "{{input.first_name}}"
emails = "{{input.emails}}"
name = "{{input.first_name}} {{input.last_name}}"
missing = "{{input.source}}"
fixed = 3
flags = [true, "{{input.custom_fields}}"]
nested = { company = "{{input.company|upper}}", count = "{{input.emails|json}}" }
"#,
    );
    let mut fake = Fake::new().json(201, json!({"data": {"id": 77}}));
    let input = json!({
        "first_name": "Ann", "last_name": "Lee", "emails": ["a@x.example", "b@x.example"],
        "company": "acme", "custom_fields": [{"name": "k", "value": "v"}],
    });
    let result = executor(&m).one(&mut fake, "upsert-candidate", &input).expect("upserts");
    assert_eq!(result, json!({"candidate_id": "77", "outcome": "created"}));
    assert_eq!(fake.last().header("content-type"), Some("application/json"));
    assert_eq!(
        fake.body_json(0),
        json!({
            "first_name": "Ann", "emails": ["a@x.example", "b@x.example"], "name": "Ann Lee",
            "missing": null, "fixed": 3, "flags": [true, [{"name": "k", "value": "v"}]],
            "nested": {"company": "ACME", "count": "[\"a@x.example\",\"b@x.example\"]"},
        })
    );
}

#[test]
fn form_bodies_leave_empty_fields_out() {
    let m = manifest(
        r#"[operations.add-note]
method = "POST"
path = "/notes"
body = { form = { body = "{{input.body}}", target = "{{input.target.candidate}}", app = "{{input.target.application}}" } }
"#,
    );
    let mut fake = Fake::new().json(201, json!({}));
    let receipt = executor(&m)
        .one(&mut fake, "add-note", &json!({"target": {"candidate": "c 1"}, "body": "Hi & bye"}))
        .expect("adds");
    assert_eq!(receipt, json!({}));
    assert_eq!(fake.last().header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(fake.body_text(0), "body=Hi%20%26%20bye&target=c%201");
}

#[test]
fn multipart_bodies_have_a_boundary_and_every_part() {
    let m = manifest(
        r#"[operations.add-attachment]
method = "POST"
path = "/api/files"
result = { remote_id = "id" }
body = { multipart = [
    { name = "file", file = "input.content_base64", filename = "{{input.filename}}", content_type = "{{input.content_type}}" },
    { name = "kind", value = "{{input.kind}}" },
    { name = "empty", value = "{{input.target.application}}" },
] }
"#,
    );
    let mut fake = Fake::new().json(201, json!({"id": "f-1"}));
    let input = json!({
        "target": {"candidate": "c1"}, "filename": "cv.pdf", "content_type": "application/pdf",
        "kind": "cv", "content_base64": "JVBERi0xLjQK",  // base64 of "%PDF-1.4\n"
    });
    let receipt = executor(&m).one(&mut fake, "add-attachment", &input).expect("attaches");
    assert_eq!(receipt, json!({"remote_id": "f-1"}));
    let content_type = fake.last().header("content-type").expect("set").to_string();
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=").expect("multipart");
    assert!(!boundary.is_empty());
    let expected = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ncv\r\n\
         --{boundary}--\r\n"
    );
    assert_eq!(fake.body_text(0), expected);
}

#[test]
fn a_missing_file_is_invalid_input_and_byte_lists_work() {
    let m = manifest(
        r#"[operations.add-attachment]
method = "POST"
path = "/api/files"
body = { multipart = [{ name = "file", file = "input.content" }] }
"#,
    );
    let error = executor(&m).one(&mut Fake::new(), "add-attachment", &json!({}));
    assert!(matches!(error, Err(ats_declarative::DeclError::InvalidInput(_))), "{error:?}");
    let mut fake = Fake::new().json(201, json!({}));
    executor(&m).one(&mut fake, "add-attachment", &json!({"content": [104, 105]})).expect("bytes");
    assert!(
        fake.body_text(0)
            .contains("filename=\"file\"\r\nContent-Type: application/octet-stream\r\n\r\nhi\r\n")
    );
}

#[test]
fn text_bodies_with_their_content_type() {
    let m = manifest(
        r#"[operations.check]
method = "POST"
path = "/graphql"
body = { text = "<whoami user=\"{{config.user}}\"/>", content_type = "application/xml" }
result = { display_name = "name" }
"#,
    );
    let mut fake = Fake::new().raw(200, &[], "{\"name\": \"Acme B.V.\"}");
    let account = executor(&m).one(&mut fake, "check", &json!({})).expect("checks");
    assert_eq!(account, json!({"display_name": "Acme B.V."}));
    assert_eq!(fake.body_text(0), "<whoami user=\"ann\"/>");
    assert_eq!(fake.last().header("content-type"), Some("application/xml"));
}
