//! Templates: every filter, page variables, parameters that render empty, alternative
//! paths.

use crate::common::{Fake, executor, manifest};
use ats_declarative::DeclError;
use serde_json::json;

#[test]
fn every_filter() {
    let m = manifest(
        r#"[operations.add-note]
method = "POST"
path = "/api/notes/{{input.target.candidate|url}}"
query = { lower = "{{input.body|lower}}", upper = "{{input.body|upper}}", none = "{{input.target.application}}", fallback = "{{input.target.application|default:n/a}}" }
headers = { x-b64 = "{{config.user|base64}}", x-json = "{{input.target|json}}", x-pick = "{{input.target|pick:candidate|json}}" }
body = { json = { text = "{{input.body}}" } }
"#,
    );
    let input = json!({"target": {"candidate": "a/b c"}, "body": "Hi There"});
    let mut fake = Fake::new().json(201, json!({}));
    executor(&m).one(&mut fake, "add-note", &input).expect("adds");
    let request = fake.last();
    assert_eq!(
        request.url,
        "https://acme.example/api/notes/a%2Fb%20c?fallback=n%2Fa&lower=hi%20there&upper=HI%20THERE"
    );
    assert_eq!(request.header("x-b64"), Some("YW5u"));
    assert_eq!(request.header("x-json"), Some(r#"{"candidate":"a/b c"}"#));
    assert_eq!(request.header("x-pick"), Some(r#"{"candidate":"a/b c"}"#));
    assert_eq!(fake.body_json(0), json!({"text": "Hi There"}));
}

#[test]
fn page_variables_in_templates() {
    let m = manifest(
        r#"[operations.list-jobs]
method = "POST"
path = "/api/jobs/search"
records = "hits"
fields = { id = "id" }
page_size = 25
paginate = { kind = "cursor", param = "after", token_path = "next" }
body = { json = { size = "{{page.size}}", after = "{{page.token}}" } }
"#,
    );
    let mut fake = Fake::new()
        .json(200, json!({"hits": [{"id": 1}], "next": "n1"}))
        .json(200, json!({"hits": []}));
    let executor = executor(&m);
    let page = executor.list(&mut fake, "list-jobs", None, None, &json!({})).expect("first");
    executor
        .list(&mut fake, "list-jobs", page.next_page_token.as_deref(), None, &json!({}))
        .expect("second");
    assert_eq!(fake.body_json(0), json!({"size": 25, "after": null}));
    assert_eq!(fake.body_json(1), json!({"size": 25, "after": "n1"}));
    assert_eq!(fake.requests[1].url, "https://acme.example/api/jobs/search?after=n1");
}

#[test]
fn the_first_path_whose_variables_all_have_values_is_used() {
    let m = manifest(
        r#"[operations.add-tag]
method = "POST"
path = ["/api/candidates/{{input.target.candidate|url}}/tags", "/api/applications/{{input.target.application|url}}/tags"]
body = { json = { tag = "{{input.tag}}" } }
"#,
    );
    let executor = executor(&m);
    let mut fake = Fake::new().json(201, json!({})).json(201, json!({}));
    executor
        .one(&mut fake, "add-tag", &json!({"target": {"candidate": "c1"}, "tag": "t"}))
        .expect("candidate");
    executor
        .one(&mut fake, "add-tag", &json!({"target": {"application": "a1"}, "tag": "t"}))
        .expect("application");
    assert_eq!(fake.requests[0].url, "https://acme.example/api/candidates/c1/tags");
    assert_eq!(fake.requests[1].url, "https://acme.example/api/applications/a1/tags");
    let error = executor
        .one(&mut fake, "add-tag", &json!({"target": {}, "tag": "t"}))
        .expect_err("no path applies");
    assert!(
        matches!(&error, DeclError::InvalidInput(m) if m.contains("no request path applies")),
        "{error:?}"
    );
}

#[test]
fn header_injection_and_bad_urls_are_refused() {
    let m = manifest(
        r#"[operations.add-note]
method = "POST"
path = "/notes"
headers = { x-note = "{{input.body}}" }
"#,
    );
    let error = executor(&m).one(&mut Fake::new(), "add-note", &json!({"body": "a\r\nX-Evil: 1"}));
    assert!(matches!(error, Err(DeclError::InvalidInput(_))), "{error:?}");
    let config = vec![("base-url".to_string(), "ftp://acme.example".to_string())];
    let executor = ats_declarative::Executor::new(&m, &config).expect("config");
    let error = executor.one(&mut Fake::new(), "add-note", &json!({"body": "x"}));
    assert!(matches!(error, Err(DeclError::InvalidInput(_))), "{error:?}");
}
