//! Manifest connectors: `ats-host connector pack FILE` checks a connector manifest (the
//! format of `sdk/declarative`) and writes it into the slot of the bundled generic
//! component (`connectors/declarative`), which makes a connector component of it without a
//! Rust toolchain. The result loads, versions, rolls back and runs sandboxed like any other
//! component; its `describe()` is the manifest's.
//!
//! The slot layout is `ats_declarative::slot`'s ([`MAGIC`] once in the component, the
//! manifest's length as a little-endian u32, then [`CAPACITY`] bytes), the same definition
//! the component declares its slot with.

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
        "{file}: the manifest is {size} bytes; a manifest connector carries at most {CAPACITY} (move long texts out, e.g. help strings)"
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

/// Checks `text` (read from `file`, named in errors) and packs it into `template`.
pub fn pack_into(template: &[u8], file: &str, text: &str) -> Result<Vec<u8>, PackError> {
    if let Err(problems) = ats_declarative::Manifest::parse(text) {
        return Err(PackError::Manifest { file: file.to_string(), problems: problems.to_string() });
    }
    if text.len() > CAPACITY {
        return Err(PackError::TooLarge { file: file.to_string(), size: text.len() });
    }
    let found: Vec<usize> = template
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, window)| *window == MAGIC)
        .map(|(at, _)| at)
        .collect();
    let [at] = found[..] else { return Err(PackError::Slot { found: found.len() }) };
    let length_at = at + MAGIC.len();
    let bytes_at = length_at + 4;
    if template.len() < bytes_at + CAPACITY {
        return Err(PackError::Slot { found: 0 });
    }
    let mut packed = template.to_vec();
    let length = u32::try_from(text.len())
        .map_err(|_| PackError::TooLarge { file: file.to_string(), size: text.len() })?;
    packed[length_at..bytes_at].copy_from_slice(&length.to_le_bytes());
    packed[bytes_at..bytes_at + text.len()].copy_from_slice(text.as_bytes());
    Ok(packed)
}

/// Packs `text` into this build's generic component.
pub fn pack(file: &str, text: &str) -> Result<Vec<u8>, PackError> {
    pack_into(template().ok_or(PackError::NoTemplate)?, file, text)
}
