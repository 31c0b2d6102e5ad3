//! Carerix qualifiers: the SQL-like filter strings of `cr<Entity>Page(qualifier: …)`. Values
//! cannot be passed as variables inside a qualifier, so every value is interpolated here and
//! nowhere else: strings single-quoted with `\` and `'` escaped ([L]: EOQualifier syntax),
//! dates typed as `(NSCalendarDate) 'YYYY-MM-DD HH:MM:SS +0000'` ([H], Carerix examples).
//! Also converts Carerix timestamps back to RFC 3339.

use ats_connector_sdk::prelude::*;

/// A quoted qualifier string value.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `field = 'value'`.
pub fn equals(field: &str, value: &str) -> String {
    format!("{field} = {}", quoted(value))
}

/// `field >= (NSCalendarDate) '…'` for an RFC 3339 `since`.
pub fn modified_since(field: &str, since: &str) -> Result<String, AtsError> {
    Ok(format!("{field} >= (NSCalendarDate) {}", quoted(&calendar_date(since)?)))
}

/// RFC 3339 → `YYYY-MM-DD HH:MM:SS +HHMM` (the offset kept, not converted).
pub fn calendar_date(rfc3339: &str) -> Result<String, AtsError> {
    let value = rfc3339.trim();
    let bad = || AtsError::InvalidInput(format!("`{rfc3339}` is not an RFC 3339 timestamp"));
    if value.len() < 19 || !value.is_char_boundary(19) {
        return Err(bad());
    }
    let (date_time, rest) = value.split_at(19);
    let shaped = date_time.as_bytes().iter().enumerate().all(|(i, b)| match i {
        4 | 7 => *b == b'-',
        10 => *b == b'T' || *b == b' ',
        13 | 16 => *b == b':',
        _ => b.is_ascii_digit(),
    });
    if !shaped {
        return Err(bad());
    }
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "" | "Z" | "z" => "+0000".to_string(),
        other if other.len() == 6 && other.as_bytes()[3] == b':' => other.replace(':', ""),
        other if other.len() == 5 => other.to_string(),
        _ => return Err(bad()),
    };
    if !(offset.starts_with('+') || offset.starts_with('-'))
        || !offset[1..].chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    Ok(format!("{} {offset}", date_time.replacen('T', " ", 1)))
}

/// A Carerix timestamp (`2026-11-01 12:00:00 +0100`, or ISO) → RFC 3339.
pub fn to_rfc3339(remote: &str) -> Option<String> {
    ats_connector_sdk::time::to_rfc3339(remote, "Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_dates_typed() {
        assert_eq!(equals("emailAddress", "o'hara@x.nl"), r"emailAddress = 'o\'hara@x.nl'");
        assert_eq!(quoted(r"a\' OR 1=1"), r"'a\\\' OR 1=1'");
        assert_eq!(
            modified_since("modificationDate", "2026-03-01T10:00:00Z").ok().as_deref(),
            Some("modificationDate >= (NSCalendarDate) '2026-03-01 10:00:00 +0000'")
        );
        assert_eq!(
            calendar_date("2026-03-01T10:00:00+02:00").ok().as_deref(),
            Some("2026-03-01 10:00:00 +0200")
        );
        assert!(calendar_date("yesterday").is_err());
        assert_eq!(
            to_rfc3339("2026-03-01 10:00:00 +0000").as_deref(),
            Some("2026-03-01T10:00:00+00:00")
        );
    }
}
