//! Semantic checks of `[operations.<name>]`: the name, `unsupported`, the base URL,
//! `records`/`record`, pagination keys per kind, `incremental`, `dedupe`, and every field
//! mapping against the contract's record types (the request itself is
//! [`crate::validate_request`]'s).

use crate::limits::{MAX_FIELD_NESTING, MAX_MAX_PAGES, MAX_TRANSFORMS};
use crate::manifest::Manifest;
use crate::schema::{self, CallKind, FieldType, Mapping, NOT_DECLARABLE, OPERATIONS, RecordDef};
use crate::spec::{FieldSpec, Method, OperationSpec, PaginateKind, PaginateSpec, RequestSpec};
use crate::template::Scope;
use crate::transform::Transform;
use crate::tree::KeyPath;
use crate::validate::Checker;
use serde_json::Value;
use std::collections::BTreeMap;

/// Checks every operation.
pub(crate) fn operations(c: &mut Checker<'_>, manifest: &Manifest) {
    for (name, spec) in &manifest.operations {
        let path = KeyPath::root().key("operations").key(name);
        let Some(def) = schema::operation(name) else {
            let message = match NOT_DECLARABLE.iter().find(|(n, _)| n == name) {
                Some((_, reason)) => (*reason).to_string(),
                None => match OPERATIONS.iter().find(|op| edit_distance(op.name, name) <= 2) {
                    Some(near) => {
                        format!("unknown operation `{name}`; did you mean `{}`?", near.name)
                    }
                    None => format!(
                        "unknown operation `{name}`; the contract's operations are {}",
                        OPERATIONS.iter().map(|op| op.name).collect::<Vec<_>>().join(", ")
                    ),
                },
            };
            c.error(path, message);
            continue;
        };
        if let Some(reason) = &spec.unsupported {
            unsupported(c, &path, spec, reason);
            continue;
        }
        let names = c.config_names.clone();
        let scope = Scope {
            config_fields: Some(&names),
            input: Some(def.input),
            record: false,
            session: c.session,
            matched: false,
        };
        let Some(paths) = &spec.path else {
            c.error(
                path.key("path"),
                "`path` is missing: give the request path (e.g. path = \"/api/jobs\") or declare the operation unsupported = \"<why>\"",
            );
            continue;
        };
        let request = RequestSpec {
            method: spec.method,
            path: paths.clone(),
            query: spec.query.clone(),
            headers: spec.headers.clone(),
            body: spec.body.clone(),
        };
        crate::validate_request::request(c, &path, &request, &scope, Method::Get);
        if let Some(base) = &spec.base_url {
            c.template(path.key("base_url"), base, &scope);
        }
        let absolute =
            paths.0.iter().all(|p| p.starts_with("http://") || p.starts_with("https://"));
        if spec.base_url.is_none() && manifest.defaults.base_url.is_none() && !absolute {
            c.error(
                path.key("path"),
                "no base URL: set [defaults] base_url (e.g. \"{{config.base-url}}\"), this operation's base_url, or an absolute path",
            );
        }
        shape(c, &path, spec, def.call);
        let (mapping, key) = match def.mapped_with {
            Mapping::Fields => (&spec.fields, "fields"),
            Mapping::Result => (&spec.result, "result"),
        };
        let (wrong, wrong_key) = match def.mapped_with {
            Mapping::Fields => (&spec.result, "result"),
            Mapping::Result => (&spec.fields, "fields"),
        };
        if !wrong.is_empty() {
            c.error(
                path.key(wrong_key),
                format!("{name} maps its answer with `{key}`, not `{wrong_key}`"),
            );
        }
        if def.mapped_with == Mapping::Fields
            && def.output.field("id").is_some()
            && !mapping.contains_key("id")
        {
            c.error(
                path.key("fields").key("id"),
                format!("map at least `id` of the {}, e.g. id = \"id\"", def.output.name),
            );
        }
        let field_scope = Scope { record: true, ..scope };
        fields(c, &path.key(key), mapping, def.output, &field_scope, 0);
        if let Some(dedupe) = &spec.dedupe {
            let dedupe_path = path.key("dedupe");
            if name != "upsert-candidate" {
                c.error(dedupe_path.clone(), "only upsert-candidate can dedupe");
            }
            let lookup_ok = schema::operation(&dedupe.lookup)
                .is_some_and(|op| op.call == CallKind::List)
                && manifest
                    .operations
                    .get(&dedupe.lookup)
                    .is_some_and(|op| op.unsupported.is_none());
            if !lookup_ok {
                c.error(
                    dedupe_path.key("lookup"),
                    format!(
                        "`{}` must be a list operation declared in this manifest (and not unsupported), usually \"find-candidates\": it is called with {{\"email\": ...}} or {{\"phone\": ...}}",
                        dedupe.lookup
                    ),
                );
            }
            let update_scope = Scope { matched: true, ..scope };
            crate::validate_request::request(
                c,
                &dedupe_path.key("update"),
                &dedupe.update,
                &update_scope,
                Method::Patch,
            );
        }
    }
}

