//! A small SOQL evaluator for the query shapes the connectors send:
//! `SELECT f, … FROM Object [WHERE cond [AND|OR cond]…] [ORDER BY f [ASC|DESC], …] [LIMIT n]`
//! with conditions `Field op literal` (op `= != < <= > >=`, parentheses allowed). Literals
//! are typed as Salesforce types them: datetimes unquoted (`2026-03-01T10:00:00Z`), text
//! quoted with `\'` escapes, booleans `true`/`false`, `null`. Anything else is rejected with
//! `MALFORMED_QUERY`, unknown objects with `INVALID_TYPE`, unknown fields with
//! `INVALID_FIELD`, a literal of the wrong type with `INVALID_FIELD` as Salesforce does.

use super::SfError;
use super::store::{Kind, Record, Schema, datetime_key, schema, text};
use serde_json::{Value, json};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(String),
    Comma,
    Open,
    Close,
}

fn malformed(detail: &str) -> SfError {
    SfError::new(400, "MALFORMED_QUERY", detail)
}

fn tokenize(query: &str) -> Result<Vec<Token>, SfError> {
    let chars: Vec<char> = query.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '\'' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(malformed("unterminated string literal")),
                        Some('\\') => {
                            let escaped =
                                chars.get(i + 1).ok_or_else(|| malformed("bad escape"))?;
                            value.push(match escaped {
                                'n' => '\n',
                                'r' => '\r',
                                't' => '\t',
                                other => *other,
                            });
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            value.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            '=' | '!' | '<' | '>' => {
                let mut op = c.to_string();
                if chars.get(i + 1) == Some(&'=') {
                    op.push('=');
                    i += 1;
                }
                if op == "!" {
                    return Err(malformed("unexpected token: !"));
                }
                tokens.push(Token::Op(op));
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || matches!(chars[i], '_' | '.' | ':' | '-' | '+'))
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return Err(malformed(&format!("unexpected token: {other}"))),
        }
    }
    Ok(tokens)
}

#[derive(Debug)]
enum Condition {
    Compare { field: &'static str, kind: Kind, op: String, literal: Literal },
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

#[derive(Debug, Clone)]
enum Literal {
    Null,
    Text(String),
    Bool(bool),
    DateTime(String),
    Number(f64),
}

/// A parsed query: the object, the selected fields and what to filter and sort on.
pub struct Query {
    schema: &'static Schema,
    fields: Vec<&'static str>,
    condition: Option<Condition>,
    order: Vec<(&'static str, bool)>,
    limit: Option<usize>,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }
    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn expect_keyword(&mut self, word: &str) -> Result<(), SfError> {
        if self.keyword(word) { Ok(()) } else { Err(malformed(&format!("expected {word}"))) }
    }
    fn word(&mut self) -> Result<String, SfError> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w),
            other => Err(malformed(&format!("unexpected token: {other:?}"))),
        }
    }
}

const KEYWORDS: &[&str] = &["SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "AND", "OR"];

pub fn parse(query: &str) -> Result<Query, SfError> {
    let mut p = Parser { tokens: tokenize(query)?, at: 0 };
    p.expect_keyword("SELECT")?;
    let mut names = vec![p.word()?];
    while p.peek() == Some(&Token::Comma) {
        p.next();
        names.push(p.word()?);
    }
    p.expect_keyword("FROM")?;
    let object = p.word()?;
    let schema = schema(&object).map_err(|_| {
        SfError::new(400, "INVALID_TYPE", &format!("sObject type '{object}' is not supported."))
    })?;
    let mut fields = Vec::new();
    for name in &names {
        if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            return Err(malformed(&format!("unexpected token: {name}")));
        }
        let (canonical, _) = schema.field(name).ok_or_else(|| schema.no_such_column(name))?;
        fields.push(canonical);
    }
    let condition = if p.keyword("WHERE") { Some(parse_or(&mut p, schema)?) } else { None };
    let mut order = Vec::new();
    if p.keyword("ORDER") {
        p.expect_keyword("BY")?;
        loop {
            let name = p.word()?;
            let (canonical, _) = schema.field(&name).ok_or_else(|| schema.no_such_column(&name))?;
            let descending = if p.keyword("DESC") {
                true
            } else {
                p.keyword("ASC");
                false
            };
            order.push((canonical, descending));
            if p.peek() == Some(&Token::Comma) {
                p.next();
            } else {
                break;
            }
        }
    }
    let limit = if p.keyword("LIMIT") {
        let n = p.word()?;
        Some(n.parse().map_err(|_| malformed(&format!("bad LIMIT: {n}")))?)
    } else {
        None
    };
    if let Some(extra) = p.peek() {
        return Err(malformed(&format!("unexpected token: {extra:?}")));
    }
    Ok(Query { schema, fields, condition, order, limit })
}

fn parse_or(p: &mut Parser, schema: &'static Schema) -> Result<Condition, SfError> {
    let mut any = vec![parse_and(p, schema)?];
    while p.keyword("OR") {
        any.push(parse_and(p, schema)?);
    }
    Ok(if any.len() == 1 { any.remove(0) } else { Condition::Or(any) })
}

fn parse_and(p: &mut Parser, schema: &'static Schema) -> Result<Condition, SfError> {
    let mut all = vec![parse_atom(p, schema)?];
    while p.keyword("AND") {
        all.push(parse_atom(p, schema)?);
    }
    Ok(if all.len() == 1 { all.remove(0) } else { Condition::And(all) })
}

