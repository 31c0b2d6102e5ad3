//! Timestamp shapes ATS APIs use, converted to and from the RFC 3339 the contract speaks.
//! The conversions are textual (no time zone arithmetic); [`days_from_civil`] and
//! [`civil_from_days`] are the calendar arithmetic, one copy for the SDK and the host.

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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
