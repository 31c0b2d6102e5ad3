//! Rendering one HTTP request: the path (the first alternative whose variables all have
//! values), the base URL, the query (`[defaults]` then the operation's, parameters that
//! render empty left out, then pagination and auth), the headers (same merge, no line
//! breaks), the body, and the credentials. URLs must be http(s) and within the length cap.

use crate::auth::Credentials;
use crate::body;
use crate::error::DeclError;
use crate::limits::{MAX_HEADER_VALUE_BYTES, MAX_URL_BYTES};
use crate::manifest::Manifest;
use crate::spec::{BodySpec, Method};
use crate::template::{Context, Template, percent_encode};
use crate::transport::HttpRequest;
use std::collections::BTreeMap;

/// What a request is made of, borrowed from an operation, a login or a dedupe update.
pub(crate) struct RequestParts<'a> {
    pub method: Method,
    pub paths: &'a [String],
    /// The operation's own base URL; `[defaults] base_url` otherwise.
    pub base_url: Option<&'a str>,
    pub query: &'a BTreeMap<String, String>,
    pub headers: &'a BTreeMap<String, String>,
    pub body: Option<&'a BodySpec>,
    /// For messages: "list-jobs", "the session login".
    pub what: &'a str,
}

/// Renders the request. `extra_query` (pagination, incremental) replaces same-named
/// parameters; `next_url`, when following a next-page link, replaces path and query.
pub(crate) fn build(
    manifest: &Manifest,
    parts: &RequestParts<'_>,
    ctx: &Context<'_>,
    extra_query: &[(String, String)],
    next_url: Option<&str>,
    credentials: &Credentials,
) -> Result<HttpRequest, DeclError> {
    let mut url = match next_url {
        Some(url) => url.to_string(),
        None => {
            let path = choose_path(parts, ctx)?;
            let mut url = if path.starts_with("http://") || path.starts_with("https://") {
                path
            } else {
                let base =
                    parts.base_url.or(manifest.defaults.base_url.as_deref()).unwrap_or_default();
                let base = Template::checked(base)?.render_string(ctx)?;
                if base.is_empty() {
                    return Err(DeclError::InvalidInput(format!(
                        "{}: the base URL renders empty; set the config field it uses",
                        parts.what
                    )));
                }
                format!("{}{path}", base.trim_end_matches('/'))
            };
            let mut query: Vec<(String, String)> = Vec::new();
            for (name, template) in manifest.defaults.query.iter().chain(parts.query) {
                let value = Template::checked(template)?.render_string(ctx)?;
                query.retain(|(n, _)| n != name);
                if !value.is_empty() {
                    query.push((name.clone(), value));
                }
            }
            for (name, value) in extra_query {
                query.retain(|(n, _)| n != name);
                query.push((name.clone(), value.clone()));
            }
            append_query(&mut url, &query);
            url
        }
    };
    // A followed next-page link may already carry the key.
    let present: Vec<String> = match next_url.map(url::Url::parse) {
        Some(Ok(next)) => next.query_pairs().map(|(name, _)| name.into_owned()).collect(),
        _ => Vec::new(),
    };
    let auth_query: Vec<(String, String)> =
        credentials.query.iter().filter(|(name, _)| !present.contains(name)).cloned().collect();
    append_query(&mut url, &auth_query);
    check_url(&url)?;

    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, template) in manifest.defaults.headers.iter().chain(parts.headers) {
        let value = Template::checked(template)?.render_string(ctx)?;
        set_header(&mut headers, name, value);
    }
    let body = match parts.body {
        Some(spec) => {
            let rendered = body::build(spec, ctx)?;
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                headers.push(("Content-Type".into(), rendered.content_type));
            }
            Some(rendered.bytes)
        }
        None => None,
    };
    for (name, value) in &credentials.headers {
        set_header(&mut headers, name, value.clone());
    }
    for (name, value) in &headers {
        if value.contains(['\r', '\n']) || value.len() > MAX_HEADER_VALUE_BYTES {
            return Err(DeclError::InvalidInput(format!(
                "{}: header `{name}` renders a line break or more than {MAX_HEADER_VALUE_BYTES} bytes",
                parts.what
            )));
        }
    }
    Ok(HttpRequest { method: parts.method.as_str().to_string(), url, headers, body })
}

/// Replaces a header (ASCII case-insensitive); an empty value removes it.
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    if !value.is_empty() {
        headers.push((name.to_string(), value));
    }
}

/// The first path whose variables all have values, rendered.
fn choose_path(parts: &RequestParts<'_>, ctx: &Context<'_>) -> Result<String, DeclError> {
    let mut missing = Vec::new();
    for text in parts.paths {
        let template = Template::checked(text)?;
        match template.missing_variable(ctx) {
            None => return template.render_string(ctx),
            Some(variable) => missing.push(format!("`{text}` needs {variable}")),
        }
    }
    Err(DeclError::InvalidInput(format!(
        "{}: no request path applies to this input: {}",
        parts.what,
        missing.join("; ")
    )))
}

fn append_query(url: &mut String, query: &[(String, String)]) {
    for (name, value) in query {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&percent_encode(name));
        url.push('=');
        url.push_str(&percent_encode(value));
    }
}

/// An absolute http(s) URL within [`MAX_URL_BYTES`].
pub(crate) fn check_url(url: &str) -> Result<(), DeclError> {
    if url.len() > MAX_URL_BYTES {
        return Err(DeclError::InvalidInput(format!(
            "the request URL is longer than {MAX_URL_BYTES} bytes"
        )));
    }
    // The URL itself stays out of the message: it may carry a key in its query.
    let parsed = url::Url::parse(url)
        .map_err(|e| DeclError::InvalidInput(format!("the request URL is not valid: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(DeclError::InvalidInput(format!(
            "the request URL must be http(s) with a host, not `{}`",
            parsed.scheme()
        )));
    }
    Ok(())
}
