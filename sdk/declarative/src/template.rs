//! Templates: text with `{{ variable | filter | ... }}` expressions. Variables are
//! `config.<field>`, `input.<path>`, `page.size|token|number|offset`, `since`,
//! `session.token`, `record.<path>` and `match.<path>`; filters are `url`, `lower`, `upper`,
//! `base64`, `json`, `default:<text>`, `object` and `pick:<key>,<key>`. Checked against a
//! [`Scope`] when the manifest is parsed; rendered against a [`Context`] when a call runs.

use crate::error::DeclError;
use crate::limits::MAX_TEMPLATE_OUTPUT_BYTES;
use crate::memo::Memo;
use crate::select::{Document, Json as _, Selector};
use base64::Engine as _;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Expr(Expr),
}

#[derive(Debug, Clone)]
struct Expr {
    variable: Variable,
    filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
enum Variable {
    Config(String),
    Input(Selector),
    Record(Selector),
    Match(Selector),
    Page(PageVar),
    Since,
    SessionToken,
}

#[derive(Debug, Clone, Copy)]
enum PageVar {
    Size,
    Token,
    Number,
    Offset,
}

#[derive(Debug, Clone)]
enum Filter {
    Url,
    Lower,
    Upper,
    Base64,
    Json,
    Default(String),
    Object,
    Pick(Vec<String>),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

/// What a template may refer to where it is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// Declared config fields, or `None` when any name is fine (already checked).
    pub config_fields: Option<&'a [String]>,
    /// Top-level input keys, or `None` when any key is fine.
    pub input: Option<&'a [&'a str]>,
    pub record: bool,
    pub session: bool,
    pub matched: bool,
}

/// The page variables of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageVars {
    pub size: Option<u32>,
    pub token: Option<String>,
    pub number: Option<u64>,
    pub offset: Option<u64>,
}

/// What templates are rendered against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub config: &'a [(String, String)],
    pub input: &'a Value,
    pub page: &'a PageVars,
    pub since: Option<&'a str>,
    pub session: Option<&'a str>,
    /// The ATS's record being mapped (in `fields` and `result`).
    pub record: Option<&'a Document<'a>>,
    pub matched: Option<&'a Value>,
}

const VARIABLES: &str = "config.<field>, input.<path>, page.size, page.token, page.number, page.offset, since, session.token, record.<path> (in fields and results), match.<path> (in a dedupe update)";
const FILTERS: &str = "url, lower, upper, base64, json, default:<text>, object, pick:<key>,<key>";

impl Template {
    /// Parses `text` and checks its variables and filters against `scope`.
    pub fn parse(text: &str, scope: &Scope<'_>) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in `{text}`"))?;
            parts.push(Part::Expr(parse_expr(after[..close].trim(), scope)?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// Parses a template already checked when the manifest was parsed (once per thread
    /// and text: see [`crate::memo`]).
    pub fn checked(text: &str) -> Result<Rc<Self>, DeclError> {
        thread_local! {
            static PARSED: RefCell<Memo<Template>> = RefCell::default();
        }
        let scope =
            Scope { config_fields: None, input: None, record: true, session: true, matched: true };
        Memo::get_or_parse(&PARSED, text, |text| Self::parse(text, &scope))
            .map_err(|e| DeclError::InvalidInput(format!("manifest template: {e}")))
    }

    /// The value: a template that is exactly one `{{x}}` keeps x's JSON type (after its
    /// filters; null when missing); anything else renders to a string.
    pub fn render_value(&self, ctx: &Context<'_>) -> Result<Value, DeclError> {
        if let [Part::Expr(expr)] = self.parts.as_slice() {
            return Ok(expr.evaluate(ctx).unwrap_or(Value::Null));
        }
        self.render_string(ctx).map(Value::String)
    }

    /// The text, with missing values as empty text.
    pub fn render_string(&self, ctx: &Context<'_>) -> Result<String, DeclError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Expr(expr) => {
                    if let Some(value) = expr.evaluate(ctx) {
                        out.push_str(&stringify(&value));
                    }
                }
            }
            if out.len() > MAX_TEMPLATE_OUTPUT_BYTES {
                return Err(DeclError::InvalidInput(format!(
                    "a template rendered more than {MAX_TEMPLATE_OUTPUT_BYTES} bytes"
                )));
            }
        }
        Ok(out)
    }

