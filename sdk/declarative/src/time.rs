//! Timestamps without a clock: RFC 3339 in and out, unix seconds and milliseconds, dates,
//! a `strftime` subset (`%Y %m %d %H %M %S %%`) for reading remote values, and HTTP-dates
//! (`Retry-After`). All in UTC; "now" is always the caller's.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). The
/// host's `time` module uses this copy too.
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
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix seconds of a UTC date and time, `None` when a part is out of range.
fn unix_seconds(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    let valid = (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second <= 60;
    valid.then(|| {
        days_from_civil(year, month, day) * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second)
    })
}

fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// Parses RFC 3339 (`2026-11-01T12:00:00Z`, fraction and offset allowed, `T` or a space) to
/// unix milliseconds.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !text.is_ascii() {
        return None;
    }
    let shaped = bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't' | b' ')
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shaped {
        return None;
    }
    let seconds = unix_seconds(
        i64::from(number(&text[0..4])?),
        number(&text[5..7])?,
        number(&text[8..10])?,
        number(&text[11..13])?,
        number(&text[14..16])?,
        number(&text[17..19])?,
    )?;
    let mut rest = &text[19..];
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = i64::from(number(&padded)?);
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours = number(&rest[1..3])?;
            let minutes = number(&rest[4..6])?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * i64::from(hours * 60 + minutes)
        }
        _ => return None,
    };
    Some((seconds - offset_minutes * 60) * 1000 + millis)
}

/// Unix seconds → `2026-11-01T12:00:00Z`.
pub(crate) fn format_rfc3339(seconds: i64) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let rem = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Unix seconds → `2026-11-01`.
pub(crate) fn format_date(seconds: i64) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Reads `text` with a `strftime` subset (`%Y %m %d %H %M %S %%`; every other character must
/// match itself) to unix seconds. Parts not in the format are 0 (time) or 1 (date).
pub(crate) fn parse_with_format(text: &str, format: &str) -> Option<i64> {
    let (mut year, mut month, mut day, mut hour, mut minute, mut second) = (1970, 1, 1, 0, 0, 0);
    let mut rest = text.trim();
    let mut spec = format.chars();
    while let Some(c) = spec.next() {
        if c != '%' {
            rest = rest.strip_prefix(c)?;
            continue;
        }
        let directive = spec.next()?;
        if directive == '%' {
            rest = rest.strip_prefix('%')?;
            continue;
        }
        let width = if directive == 'Y' { 4 } else { 2 };
        let digits = rest.bytes().take(width).take_while(u8::is_ascii_digit).count();
        let value = number(&rest[..digits])?;
        rest = &rest[digits..];
        match directive {
            'Y' => year = i64::from(value),
            'm' => month = value,
            'd' => day = value,
            'H' => hour = value,
            'M' => minute = value,
            'S' => second = value,
            _ => return None,
        }
    }
    if !rest.is_empty() {
        return None;
    }
    unix_seconds(year, month, day, hour, minute, second)
}

/// Whether a `date:` format uses only the supported directives.
pub(crate) fn check_format(format: &str) -> Result<(), String> {
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('Y' | 'm' | 'd' | 'H' | 'M' | 'S' | '%') => {}
                Some(other) => {
                    return Err(format!(
                        "`%{other}` is not supported; use %Y %m %d %H %M %S or %%, or `unix`, `unix-ms`, `rfc3339`"
                    ));
                }
                None => return Err("the format ends with a lone `%`".into()),
            }
        }
    }
    Ok(())
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Parses an IMF-fixdate HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`) to unix seconds.
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let (_weekday, rest) = text.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let month = MONTHS.iter().position(|m| m == month)?;
    let mut clock = time.split(':');
    let (hour, minute, second) = (clock.next()?, clock.next()?, clock.next()?);
    if clock.next().is_some() || day.len() != 2 || year.len() != 4 {
        return None;
    }
    unix_seconds(
        i64::from(number(year)?),
        u32::try_from(month + 1).ok()?,
        number(day)?,
        number(hour)?,
        number(minute)?,
        number(second)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_offsets_and_fractions() {
        let ms = parse_rfc3339("2026-03-01T10:00:00.250+02:00").expect("parses");
        assert_eq!(format_rfc3339(ms / 1000), "2026-03-01T08:00:00Z");
        assert_eq!(ms % 1000, 250);
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(format_date(86_400 * 365), "1971-01-01");
    }

    #[test]
    fn strftime_subset_and_http_dates() {
        let seconds = parse_with_format("05-11-2026 13:04", "%d-%m-%Y %H:%M").expect("parses");
        assert_eq!(format_rfc3339(seconds), "2026-11-05T13:04:00Z");
        assert_eq!(parse_with_format("2026/11/05", "%Y-%m-%d"), None);
        assert!(check_format("%Y-%m-%dT%H:%M:%S").is_ok());
        assert!(check_format("%b %d").is_err());
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date("06 Nov 1994"), None);
    }
}
