//! [`Executor`]: runs a manifest's operations over a [`Transport`] for one connection's
//! config. `list` fetches one page per call and hands back an opaque token for the next;
//! `one` makes a single read or write (an upsert with `dedupe` looks the candidate up
//! first). Records come out as JSON objects keyed by the contract's snake_case field names.

use crate::auth::{self, Credentials};
use crate::error::DeclError;
use crate::limits::{DEFAULT_PAGE_SIZE, MAX_DEDUPE_LOOKUPS, MAX_RECORDS_PER_PAGE};
use crate::manifest::{Describe, Manifest};
use crate::paginate::{self, Answer, PageState};
use crate::records::{Record, map_record};
use crate::request::{self, RequestParts};
use crate::rules::{self, Redactor};
use crate::schema::{self, CallKind, Mapping, OperationDef};
use crate::select::{Document, select};
use crate::spec::{IncrementalSpec, Method, OperationSpec, RequestSpec, TimeFormat};
use crate::template::{Context, PageVars};
use crate::time;
use crate::transport::{HttpResponse, Transport};
use serde_json::{Value, json};
use std::borrow::Cow;

/// One page of a list operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T = Value> {
    /// Mapped records (JSON objects, or [`Record`]s, with the contract's snake_case field
    /// names, `raw` set).
    pub items: Vec<T>,
    /// Opaque; pass it back for the next page. `None` after the last page.
    pub next_page_token: Option<String>,
}

/// Runs a manifest's operations for one connection.
#[derive(Clone)]
pub struct Executor<'m> {
    pub(crate) manifest: &'m Manifest,
    pub(crate) config: Vec<(String, String)>,
    /// Unix seconds, for `Retry-After` HTTP-dates and rate-limit reset times.
    pub(crate) now: Option<i64>,
    pub(crate) redactor: Redactor,
}

impl std::fmt::Debug for Executor<'_> {
    /// Names the connector and the config fields given, never their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("connector", &self.manifest.connector.id)
            .field("config", &self.config.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("now", &self.now)
            .finish()
    }
}

impl<'m> Executor<'m> {
    /// An executor for a connection's config; fails when a required field is missing.
    pub fn new(manifest: &'m Manifest, config: &[(String, String)]) -> Result<Self, DeclError> {
        for field in manifest.config.iter().filter(|f| f.required) {
            let present =
                config.iter().any(|(name, value)| name == &field.name && !value.is_empty());
            if !present {
                return Err(DeclError::InvalidInput(format!(
                    "config field `{}` is required but missing",
                    field.name
                )));
            }
        }
        let secrets = config
            .iter()
            .filter(|(name, _)| manifest.config.iter().any(|f| f.secret && &f.name == name))
            .map(|(_, value)| value.clone());
        Ok(Self { manifest, config: config.to_vec(), now: None, redactor: Redactor::new(secrets) })
    }

    /// Sets "now" (unix seconds), used to turn an HTTP-date `Retry-After` or a reset time
    /// into seconds to wait; without it those give no wait.
    pub fn with_now(mut self, unix_seconds: i64) -> Self {
        self.now = Some(unix_seconds);
        self
    }

    /// The operations declared and not `unsupported`.
    pub fn operations(&self) -> Vec<String> {
        self.manifest.operations()
    }

    pub fn describe(&self) -> Describe {
        self.manifest.describe()
    }

    fn operation(
        &self,
        name: &str,
        call: CallKind,
    ) -> Result<(&'static OperationDef, &'m OperationSpec), DeclError> {
        let Some(def) = schema::operation(name) else {
            return Err(DeclError::Unsupported(format!(
                "`{name}` is not an operation of the contract"
            )));
        };
        let Some(spec) = self.manifest.operations.get(name) else {
            return Err(DeclError::Unsupported(format!(
                "{name} is not supported by the {} connector",
                self.manifest.connector.ats_name
            )));
        };
        if let Some(reason) = &spec.unsupported {
            return Err(DeclError::Unsupported(reason.clone()));
        }
        if def.call != call {
            let (is, use_) = match def.call {
                CallKind::List => ("a list", "list"),
                CallKind::Single => ("a single-call", "one"),
            };
            return Err(DeclError::InvalidInput(format!(
                "{name} is {is} operation; call `{use_}`"
            )));
        }
        Ok((def, spec))
    }

