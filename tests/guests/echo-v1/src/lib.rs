//! Echo connector, version 1.0.0 (hot-swap tests).

const VERSION: &str = "1.0.0";
include!("connector.rs");
