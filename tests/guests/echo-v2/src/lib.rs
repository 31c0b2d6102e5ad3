//! Echo connector, version 2.0.0 (hot-swap tests).

const VERSION: &str = "2.0.0";
include!("../../echo-v1/src/connector.rs");
