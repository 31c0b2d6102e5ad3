//! The manifest slot: a fixed-size static in the component's data that `ats-host
//! connector pack` fills with a manifest, so a manifest becomes a connector component
//! without a Rust toolchain. Layout: [`MAGIC`] (32 bytes), the manifest's length (u32,
//! little-endian), then [`CAPACITY`] bytes of which the first `length` are the manifest's
//! UTF-8 text. The constants are `ats_declarative::slot`'s, the definition `ats-host
//! connector pack` fills the slot by.

use ats_declarative::slot::{CAPACITY, MAGIC};

#[repr(C)]
pub struct Slot {
    magic: [u8; 32],
    length: [u8; 4],
    bytes: [u8; CAPACITY],
}

/// Filled with a non-zero pattern so the linker keeps every byte in the data segment (a
/// run of zeros could be left out of it, and then there would be nothing to patch).
#[used]
static MANIFEST_SLOT: Slot = Slot { magic: MAGIC, length: [0; 4], bytes: [0xA5; CAPACITY] };

/// The packed manifest's text; `None` in the unpacked template.
pub fn manifest() -> Result<Option<String>, String> {
    // Read through volatile loads: the static's initializer says "empty", and the compiler
    // must not conclude so, since `pack` changes the bytes after compilation.
    let slot: *const Slot = &MANIFEST_SLOT;
    // SAFETY: `slot` points to a live static of type `Slot`; the loads read plain bytes.
    let length = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*slot).length)) };
    let length = u32::from_le_bytes(length) as usize;
    if length == 0 {
        return Ok(None);
    }
    if length > CAPACITY {
        return Err(format!("the manifest slot says {length} bytes, more than its {CAPACITY}"));
    }
    let mut bytes = Vec::with_capacity(length);
    for i in 0..length {
        // SAFETY: `i < length <= CAPACITY`, inside the static's `bytes` array.
        let byte = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*slot).bytes[i])) };
        bytes.push(byte);
    }
    String::from_utf8(bytes).map(Some).map_err(|e| format!("the packed manifest is not UTF-8: {e}"))
}
