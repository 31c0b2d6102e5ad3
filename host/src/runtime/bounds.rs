//! Bounds on what a guest hands the host beyond the output cap: error messages (stored as
//! `run.error`, logged, served by the API), `raw` record fields (stored per record and
//! served by every list), and the text of guest log lines (escaped, so a guest cannot write
//! a line of its own into the host log).

use super::call::Output;
use super::limits::Limits;
use crate::model::AtsError;
use std::borrow::Cow;

/// `text` cut to at most `max` bytes (on a character boundary), with the cut size noted.
pub fn cap_text(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let total = text.len();
    let cut = (0..=max).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    text.truncate(cut);
    text.push_str(&format!("… ({} of {total} bytes cut)", total - cut));
    text
}

/// The connector's error with every message capped at `limits.max_error_bytes`.
pub fn cap_ats_error(error: AtsError, limits: &Limits) -> AtsError {
    let cap = |text: String| cap_text(text, limits.max_error_bytes);
    match error {
        AtsError::Unauthorized(m) => AtsError::Unauthorized(cap(m)),
        AtsError::Forbidden(m) => AtsError::Forbidden(cap(m)),
        AtsError::NotFound(m) => AtsError::NotFound(cap(m)),
        AtsError::Conflict(m) => AtsError::Conflict(cap(m)),
        AtsError::RateLimited(mut r) => {
            r.message = cap(r.message);
            AtsError::RateLimited(r)
        }
        AtsError::InvalidInput(m) => AtsError::InvalidInput(cap(m)),
        AtsError::Unsupported(m) => AtsError::Unsupported(cap(m)),
        AtsError::Transient(m) => AtsError::Transient(cap(m)),
        AtsError::Remote(mut r) => {
            r.body_excerpt = cap(r.body_excerpt);
            AtsError::Remote(r)
        }
    }
}

/// Replaces every `raw` field over `max` bytes with a small JSON marker that keeps its size:
/// the record itself is kept, its unified fields intact.
pub fn cap_raw_fields(output: &mut Output, max: usize) {
    let cap = |raw: &mut String| {
        if raw.len() > max {
            *raw = serde_json::json!({"_truncated": true, "bytes": raw.len(), "limit": max})
                .to_string();
        }
    };
    match output {
        Output::Jobs(page) => page.items.iter_mut().for_each(|j| cap(&mut j.raw)),
        Output::Stages(page) => page.items.iter_mut().for_each(|s| cap(&mut s.raw)),
        Output::Applications(page) => page.items.iter_mut().for_each(|a| cap(&mut a.raw)),
        Output::Candidate(candidate) => cap(&mut candidate.raw),
        Output::Candidates(page) => page.items.iter_mut().for_each(|c| cap(&mut c.raw)),
        Output::Application(application) => cap(&mut application.raw),
        Output::Webhook(outcome) => outcome.events.iter_mut().for_each(|e| cap(&mut e.raw)),
        Output::Manifest(_)
        | Output::Upserted(_)
        | Output::Receipt(_)
        | Output::Account(_)
        | Output::Tags(_)
        | Output::RejectionReasons(_)
        | Output::Users(_) => {}
    }
}

/// `text` with control characters (newlines, carriage returns, escapes, ...) written as
/// `\n`, `\r`, `\u{1b}`: one guest message stays one log line in every log format.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_on_a_character_boundary_with_its_size() {
        assert_eq!(cap_text("short".into(), 10), "short");
        let cut = cap_text("é".repeat(10), 5);
        assert!(cut.starts_with("éé…"), "{cut}");
        assert!(cut.contains("16 of 20 bytes cut"), "{cut}");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("plain"), "plain");
        assert_eq!(
            escape_controls("ok\nERROR tenant=other forged\r\u{1b}[2J"),
            "ok\\nERROR tenant=other forged\\r\\u{1b}[2J"
        );
    }
}