    /// Whether every variable has a value (not missing, null or empty): decides which of an
    /// operation's alternative paths applies. Names the first missing variable otherwise.
    pub fn missing_variable(&self, ctx: &Context<'_>) -> Option<String> {
        self.parts.iter().find_map(|part| match part {
            Part::Expr(expr) => {
                let value = expr.variable.lookup(ctx);
                let empty = value.as_deref().is_none_or(|v| v.is_null() || v == "");
                empty.then(|| expr.variable.name())
            }
            Part::Text(_) => None,
        })
    }
}

fn parse_expr(text: &str, scope: &Scope<'_>) -> Result<Expr, String> {
    let mut pieces = text.split('|');
    let variable_text = pieces.next().unwrap_or_default().trim();
    if variable_text.is_empty() {
        return Err(format!("`{{{{{text}}}}}` names no variable; known: {VARIABLES}"));
    }
    let variable = parse_variable(variable_text, scope)?;
    let filters = pieces.map(|f| parse_filter(f.trim())).collect::<Result<_, _>>()?;
    Ok(Expr { variable, filters })
}

fn parse_variable(text: &str, scope: &Scope<'_>) -> Result<Variable, String> {
    let split = text.find(['.', '[']).unwrap_or(text.len());
    let (root, tail) = (&text[..split], text[split..].trim_start_matches('.'));
    let selector = |allowed: bool, what: &str| -> Result<Selector, String> {
        if !allowed {
            return Err(format!("`{text}`: {what} is not available here"));
        }
        Selector::parse(tail).map_err(|e| format!("`{text}`: {e}"))
    };
    match root {
        "config" => {
            let declared =
                scope.config_fields.is_none_or(|fields| fields.iter().any(|f| f == tail));
            if tail.is_empty() || !declared {
                let known = scope.config_fields.unwrap_or_default().join(", ");
                return Err(format!(
                    "`{text}` is not a declared config field; declare it in a [[config]] table (declared: {known})"
                ));
            }
            Ok(Variable::Config(tail.to_string()))
        }
        "input" => {
            if let (Some(keys), Some(first)) = (scope.input, tail.split(['.', '[']).next())
                && !first.is_empty()
                && !keys.contains(&first)
            {
                return Err(format!(
                    "`{text}`: this operation's input has no `{first}`; it has: {}",
                    if keys.is_empty() { "no fields".to_string() } else { keys.join(", ") }
                ));
            }
            selector(true, "input").map(Variable::Input)
        }
        "record" => {
            selector(scope.record, "record (only in fields and results)").map(Variable::Record)
        }
        "match" => selector(scope.matched, "match (only in a dedupe update)").map(Variable::Match),
        "page" => match tail {
            "size" => Ok(Variable::Page(PageVar::Size)),
            "token" => Ok(Variable::Page(PageVar::Token)),
            "number" => Ok(Variable::Page(PageVar::Number)),
            "offset" => Ok(Variable::Page(PageVar::Offset)),
            _ => Err(format!("`{text}`: use page.size, page.token, page.number or page.offset")),
        },
        "since" if tail.is_empty() => Ok(Variable::Since),
        "session" if tail == "token" => {
            if scope.session {
                Ok(Variable::SessionToken)
            } else {
                Err(format!("`{text}` needs [auth] kind = \"session\""))
            }
        }
        _ => Err(format!("unknown template variable `{text}`; known: {VARIABLES}")),
    }
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    let (name, argument) = match text.split_once(':') {
        Some((name, argument)) => (name.trim(), Some(argument)),
        None => (text, None),
    };
    match (name, argument) {
        ("url", None) => Ok(Filter::Url),
        ("lower", None) => Ok(Filter::Lower),
        ("upper", None) => Ok(Filter::Upper),
        ("base64", None) => Ok(Filter::Base64),
        ("json", None) => Ok(Filter::Json),
        ("object", None) => Ok(Filter::Object),
        ("default", Some(text)) => Ok(Filter::Default(text.to_string())),
        ("pick", Some(keys)) if !keys.trim().is_empty() => {
            Ok(Filter::Pick(keys.split(',').map(|k| k.trim().to_string()).collect()))
        }
        _ => Err(format!("unknown filter `{text}`; known: {FILTERS}")),
    }
}

