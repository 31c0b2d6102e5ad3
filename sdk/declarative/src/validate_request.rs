//! Semantic checks of one request (an operation's, a session login, a dedupe update): the
//! method against the body, every path alternative, query and header templates, and the
//! body (exactly one kind; JSON leaves, form fields, multipart parts and text as templates).

use crate::spec::{BodySpec, Method, RequestSpec};
use crate::template::Scope;
use crate::tree::KeyPath;
use crate::validate::Checker;
use serde_json::Value;

/// Checks a request: method, paths, query, headers, body. `default_method` is the method
/// used when the manifest gives none.
pub(crate) fn request(
    c: &mut Checker<'_>,
    path: &KeyPath,
    spec: &RequestSpec,
    scope: &Scope<'_>,
    default_method: Method,
) {
    if spec.path.0.is_empty() || spec.path.0.len() > 8 {
        c.error(path.key("path"), "give one path, or a list of 1 to 8 alternatives (the first whose variables all have values is used)");
    }
    for (i, text) in spec.path.0.iter().enumerate() {
        let at = if spec.path.0.len() == 1 { path.key("path") } else { path.key("path").index(i) };
        if !(text.starts_with('/')
            || text.starts_with("http://")
            || text.starts_with("https://")
            || text.starts_with("{{"))
        {
            c.error(
                at.clone(),
                format!("path `{text}` must start with `/` (or be an absolute http(s) URL)"),
            );
        }
        c.template(at, text, scope);
    }
    for (name, value) in &spec.query {
        c.template(path.key("query").key(name), value, scope);
    }
    for (name, value) in &spec.headers {
        c.header_name(path.key("headers").key(name), name);
        c.template(path.key("headers").key(name), value, scope);
    }
    if let Some(body) = &spec.body {
        if spec.method.unwrap_or(default_method) == Method::Get {
            c.error(
                path.key("body"),
                "a GET request has no body; set method = \"POST\" (or PUT, PATCH)",
            );
        }
        self::body(c, &path.key("body"), body, scope);
    }
}

fn body(c: &mut Checker<'_>, path: &KeyPath, spec: &BodySpec, scope: &Scope<'_>) {
    let kinds =
        [spec.json.is_some(), spec.form.is_some(), spec.multipart.is_some(), spec.text.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        c.error(path.clone(), "a body is exactly one of json = {...}, form = {...}, multipart = [...] or text = \"...\"");
    }
    if spec.multipart.is_some() && spec.content_type.is_some() {
        c.error(
            path.key("content_type"),
            "a multipart body sets its own content type (with the boundary)",
        );
    }
    if let Some(json) = &spec.json {
        json_templates(c, &path.key("json"), json, scope);
    }
    for (name, value) in spec.form.iter().flatten() {
        c.template(path.key("form").key(name), value, scope);
    }
    if let Some(text) = &spec.text {
        c.template(path.key("text"), text, scope);
    }
    for (i, part) in spec.multipart.iter().flatten().enumerate() {
        let at = path.key("multipart").index(i);
        if part.name.is_empty() {
            c.error(at.key("name"), "every part needs a name");
        }
        match (&part.value, &part.file) {
            (Some(value), None) => {
                c.template(at.key("value"), value, scope);
                for (key, set) in [
                    ("filename", part.filename.is_some()),
                    ("content_type", part.content_type.is_some()),
                ] {
                    if set {
                        c.error(at.key(key), format!("`{key}` is for file parts (with `file`)"));
                    }
                }
            }
            (None, Some(file)) => {
                let variable = format!("{{{{{file}}}}}");
                c.template(at.key("file"), &variable, scope);
                for (key, text) in
                    [("filename", &part.filename), ("content_type", &part.content_type)]
                {
                    if let Some(text) = text {
                        c.template(at.key(key), text, scope);
                    }
                }
            }
            _ => c.error(
                at,
                "a part has either value = \"<template>\" or file = \"input.content\", not both",
            ),
        }
    }
}

/// Every string leaf of a JSON body is a template.
fn json_templates(c: &mut Checker<'_>, path: &KeyPath, value: &Value, scope: &Scope<'_>) {
    match value {
        Value::String(text) => c.template(path.clone(), text, scope),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_templates(c, &path.index(i), item, scope);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                json_templates(c, &path.key(key), item, scope);
            }
        }
        _ => {}
    }
}
