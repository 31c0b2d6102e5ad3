//! Building SOQL safely: quoted text literals, datetime literals from RFC 3339, and the page
//! tokens (`nextRecordsUrl` paths) accepted back from the host.

use ats_connector_sdk::prelude::*;
use ats_connector_sdk::time::to_rfc3339;

/// A text literal: `'…'` with `\`, `'`, `"` and control characters escaped.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An RFC 3339 timestamp as an (unquoted) SOQL datetime literal, e.g. `2026-03-01T10:00:00Z`.
pub fn datetime(rfc3339: &str) -> Result<String, AtsError> {
    let invalid =
        || AtsError::InvalidInput(format!("`since` is not an RFC 3339 timestamp: `{rfc3339}`"));
    let normal = to_rfc3339(rfc3339, "Z").ok_or_else(invalid)?;
    let (date_time, offset) = normal.split_at(19);
    let offset = match offset {
        "+00:00" | "-00:00" | "Z" => "Z",
        other => other,
    };
    let literal = format!("{date_time}{offset}");
    let safe =
        literal.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '+'));
    if safe { Ok(literal) } else { Err(invalid()) }
}

/// Checks that a page token is a `nextRecordsUrl` of this API (a path, never a host).
pub fn next_records_path(token: &str) -> Result<&str, AtsError> {
    let ok = token.starts_with("/services/data/v")
        && token.contains("/query/")
        && !token.contains("..")
        && !token.contains("://")
        && token.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    if ok {
        Ok(token)
    } else {
        Err(AtsError::InvalidInput(format!(
            "page token `{token}` is not a Salesforce query cursor"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped() {
        assert_eq!(quote("O'Brien\\x"), "'O\\'Brien\\\\x'");
        assert_eq!(datetime("2026-03-01T10:00:00Z").ok().as_deref(), Some("2026-03-01T10:00:00Z"));
        assert_eq!(
            datetime("2026-03-01T10:00:00.123+02:00").ok().as_deref(),
            Some("2026-03-01T10:00:00+02:00")
        );
        assert!(datetime("yesterday' OR Name != '").is_err());
        assert!(next_records_path("https://evil.example/x").is_err());
        assert!(next_records_path("/services/data/v60.0/query/01gX-200").is_ok());
    }
}
