//! Paging one page per call: the opaque page token (URL-safe base64 of a small JSON state:
//! pages fetched, and the cursor, next URL, page number or offset to use next), the request
//! values of a page, and the decision after it: stop (empty page, short page for
//! page-number/offset, no next token) or go on, guarding against a repeated token and more
//! than `max_pages` pages.

use crate::error::DeclError;
use crate::limits::{DEFAULT_MAX_PAGES, MAX_PAGE_TOKEN_BYTES};
use crate::select::{Document, Json as _, select};
use crate::spec::{PaginateKind, PaginateSpec};
use crate::template::stringify;
use crate::transport::HttpResponse;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a page token carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageState {
    /// Pages fetched before this one.
    #[serde(rename = "n")]
    pub pages: u32,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl PageState {
    pub fn decode(token: Option<&str>) -> Result<Self, DeclError> {
        let Some(token) = token else { return Ok(Self::default()) };
        let malformed = || {
            DeclError::InvalidInput(format!(
                "page token `{}` is not one this connector made",
                short(token)
            ))
        };
        if token.len() > MAX_PAGE_TOKEN_BYTES {
            return Err(malformed());
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| malformed())?;
        serde_json::from_slice(&bytes).map_err(|_| malformed())
    }

    pub fn encode(&self) -> Result<String, DeclError> {
        let json = serde_json::to_vec(self)
            .map_err(|e| DeclError::InvalidInput(format!("cannot encode the page token: {e}")))?;
        let token = URL_SAFE_NO_PAD.encode(json);
        if token.len() > MAX_PAGE_TOKEN_BYTES {
            return Err(DeclError::Remote {
                status: 200,
                body_excerpt: format!(
                    "the ATS's next-page value is longer than {MAX_PAGE_TOKEN_BYTES} bytes"
                ),
            });
        }
        Ok(token)
    }
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The page number (page-number kind) or offset (offset kind) of this request.
pub(crate) fn position(
    spec: Option<&PaginateSpec>,
    state: &PageState,
) -> (Option<u64>, Option<u64>) {
    match spec.map(|s| s.kind) {
        Some(PaginateKind::PageNumber) => {
            let start = spec.and_then(|s| s.start).map_or(1, u64::from);
            (Some(state.page.unwrap_or(start)), None)
        }
        Some(PaginateKind::Offset) => (None, Some(state.offset.unwrap_or(0))),
        _ => (None, None),
    }
}

/// The query parameters pagination adds to this request (not for a followed next URL).
pub(crate) fn query(
    spec: Option<&PaginateSpec>,
    state: &PageState,
    page_size: u32,
) -> Vec<(String, String)> {
    let Some(spec) = spec else { return Vec::new() };
    let mut query = Vec::new();
    if let Some(size_param) = &spec.size_param {
        query.push((size_param.clone(), page_size.to_string()));
    }
    let (page, offset) = position(Some(spec), state);
    let value = match spec.kind {
        PaginateKind::PageNumber => page.map(|p| p.to_string()),
        PaginateKind::Offset => offset.map(|o| o.to_string()),
        PaginateKind::Cursor => state.cursor.clone(),
        _ => None,
    };
    if let (Some(param), Some(value)) = (&spec.param, value) {
        query.push((param.clone(), value));
    }
    query
}

/// What one page's answer says about the next.
pub(crate) struct Answer<'a> {
    pub response: &'a HttpResponse,
    pub body: &'a Document<'a>,
    pub items: usize,
    pub page_size: u32,
    /// The URL this page was fetched from (to resolve relative links, and the guard).
    pub url: &'a str,
}

/// The state for the next page, or `None` when this page was the last.
pub(crate) fn next(
    spec: Option<&PaginateSpec>,
    state: &PageState,
    answer: &Answer<'_>,
) -> Result<Option<PageState>, DeclError> {
    let Some(spec) = spec else { return Ok(None) };
    if answer.items == 0 || !flags_say_go_on(spec, answer.body) {
        return Ok(None);
    }
    let short_page = spec.size_param.is_some() && answer.items < answer.page_size as usize;
    let pages = state.pages.saturating_add(1);
    let mut next = PageState { pages, ..PageState::default() };
    let (page, offset) = position(Some(spec), state);
    match spec.kind {
        PaginateKind::None => return Ok(None),
        PaginateKind::PageNumber | PaginateKind::Offset if short_page => return Ok(None),
        PaginateKind::PageNumber => next.page = page.map(|p| p.saturating_add(1)),
        PaginateKind::Offset => next.offset = offset.map(|o| o.saturating_add(answer.items as u64)),
        PaginateKind::Cursor => {
            let found = spec.token_path.as_deref().and_then(|path| select(answer.body, path));
            let Some(cursor) = found.map(|v| stringify(&v.to_value())).filter(|c| !c.is_empty())
            else {
                return Ok(None);
            };
            if state.cursor.as_deref() == Some(cursor.as_str()) {
                return Err(repeated(answer, "cursor", &cursor));
            }
            next.cursor = Some(cursor);
        }
        PaginateKind::LinkHeader | PaginateKind::NextUrl => {
            let link = match spec.kind {
                PaginateKind::LinkHeader => next_link(answer.response),
                _ => spec
                    .path
                    .as_deref()
                    .and_then(|path| select(answer.body, path))
                    .map(|v| stringify(&v.to_value()))
                    .filter(|u| !u.is_empty()),
            };
            let Some(link) = link else { return Ok(None) };
            let url = resolve(answer.url, &link)?;
            if url == answer.url {
                return Err(repeated(answer, "next URL", &url));
            }
            next.url = Some(url);
        }
    }
    let max_pages = spec.max_pages.unwrap_or(DEFAULT_MAX_PAGES);
    if pages >= max_pages {
        return Err(DeclError::Remote {
            status: answer.response.status,
            body_excerpt: format!(
                "the list has more than max_pages = {max_pages} pages; raise paginate.max_pages if that is expected"
            ),
        });
    }
    Ok(Some(next))
}

/// `more_path` must be truthy and `done_path` must not be, where they are declared.
fn flags_say_go_on(spec: &PaginateSpec, body: &Document<'_>) -> bool {
    let flag = |path: &Option<String>| {
        path.as_deref().map(|p| select(body, p).is_some_and(|v| truthy(&v.to_value())))
    };
    flag(&spec.more_path) != Some(false) && flag(&spec.done_path) != Some(true)
}

/// `true`, a non-zero number, a non-empty text other than `false`/`0`, a non-empty list or object.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => {
            !matches!(s.trim().to_ascii_lowercase().as_str(), "" | "false" | "0" | "no")
        }
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn repeated(answer: &Answer<'_>, what: &str, value: &str) -> DeclError {
    DeclError::Remote {
        status: answer.response.status,
        body_excerpt: format!(
            "pagination loop: the ATS answered the {what} `{}` it was just given",
            short(value)
        ),
    }
}

