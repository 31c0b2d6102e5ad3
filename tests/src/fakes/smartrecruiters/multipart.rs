//! A small `multipart/form-data` reader (RFC 7578) for the fakes that take file uploads
//! (SmartRecruiters attachments, BambooHR applications).

/// One part of a multipart body.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content: Vec<u8>,
}

impl Part {
    /// The part's content as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.content).into_owned()
    }
}

/// The boundary of a `multipart/form-data; boundary=...` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        key.eq_ignore_ascii_case("boundary").then(|| value.trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

fn disposition_param(head: &str, key: &str) -> Option<String> {
    let marker = format!("{key}=\"");
    let start = head.find(&marker)? + marker.len();
    let end = head.get(start..)?.find('"')? + start;
    head.get(start..end).map(str::to_string)
}

/// The parts of `body`, or `None` when it is not well-formed.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut cursor = find(body, &delimiter, 0)? + delimiter.len();
    loop {
        if body.get(cursor..cursor + 2)? == b"--" {
            return Some(parts);
        }
        cursor += 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", cursor)?;
        let head = std::str::from_utf8(body.get(cursor..head_end)?).ok()?;
        let content_start = head_end + 4;
        let next = find(body, &delimiter, content_start)?;
        let content_end = next.checked_sub(2)?; // CRLF before the delimiter
        let disposition = head
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with("content-disposition:"))?;
        parts.push(Part {
            name: disposition_param(disposition, " name")
                .or_else(|| disposition_param(disposition, ";name"))?,
            filename: disposition_param(disposition, "filename"),
            content: body.get(content_start..content_end)?.to_vec(),
        });
        cursor = next + delimiter.len();
    }
}

/// The parts of a request body whose `content-type` header is `content_type`.
pub fn parts(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    parse(body, &boundary(content_type)?)
}
