//! Timestamp shapes ATS APIs use, converted to and from the RFC 3339 the contract speaks.
//! These are textual conversions: no time zone arithmetic happens here.

/// `2026-11-01 12:00:00` (or with a `T`, fraction or offset) → `2026-11-01T12:00:00Z` when
/// the remote value carries no offset (then `assume_offset` is appended, e.g. `Z`).
pub fn to_rfc3339(remote: &str, assume_offset: &str) -> Option<String> {
    let remote = remote.trim();
    if remote.len() < 19 || !remote.is_char_boundary(19) {
        return None;
    }
    let (date_time, rest) = remote.split_at(19);
    let date_time = date_time.replacen(' ', "T", 1);
    let bytes = date_time.as_bytes();
    let shaped = bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shaped {
        return None;
    }
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit()).trim();
    let offset = match rest {
        "" => assume_offset.to_string(),
        "Z" | "z" => "Z".to_string(),
        other if other.len() == 5 && !other.contains(':') => {
            format!("{}:{}", &other[..3], &other[3..])
        }
        other => other.to_string(),
    };
    Some(format!("{date_time}{offset}"))
}

/// RFC 3339 → `2026-11-01 12:00:00` (date and time as written, offset dropped).
pub fn to_sql_datetime(rfc3339: &str) -> Option<String> {
    let value = rfc3339.trim();
    (value.len() >= 19 && value.is_char_boundary(19)).then(|| value[..19].replacen('T', " ", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_common_shapes() {
        assert_eq!(to_rfc3339("2026-11-01 12:00:00", "Z").as_deref(), Some("2026-11-01T12:00:00Z"));
        assert_eq!(
            to_rfc3339("2026-11-01T12:00:00.000+0000", "Z").as_deref(),
            Some("2026-11-01T12:00:00+00:00")
        );
        assert_eq!(
            to_rfc3339("2026-11-01 12:00:00 +0200", "Z").as_deref(),
            Some("2026-11-01T12:00:00+02:00")
        );
        assert_eq!(to_rfc3339("yesterday", "Z"), None);
        assert_eq!(to_sql_datetime("2026-11-01T12:00:00Z").as_deref(), Some("2026-11-01 12:00:00"));
    }
}