fn parse_atom(p: &mut Parser, schema: &'static Schema) -> Result<Condition, SfError> {
    if p.peek() == Some(&Token::Open) {
        p.next();
        let inner = parse_or(p, schema)?;
        return match p.next() {
            Some(Token::Close) => Ok(inner),
            _ => Err(malformed("expected )")),
        };
    }
    let name = p.word()?;
    let (field, kind) = schema.field(&name).ok_or_else(|| schema.no_such_column(&name))?;
    let op = match p.next() {
        Some(Token::Op(op)) => op,
        other => return Err(malformed(&format!("expected an operator, got {other:?}"))),
    };
    let wrong_type = |expected: &str| {
        SfError::new(
            400,
            "INVALID_FIELD",
            &format!("value of filter criterion for field '{field}' must be of type {expected}"),
        )
    };
    let literal = match (kind, p.next()) {
        (_, Some(Token::Word(w))) if w.eq_ignore_ascii_case("null") => Literal::Null,
        (Kind::DateTime, Some(Token::Word(w))) => Literal::DateTime(parse_datetime(&w)?),
        (Kind::DateTime, _) => {
            return Err(wrong_type("dateTime and should not be enclosed in quotes"));
        }
        (Kind::Bool, Some(Token::Word(w))) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
        (Kind::Bool, Some(Token::Word(w))) if w.eq_ignore_ascii_case("false") => {
            Literal::Bool(false)
        }
        (Kind::Bool, _) => return Err(wrong_type("boolean and should not be enclosed in quotes")),
        (Kind::Number, Some(Token::Word(w))) => {
            Literal::Number(w.parse().map_err(|_| wrong_type("double"))?)
        }
        (Kind::Number, _) => return Err(wrong_type("double and should not be enclosed in quotes")),
        (_, Some(Token::Quoted(s))) => Literal::Text(s),
        (_, _) => return Err(wrong_type("string and should be enclosed in quotes")),
    };
    Ok(Condition::Compare { field, kind, op, literal })
}

/// A SOQL datetime literal → its UTC sort key. Only UTC literals are understood here.
fn parse_datetime(word: &str) -> Result<String, SfError> {
    let bytes = word.as_bytes();
    let shaped = word.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    let rest = word.get(19..).unwrap_or("");
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if !shaped || !matches!(rest, "Z" | "+00:00" | "-00:00") {
        return Err(malformed(&format!("invalid date/time literal: {word}")));
    }
    Ok(word[..19].to_string())
}

fn compare(record: &Record, field: &str, kind: Kind, literal: &Literal) -> Option<Ordering> {
    let value = record.get(field).filter(|v| !v.is_null());
    match (literal, value) {
        (Literal::Null, None) => Some(Ordering::Equal),
        (Literal::Null, Some(_)) | (_, None) => None,
        (Literal::Bool(b), Some(v)) => (v.as_bool() == Some(*b)).then_some(Ordering::Equal),
        (Literal::Number(n), Some(v)) => v.as_f64().and_then(|x| x.partial_cmp(n)),
        (Literal::DateTime(key), Some(v)) => {
            Some(datetime_key(v.as_str().unwrap_or("")).cmp(key.as_str()))
        }
        (Literal::Text(s), Some(_)) => {
            let _ = kind;
            Some(text(record, field).to_lowercase().cmp(&s.to_lowercase()))
        }
    }
}

fn matches(record: &Record, condition: &Condition) -> bool {
    match condition {
        Condition::And(all) => all.iter().all(|c| matches(record, c)),
        Condition::Or(any) => any.iter().any(|c| matches(record, c)),
        Condition::Compare { field, kind, op, literal } => {
            let ordering = compare(record, field, *kind, literal);
            match op.as_str() {
                "=" => ordering == Some(Ordering::Equal),
                "!=" => ordering != Some(Ordering::Equal),
                "<" => ordering == Some(Ordering::Less),
                "<=" => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
                ">" => ordering == Some(Ordering::Greater),
                ">=" => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
                _ => false,
            }
        }
    }
}

fn sort_key(record: &Record, field: &str) -> String {
    text(record, field).to_lowercase()
}

impl Query {
    /// The queried object's API name.
    pub fn object(&self) -> &'static str {
        self.schema.name
    }

    /// The matching records, sorted and limited, shaped as the REST API returns them.
    pub fn run(&self, records: &[Record], api_version: &str) -> Vec<Value> {
        let mut rows: Vec<&Record> = records
            .iter()
            .filter(|r| self.condition.as_ref().is_none_or(|c| matches(r, c)))
            .collect();
        rows.sort_by(|a, b| {
            for (field, descending) in &self.order {
                let ordering = sort_key(a, field).cmp(&sort_key(b, field));
                let ordering = if *descending { ordering.reverse() } else { ordering };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
        if let Some(limit) = self.limit {
            rows.truncate(limit);
        }
        rows.into_iter().map(|r| shape(self.schema.name, r, &self.fields, api_version)).collect()
    }
}

/// A record as the REST API shows it: `attributes` plus the asked-for fields.
pub fn shape(object: &str, record: &Record, fields: &[&str], api_version: &str) -> Value {
    let id = text(record, "Id");
    let mut out = serde_json::Map::new();
    out.insert(
        "attributes".into(),
        json!({"type": object, "url": format!("/services/data/{api_version}/sobjects/{object}/{id}")}),
    );
    for field in fields {
        let value = if *field == "VersionData" {
            json!(format!("/services/data/{api_version}/sobjects/{object}/{id}/VersionData"))
        } else {
            record.get(*field).cloned().unwrap_or(Value::Null)
        };
        out.insert((*field).to_string(), value);
    }
    Value::Object(out)
}
