//! Page tokens. The host treats tokens as opaque strings and hands back whatever the
//! connector returned; these helpers cover the two common shapes: an offset, and any
//! serialisable cursor (encoded as JSON text).

use crate::bindings::ats::connector::types::AtsError;
use serde::{Serialize, de::DeserializeOwned};

const OFFSET_PREFIX: &str = "offset:";

/// The offset a token stands for; no token means the first page (offset 0).
pub fn offset_from_token(token: Option<&str>) -> Result<u64, AtsError> {
    let Some(token) = token else { return Ok(0) };
    token.strip_prefix(OFFSET_PREFIX).and_then(|n| n.parse().ok()).ok_or_else(|| {
        AtsError::InvalidInput(format!("page token `{token}` is not an offset token"))
    })
}

/// The token for the page after one that started at `offset` and returned `returned` of
/// `limit` items; `None` when that page was the last (it came back short).
pub fn next_offset_token(offset: u64, returned: usize, limit: u32) -> Option<String> {
    let returned = returned as u64;
    (returned > 0 && returned >= u64::from(limit))
        .then(|| format!("{OFFSET_PREFIX}{}", offset + returned))
}

/// Encodes any cursor as a page token.
pub fn encode_token<T: Serialize>(cursor: &T) -> Result<String, AtsError> {
    serde_json::to_string(cursor)
        .map_err(|e| AtsError::InvalidInput(format!("cannot encode page token: {e}")))
}

/// Decodes a token made by [`encode_token`]; `None` for the first page.
pub fn decode_token<T: DeserializeOwned>(token: Option<&str>) -> Result<Option<T>, AtsError> {
    token
        .map(|t| {
            serde_json::from_str(t)
                .map_err(|e| AtsError::InvalidInput(format!("page token `{t}` is malformed: {e}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_tokens_round_trip_and_stop_on_a_short_page() {
        assert_eq!(offset_from_token(None).ok(), Some(0));
        let next = next_offset_token(0, 50, 50);
        assert_eq!(next.as_deref(), Some("offset:50"));
        assert_eq!(offset_from_token(next.as_deref()).ok(), Some(50));
        assert_eq!(next_offset_token(50, 10, 50), None);
        assert!(offset_from_token(Some("garbage")).is_err());
    }

    #[test]
    fn cursor_tokens_round_trip() {
        let token = encode_token(&("2026-01-01T00:00:00Z", 7)).ok();
        let back: Option<(String, u32)> = decode_token(token.as_deref()).ok().flatten();
        assert_eq!(back, Some(("2026-01-01T00:00:00Z".to_string(), 7)));
    }
}
