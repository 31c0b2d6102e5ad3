//! The example manifest for the host's sandbox ATS parses, declares what the Rust connector
//! declares (but parse-webhook), and drives a fake of the sandbox's routes.

use crate::common::{Fake, response};
use ats_declarative::{DeclError, Executor, Manifest};
use serde_json::{Value, json};

const SANDBOX: &str = include_str!("../../examples/sandbox.toml");

fn manifest() -> Manifest {
    Manifest::parse(SANDBOX).unwrap_or_else(|errors| panic!("{errors}"))
}

fn config() -> Vec<(String, String)> {
    vec![
        ("base-url".into(), "http://127.0.0.1:7800/".into()),
        ("api-key".into(), "sandbox-demo-key".into()),
    ]
}

#[test]
fn the_example_parses_and_describes_the_sandbox() {
    let manifest = manifest();
    let describe = manifest.describe();
    assert_eq!(describe.ats_name, "Sandbox ATS");
    assert_eq!(describe.egress_hosts, ["{base-url}"]);
    assert_eq!(describe.result_modes, ["score-field", "link-field"]);
    assert!(!describe.application_attachments);
    assert_eq!(describe.config_fields.len(), 3);
    assert!(describe.config_fields[1].secret);
    assert_eq!(
        describe.operations,
        [
            "list-jobs",
            "list-stages",
            "list-applications",
            "get-candidate",
            "find-candidates",
            "upsert-candidate",
            "create-application",
            "move-application",
            "add-note",
            "add-tag",
            "add-attachment",
            "reject-application",
            "write-result",
            "parse-webhook",
            "check",
            "list-tags",
            "list-rejection-reasons",
            "list-users",
            "get-application",
            "remove-tag",
        ]
    );
    assert_eq!(manifest.unsupported().len(), 2);
}