fn unsupported(c: &mut Checker<'_>, path: &KeyPath, spec: &OperationSpec, reason: &str) {
    if reason.trim().is_empty() {
        c.error(
            path.key("unsupported"),
            "give the reason, e.g. unsupported = \"Acme has no tags API\"",
        );
    }
    let others = OperationSpec { unsupported: None, ..spec.clone() };
    let has_more = others.method.is_some()
        || others.path.is_some()
        || others.base_url.is_some()
        || !others.query.is_empty()
        || !others.headers.is_empty()
        || others.body.is_some()
        || others.records.is_some()
        || others.record.is_some()
        || others.paginate.is_some()
        || others.incremental.is_some()
        || others.page_size.is_some()
        || !others.fields.is_empty()
        || !others.result.is_empty()
        || others.dedupe.is_some();
    if has_more {
        c.error(path.key("unsupported"), "an unsupported operation has only `unsupported`; remove the other keys or remove `unsupported`");
    }
}

/// Keys that depend on whether the operation is a list.
fn shape(c: &mut Checker<'_>, path: &KeyPath, spec: &OperationSpec, call: CallKind) {
    match call {
        CallKind::List => {
            match &spec.records {
                Some(records) => c.selector(path.key("records"), records),
                None => c.error(
                    path.key("records"),
                    "a list operation needs `records`: the selector of the list in the answer, e.g. records = \"data.items\" (\"\" = the body itself)",
                ),
            }
            if spec.record.is_some() {
                c.error(path.key("record"), "`record` is for single reads; a list uses `records`");
            }
            if let Some(paginate) = &spec.paginate {
                self::paginate(c, &path.key("paginate"), paginate);
            }
            if let Some(incremental) = &spec.incremental {
                if incremental.param.as_deref().is_some_and(str::is_empty) {
                    c.error(
                        path.key("incremental").key("param"),
                        "param is empty; name the query parameter, e.g. \"updated_since\"",
                    );
                }
                if incremental.lookback_seconds > 30 * 86_400 {
                    c.error(
                        path.key("incremental").key("lookback_seconds"),
                        "lookback_seconds is at most 2592000 (30 days)",
                    );
                }
            }
            c.page_size(path.key("page_size"), spec.page_size);
        }
        CallKind::Single => {
            for (key, present) in [
                ("records", spec.records.is_some()),
                ("paginate", spec.paginate.is_some()),
                ("incremental", spec.incremental.is_some()),
                ("page_size", spec.page_size.is_some()),
            ] {
                if present {
                    c.error(
                        path.key(key),
                        format!("`{key}` is for list operations; this one answers one record"),
                    );
                }
            }
            if let Some(record) = &spec.record {
                c.selector(path.key("record"), record);
            }
        }
    }
}

fn paginate(c: &mut Checker<'_>, path: &KeyPath, spec: &PaginateSpec) {
    let (needs, takes): (&[&str], &[&str]) = match spec.kind {
        PaginateKind::None => (&[], &[]),
        PaginateKind::PageNumber => {
            (&[], &["param", "start", "size_param", "max_pages", "more_path", "done_path"])
        }
        PaginateKind::Offset => {
            (&[], &["param", "size_param", "max_pages", "more_path", "done_path"])
        }
        PaginateKind::Cursor => {
            (&["token_path"], &["param", "size_param", "max_pages", "more_path", "done_path"])
        }
        PaginateKind::LinkHeader => (&[], &["size_param", "max_pages", "more_path", "done_path"]),
        PaginateKind::NextUrl => {
            (&["path"], &["size_param", "max_pages", "more_path", "done_path"])
        }
    };
    let kind = format!("\"{}\"", spec.kind.name());
    let set = [
        ("param", spec.param.as_deref()),
        ("start", spec.start.map(|_| "")),
        ("size_param", spec.size_param.as_deref()),
        ("token_path", spec.token_path.as_deref()),
        ("path", spec.path.as_deref()),
        ("max_pages", spec.max_pages.map(|_| "")),
        ("more_path", spec.more_path.as_deref()),
        ("done_path", spec.done_path.as_deref()),
    ];
    let hint = |key: &str| match key {
        "param" => "the query parameter the page value is sent in, e.g. param = \"cursor\"",
        "token_path" => {
            "where the next cursor is in the answer, e.g. token_path = \"meta.next_cursor\""
        }
        _ => "where the next page's URL is in the answer, e.g. path = \"links.next\"",
    };
    for (key, value) in set {
        match value {
            Some(_) if !needs.contains(&key) && !takes.contains(&key) => {
                c.error(path.key(key), format!("`{key}` does not apply to paginate kind {kind}"));
            }
            None if needs.contains(&key) => {
                c.error(
                    path.key(key),
                    format!("paginate kind {kind} needs `{key}`: {}", hint(key)),
                );
            }
            Some("") if key != "start" && key != "max_pages" => {
                c.error(path.key(key), format!("`{key}` is empty"));
            }
            _ => {}
        }
    }
    let selectors = [
        ("token_path", &spec.token_path),
        ("path", &spec.path),
        ("more_path", &spec.more_path),
        ("done_path", &spec.done_path),
    ];
    for (key, selector) in selectors {
        if let Some(selector) = selector {
            c.selector(path.key(key), selector);
        }
    }
    if spec.max_pages.is_some_and(|max| max == 0 || max > MAX_MAX_PAGES) {
        c.error(path.key("max_pages"), format!("max_pages must be between 1 and {MAX_MAX_PAGES}"));
    }
}

