//! OTYS datetimes (`YYYY-MM-DD HH:MM:SS`, no offset) and the contract's RFC 3339: the offset
//! at which an OTYS account writes its datetimes is a setting (`remote-utc-offset`), so `since`
//! is shifted into that offset before it is sent, and remote values are reported with it.

use ats_connector_sdk::prelude::*;
use ats_connector_sdk::time::{civil_from_days, days_from_civil};

/// A fixed UTC offset in seconds, parsed from `Z`, `+HH:MM` or `-HH:MM`.
pub fn parse_offset(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "00"));
    let hours: i64 = hours.parse().ok().filter(|h| *h <= 14)?;
    let minutes: i64 = minutes.parse().ok().filter(|m| *m < 60)?;
    Some(sign * (hours * 3_600 + minutes * 60))
}

/// Seconds since the epoch of an RFC 3339 timestamp (fractions dropped).
fn epoch_seconds(rfc3339: &str) -> Option<i64> {
    let value = rfc3339.trim();
    let number = |range: std::ops::Range<usize>| value.get(range)?.parse::<i64>().ok();
    let separators_ok = value.get(4..5) == Some("-")
        && value.get(7..8) == Some("-")
        && matches!(value.get(10..11), Some("T" | "t" | " "))
        && value.get(13..14) == Some(":")
        && value.get(16..17) == Some(":");
    if !separators_ok {
        return None;
    }
    let rest = value.get(19..)?.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = parse_offset(rest)?;
    let month = u32::try_from(number(5..7)?).ok().filter(|m| (1..=12).contains(m))?;
    let day = u32::try_from(number(8..10)?).ok().filter(|d| (1..=31).contains(d))?;
    let days = days_from_civil(number(0..4)?, month, day);
    let seconds = number(11..13)? * 3_600 + number(14..16)? * 60 + number(17..19)?;
    Some(days * 86_400 + seconds - offset)
}

/// RFC 3339 → the OTYS datetime at `offset_seconds` from UTC.
pub fn to_remote(rfc3339: &str, offset_seconds: i64) -> Result<String, AtsError> {
    let epoch = epoch_seconds(rfc3339).ok_or_else(|| {
        AtsError::InvalidInput(format!("`since` is not an RFC 3339 timestamp: `{rfc3339}`"))
    })?;
    let local = epoch + offset_seconds;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let second = local.rem_euclid(86_400);
    Ok(format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        second / 3_600,
        second % 3_600 / 60,
        second % 60
    ))
}

/// The offset as RFC 3339 writes it: `Z` or `±HH:MM`.
pub fn offset_suffix(offset_seconds: i64) -> String {
    if offset_seconds == 0 {
        return "Z".to_string();
    }
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let minutes = offset_seconds.abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_shifted_into_the_remote_offset() {
        let amsterdam_winter = parse_offset("+01:00");
        assert_eq!(amsterdam_winter, Some(3_600));
        assert_eq!(
            to_remote("2026-03-01T09:30:00Z", 3_600).ok().as_deref(),
            Some("2026-03-01 10:30:00")
        );
        assert_eq!(
            to_remote("2026-01-01T00:30:00+02:00", 0).ok().as_deref(),
            Some("2025-12-31 22:30:00")
        );
        assert_eq!(
            to_remote("2024-02-29T23:00:00.123Z", 3_600).ok().as_deref(),
            Some("2024-03-01 00:00:00")
        );
        assert!(to_remote("yesterday", 0).is_err());
        assert_eq!(offset_suffix(-5_400), "-01:30");
        assert_eq!(parse_offset("Amsterdam"), None);
    }
}
