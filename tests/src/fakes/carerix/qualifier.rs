//! The fake's reading of Carerix qualifiers (research §2.4): an SQL-like WHERE string with
//! dotted relation paths (`toVacancy._id`), `=`, `!=`/`<>`, `<`, `<=`, `>`, `>=`, `like`
//! (with `*`), `caseInsensitiveLike`, `nil`, `AND`/`OR`/`NOT`, parentheses, single-quoted
//! strings with `\` escapes, and typed dates `(NSCalendarDate) 'YYYY-MM-DD HH:MM:SS +HHMM'`.
//! A date without a timezone, an unknown field or a malformed string is an error, as the
//! REST docs say dates must carry a timezone.

use super::GqlError;
use super::schema::{self, Kind};
use super::store::Store;
use ats_host::sync::time::parse_ms;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Op(&'static str),
    Open,
    Close,
}

#[derive(Debug, Clone)]
pub enum Literal {
    Text(String),
    Number(f64),
    /// Unix milliseconds of a `(NSCalendarDate)` value.
    Date(i64),
    Nil,
}

#[derive(Debug, Clone)]
pub enum Qualifier {
    And(Vec<Qualifier>),
    Or(Vec<Qualifier>),
    Not(Box<Qualifier>),
    Compare { path: Vec<String>, op: &'static str, value: Literal },
}

fn error(qualifier: &str, what: &str) -> GqlError {
    GqlError::data(&format!("Invalid qualifier `{qualifier}`: {what}"))
}

fn tokens(text: &str) -> Result<Vec<Token>, GqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '\'' | '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(error(text, "unterminated string")),
                        Some('\\') => {
                            let escaped =
                                chars.get(i + 1).ok_or_else(|| error(text, "dangling `\\`"))?;
                            value.push(*escaped);
                            i += 2;
                        }
                        Some(q) if *q == c => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            value.push(*other);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Text(value));
            }
            '=' | '!' | '<' | '>' => {
                let (op, len) = match (c, chars.get(i + 1)) {
                    ('!', Some('=')) | ('<', Some('>')) => ("!=", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('=', _) => ("=", 1),
                    ('<', _) => ("<", 1),
                    ('>', _) => (">", 1),
                    _ => return Err(error(text, "`!` must be followed by `=`")),
                };
                i += len;
                out.push(Token::Op(op));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|d| d.is_ascii_digit() || *d == '.') {
                    i += 1;
                }
                let number: String = chars[start..i].iter().collect();
                out.push(Token::Number(number.parse().map_err(|_| error(text, "bad number"))?));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == '_' || *d == '.')
                {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return Err(error(text, &format!("unexpected `{other}`"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    at: usize,
}

impl Parser<'_> {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn or(&mut self) -> Result<Qualifier, GqlError> {
        let mut parts = vec![self.and()?];
        while self.peek_word("OR") {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Qualifier::Or(parts) })
    }

    fn and(&mut self) -> Result<Qualifier, GqlError> {
        let mut parts = vec![self.unary()?];
        while self.peek_word("AND") {
            self.at += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Qualifier::And(parts) })
    }

    fn unary(&mut self) -> Result<Qualifier, GqlError> {
        if self.peek_word("NOT") {
            self.at += 1;
            return Ok(Qualifier::Not(Box::new(self.unary()?)));
        }
        if self.tokens.get(self.at) == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            return match self.next() {
                Some(Token::Close) => Ok(inner),
                _ => Err(error(self.text, "missing `)`")),
            };
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Qualifier, GqlError> {
        let Some(Token::Word(path)) = self.next() else {
            return Err(error(self.text, "expected a field name"));
        };
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            Some(Token::Word(w)) if w == "like" => "like",
            Some(Token::Word(w)) if w == "caseInsensitiveLike" => "caseInsensitiveLike",
            _ => return Err(error(self.text, &format!("expected an operator after `{path}`"))),
        };
        let value = match self.next() {
            Some(Token::Text(text)) => Literal::Text(text),
            Some(Token::Number(n)) => Literal::Number(n),
            Some(Token::Word(w)) if w == "nil" => Literal::Nil,
            Some(Token::Open) => {
                let (Some(Token::Word(class)), Some(Token::Close), Some(Token::Text(date))) =
                    (self.next(), self.next(), self.next())
                else {
                    return Err(error(self.text, "expected `(NSCalendarDate) '…'`"));
                };
                if class != "NSCalendarDate" {
                    return Err(error(self.text, &format!("unknown type `{class}`")));
                }
                Literal::Date(calendar_date_ms(&date).ok_or_else(|| {
                    error(self.text, &format!("`{date}` is not `YYYY-MM-DD HH:MM:SS +HHMM`"))
                })?)
            }
            _ => return Err(error(self.text, &format!("expected a value after `{path} {op}`"))),
        };
        Ok(Qualifier::Compare { path: path.split('.').map(str::to_string).collect(), op, value })
    }
}

/// A Carerix date literal: `YYYY-MM-DD HH:MM:SS ±HHMM` (the timezone is required).
fn calendar_date_ms(text: &str) -> Option<i64> {
    let (date_time, offset) = text.trim().rsplit_once(' ')?;
    let valid_offset = offset.len() == 5
        && (offset.starts_with('+') || offset.starts_with('-'))
        && offset[1..].chars().all(|c| c.is_ascii_digit());
    (date_time.len() == 19 && valid_offset).then_some(())?;
    parse_ms(&format!("{date_time}{offset}"))
}