    /// One page of a list operation. `page_token` is `None` for the first page, else the
    /// token the previous page returned; `since` is RFC 3339.
    pub fn list(
        &self,
        t: &mut dyn Transport,
        operation: &str,
        page_token: Option<&str>,
        since: Option<&str>,
        input: &Value,
    ) -> Result<Page, DeclError> {
        let page = self.list_records(t, operation, page_token, since, input)?;
        Ok(Page {
            items: page.items.into_iter().map(Record::into_value).collect(),
            next_page_token: page.next_page_token,
        })
    }

    /// [`Executor::list`] with the records as [`Record`]s (no JSON object built per record).
    pub fn list_records(
        &self,
        t: &mut dyn Transport,
        operation: &str,
        page_token: Option<&str>,
        since: Option<&str>,
        input: &Value,
    ) -> Result<Page<Record>, DeclError> {
        let (def, spec) = self.operation(operation, CallKind::List)?;
        let state = PageState::decode(page_token)?;
        let page_size =
            spec.page_size.or(self.manifest.defaults.page_size).unwrap_or(DEFAULT_PAGE_SIZE);
        let since =
            since.map(|since| format_since(since, spec.incremental.as_ref())).transpose()?;
        let (number, offset) = paginate::position(spec.paginate.as_ref(), &state);
        let page = PageVars { size: Some(page_size), token: state.cursor.clone(), number, offset };
        let base = self.context(input, &page, since.as_deref());
        let credentials = auth::obtain(self, t, &base)?;
        let ctx = Context { session: credentials.session_token.as_deref(), ..base };

        let mut extra = paginate::query(spec.paginate.as_ref(), &state, page_size);
        if let (Some(since), Some(param)) =
            (&since, spec.incremental.as_ref().and_then(|i| i.param.as_ref()))
            && !spec.query.contains_key(param)
        {
            extra.push((param.clone(), since.clone()));
        }
        let parts = operation_parts(operation, spec);
        let (url, response) =
            self.exchange(t, &parts, &ctx, &extra, state.url.as_deref(), &credentials)?;
        let body = parse_json(&response, &self.redactor)?;
        let selector = spec.records.as_deref().unwrap_or_default();
        let parsed = crate::select::parsed(selector);
        let records: Cow<'_, [Document<'_>]> = match parsed.as_ref().and_then(|s| s.select(&body)) {
            None => Cow::Owned(Vec::new()),
            Some(Cow::Borrowed(Document::Array(items))) => Cow::Borrowed(items.as_slice()),
            Some(Cow::Owned(Document::Array(items))) => Cow::Owned(items),
            Some(other) => {
                return Err(DeclError::Remote {
                    status: response.status,
                    body_excerpt: format!(
                        "`records = \"{selector}\"` found {} in the answer, not a list",
                        kind_of(&other)
                    ),
                });
            }
        };
        if records.len() > MAX_RECORDS_PER_PAGE {
            return Err(DeclError::Remote {
                status: response.status,
                body_excerpt: format!(
                    "a page holds {} records, more than {MAX_RECORDS_PER_PAGE}",
                    records.len()
                ),
            });
        }
        // Each record's source text for `raw`, when the selector allows a second pass.
        let sources = parsed
            .as_ref()
            .filter(|_| def.output.has_raw)
            .and_then(|selector| selector.keys())
            .and_then(|keys| crate::raw::records(&response.body, &keys))
            .filter(|sources| sources.len() == records.len());
        let items = records
            .iter()
            .enumerate()
            .map(|(at, record)| {
                let source = sources.as_ref().map(|sources| sources[at].get());
                map_record(record, source, &spec.fields, def.output, &ctx)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let answer =
            Answer { response: &response, body: &body, items: records.len(), page_size, url: &url };
        let next = paginate::next(spec.paginate.as_ref(), &state, &answer)?;
        Ok(Page { items, next_page_token: next.map(|n| n.encode()).transpose()? })
    }

    /// A single read or write; the mapped record or result.
    pub fn one(
        &self,
        t: &mut dyn Transport,
        operation: &str,
        input: &Value,
    ) -> Result<Value, DeclError> {
        let (def, spec) = self.operation(operation, CallKind::Single)?;
        let page = PageVars::default();
        let base = self.context(input, &page, None);
        let matched = match &spec.dedupe {
            Some(dedupe) => self.find_match(t, &dedupe.lookup, input)?,
            None => None,
        };
        let credentials = auth::obtain(self, t, &base)?;
        let ctx = Context {
            session: credentials.session_token.as_deref(),
            matched: matched.as_ref(),
            ..base
        };
        let update: Option<&RequestSpec> =
            spec.dedupe.as_ref().map(|d| &d.update).filter(|_| matched.is_some());
        let parts = match update {
            Some(update) => RequestParts {
                method: update.method.unwrap_or(Method::Patch),
                paths: &update.path.0,
                base_url: spec.base_url.as_deref(),
                query: &update.query,
                headers: &update.headers,
                // A GET update (a match-only read) never carries the operation's body.
                body: update.body.as_ref().or(spec
                    .body
                    .as_ref()
                    .filter(|_| update.method.unwrap_or(Method::Patch) != Method::Get)),
                what: operation,
            },
            None => operation_parts(operation, spec),
        };
        let (_, response) = self.exchange(t, &parts, &ctx, &[], None, &credentials)?;
        let (mapping, lenient) = match def.mapped_with {
            Mapping::Fields => (&spec.fields, false),
            Mapping::Result => (&spec.result, true),
        };
        let body = if mapping.is_empty() {
            Document::Null
        } else {
            match parse_json(&response, &self.redactor) {
                Ok(body) => body,
                Err(_) if lenient => Document::Null,
                Err(error) => return Err(error),
            }
        };
        let selector = spec.record.as_deref().unwrap_or_default();
        let record = select(&body, selector).unwrap_or(Cow::Owned(Document::Null));
        if def.mapped_with == Mapping::Fields && !record.is_object() {
            return Err(DeclError::Remote {
                status: response.status,
                body_excerpt: format!(
                    "`record = \"{selector}\"` found {} in the answer, not an object",
                    kind_of(&record)
                ),
            });
        }
        let mut out = map_record(&record, None, mapping, def.output, &ctx)?;
        if operation == "upsert-candidate" {
            fill_upsert(&mut out, matched.as_ref());
        }
        Ok(out.into_value())
    }

    fn context<'a>(
        &'a self,
        input: &'a Value,
        page: &'a PageVars,
        since: Option<&'a str>,
    ) -> Context<'a> {
        Context {
            config: &self.config,
            input,
            page,
            since,
            session: None,
            record: None,
            matched: None,
        }
    }

    /// Sends a request and checks the answer; an unauthorized answer forgets kept tokens.
    fn exchange(
        &self,
        t: &mut dyn Transport,
        parts: &RequestParts<'_>,
        ctx: &Context<'_>,
        extra_query: &[(String, String)],
        next_url: Option<&str>,
        credentials: &Credentials,
    ) -> Result<(String, HttpResponse), DeclError> {
        let request =
            request::build(self.manifest, parts, ctx, extra_query, next_url, credentials)?;
        let url = request.url.clone();
        let response = t.send(request)?;
        let redactor = credentials.secrets.iter().fold(self.redactor.clone(), |r, s| r.with(s));
        if let Err(error) = rules::check(&self.manifest.errors, &response, self.now, &redactor) {
            if matches!(error, DeclError::Unauthorized(_)) {
                auth::forget(t, credentials);
            }
            return Err(error);
        }
        Ok((url, response))
    }

    /// The first candidate the lookup operation finds by e-mail, then by phone.
    fn find_match(
        &self,
        t: &mut dyn Transport,
        lookup: &str,
        input: &Value,
    ) -> Result<Option<Value>, DeclError> {
        let strings = |key: &str| -> Vec<String> {
            input
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        // Both input shapes: top-level `email`/`phone`, and `lookup.email`/`lookup.phone`.
        let emails = strings("emails")
            .into_iter()
            .map(|e| json!({"email": e, "phone": null, "lookup": {"email": e}}));
        let phones = strings("phones")
            .into_iter()
            .map(|p| json!({"email": null, "phone": p, "lookup": {"phone": p}}));
        for query in emails.chain(phones).take(MAX_DEDUPE_LOOKUPS) {
            let page = self.list_records(t, lookup, None, None, &query)?;
            if let Some(found) = page.items.into_iter().find(|item| item.get("id").is_some()) {
                return Ok(Some(found.into_value()));
            }
        }
        Ok(None)
    }
}

