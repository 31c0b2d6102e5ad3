//! Every pagination kind across several pages to the end, the repeated-token guard and
//! `max_pages`.

use crate::common::{Fake, executor, jobs_op, manifest, response};
use ats_declarative::{DeclError, Manifest, Page};
use serde_json::{Value, json};

/// Fetches pages until the token runs out; returns the ids and the request URLs.
fn drain(m: &Manifest, fake: &mut Fake) -> Result<(Vec<String>, Vec<String>), DeclError> {
    let executor = executor(m);
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let Page { items, next_page_token } =
            executor.list(fake, "list-jobs", token.as_deref(), None, &json!({}))?;
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap_or_default().to_string()));
        token = next_page_token;
        if token.is_none() {
            break;
        }
    }
    Ok((ids, fake.requests.iter().map(|r| r.url.clone()).collect()))
}

fn page(ids: &[&str]) -> Value {
    json!({ "jobs": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>() })
}

#[test]
fn page_number_stops_on_a_short_page() {
    let m = manifest(&jobs_op(
        "page_size = 2\npaginate = { kind = \"page-number\", param = \"page\", size_param = \"per_page\" }",
    ));
    let mut fake = Fake::new()
        .json(200, page(&["a", "b"]))
        .json(200, page(&["c", "d"]))
        .json(200, page(&["e"]));
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_eq!(
        urls,
        [
            "https://acme.example/api/jobs?per_page=2&page=1",
            "https://acme.example/api/jobs?per_page=2&page=2",
            "https://acme.example/api/jobs?per_page=2&page=3",
        ]
    );
}

#[test]
fn page_number_with_a_start_stops_on_an_empty_page() {
    let m = manifest(&jobs_op("paginate = { kind = \"page-number\", param = \"p\", start = 0 }"));
    let mut fake = Fake::new().json(200, page(&["a"])).json(200, page(&["b"])).json(200, page(&[]));
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b"]);
    assert!(urls[0].ends_with("?p=0") && urls[2].ends_with("?p=2"), "{urls:?}");
}

#[test]
fn offset_advances_by_the_records_returned() {
    let m = manifest(&jobs_op(
        "page_size = 2\nquery = { limit = \"{{page.size}}\", from = \"{{page.offset}}\" }\npaginate = { kind = \"offset\", param = \"offset\", size_param = \"limit\" }",
    ));
    let mut fake =
        Fake::new().json(200, page(&["a", "b"])).json(200, page(&["c", "d"])).json(200, page(&[]));
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b", "c", "d"]);
    assert_eq!(urls[0], "https://acme.example/api/jobs?from=0&limit=2&offset=0");
    assert_eq!(urls[1], "https://acme.example/api/jobs?from=2&limit=2&offset=2");
    assert_eq!(urls[2], "https://acme.example/api/jobs?from=4&limit=2&offset=4");
}

#[test]
fn cursor_pages_until_the_cursor_is_gone() {
    let m = manifest(&jobs_op(
        "paginate = { kind = \"cursor\", param = \"cursor\", token_path = \"meta.next\" }",
    ));
    let mut fake = Fake::new()
        .json(200, json!({"jobs": [{"id": "a"}], "meta": {"next": "c2"}}))
        .json(200, json!({"jobs": [{"id": "b"}], "meta": {"next": "c 3"}}))
        .json(200, json!({"jobs": [{"id": "c"}], "meta": {"next": null}}));
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(
        urls,
        [
            "https://acme.example/api/jobs",
            "https://acme.example/api/jobs?cursor=c2",
            "https://acme.example/api/jobs?cursor=c%203",
        ]
    );
}

#[test]
fn link_header_follows_rel_next_and_resolves_relative_links() {
    let m =
        manifest(&jobs_op("paginate = { kind = \"link-header\" }\nquery = { state = \"open\" }"));
    let mut fake = Fake::new();
    fake.script.push_back(Ok(response(
        200,
        &[(
            "Link",
            "</api/jobs?page=2&state=open>; rel=\"next\", </api/jobs?page=9>; rel=\"last\"",
        )],
        &page(&["a"]).to_string(),
    )));
    fake.script.push_back(Ok(response(
        200,
        &[("link", "<https://acme.example/api/jobs?page=3&state=open>; rel=next")],
        &page(&["b"]).to_string(),
    )));
    fake.script.push_back(Ok(response(
        200,
        &[("Link", "</api/jobs?page=1>; rel=\"first\"")],
        &page(&["c"]).to_string(),
    )));
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(
        urls,
        [
            "https://acme.example/api/jobs?state=open",
            "https://acme.example/api/jobs?page=2&state=open",
            "https://acme.example/api/jobs?page=3&state=open",
        ]
    );
}

#[test]
fn next_url_from_the_body() {
    let m = manifest(&jobs_op("paginate = { kind = \"next-url\", path = \"links.next\" }"));
    let mut fake = Fake::new()
        .json(200, json!({"jobs": [{"id": "a"}], "links": {"next": "https://acme.example/api/jobs?after=a"}}))
        .json(200, json!({"jobs": [{"id": "b"}], "links": {"next": ""}}));
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(urls[1], "https://acme.example/api/jobs?after=a");
}