/// The sandbox's answers for the routes the tests use.
fn sandbox(request: &ats_declarative::HttpRequest) -> ats_declarative::HttpResponse {
    let ok = |body: Value| response(200, &[], &body.to_string());
    if request.header("authorization") != Some("Bearer sandbox-demo-key") {
        return response(401, &[], r#"{"error": "missing or invalid API key"}"#);
    }
    let path = request.url.strip_prefix("http://127.0.0.1:7800").unwrap_or(&request.url);
    match (request.method.as_str(), path) {
        ("GET", "/api/jobs?limit=100") => ok(json!({"jobs": [
            {"id": "job-1", "ref": "R-1", "title": "Welder", "status": "open", "city": "Utrecht", "country": "NL",
             "department": "Ops", "recruiter": "r@sandbox.example", "description": "Weld.",
             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"}],
            "next_cursor": "b2Zmc2V0OjE", "total": 2})),
        ("GET", "/api/jobs?limit=100&cursor=b2Zmc2V0OjE") => ok(json!({"jobs": [
            {"id": "job-2", "ref": null, "title": "Baker", "status": "paused", "city": null}],
            "next_cursor": null, "total": 2})),
        ("GET", "/api/jobs/job-1/stages") | ("GET", "/api/stages") => {
            ok(json!({"stages": [{"id": "stage-1", "name": "Applied", "position": 0}]}))
        }
        ("GET", "/api/candidates?email=ann%40x.example") => ok(json!({"candidates": [
            {"id": "cand-7", "first_name": "Ann", "tags": [{"id": "tag-1", "tag": "vip"}]}]})),
        ("GET", _) if path.starts_with("/api/candidates?") => ok(json!({"candidates": []})),
        ("PATCH", "/api/candidates/cand-7") => ok(json!({"id": "cand-7"})),
        ("POST", "/api/candidates") => response(201, &[], r#"{"id": "cand-8"}"#),
        ("POST", "/api/applications/app-1/notes") => response(201, &[], r#"{"id": "note-1"}"#),
        ("DELETE", "/api/candidates/cand-7/tags/vip%20list") => response(204, &[], ""),
        ("GET", "/api/account") => ok(json!({"id": "acct-1", "name": "Sandbox Recruiting B.V."})),
        ("GET", "/api/users") => ok(json!({"users": [
            {"id": "u-3", "first_name": "Olga", "last_name": "Oldhand", "email": null, "active": false},
            {"id": "u-1", "first_name": "Rita", "last_name": "Recruiter", "email": "rita@sandbox.example"}]})),
        ("POST", "/api/applications") => {
            response(409, &[], r#"{"error": "this candidate already applied to this job"}"#)
        }
        _ => response(404, &[], r#"{"error": "no such route"}"#),
    }
}

#[test]
fn lists_jobs_page_by_page_like_the_rust_connector() {
    let manifest = manifest();
    let executor = Executor::new(&manifest, &config()).expect("config");
    let mut fake = Fake::routed(sandbox);
    let first = executor.list(&mut fake, "list-jobs", None, None, &json!({})).expect("page 1");
    let job = &first.items[0];
    assert_eq!(job["id"], "job-1");
    assert_eq!(job["code"], "R-1");
    assert_eq!(job["location"], json!({"text": "Utrecht", "city": "Utrecht", "country": "NL"}));
    assert_eq!(job["assigned_users"], json!(["r@sandbox.example"]));
    assert_eq!(job["updated_at"], "2026-01-02T00:00:00Z");
    let second = executor
        .list(&mut fake, "list-jobs", first.next_page_token.as_deref(), None, &json!({}))
        .expect("page 2");
    assert_eq!(
        second.items[0]["status"], "open",
        "an unknown status is open, as in the Rust connector"
    );
    assert!(second.items[0].get("code").is_none() && second.items[0].get("location").is_none());
    assert_eq!(second.next_page_token, None);
}

#[test]
fn stages_of_a_job_or_the_global_pipeline() {
    let manifest = manifest();
    let executor = Executor::new(&manifest, &config()).expect("config");
    let mut fake = Fake::routed(sandbox);
    let job = executor
        .list(&mut fake, "list-stages", None, None, &json!({"job_id": "job-1"}))
        .expect("job stages");
    assert_eq!(job.items[0]["job_id"], "job-1");
    let global = executor
        .list(&mut fake, "list-stages", None, None, &json!({"job_id": null}))
        .expect("global");
    assert!(global.items[0].get("job_id").is_none());
    assert_eq!(fake.requests[1].url, "http://127.0.0.1:7800/api/stages");
}

#[test]
fn upsert_dedupes_on_email_then_creates() {
    let manifest = manifest();
    let executor = Executor::new(&manifest, &config()).expect("config");
    let mut fake = Fake::routed(sandbox);
    let input = json!({"first_name": "Ann", "last_name": "Lee", "emails": ["ann@x.example"], "phones": [],
                       "custom_fields": [{"name": "grade", "value": "7"}]});
    let matched = executor.one(&mut fake, "upsert-candidate", &input).expect("matched");
    assert_eq!(matched, json!({"candidate_id": "cand-7", "outcome": "matched"}));
    assert_eq!(fake.requests[1].method, "PATCH");
    assert_eq!(fake.body_json(1)["custom_fields"], json!({"grade": "7"}));

    let input = json!({"first_name": "Bo", "last_name": "Ng", "emails": ["bo@x.example"], "phones": ["+31 6"]});
    let created = executor.one(&mut fake, "upsert-candidate", &input).expect("created");
    assert_eq!(created, json!({"candidate_id": "cand-8", "outcome": "created"}));
    let urls: Vec<&str> = fake.requests[2..].iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://127.0.0.1:7800/api/candidates?email=bo%40x.example",
            "http://127.0.0.1:7800/api/candidates?phone=%2B31%206",
            "http://127.0.0.1:7800/api/candidates",
        ]
    );
}

#[test]
fn writes_reads_and_their_errors() {
    let manifest = manifest();
    let executor = Executor::new(&manifest, &config()).expect("config");
    let mut fake = Fake::routed(sandbox);
    let note = executor.one(
        &mut fake,
        "add-note",
        &json!({"target": {"application": "app-1"}, "body": "hi"}),
    );
    assert_eq!(note, Ok(json!({"remote_id": "note-1"})));
    let removed = executor.one(
        &mut fake,
        "remove-tag",
        &json!({"target": {"candidate": "cand-7"}, "tag": "vip list"}),
    );
    assert_eq!(removed, Ok(json!({"remote_id": "cand-7"})));
    let tag = executor.one(
        &mut fake,
        "add-tag",
        &json!({"target": {"application": "app-1"}, "tag": "x"}),
    );
    assert!(matches!(tag, Err(DeclError::InvalidInput(_))), "the sandbox tags candidates only");
    assert_eq!(
        executor.one(&mut fake, "check", &json!({})),
        Ok(json!({"display_name": "Sandbox Recruiting B.V."}))
    );
    let users = executor.list(&mut fake, "list-users", None, None, &json!({})).expect("users");
    assert_eq!(users.items[0]["active"], false);
    assert_eq!(users.items[1]["active"], true, "active defaults to true");
    assert!(users.items[0].get("email").is_none());
    let conflict = executor.one(
        &mut fake,
        "create-application",
        &json!({"candidate_id": "c", "job_id": "j", "answers": []}),
    );
    assert!(matches!(conflict, Err(DeclError::Conflict(_))), "{conflict:?}");
    let missing = executor.one(&mut fake, "get-candidate", &json!({"candidate_id": "nobody"}));
    assert!(matches!(missing, Err(DeclError::NotFound(_))), "{missing:?}");
    let wrong_key = Executor::new(
        &manifest,
        &[("base-url".into(), "http://127.0.0.1:7800".into()), ("api-key".into(), "nope".into())],
    )
    .expect("config")
    .list(&mut fake, "list-jobs", None, None, &json!({}));
    assert!(matches!(wrong_key, Err(DeclError::Unauthorized(_))));
}

#[test]
fn the_compiled_form_reads_back_to_the_same_manifest_and_behaves_the_same() {
    let parsed = manifest();
    let compact = parsed.to_compact().expect("compiles");
    let again = Manifest::from_compact(&compact).expect("reads back");
    assert_eq!(again.to_compact().expect("compiles"), compact, "a fixed point");
    assert_eq!(again.describe(), parsed.describe());
    let run = |m: &Manifest| {
        let mut fake = Fake::routed(sandbox);
        let executor = Executor::new(m, &config()).expect("config");
        executor.list(&mut fake, "list-jobs", None, None, &json!({})).expect("lists").items
    };
    assert_eq!(run(&again), run(&parsed));
    assert!(Manifest::from_compact("{\"connector\": 1}").is_err());
}