impl Variable {
    fn name(&self) -> String {
        match self {
            Variable::Config(name) => format!("config.{name}"),
            Variable::Input(_) => "an input field".into(),
            Variable::Record(_) => "a record field".into(),
            Variable::Match(_) => "a matched record field".into(),
            Variable::Page(_) => "a page variable".into(),
            Variable::Since => "since".into(),
            Variable::SessionToken => "session.token".into(),
        }
    }

    fn lookup<'a>(&self, ctx: &Context<'a>) -> Option<Cow<'a, Value>> {
        let owned = |value: Value| Some(Cow::Owned(value));
        match self {
            Variable::Config(name) => {
                let found = ctx.config.iter().find(|(field, _)| field == name)?;
                owned(Value::String(found.1.clone()))
            }
            Variable::Input(selector) => selector.select(ctx.input),
            Variable::Record(selector) => owned(selector.select(ctx.record?)?.to_value()),
            Variable::Match(selector) => selector.select(ctx.matched?),
            Variable::Page(PageVar::Size) => owned(ctx.page.size?.into()),
            Variable::Page(PageVar::Token) => owned(ctx.page.token.clone()?.into()),
            Variable::Page(PageVar::Number) => owned(ctx.page.number?.into()),
            Variable::Page(PageVar::Offset) => owned(ctx.page.offset?.into()),
            Variable::Since => owned(ctx.since?.into()),
            Variable::SessionToken => owned(ctx.session?.into()),
        }
    }
}

impl Expr {
    fn evaluate(&self, ctx: &Context<'_>) -> Option<Value> {
        let mut value = self.variable.lookup(ctx).map(Cow::into_owned);
        for filter in &self.filters {
            value = apply(filter, value);
        }
        value
    }
}

fn apply(filter: &Filter, value: Option<Value>) -> Option<Value> {
    let text = |value: &Option<Value>| value.as_ref().map(stringify).unwrap_or_default();
    match filter {
        Filter::Url => Some(Value::String(percent_encode(&text(&value)))),
        Filter::Lower => value.map(|v| Value::String(stringify(&v).to_lowercase())),
        Filter::Upper => value.map(|v| Value::String(stringify(&v).to_uppercase())),
        Filter::Base64 => value.map(|v| {
            Value::String(base64::engine::general_purpose::STANDARD.encode(stringify(&v)))
        }),
        Filter::Json => Some(Value::String(value.unwrap_or(Value::Null).to_string())),
        Filter::Default(fallback) => match value {
            None | Some(Value::Null) => Some(Value::String(fallback.clone())),
            Some(Value::String(s)) if s.is_empty() => Some(Value::String(fallback.clone())),
            other => other,
        },
        Filter::Object => value.map(to_object),
        Filter::Pick(keys) => value.map(|v| pick(v, keys)),
    }
}

/// `[{"name": "a", "value": 1}, ...]` → `{"a": 1, ...}`; anything else unchanged.
fn to_object(value: Value) -> Value {
    let Value::Array(items) = value else { return value };
    let mut object = Map::new();
    for item in items {
        if let (Some(name), Some(field)) =
            (item.get("name").and_then(Value::as_str), item.get("value"))
        {
            object.insert(name.to_string(), field.clone());
        }
    }
    Value::Object(object)
}

/// Keeps only `keys` of an object, or of each object in a list.
fn pick(value: Value, keys: &[String]) -> Value {
    match value {
        Value::Object(mut map) => {
            map.retain(|key, _| keys.contains(key));
            Value::Object(map)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|item| pick(item, keys)).collect())
        }
        other => other,
    }
}

/// A value as text: strings as they are, null as empty, anything else as JSON.
pub(crate) fn stringify(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
