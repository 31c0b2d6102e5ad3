//! Request bodies from `body = { json | form | multipart | text }`: JSON whose string leaves
//! are templates (a leaf that is exactly one `{{x}}` keeps x's JSON type), URL-encoded forms
//! and text (parts that render empty are left out), and `multipart/form-data` (RFC 7578)
//! with file parts read from base64 (or a byte list) in the input.

use crate::error::DeclError;
use crate::spec::BodySpec;
use crate::template::{Context, Template, percent_encode};
use base64::Engine as _;
use serde_json::{Map, Value};

/// A rendered body and its content type.
pub(crate) struct Body {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

pub(crate) fn build(spec: &BodySpec, ctx: &Context<'_>) -> Result<Body, DeclError> {
    let (bytes, content_type) = if let Some(json) = &spec.json {
        let rendered = render_json(json, ctx)?;
        let bytes = serde_json::to_vec(&rendered)
            .map_err(|e| DeclError::InvalidInput(format!("cannot encode the JSON body: {e}")))?;
        (bytes, "application/json".to_string())
    } else if let Some(form) = &spec.form {
        let mut pairs = Vec::new();
        for (name, template) in form {
            let value = Template::checked(template)?.render_string(ctx)?;
            if !value.is_empty() {
                pairs.push(format!("{}={}", percent_encode(name), percent_encode(&value)));
            }
        }
        (pairs.join("&").into_bytes(), "application/x-www-form-urlencoded".to_string())
    } else if let Some(parts) = &spec.multipart {
        return multipart(parts, ctx);
    } else if let Some(text) = &spec.text {
        let text = Template::checked(text)?.render_string(ctx)?;
        (text.into_bytes(), "text/plain; charset=utf-8".to_string())
    } else {
        (Vec::new(), "application/octet-stream".to_string())
    };
    Ok(Body { bytes, content_type: spec.content_type.clone().unwrap_or(content_type) })
}

/// Renders every string leaf of a JSON template.
pub(crate) fn render_json(value: &Value, ctx: &Context<'_>) -> Result<Value, DeclError> {
    Ok(match value {
        Value::String(text) => Template::checked(text)?.render_value(ctx)?,
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| render_json(item, ctx)).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                out.insert(key.clone(), render_json(item, ctx)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

struct Part {
    name: String,
    file: Option<(String, String)>,
    content: Vec<u8>,
}

fn multipart(specs: &[crate::spec::PartSpec], ctx: &Context<'_>) -> Result<Body, DeclError> {
    let mut parts = Vec::new();
    for spec in specs {
        if let Some(template) = &spec.value {
            let value = Template::checked(template)?.render_string(ctx)?;
            if !value.is_empty() {
                parts.push(Part {
                    name: spec.name.clone(),
                    file: None,
                    content: value.into_bytes(),
                });
            }
            continue;
        }
        let Some(variable) = &spec.file else { continue };
        let value = Template::checked(&format!("{{{{{variable}}}}}"))?.render_value(ctx)?;
        let content = bytes_of(&value).ok_or_else(|| {
            DeclError::InvalidInput(format!(
                "multipart part `{}`: `{variable}` is missing or not base64 / a byte list",
                spec.name
            ))
        })?;
        let render = |text: &Option<String>, fallback: &str| -> Result<String, DeclError> {
            match text {
                Some(text) => Template::checked(text)?.render_string(ctx),
                None => Ok(fallback.to_string()),
            }
        };
        let filename = render(&spec.filename, &spec.name)?;
        let content_type = render(&spec.content_type, "application/octet-stream")?;
        let content_type = if content_type.is_empty() {
            "application/octet-stream".to_string()
        } else {
            content_type
        };
        parts.push(Part { name: spec.name.clone(), file: Some((filename, content_type)), content });
    }
    let boundary = boundary_for(&parts);
    let quote = |s: &str| s.replace(['"', '\r', '\n'], "_");
    let mut bytes = Vec::new();
    for part in &parts {
        let mut head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
            quote(&part.name)
        );
        if let Some((filename, content_type)) = &part.file {
            head.push_str(&format!(
                "; filename=\"{}\"\r\nContent-Type: {}",
                quote(filename),
                content_type.replace(['\r', '\n'], "")
            ));
        }
        head.push_str("\r\n\r\n");
        bytes.extend_from_slice(head.as_bytes());
        bytes.extend_from_slice(&part.content);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(Body { bytes, content_type: format!("multipart/form-data; boundary={boundary}") })
}

/// Bytes from a base64 string (standard or URL-safe alphabet) or a list of byte numbers.
fn bytes_of(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(text) => {
            let text = text.trim();
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(text.trim_end_matches('='))
                })
                .ok()
        }
        Value::Array(items) => items.iter().map(|item| u8::try_from(item.as_u64()?).ok()).collect(),
        _ => None,
    }
}

/// A boundary derived from the content (deterministic), that no part contains.
fn boundary_for(parts: &[Part]) -> String {
    let mut seed = fnv1a(parts.iter().flat_map(|p| p.content.iter().copied()));
    for _ in 0..16 {
        let boundary = format!("ats-declarative-{seed:016x}");
        let clash = parts.iter().any(|p| contains(&p.content, boundary.as_bytes()));
        if !clash {
            return boundary;
        }
        seed = fnv1a(seed.to_le_bytes());
    }
    format!("ats-declarative-{seed:016x}-{}", parts.len())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// FNV-1a, 64 bit: a stable, dependency-free hash for boundaries and state keys.
pub(crate) fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
