//! Connectors compiled into the binary by `build.rs` (every crate under `connectors/` and
//! the example connector), loaded by `serve` before the watched directory.

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
