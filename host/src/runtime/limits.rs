//! The sandbox's limits and engine settings, with defaults sized for ATS connectors.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which instance allocator the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AllocatorChoice {
    /// Pooling when the address space allows it, otherwise on-demand.
    Auto,
    Pooling,
    OnDemand,
}

/// Every limit the runtime enforces. `Limits::default()` is what `ats-host serve` uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Wall-clock limit of one connector call, host I/O included.
    #[serde(with = "millis")]
    pub call_timeout: Duration,
    /// Linear memory one call may grow to (bytes).
    pub memory_bytes: u64,
    /// Largest result a call may return, measured as JSON (bytes).
    pub max_output_bytes: u64,
    /// Largest connector file accepted for loading (bytes).
    pub max_component_bytes: u64,
    /// Log bytes (import `log` plus stderr) kept per call; the rest is counted and dropped.
    pub max_log_bytes_per_call: usize,
    /// Outbound HTTP requests one call may make.
    pub max_http_requests_per_call: u32,
    /// Connect timeout of outbound HTTP.
    #[serde(with = "millis")]
    pub http_connect_timeout: Duration,
    /// Upper bound of one outbound request (the guest may ask for less).
    #[serde(with = "millis")]
    pub http_request_timeout: Duration,
    /// Largest outbound request body (bytes).
    pub max_request_body_bytes: u64,
    /// Largest response body the host reads for a guest (bytes).
    pub max_response_body_bytes: u64,
    /// Largest value in the per-connection `state` store (bytes).
    pub max_state_value_bytes: usize,
    pub allocator: AllocatorChoice,
    /// Concurrent instances the pooling allocator reserves slots for.
    pub pooling_instances: u32,
    /// Epoch tick: the granularity of CPU interruption.
    #[serde(with = "millis")]
    pub epoch_tick: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(60),
            memory_bytes: 128 << 20,
            max_output_bytes: 32 << 20,
            max_component_bytes: 50 << 20,
            max_log_bytes_per_call: 64 << 10,
            max_http_requests_per_call: 500,
            http_connect_timeout: Duration::from_secs(10),
            http_request_timeout: Duration::from_secs(30),
            max_request_body_bytes: 25 << 20,
            max_response_body_bytes: 16 << 20,
            max_state_value_bytes: 64 << 10,
            allocator: AllocatorChoice::Auto,
            pooling_instances: 1000,
            epoch_tick: Duration::from_millis(10),
        }
    }
}

/// Serde form of a `Duration` as whole milliseconds.
pub mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
