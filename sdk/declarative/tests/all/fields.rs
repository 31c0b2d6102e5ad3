//! Field mappings: paths, templates, constants, every transform, map/default, nested
//! records, `each`, coercion to the contract's types, and `raw`.

use crate::common::{Fake, executor, manifest};
use serde_json::json;

#[test]
fn every_kind_of_field_mapping() {
    let m = manifest(
        r#"[operations.list-jobs]
path = "/api/jobs"
records = "data.items"

[operations.list-jobs.fields]
id = "id"
code = { path = "ref", transform = ["to-string"] }
title = { path = "title", transform = ["trim"] }
status = { path = "state", map = { published = "open", archived = "closed" }, default = "draft" }
department = { path = "department.name", transform = "uppercase" }
description = { path = "DESC", transform = ["lowercase"] }
"location.text" = { template = "{{record.city}}, {{record.country|upper}}" }
"location.city" = "city"
"location.remote" = { path = "remote", transform = ["to-bool"] }
employment_type = { path = "hours", map = { "40" = "full-time" }, transform = ["to-string"] }
assigned_users = { path = "recruiters", transform = ["split:;"] }
post_url = { template = "{{config.base-url}}/jobs/{{record.id|url}}" }
opened_at = { path = "opened", transform = ["date:%d-%m-%Y"] }
closed_at = { path = "closed_ms", transform = ["date:unix-ms"] }
created_at = { path = "created", transform = ["first", "date:unix"] }
updated_at = { path = "updated", transform = ["date:rfc3339"] }
custom_fields = { path = "extra", transform = ["entries"] }

[operations.list-jobs.fields.screening_questions]
path = "questions"
each = { id = "qid", text = "label", kind = { path = "type", map = { choice = "single-select" } }, required = "mandatory", options = { path = "choices", each = { id = "v", label = "t" } } }
"#,
    );
    let record = json!({
        "id": 17, "ref": 9001, "title": "  Welder ", "state": "published",
        "department": {"name": "ops"}, "DESC": "HELLO", "city": "Utrecht", "country": "nl",
        "remote": "yes", "hours": 40, "recruiters": "a@x.example; b@x.example",
        "opened": "05-11-2026", "closed_ms": 86_400_000, "created": [0, 1], "updated": "2026-01-01T02:00:00+02:00",
        "extra": {"grade": 7},
        "questions": [{"qid": "q1", "label": "Why?", "type": "choice", "mandatory": 1, "choices": [{"v": "a", "t": "A"}]}],
    });
    let mut fake = Fake::new()
        .json(200, json!({"data": {"items": [record.clone(), {"id": "j2", "state": "weird"}]}}));
    let page = executor(&m).list(&mut fake, "list-jobs", None, None, &json!({})).expect("lists");
    let mut first = page.items[0].clone();
    let raw = first.as_object_mut().and_then(|o| o.remove("raw")).expect("raw kept");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(raw.as_str().expect("text")).expect("json"),
        record
    );
    assert_eq!(
        first,
        json!({
            "id": "17", "code": "9001", "title": "Welder", "status": "open", "department": "OPS",
            "description": "hello",
            "location": {"text": "Utrecht, NL", "city": "Utrecht", "remote": true},
            "employment_type": "full-time",
            "assigned_users": ["a@x.example", "b@x.example"],
            "post_url": "https://acme.example/jobs/17",
            "opened_at": "2026-11-05T00:00:00Z", "closed_at": "1970-01-02T00:00:00Z",
            "created_at": "1970-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "custom_fields": [{"name": "grade", "value": "7"}],
            "screening_questions": [{"id": "q1", "text": "Why?", "kind": "single-select", "required": true,
                                     "options": [{"id": "a", "label": "A"}]}],
        })
    );
    let second = &page.items[1];
    assert_eq!(second["id"], "j2");
    assert_eq!(second["status"], "draft", "unmapped value → default");
    assert!(second.get("title").is_none() && second.get("location").is_some(), "{second}");
}

#[test]
fn join_to_number_and_values_that_cannot_be_coerced() {
    let m = manifest(
        r#"[operations.list-stages]
path = "/stages"
records = ""
fields = { id = "id", name = { path = "parts", transform = ["join: / "] }, position = { path = "pos", transform = ["to-number"] }, job_id = { template = "{{input.job_id}}" } }
"#,
    );
    let mut fake = Fake::new()
        .json(200, json!([{"id": 1, "parts": ["Phone", "screen"], "pos": "2"}, {"id": 2, "parts": {"x": 1}, "pos": -1}]));
    let page = executor(&m).list(&mut fake, "list-stages", None, None, &json!({})).expect("lists");
    assert_eq!(page.items[0]["name"], "Phone / screen");
    assert_eq!(page.items[0]["position"], 2);
    assert!(page.items[0].get("job_id").is_none(), "an empty template is left out");
    assert!(page.items[1].get("name").is_none(), "an object is no text");
    assert!(page.items[1].get("position").is_none(), "a position is not negative");
    let page = executor(&m).list(
        &mut Fake::new().json(200, json!([{"id": 1}])),
        "list-stages",
        None,
        None,
        &json!({"job_id": "j9"}),
    );
    assert_eq!(page.expect("lists").items[0]["job_id"], "j9");
}

#[test]
fn single_reads_select_their_record_and_constants_work() {
    let m = manifest(
        r#"[operations.get-candidate]
path = "/api/candidates/{{input.candidate_id|url}}"
record = "data"
fields = { id = "id", first_name = "name.first", emails = "email", source = { value = "import" }, tags = "labels[*].name", "location" = "place" }
"#,
    );
    let mut fake = Fake::new().json(200, json!({"data": {"id": "c/1", "name": {"first": "Ann"}, "email": "a@x.example", "labels": [{"name": "x"}, {"name": "y"}], "place": "Delft"}}));
    let candidate = executor(&m)
        .one(&mut fake, "get-candidate", &json!({"candidate_id": "c/1"}))
        .expect("reads");
    assert_eq!(fake.last().url, "https://acme.example/api/candidates/c%2F1");
    assert_eq!(candidate["first_name"], "Ann");
    assert_eq!(candidate["emails"], json!(["a@x.example"]));
    assert_eq!(candidate["source"], "import");
    assert_eq!(candidate["tags"], json!(["x", "y"]));
    assert_eq!(candidate["location"], json!({"text": "Delft"}));
    let error = executor(&m).one(
        &mut Fake::new().json(200, json!({"data": []})),
        "get-candidate",
        &json!({"candidate_id": "x"}),
    );
    assert!(matches!(error, Err(ats_declarative::DeclError::Remote { .. })), "{error:?}");
}
