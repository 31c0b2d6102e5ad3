//! The manifest slot: a fixed-size static in the component's data that `ats-host
//! connector pack` fills with a manifest, so a manifest becomes a connector component
//! without a Rust toolchain. Layout (`ats_declarative::slot`, the definition `ats-host
//! connector pack` fills the slot by): [`MAGIC`] (32 bytes), the lengths of the manifest's
//! UTF-8 text and of its compiled form (u32 each, little-endian), then [`CAPACITY`] bytes:
//! the text, then the compiled form.

use ats_declarative::slot::{CAPACITY, MAGIC};

#[repr(C)]
pub struct Slot {
    magic: [u8; 32],
    text_length: [u8; 4],
    compact_length: [u8; 4],
    bytes: [u8; CAPACITY],
}

/// Filled with a non-zero pattern so the linker keeps every byte in the data segment (a
/// run of zeros could be left out of it, and then there would be nothing to patch).
#[used]
static MANIFEST_SLOT: Slot =
    Slot { magic: MAGIC, text_length: [0; 4], compact_length: [0; 4], bytes: [0xA5; CAPACITY] };

/// Which part of the slot to read.
#[derive(Clone, Copy)]
pub enum Part {
    /// The manifest's TOML text (checked at load).
    Text,
    /// Its compiled form (read by every call).
    Compact,
}

/// One part of the packed manifest, read in place; `None` in the unpacked template.
pub fn read(part: Part) -> Result<Option<&'static str>, String> {
    // The static's initializer says "empty", and the compiler must not conclude so, since
    // `pack` changes the bytes after compilation: the lengths are read with volatile loads
    // and the bytes through a pointer `black_box` hides the origin of.
    let slot: *const Slot = core::hint::black_box(&raw const MANIFEST_SLOT);
    // SAFETY: `slot` points to a live static of type `Slot`; the loads read plain bytes.
    let (text_length, compact_length) = unsafe {
        (
            core::ptr::read_volatile(core::ptr::addr_of!((*slot).text_length)),
            core::ptr::read_volatile(core::ptr::addr_of!((*slot).compact_length)),
        )
    };
    let text_length = u32::from_le_bytes(text_length) as usize;
    let compact_length = u32::from_le_bytes(compact_length) as usize;
    if text_length == 0 {
        return Ok(None);
    }
    if text_length.saturating_add(compact_length) > CAPACITY {
        return Err(format!(
            "the manifest slot says {text_length} + {compact_length} bytes, more than its {CAPACITY}"
        ));
    }
    let (start, length, what) = match part {
        Part::Text => (0, text_length, "manifest"),
        Part::Compact => (text_length, compact_length, "compiled manifest"),
    };
    // SAFETY: `start + length <= CAPACITY` (checked above), inside the static's `bytes`.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            core::ptr::addr_of!((*slot).bytes).cast::<u8>().add(start),
            length,
        )
    };
    core::str::from_utf8(bytes)
        .map(Some)
        .map_err(|e| format!("the packed {what} is not UTF-8: {e}"))
}