fn operation_parts<'a>(name: &'a str, spec: &'a OperationSpec) -> RequestParts<'a> {
    RequestParts {
        method: spec.method.unwrap_or(Method::Get),
        paths: spec.path.as_ref().map_or(&[], |p| p.0.as_slice()),
        base_url: spec.base_url.as_deref(),
        query: &spec.query,
        headers: &spec.headers,
        body: spec.body.as_ref(),
        what: name,
    }
}

/// `outcome` is `matched` when the dedupe look-up found the candidate, else `created`,
/// unless the manifest mapped it; `candidate_id` falls back to the match's id.
fn fill_upsert(out: &mut Record, matched: Option<&Value>) {
    let outcome = if matched.is_some() { "matched" } else { "created" };
    out.set_default("outcome", || Value::String(outcome.into()));
    if let Some(id) = matched.and_then(|m| m.get("id")) {
        out.set_default("candidate_id", || id.clone());
    }
}

/// The caller's RFC 3339 `since`, minus the lookback, in the incremental format.
fn format_since(since: &str, spec: Option<&IncrementalSpec>) -> Result<String, DeclError> {
    let Some(spec) = spec else { return Ok(since.to_string()) };
    let millis = time::parse_rfc3339(since).ok_or_else(|| {
        DeclError::InvalidInput(format!("since `{since}` is not an RFC 3339 timestamp"))
    })?;
    let millis = millis - i64::from(spec.lookback_seconds) * 1000;
    let seconds = millis.div_euclid(1000);
    Ok(match spec.format {
        TimeFormat::Rfc3339 => time::format_rfc3339(seconds),
        TimeFormat::Unix => seconds.to_string(),
        TimeFormat::UnixMs => millis.to_string(),
        TimeFormat::Date => time::format_date(seconds),
    })
}

/// The body as JSON (empty → null); anything else is a remote failure.
fn parse_json<'body>(
    response: &'body HttpResponse,
    redactor: &Redactor,
) -> Result<Document<'body>, DeclError> {
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Document::Null);
    }
    serde_json::from_slice(&response.body).map_err(|e| DeclError::Remote {
        status: response.status,
        body_excerpt: format!(
            "the answer is not JSON ({e}): {}",
            rules::excerpt(&response.body, redactor)
        ),
    })
}

fn kind_of(value: &Document<'_>) -> &'static str {
    match value {
        Document::Null => "nothing",
        Document::Bool(_) => "a boolean",
        Document::Number(_) => "a number",
        Document::Str(_) => "a string",
        Document::Array(_) => "a list",
        Document::Object(_) => "an object",
    }
}
