//! Time for the whole host: the clock (`now_ms`), the background workers' wait between
//! rounds (`until_woken_or`), and RFC 3339 timestamps as ATSs send
//! them (`2026-11-24T09:00:00Z`, with fractions or an offset, or a bare date) to unix
//! milliseconds and back, for watermarks and overlap windows. Unparseable values are treated
//! as "unknown", never as a panic. The civil-calendar arithmetic lives here for the host
//! (and the test fakes) and in `ats_connector_sdk::time` for guests: one copy each.

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How long a background worker lets a burst of wake-ups settle before its round.
pub const WAKE_SETTLE: std::time::Duration = std::time::Duration::from_millis(20);

/// A background worker's wait between rounds: until `wake` is notified or `tick` passed.
/// After a notification it waits [`WAKE_SETTLE`] more, so a burst of notifications (every
/// committed page or write notifies, on every node of a shared store) makes one round,
/// not one each.
pub async fn until_woken_or(wake: &tokio::sync::Notify, tick: std::time::Duration) {
    tokio::select! {
        _ = wake.notified() => tokio::time::sleep(WAKE_SETTLE).await,
        _ = tokio::time::sleep(tick) => {}
    }
}

/// Unix milliseconds of an RFC 3339 timestamp or `YYYY-MM-DD` date.
pub fn parse_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(days * 86_400_000);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let hour: i64 = rest.get(0..2)?.parse().ok()?;
    let minute: i64 = rest.get(3..5)?.parse().ok()?;
    let second: i64 = rest.get(6..8)?.parse().ok()?;
    let mut tail = &rest[8..];
    let mut millis = 0i64;
    if let Some(fraction) = tail.strip_prefix('.') {
        let digits: String = fraction.chars().take_while(char::is_ascii_digit).collect();
        tail = &fraction[digits.len()..];
        let padded = format!("{digits:0<3}");
        millis = padded.get(..3)?.parse().ok()?;
    }
    let offset_minutes = match tail {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match tail.chars().next()? {
                '+' => 1,
                '-' => -1,
                _ => return None,
            };
            let h: i64 = tail.get(1..3)?.parse().ok()?;
            let m: i64 = tail.get(4..6).or_else(|| tail.get(3..5))?.parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-24T09:00:00.000Z`.
pub fn format_ms(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        (of_day % 3600) / 60,
        of_day % 60
    )
}

/// The civil-date arithmetic, in one copy shared with manifest connectors.
pub use ats_declarative::{civil_from_days, days_from_civil};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_shapes_and_round_trips() {
        let base = parse_ms("2026-11-24T09:00:00Z").expect("utc");
        assert_eq!(parse_ms("2026-11-24T10:00:00+01:00"), Some(base));
        assert_eq!(parse_ms("2026-11-24T09:00:00.250Z"), Some(base + 250));
        assert_eq!(parse_ms("2026-11-24 09:00:00"), Some(base));
        assert_eq!(parse_ms("2026-11-24"), Some(base - 9 * 3_600_000));
        assert_eq!(format_ms(base), "2026-11-24T09:00:00.000Z");
        assert_eq!(parse_ms(&format_ms(base + 1)), Some(base + 1));
        assert_eq!(parse_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_ms("yesterday"), None);
        assert_eq!(parse_ms("2026-13-01"), None);
    }
}
