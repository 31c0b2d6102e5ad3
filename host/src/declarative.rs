//! Manifest connectors: `ats-host connector pack FILE` checks a connector manifest (the
//! format of `sdk/declarative`) and writes it into the slot of the bundled generic
//! component (`connectors/declarative`), which makes a connector component of it without a
//! Rust toolchain. The result loads, versions, rolls back and runs sandboxed like any other
//! component; its `describe()` is the manifest's.
//!
//! The slot layout is `ats_declarative::slot`'s ([`MAGIC`] once in the component, the
//! lengths of the manifest's text and of its compiled form as little-endian u32s, then
//! [`CAPACITY`] bytes holding both), the same definition the component declares its slot
//! with. The compiled form spares every call the TOML parse and validation; the component
//! checks once, at load, that it is the text's own.

use ats_declarative::slot::{CAPACITY, MAGIC};
use thiserror::Error;
/// The generic component's cargo package, bundled as the template (never loaded itself).
pub const TEMPLATE_PACKAGE: &str = "connector-declarative";

#[derive(Debug, Error)]
pub enum PackError {
    /// The manifest is wrong: every problem, with its line.
    #[error("{file}: the manifest has problems:\n{problems}")]
    Manifest { file: String, problems: String },
    #[error(
        "{file}: the manifest and its compiled form are {size} bytes; a manifest connector carries at most {CAPACITY} (move long texts out, e.g. help strings)"
    )]
    TooLarge { file: String, size: usize },
    #[error(
        "this build of ats-host has no generic manifest connector (`{TEMPLATE_PACKAGE}`) to pack into"
    )]
    NoTemplate,
    #[error(
        "the generic manifest connector's slot was not found exactly once ({found} times); rebuild ats-host"
    )]
    Slot { found: usize },
}

/// The generic component this build bundles.
pub fn template() -> Option<&'static [u8]> {
    crate::bundled::BUNDLED
        .iter()
        .find(|(package, _)| *package == TEMPLATE_PACKAGE)
        .map(|(_, wasm)| *wasm)
}

/// Checks `text` (read from `file`, named in errors) and packs it, with its compiled form,
/// into `template`.
pub fn pack_into(template: &[u8], file: &str, text: &str) -> Result<Vec<u8>, PackError> {
    let manifest = ats_declarative::Manifest::parse(text).map_err(|problems| {
        PackError::Manifest { file: file.to_string(), problems: problems.to_string() }
    })?;
    let compact = manifest
        .to_compact()
        .map_err(|problem| PackError::Manifest { file: file.to_string(), problems: problem })?;
    let size = text.len() + compact.len();
    if size > CAPACITY {
        return Err(PackError::TooLarge { file: file.to_string(), size });
    }
    let at = slot_at(template)?;
    let lengths_at = at + MAGIC.len();
    let bytes_at = lengths_at + 8;
    if template.len() < bytes_at + CAPACITY {
        return Err(PackError::Slot { found: 0 });
    }
    let too_large = || PackError::TooLarge { file: file.to_string(), size };
    let text_length = u32::try_from(text.len()).map_err(|_| too_large())?;
    let compact_length = u32::try_from(compact.len()).map_err(|_| too_large())?;
    let mut packed = template.to_vec();
    packed[lengths_at..lengths_at + 4].copy_from_slice(&text_length.to_le_bytes());
    packed[lengths_at + 4..bytes_at].copy_from_slice(&compact_length.to_le_bytes());
    packed[bytes_at..bytes_at + text.len()].copy_from_slice(text.as_bytes());
    let compact_at = bytes_at + text.len();
    packed[compact_at..compact_at + compact.len()].copy_from_slice(compact.as_bytes());
    Ok(packed)
}

/// Where the slot's marker is in `component`: exactly once, or the component is not the
/// generic one.
fn slot_at(component: &[u8]) -> Result<usize, PackError> {
    let found: Vec<usize> = component
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, window)| *window == MAGIC)
        .map(|(at, _)| at)
        .collect();
    match found[..] {
        [at] => Ok(at),
        _ => Err(PackError::Slot { found: found.len() }),
    }
}

/// The manifest text packed into `component`, when it is a packed manifest connector.
pub fn embedded_manifest(component: &[u8]) -> Option<&str> {
    let lengths_at = slot_at(component).ok()? + MAGIC.len();
    let length = u32::from_le_bytes(component.get(lengths_at..lengths_at + 4)?.try_into().ok()?);
    let text_at = lengths_at + 8;
    let text = component.get(text_at..text_at.checked_add(usize::try_from(length).ok()?)?)?;
    std::str::from_utf8(text).ok().filter(|text| !text.is_empty())
}

/// What a packed manifest connector declares its ATS cannot do (`[gaps]`); none for any
/// other component (or a manifest that does not parse: such a component does not load).
pub fn declared_gaps(component: &[u8]) -> ats_declarative::Gaps {
    embedded_manifest(component)
        .and_then(|text| ats_declarative::Manifest::parse(text).ok())
        .map(|manifest| manifest.gaps().clone())
        .unwrap_or_default()
}

/// Packs `text` into this build's generic component.
pub fn pack(file: &str, text: &str) -> Result<Vec<u8>, PackError> {
    pack_into(template().ok_or(PackError::NoTemplate)?, file, text)
}