/// Parses `text`, checking every path against `type_name`'s fields on `store`'s account.
pub fn parse(store: &Store, text: &str, type_name: &str) -> Result<Qualifier, GqlError> {
    let mut parser = Parser { text, tokens: tokens(text)?, at: 0 };
    let qualifier = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(error(text, "unexpected text after the condition"));
    }
    check_paths(store, &qualifier, type_name)?;
    Ok(qualifier)
}

fn check_paths(store: &Store, qualifier: &Qualifier, type_name: &str) -> Result<(), GqlError> {
    match qualifier {
        Qualifier::And(parts) | Qualifier::Or(parts) => {
            parts.iter().try_for_each(|p| check_paths(store, p, type_name))
        }
        Qualifier::Not(inner) => check_paths(store, inner, type_name),
        Qualifier::Compare { path, .. } => {
            let mut current = type_name;
            for (i, step) in path.iter().enumerate() {
                match schema::field(store, current, step).map_err(|_| {
                    GqlError::data(&format!("Invalid qualifier: unknown key `{step}` on {current}"))
                })? {
                    Kind::One(target) | Kind::Many(target, _) if i + 1 < path.len() => {
                        current = target
                    }
                    Kind::Scalar if i + 1 == path.len() => {}
                    _ => {
                        return Err(GqlError::data(&format!(
                            "Invalid qualifier: `{}` does not end on an attribute",
                            path.join(".")
                        )));
                    }
                }
            }
            Ok(())
        }
    }
}

fn resolve<'a>(
    store: &'a Store,
    type_name: &str,
    record: &'a Value,
    path: &[String],
) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    if rest.is_empty() {
        return record.get(first.as_str());
    }
    match schema::field(store, type_name, first).ok()? {
        Kind::One(target) => {
            let related = store.get(target, record.get(first.as_str())?.as_str()?)?;
            resolve(store, target, related, rest)
        }
        _ => None,
    }
}

fn like(value: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return value == pattern;
    }
    let mut rest = value;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(after) = rest.strip_prefix(part) else { return false };
            rest = after;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(found) = rest.find(part) else { return false };
            rest = &rest[found + part.len()..];
        }
    }
    true
}

fn as_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn compare(op: &str, ordering: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        "=" => ordering == Equal,
        "!=" => ordering != Equal,
        "<" => ordering == Less,
        "<=" => ordering != Greater,
        ">" => ordering == Greater,
        ">=" => ordering != Less,
        _ => false,
    }
}

impl Qualifier {
    pub fn matches(&self, store: &Store, type_name: &str, record: &Value) -> bool {
        match self {
            Qualifier::And(parts) => parts.iter().all(|p| p.matches(store, type_name, record)),
            Qualifier::Or(parts) => parts.iter().any(|p| p.matches(store, type_name, record)),
            Qualifier::Not(inner) => !inner.matches(store, type_name, record),
            Qualifier::Compare { path, op, value } => {
                let actual =
                    as_text(resolve(store, type_name, record, path)).filter(|s| !s.is_empty());
                match (value, actual) {
                    (Literal::Nil, actual) => match *op {
                        "=" => actual.is_none(),
                        "!=" => actual.is_some(),
                        _ => false,
                    },
                    (_, None) => false,
                    (Literal::Text(wanted), Some(actual)) => match *op {
                        "like" => like(&actual, wanted),
                        "caseInsensitiveLike" => {
                            like(&actual.to_lowercase(), &wanted.to_lowercase())
                        }
                        op => compare(op, actual.as_str().cmp(wanted.as_str())),
                    },
                    (Literal::Number(wanted), Some(actual)) => actual
                        .parse::<f64>()
                        .ok()
                        .and_then(|a| a.partial_cmp(wanted))
                        .is_some_and(|ordering| compare(op, ordering)),
                    (Literal::Date(wanted), Some(actual)) => calendar_date_ms(&actual)
                        .or_else(|| parse_ms(&actual))
                        .is_some_and(|a| compare(op, a.cmp(wanted))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_need_a_timezone_and_strings_unescape() {
        let mut store = Store::new();
        let typed = "modificationDate >= (NSCalendarDate) '2026-03-01 10:00:00 +0000'";
        assert!(parse(&store, typed, "CRVacancy").is_ok());
        let untyped = "modificationDate >= (NSCalendarDate) '2026-03-01 10:00:00'";
        assert!(parse(&store, untyped, "CRVacancy").is_err());
        let phone = "emailAddress = 'o\\'hara@x.nl' OR mobileNumber = '1'";
        assert!(parse(&store, phone, "CREmployee").is_ok());
        store.hide_field("CREmployee", "mobileNumber");
        assert!(parse(&store, phone, "CREmployee").is_err(), "a hidden field is unknown");
        assert!(parse(&store, "nope = 'x'", "CREmployee").is_err());
        assert!(parse(&store, "toVacancy._id = '12'", "CRPublication").is_ok());
        assert!(like("Data Engineer", "Data*"));
        assert!(!like("Engineer", "Data*"));
    }
}
