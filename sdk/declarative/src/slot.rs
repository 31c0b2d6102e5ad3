//! The layout of the manifest slot in the generic manifest connector: the one definition
//! that the component (`connectors/declarative/src/slot.rs`, which declares the slot) and
//! `ats-host connector pack` (which fills it) both use. Layout: [`MAGIC`] (once in the
//! component), the manifest text's length and its compiled form's length
//! ([`crate::Manifest::to_compact`]) as little-endian u32s, then [`CAPACITY`] bytes: the
//! text, then the compiled form.

/// Marks the slot; `pack` finds it by this.
pub const MAGIC: [u8; 32] = *b"ATS-DECLARATIVE-MANIFEST-SLOT-v2";
/// Room for a manifest's text and its compiled form together.
pub const CAPACITY: usize = 256 * 1024;