/// Checks a top-level field mapping (outside operations, e.g. `[webhook] fields`).
pub(crate) fn check_fields(
    c: &mut Checker<'_>,
    path: &KeyPath,
    mapping: &BTreeMap<String, FieldSpec>,
    def: &RecordDef,
    scope: &Scope<'_>,
) {
    fields(c, path, mapping, def, scope, 0);
}

/// Checks a field mapping against `def`.
fn fields(
    c: &mut Checker<'_>,
    path: &KeyPath,
    fields: &BTreeMap<String, FieldSpec>,
    def: &RecordDef,
    scope: &Scope<'_>,
    depth: usize,
) {
    for (name, spec) in fields {
        let at = path.key(name);
        if name == "raw" && def.has_raw {
            c.error(at, "`raw` is always the remote record's JSON text; leave it out");
            continue;
        }
        let kind = match name.split_once('.') {
            None => def.field(name),
            Some((top, nested)) => match def.field(top) {
                Some(FieldType::Record(sub)) => sub.field(nested),
                _ => None,
            },
        };
        let Some(kind) = kind else {
            c.error(
                at,
                format!(
                    "the {} record has no field `{name}`; its fields are {}",
                    def.name,
                    def.field_names().join(", ")
                ),
            );
            continue;
        };
        field(c, &at, spec, kind, scope, depth);
    }
}

fn field(
    c: &mut Checker<'_>,
    at: &KeyPath,
    spec: &FieldSpec,
    kind: FieldType,
    scope: &Scope<'_>,
    depth: usize,
) {
    let sources = [spec.path.is_some(), spec.template.is_some(), spec.value.is_some()];
    if sources.iter().filter(|s| **s).count() != 1 {
        c.error(
            at.clone(),
            "give exactly one of path = \"<selector>\", template = \"...\" or value = <constant>",
        );
    }
    if let Some(selector) = &spec.path {
        c.selector(at.key("path"), selector);
    }
    if let Some(template) = &spec.template {
        c.template(at.key("template"), template, scope);
    }
    if spec.transform.len() > MAX_TRANSFORMS {
        c.error(at.key("transform"), format!("at most {MAX_TRANSFORMS} transforms"));
    }
    for (i, transform) in spec.transform.iter().enumerate() {
        if let Err(message) = Transform::parse(transform) {
            c.error(at.key("transform").index(i), message);
        }
    }
    if let FieldType::Enum(allowed) = kind {
        let mut check = |path: KeyPath, value: &Value| {
            if let Value::String(text) = value
                && !allowed.contains(&text.as_str())
            {
                c.error(path, format!("`{text}` is not one of {}", allowed.join(", ")));
            }
        };
        for (key, value) in spec.map.iter().flatten() {
            check(at.key("map").key(key), value);
        }
        if let Some(value) = &spec.default {
            check(at.key("default"), value);
        }
        if let Some(value) = &spec.value {
            check(at.key("value"), value);
        }
    }
    if let Some(each) = &spec.each {
        match kind {
            FieldType::Records(sub) if depth < MAX_FIELD_NESTING => {
                fields(c, &at.key("each"), each, sub, scope, depth + 1);
            }
            FieldType::Records(_) => c.error(at.key("each"), format!("`each` nests at most {MAX_FIELD_NESTING} deep")),
            _ => c.error(at.key("each"), "`each` maps lists of records (answers, links, custom_fields, screening_questions, options)"),
        }
    }
}

/// Levenshtein distance, for "did you mean" (names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
