//! Random ids for the host's own records (`run_…`, `whk_…`, `evt_…`).

/// A new random id such as `whk_3f9c0a…` (12 random bytes, hex).
pub fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}
