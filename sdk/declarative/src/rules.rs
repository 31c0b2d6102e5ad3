//! Turning an HTTP answer into success or a typed [`DeclError`]: the manifest's `[[errors]]`
//! rules first (first match wins, any status, 2xx included), then the defaults: 401/403
//! unauthorized, 404 not-found, 409 conflict, 429 rate-limited (`Retry-After` seconds or
//! HTTP-date, else `X-RateLimit-Reset`), 5xx transient, anything else non-2xx remote with
//! the first 300 characters of the body. Secrets are cut out of every excerpt.

use crate::error::DeclError;
use crate::limits::EXCERPT_CHARS;
use crate::spec::{ErrorAction, ErrorRule};
use crate::time::parse_http_date;
use crate::transport::HttpResponse;

const RETRY_AFTER: &str = "Retry-After";
const RATE_LIMIT_RESET: &str = "X-RateLimit-Reset";

/// Removes known secret values from text meant for errors.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        // Short values would redact ordinary words; they are not worth the damage.
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    pub fn with(&self, secret: &str) -> Self {
        Self::new(self.secrets.iter().cloned().chain([secret.to_string()]))
    }

    pub fn redact(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_string(), |text, secret| text.replace(secret, "[redacted]"))
    }
}

/// The first [`EXCERPT_CHARS`] characters of a body, lossily decoded, secrets removed.
pub(crate) fn excerpt(body: &[u8], redactor: &Redactor) -> String {
    let text = String::from_utf8_lossy(body);
    let cut = match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.into_owned(),
    };
    redactor.redact(&cut)
}

/// `Ok` for a success, else the error the rules give.
pub(crate) fn check(
    rules: &[ErrorRule],
    response: &HttpResponse,
    now: Option<i64>,
    redactor: &Redactor,
) -> Result<(), DeclError> {
    let status = response.status;
    // Lower-cased only when a rule for this status looks into the body (a page of records
    // is large and most rules do not).
    let body_text = std::cell::OnceCell::new();
    let lowered = || String::from_utf8_lossy(&response.body).to_lowercase();
    let matched = rules.iter().find(|rule| {
        rule.status.iter().any(|s| s.matches(status))
            && rule.body_contains.as_ref().is_none_or(|needle| {
                body_text.get_or_init(lowered).contains(&needle.to_lowercase())
            })
    });
    let detail = || match matched.and_then(|rule| rule.message.as_ref()) {
        Some(message) => format!("{message} (HTTP {status})"),
        None => format!("HTTP {status}: {}", excerpt(&response.body, redactor)),
    };
    if let Some(rule) = matched {
        let retry_after_seconds = wait_seconds(
            response,
            rule.retry_after_header.as_deref().unwrap_or(RETRY_AFTER),
            rule.reset_header.as_deref().unwrap_or(RATE_LIMIT_RESET),
            now,
        );
        return Err(match rule.action {
            ErrorAction::Unauthorized => DeclError::Unauthorized(detail()),
            ErrorAction::Forbidden => DeclError::Forbidden(detail()),
            ErrorAction::NotFound => DeclError::NotFound(detail()),
            ErrorAction::Conflict => DeclError::Conflict(detail()),
            ErrorAction::RateLimited => {
                DeclError::RateLimited { retry_after_seconds, message: detail() }
            }
            ErrorAction::Transient => DeclError::Transient(detail()),
            ErrorAction::InvalidInput => DeclError::InvalidInput(detail()),
            ErrorAction::Remote => DeclError::Remote {
                status,
                body_excerpt: match &rule.message {
                    Some(message) => message.clone(),
                    None => excerpt(&response.body, redactor),
                },
            },
        });
    }
    match status {
        200..=299 => Ok(()),
        401 | 403 => Err(DeclError::Unauthorized(detail())),
        404 => Err(DeclError::NotFound(detail())),
        409 => Err(DeclError::Conflict(detail())),
        429 => Err(DeclError::RateLimited {
            retry_after_seconds: wait_seconds(response, RETRY_AFTER, RATE_LIMIT_RESET, now),
            message: detail(),
        }),
        500..=599 => Err(DeclError::Transient(detail())),
        _ => Err(DeclError::Remote { status, body_excerpt: excerpt(&response.body, redactor) }),
    }
}

/// Seconds to wait: the retry-after header (delay-seconds or HTTP-date), else the reset
/// header (unix seconds of the reset). A date needs `now`; one in the past means 0.
fn wait_seconds(
    response: &HttpResponse,
    retry_after: &str,
    reset: &str,
    now: Option<i64>,
) -> Option<u32> {
    let clamp = |seconds: i64| u32::try_from(seconds.max(0)).unwrap_or(u32::MAX);
    if let Some(value) = response.header(retry_after).map(str::trim) {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        }
        if let (Some(date), Some(now)) = (parse_http_date(value), now) {
            return Some(clamp(date - now));
        }
    }
    let reset_at = response.header(reset)?.trim().parse::<i64>().ok()?;
    Some(clamp(reset_at - now?))
}

/// For login and token endpoints: 400, 401 and 403 are refused credentials.
pub(crate) fn check_credentials_answer(
    rules: &[ErrorRule],
    response: &HttpResponse,
    now: Option<i64>,
    redactor: &Redactor,
    what: &str,
) -> Result<(), DeclError> {
    if matches!(response.status, 400 | 401 | 403) {
        return Err(DeclError::Unauthorized(format!(
            "the {what} refused the credentials (HTTP {}): {}",
            response.status,
            excerpt(&response.body, redactor)
        )));
    }
    check(rules, response, now, redactor)
}