#[test]
fn a_repeated_cursor_is_an_error() {
    let m = manifest(&jobs_op(
        "paginate = { kind = \"cursor\", param = \"cursor\", token_path = \"next\" }",
    ));
    let mut fake = Fake::new()
        .json(200, json!({"jobs": [{"id": "a"}], "next": "same"}))
        .json(200, json!({"jobs": [{"id": "b"}], "next": "same"}));
    let error = drain(&m, &mut fake).expect_err("loop");
    assert!(
        matches!(&error, DeclError::Remote { body_excerpt, .. } if body_excerpt.contains("pagination loop")),
        "{error:?}"
    );
}

#[test]
fn a_repeated_next_url_is_an_error() {
    let m = manifest(&jobs_op("paginate = { kind = \"next-url\", path = \"next\" }"));
    let mut fake = Fake::new()
        .json(200, json!({"jobs": [{"id": "a"}], "next": "/api/jobs?p=2"}))
        .json(200, json!({"jobs": [{"id": "b"}], "next": "/api/jobs?p=2"}));
    assert!(matches!(drain(&m, &mut fake), Err(DeclError::Remote { .. })));
}

#[test]
fn more_pages_than_max_pages_is_an_error() {
    let m = manifest(&jobs_op(
        "paginate = { kind = \"page-number\", param = \"page\", max_pages = 2 }",
    ));
    let mut fake =
        Fake::new().json(200, page(&["a"])).json(200, page(&["b"])).json(200, page(&["c"]));
    let error = drain(&m, &mut fake).expect_err("too many pages");
    assert!(
        matches!(&error, DeclError::Remote { body_excerpt, .. } if body_excerpt.contains("max_pages = 2")),
        "{error:?}"
    );
    assert_eq!(fake.requests.len(), 2);
}

#[test]
fn no_pagination_is_one_page_and_a_foreign_token_is_invalid_input() {
    let m = manifest(&jobs_op(""));
    let mut fake = Fake::new().json(200, page(&["a", "b"]));
    let (ids, _) = drain(&m, &mut fake).expect("one page");
    assert_eq!(ids, ["a", "b"]);
    let error =
        executor(&m).list(&mut Fake::new(), "list-jobs", Some("offset:50"), None, &json!({}));
    assert!(matches!(error, Err(DeclError::InvalidInput(_))), "{error:?}");
}

#[test]
fn records_that_are_not_a_list_and_missing_records() {
    let m = manifest(&jobs_op(""));
    let mut fake = Fake::new().json(200, json!({"jobs": "nope"})).json(200, json!({"other": []}));
    let error = executor(&m).list(&mut fake, "list-jobs", None, None, &json!({}));
    assert!(matches!(error, Err(DeclError::Remote { status: 200, .. })), "{error:?}");
    let page = executor(&m).list(&mut fake, "list-jobs", None, None, &json!({})).expect("empty");
    assert!(page.items.is_empty() && page.next_page_token.is_none());
}

#[test]
fn a_cursor_in_the_body_goes_on_while_more_path_is_true() {
    let m = manifest(
        "[operations.list-jobs]\nmethod = \"POST\"\npath = \"/api/job.list\"\nrecords = \"results\"\nfields = { id = \"id\" }\nbody = { json = { cursor = \"{{page.token}}\", limit = \"{{page.size}}\" } }\npaginate = { kind = \"cursor\", token_path = \"nextCursor\", more_path = \"moreDataAvailable\" }\n",
    );
    let mut fake = Fake::new()
        .json(200, json!({"results": [{"id": "a"}], "nextCursor": "c2", "moreDataAvailable": true}))
        .json(
            200,
            json!({"results": [{"id": "b"}], "nextCursor": "c3", "moreDataAvailable": false}),
        );
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b"], "stops when moreDataAvailable is false despite a cursor");
    assert_eq!(urls, ["https://acme.example/api/job.list", "https://acme.example/api/job.list"]);
    assert_eq!(fake.body_json(0)["cursor"], Value::Null);
    assert_eq!(fake.body_json(1)["cursor"], "c2", "the cursor travels in the body, not the query");
}

#[test]
fn a_page_number_in_the_path_stops_once_done_path_is_true() {
    let m = manifest(&jobs_op("path = \"/api/jobs/page/{{page.number}}\"\npaginate = { kind = \"page-number\", done_path = \"paginationComplete\" }").replacen("path = \"/api/jobs\"\n", "", 1));
    let mut fake = Fake::new()
        .json(200, json!({"jobs": [{"id": "a"}], "paginationComplete": false}))
        .json(200, json!({"jobs": [{"id": "b"}], "paginationComplete": true}));
    let (ids, urls) = drain(&m, &mut fake).expect("pages");
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(
        urls,
        ["https://acme.example/api/jobs/page/1", "https://acme.example/api/jobs/page/2"]
    );
}
