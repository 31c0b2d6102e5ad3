//! Random ids for the host's own records (`run_…`, `whk_…`, `evt_…`).

/// This host process's name as a node of a shared store (random, fixed for its life): it
/// marks the runs the node claims.
pub fn node_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| new_id("node"))
}

/// A new random id such as `whk_3f9c0a…` (12 random bytes, hex).
pub fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}
