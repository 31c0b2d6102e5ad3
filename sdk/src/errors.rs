//! Mapping ATS answers onto the one typed `ats-error`: HTTP status codes, `Retry-After`
//! (seconds or HTTP-date), transport failures of the host `http` import.

use crate::bindings::ats::connector::http::HttpError;
use crate::bindings::ats::connector::types::{AtsError, Operation, RateLimit, RemoteFailure};
use std::time::SystemTime;

/// How much of a remote answer is kept in an error (characters).
pub const EXCERPT_CHARS: usize = 512;

/// The error for an operation this connector does not implement.
pub fn unsupported(operation: Operation) -> AtsError {
    AtsError::Unsupported(format!("{operation:?} is not supported by this connector"))
}

/// The first [`EXCERPT_CHARS`] characters of a response body, lossily decoded.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
/// A date in the past means "now" (0 seconds). Unparseable values give `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<u32> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(u32::try_from(seconds).unwrap_or(u32::MAX));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let wait = date.duration_since(now).unwrap_or_default();
    // Round up: waiting slightly too long is safe, too short is not.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Some(u32::try_from(seconds).unwrap_or(u32::MAX))
}

/// The typed error for a non-success HTTP answer.
///
/// | status | error |
/// |---|---|
/// | 401 | `unauthorized` |
/// | 403 | `forbidden` |
/// | 404, 410 | `not-found` |
/// | 409 | `conflict` |
/// | 400, 422 | `invalid-input` |
/// | 429, or 503 with `Retry-After` | `rate-limited` with the delay |
/// | 408, 5xx | `transient` |
/// | anything else | `remote` with status and body excerpt |
pub fn error_for_status(status: u16, retry_after: Option<&str>, body: &[u8]) -> AtsError {
    let detail = excerpt(body);
    let retry_after_seconds = retry_after.and_then(|v| parse_retry_after(v, SystemTime::now()));
    match status {
        401 => AtsError::Unauthorized(format!("HTTP 401: {detail}")),
        403 => AtsError::Forbidden(format!("HTTP 403: {detail}")),
        404 | 410 => AtsError::NotFound(format!("HTTP {status}: {detail}")),
        409 => AtsError::Conflict(format!("HTTP 409: {detail}")),
        400 | 422 => AtsError::InvalidInput(format!("HTTP {status}: {detail}")),
        429 => AtsError::RateLimited(RateLimit {
            retry_after_seconds,
            message: format!("HTTP 429: {detail}"),
        }),
        503 if retry_after_seconds.is_some() => AtsError::RateLimited(RateLimit {
            retry_after_seconds,
            message: format!("HTTP 503: {detail}"),
        }),
        408 | 500..=599 => AtsError::Transient(format!("HTTP {status}: {detail}")),
        _ => AtsError::Remote(RemoteFailure { status, body_excerpt: detail }),
    }
}

/// The typed error for a failure of the host `http` import itself.
pub fn from_http_error(error: HttpError) -> AtsError {
    match error {
        HttpError::Denied(reason) => {
            AtsError::Forbidden(format!("egress denied by host: {reason}"))
        }
        HttpError::Timeout(reason) => AtsError::Transient(format!("timeout: {reason}")),
        HttpError::Connect(reason) => AtsError::Transient(format!("connection failed: {reason}")),
        HttpError::TooLarge(limit) => AtsError::Remote(RemoteFailure {
            status: 0,
            body_excerpt: format!("response larger than the host's cap of {limit} bytes"),
        }),
        HttpError::InvalidRequest(reason) => {
            AtsError::InvalidInput(format!("bad request: {reason}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("120", now), Some(120));
        let in_90s = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(parse_retry_after(&in_90s, now), Some(90));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&past, now), Some(0));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        assert!(matches!(error_for_status(401, None, b""), AtsError::Unauthorized(_)));
        assert!(matches!(error_for_status(404, None, b""), AtsError::NotFound(_)));
        assert!(matches!(error_for_status(502, None, b""), AtsError::Transient(_)));
        assert!(matches!(
            error_for_status(429, Some("7"), b""),
            AtsError::RateLimited(RateLimit { retry_after_seconds: Some(7), .. })
        ));
        assert!(matches!(
            error_for_status(503, Some("3"), b""),
            AtsError::RateLimited(RateLimit { retry_after_seconds: Some(3), .. })
        ));
        assert!(matches!(
            error_for_status(418, None, b"teapot"),
            AtsError::Remote(RemoteFailure { status: 418, .. })
        ));
    }

    #[test]
    fn excerpt_is_cut_on_a_character_boundary() {
        let long = "é".repeat(EXCERPT_CHARS + 10);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
    }
}
