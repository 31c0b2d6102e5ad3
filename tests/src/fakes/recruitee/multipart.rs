//! A minimal `multipart/form-data` reader for the fake (axum's `multipart` feature is not
//! enabled in this workspace).

use axum::http::HeaderMap;

/// One multipart part: (name, filename, bytes).
pub type Part = (String, Option<String>, Vec<u8>);

pub fn multipart(headers: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let content_type = headers.get("content-type")?.to_str().ok()?;
    let boundary = content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary="))?;
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let mut parts = Vec::new();
    let mut rest = body;
    let start = find(rest, delimiter.as_bytes())?;
    rest = &rest[start + delimiter.len()..];
    while !rest.starts_with(b"--") {
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let content = &rest[head_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes())?;
        let disposition =
            head.lines().find(|l| l.to_lowercase().starts_with("content-disposition"))?;
        let param = |key: &str| {
            disposition.split(';').find_map(|p| {
                p.trim().strip_prefix(&format!("{key}=")).map(|v| v.trim_matches('"').to_string())
            })
        };
        parts.push((param("name")?, param("filename"), content[..end].to_vec()));
        rest = &content[end + 2 + delimiter.len()..];
    }
    Some(parts)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
