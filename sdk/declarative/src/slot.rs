//! The layout of the manifest slot in the generic manifest connector: the one definition
//! that the component (`connectors/declarative/src/slot.rs`, which declares the slot) and
//! `ats-host connector pack` (which fills it) both use. Layout: [`MAGIC`] (once in the
//! component), the manifest's length as a little-endian u32, then [`CAPACITY`] bytes.

/// Marks the slot; `pack` finds it by this.
pub const MAGIC: [u8; 32] = *b"ATS-DECLARATIVE-MANIFEST-SLOT-v1";
/// Largest manifest a component carries.
pub const CAPACITY: usize = 128 * 1024;
