//! Manifest errors name their line, column and key path, and all semantic errors are
//! reported at once.

use crate::common::manifest_text;
use ats_declarative::{Manifest, ManifestError};

fn errors(text: &str) -> Vec<ManifestError> {
    Manifest::parse(text).expect_err("the manifest is invalid").errors
}

fn find<'a>(errors: &'a [ManifestError], path: &str) -> &'a ManifestError {
    errors
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no error at `{path}` in {errors:#?}"))
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in text") + 1
}

#[test]
fn a_syntax_error_names_line_column_and_table() {
    let text = manifest_text("[operations.list-jobs]\npath = \"/api/jobs\"\nrecords = jobs\n");
    let errors = errors(&text);
    assert_eq!(errors.len(), 1);
    let error = &errors[0];
    assert_eq!(error.line, line_of(&text, "records = jobs"));
    assert_eq!(error.column, 11);
    assert_eq!(error.path, "operations.list-jobs");
    assert!(!error.message.is_empty());
}

#[test]
fn several_semantic_errors_are_reported_together() {
    let text = manifest_text(
        r#"
[operations.list-jbos]
path = "/api/jobs"

[operations.list-jobs]
path = "/api/jobs"
query = { key = "{{config.token}}" }
paginate = { kind = "cursor", param = "cursor" }
fields = { id = "id", title = { path = "name", transform = ["reverse"] } }

[operations.list-applications]
path = "/api/applications"
fields = { id = "id" }

[operations.check]
result = { display_name = "name" }

[operations.add-note]
method = "FETCH"
path = "/notes"
"#,
    );
    let text = text.replace(
        r#"egress_hosts = ["{base-url}"]"#,
        r#"egress_hosts = ["{base-url}", "https://api.acme.example/v1", "{tenant}.acme.example"]"#,
    );
    let errors = errors(&text);

    let unknown = find(&errors, "operations.list-jbos");
    assert_eq!(unknown.line, line_of(&text, "[operations.list-jbos]"));
    assert!(
        unknown.message.contains("unknown operation `list-jbos`; did you mean `list-jobs`?"),
        "{}",
        unknown.message
    );

    let config = find(&errors, "operations.list-jobs.query.key");
    assert_eq!(config.line, line_of(&text, "config.token"));
    assert!(config.message.contains("config.token"), "{}", config.message);

    let token = find(&errors, "operations.list-jobs.paginate.token_path");
    assert_eq!(token.line, line_of(&text, "kind = \"cursor\""));
    assert!(token.message.contains("needs `token_path`"), "{}", token.message);

    let transform = find(&errors, "operations.list-jobs.fields.title.transform[0]");
    assert!(transform.message.contains("unknown transform `reverse`"), "{}", transform.message);
    assert_eq!(transform.line, line_of(&text, "reverse"));

    let records = find(&errors, "operations.list-applications.records");
    assert!(records.message.contains("needs `records`"), "{}", records.message);
    assert_eq!(records.line, line_of(&text, "[operations.list-applications]"));

    let path = find(&errors, "operations.check.path");
    assert!(path.message.contains("unsupported"), "{}", path.message);

    let method = find(&errors, "operations.add-note.method");
    assert_eq!(method.line, line_of(&text, "FETCH"));
    assert_eq!(method.column, 10);
    assert!(method.message.contains("FETCH"), "{}", method.message);

    let with_path = find(&errors, "connector.egress_hosts[1]");
    assert!(with_path.message.contains("not a host"), "{}", with_path.message);
    let undeclared = find(&errors, "connector.egress_hosts[2]");
    assert!(undeclared.message.contains("{tenant}"), "{}", undeclared.message);

    // In the order of the text.
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn an_unknown_key_is_located_at_the_key() {
    let text = manifest_text(
        "[operations.list-jobs]\npath = \"/api/jobs\"\nrecords = \"jobs\"\npagnate = { kind = \"none\" }\nfields = { id = \"id\" }\n",
    );
    let errors = errors(&text);
    let error = find(&errors, "operations.list-jobs.pagnate");
    assert_eq!((error.line, error.column), (line_of(&text, "pagnate"), 1));
    assert!(error.message.contains("unknown field `pagnate`"), "{}", error.message);
}

#[test]
fn wrong_types_and_missing_keys_are_located() {
    let text = manifest_text(
        "[operations.list-jobs]\npath = \"/api/jobs\"\nrecords = \"jobs\"\npage_size = \"ten\"\nfields = { id = \"id\" }\n[operations.move-application]\npath = \"/x\"\nmethod = \"POST\"\ndedupe = { update = { path = \"/y\" } }\n",
    );
    let errors = errors(&text);
    let size = find(&errors, "operations.list-jobs.page_size");
    assert_eq!(size.line, line_of(&text, "page_size"));
    let lookup = find(&errors, "operations.move-application.dedupe.lookup");
    assert!(lookup.message.contains("missing field `lookup`"), "{}", lookup.message);
    assert_eq!(lookup.line, line_of(&text, "dedupe"));
}

#[test]
fn auth_kinds_name_missing_and_misplaced_keys() {
    let text = manifest_text(
        "[auth]\nkind = \"oauth2-client-credentials\"\ntoken_url = \"https://login.acme.example/token\"\nclient_id = \"{{config.user}}\"\ntoken = \"x\"\n",
    );
    let errors = errors(&text);
    assert!(find(&errors, "auth.client_secret").message.contains("needs `client_secret`"));
    assert!(find(&errors, "auth.token").message.contains("does not apply"));
}

#[test]
fn templates_filters_and_mappings_are_checked() {
    let text = manifest_text(
        r#"[operations.list-jobs]
path = "/api/jobs/{{input.job_id}}"
headers = { x-a = "{{config.api-key|rot13}}", x-b = "{{record.id}}", x-c = "{{session.token}}" }
records = "jobs"
fields = { id = "id", colour = "c", status = { path = "s", map = { live = "running" } }, raw = "x" }
"#,
    );
    let errors = errors(&text);
    assert!(find(&errors, "operations.list-jobs.path").message.contains("no `job_id`"));
    assert!(
        find(&errors, "operations.list-jobs.headers.x-a")
            .message
            .contains("unknown filter `rot13`")
    );
    assert!(find(&errors, "operations.list-jobs.headers.x-b").message.contains("record"));
    assert!(find(&errors, "operations.list-jobs.headers.x-c").message.contains("session"));
    assert!(
        find(&errors, "operations.list-jobs.fields.colour").message.contains("no field `colour`")
    );
    assert!(
        find(&errors, "operations.list-jobs.fields.status.map.live")
            .message
            .contains("`running` is not one of")
    );
    assert!(find(&errors, "operations.list-jobs.fields.raw").message.contains("raw"));
}

#[test]
fn not_declarable_and_unsupported_with_extras() {
    let text = manifest_text(
        "[operations.parse-webhook]\npath = \"/x\"\n[operations.add-tag]\nunsupported = \"no tags\"\npath = \"/tags\"\n",
    );
    let errors = errors(&text);
    assert!(find(&errors, "operations.parse-webhook").message.contains("[webhook]"));
    assert!(find(&errors, "operations.add-tag.unsupported").message.contains("only `unsupported`"));
}

#[test]
fn errors_display_with_their_location() {
    let text = manifest_text("[operations.list-jobs]\nmethod = \"GET\"\n");
    let rendered = Manifest::parse(&text).expect_err("invalid").to_string();
    assert!(rendered.contains("operations.list-jobs.path"), "{rendered}");
    assert!(
        rendered.contains(&format!("line {}", line_of(&text, "[operations.list-jobs]"))),
        "{rendered}"
    );
}

#[test]
fn a_missing_connector_table_and_unknown_sections() {
    let errors = errors("[conector]\nid = \"x\"\n");
    assert!(find(&errors, "conector").message.contains("unknown section"));
    assert!(find(&errors, "connector").message.contains("missing"));
}

#[test]
fn gaps_are_read_with_their_reasons_and_an_unknown_or_unexplained_gap_is_refused() {
    let text = manifest_text(
        "[gaps]\nphone_lookup = \"filters by e-mail only\"\njob_since_filter = \"no filter\"\n",
    );
    let manifest = Manifest::parse(&text).expect("valid");
    assert_eq!(
        manifest.gaps().declared(),
        vec![("job_since_filter", "no filter"), ("phone_lookup", "filters by e-mail only")]
    );
    let compact = Manifest::from_compact(&manifest.to_compact().expect("compiles")).expect("reads");
    assert_eq!(compact.gaps(), manifest.gaps(), "the compiled form keeps the gaps");

    let text = manifest_text("[gaps]\nphone_lookups = \"typo\"\nphone_lookup = \" \"\n");
    let found = errors(&text);
    let unknown = find(&found, "gaps.phone_lookups");
    assert_eq!(unknown.line, line_of(&text, "phone_lookups"));
    assert!(unknown.message.contains("phone_lookup"), "names the known keys: {}", unknown.message);
    let text = manifest_text("[gaps]\nphone_lookup = \" \"\n");
    let found = errors(&text);
    assert!(find(&found, "gaps.phone_lookup").message.contains("say why"), "{found:#?}");
}
