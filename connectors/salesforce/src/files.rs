//! Files as `ContentVersion` records: base64 `VersionData`, `PathOnClient`, `Title`, linked
//! to a record with `FirstPublishLocationId`.

use crate::client::{Client, record_id};
use ats_connector_sdk::http::base64;
use ats_connector_sdk::prelude::*;
use serde_json::json;

/// A JSON (non-multipart) ContentVersion insert carries at most about 37.5 MB of base64;
/// this is the raw size that stays under it.
pub const MAX_INLINE_BYTES: usize = 27 * 1024 * 1024;

/// Uploads `content` as a file linked to record `parent_id`; returns the ContentVersion id.
pub fn attach(
    client: &mut Client,
    parent_id: &str,
    filename: &str,
    content: &[u8],
) -> Result<String, AtsError> {
    let parent_id = record_id(parent_id)?;
    if filename.trim().is_empty() {
        return Err(AtsError::InvalidInput("filename is required".into()));
    }
    if content.len() > MAX_INLINE_BYTES {
        return Err(AtsError::InvalidInput(format!(
            "file is {} bytes; at most {MAX_INLINE_BYTES} can be uploaded inline",
            content.len()
        )));
    }
    let title = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
    client.create(
        "ContentVersion",
        &json!({
            "Title": title,
            "PathOnClient": filename,
            "VersionData": base64(content),
            "FirstPublishLocationId": parent_id,
        }),
    )
}