/// `link` made absolute against the URL it came from; only http(s).
fn resolve(base: &str, link: &str) -> Result<String, DeclError> {
    let bad = |why: &str| DeclError::Remote {
        status: 200,
        body_excerpt: format!("next page link `{}` {why}", short(link)),
    };
    let base = url::Url::parse(base).map_err(|_| bad("cannot be resolved"))?;
    let url = base.join(link).map_err(|_| bad("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("is not http(s)"));
    }
    Ok(url.to_string())
}

/// The `rel="next"` target of the response's `Link` headers (RFC 8288).
pub(crate) fn next_link(response: &HttpResponse) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("link"))
        .flat_map(|(_, value)| split_links(value))
        .find_map(|(target, params)| {
            let is_next = params.split(';').any(|param| {
                let Some((key, value)) = param.split_once('=') else { return false };
                key.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            });
            is_next.then(|| target.to_string())
        })
}

/// `<a>; rel="next", <b>; rel="last"` → [(a, `; rel="next"`), (b, `; rel="last"`)].
fn split_links(value: &str) -> Vec<(&str, &str)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else { break };
        let target = &rest[open + 1..open + close];
        let after = &rest[open + close + 1..];
        let end = after.find('<').unwrap_or(after.len());
        links.push((target, after[..end].trim_end_matches([',', ' '])));
        rest = &after[end..];
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let state = PageState { pages: 3, cursor: Some("abc".into()), ..PageState::default() };
        let token = state.encode().expect("encodes");
        assert_eq!(PageState::decode(Some(&token)).expect("decodes"), state);
        assert!(PageState::decode(Some("not a token!")).is_err());
    }

    #[test]
    fn finds_the_next_link() {
        let response = HttpResponse {
            status: 200,
            headers: vec![(
                "Link".into(),
                "<https://a.example/x?page=3>; rel=\"last\", <https://a.example/x?page=2>; rel=\"next\"".into(),
            )],
            body: Vec::new(),
        };
        assert_eq!(next_link(&response).as_deref(), Some("https://a.example/x?page=2"));
    }
}
