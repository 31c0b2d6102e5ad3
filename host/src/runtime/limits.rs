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
    /// Epoch tick: the granularity of CPU interruption. Guest code yields to the async
    /// runtime once per tick, so a spinning guest never holds a runtime thread longer.
    #[serde(with = "millis")]
    pub epoch_tick: Duration,
    /// Headers one outbound request may carry.
    pub max_request_headers: usize,
    /// Total bytes of one outbound request's header names and values.
    pub max_request_header_bytes: usize,
    /// Resource handles (WASI streams, pollables, ...) one call may hold at once, in the
    /// host's table and in the guest's. Each costs host memory the linear-memory cap does
    /// not see: under wasmtime's own default (100,000), one call of a debug-build test raised
    /// the host's peak RSS by 74 MiB this way.
    pub max_handles_per_call: usize,
    /// Linear memories one connector component may define (a connector needs one).
    pub max_memories_per_component: u32,
    /// Tables one connector component may define.
    pub max_tables_per_component: u32,
    /// Calls of one connector version running at once, over all connections; more wait.
    pub max_concurrent_calls_per_connector: usize,
    /// Calls of one connection running at once; more wait.
    pub max_concurrent_calls_per_connection: usize,
    /// How long a call waits for a free slot before it fails `busy`.
    #[serde(with = "millis")]
    pub call_queue_timeout: Duration,
    /// Deadline of `describe()` while a connector loads.
    #[serde(with = "millis")]
    pub describe_timeout: Duration,
    /// Pooled instance slots kept warm (resident) while unused.
    pub max_unused_warm_slots: u32,
    /// Bytes of a pooled linear memory reset in place (kept resident) after a call; what
    /// the call dirtied beyond this is decommitted. Every pooled slot ever used keeps up to
    /// this much (the idle-RSS cost); the next call on the slot takes no page faults there.
    pub pooling_memory_keep_resident: usize,
    /// The same for a pooled table.
    pub pooling_table_keep_resident: usize,
    /// Find the pages a call dirtied with `PAGEMAP_SCAN` (Linux >= 6.7; ignored elsewhere)
    /// instead of resetting the first `pooling_memory_keep_resident` bytes blindly.
    pub pooling_pagemap_scan: bool,
    /// Decommits of freed pooled slots done together (1: each slot at its own drop).
    pub pooling_decommit_batch_size: usize,
    /// Entries of the `state` store per connection.
    pub max_state_entries_per_connection: usize,
    /// Bytes (keys + values) of the `state` store per connection.
    pub max_state_bytes_per_connection: usize,
    /// Longest error message kept from a connector (bytes); the rest is cut, its size noted.
    pub max_error_bytes: usize,
    /// Largest `raw` field of one record (bytes); larger ones are replaced by a marker.
    pub max_raw_bytes: usize,
    /// Size bound of the compiled-artifact cache on disk; the oldest entries are evicted.
    pub max_compiled_cache_bytes: u64,
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
            max_request_headers: 100,
            max_request_header_bytes: 64 << 10,
            max_handles_per_call: 4096,
            max_memories_per_component: 2,
            max_tables_per_component: 8,
            max_concurrent_calls_per_connector: 64,
            max_concurrent_calls_per_connection: 8,
            call_queue_timeout: Duration::from_secs(10),
            describe_timeout: Duration::from_secs(10),
            max_unused_warm_slots: 16,
            pooling_memory_keep_resident: 128 << 10,
            pooling_table_keep_resident: 64 << 10,
            pooling_pagemap_scan: true,
            pooling_decommit_batch_size: 1,
            max_state_entries_per_connection: 1000,
            max_state_bytes_per_connection: 1 << 20,
            max_error_bytes: 4 << 10,
            max_raw_bytes: 256 << 10,
            max_compiled_cache_bytes: 2 << 30,
        }
    }
}

impl Limits {
    /// Bytes the host may copy out of the sandbox in one crossing: a call's result, or the
    /// arguments of one import call (an outbound request, a `state` value, a log line).
    /// It becomes wasmtime's hostcall fuel, which is counted *while* the values are copied,
    /// before the host owns them. That matters because the canonical ABI lets a guest point
    /// many strings of its result at the same bytes: a guest with 1 MiB of memory can ask
    /// the host to copy a 1 MiB string ten thousand times. The JSON size check of
    /// [`Limits::max_output_bytes`] runs only after that copy.
    ///
    /// Twice the largest legitimate transfer (the output cap, or the largest outbound request
    /// with its headers): the copied form of a record (pointers, lengths, fixed-size option
    /// and number slots) can be larger than its JSON, whose cap stays the exact one.
    pub fn transfer_fuel(&self) -> usize {
        let request =
            self.max_request_body_bytes.saturating_add(self.max_request_header_bytes as u64);
        let largest = self.max_output_bytes.max(request).max(self.max_state_value_bytes as u64);
        usize::try_from(largest.saturating_mul(2)).unwrap_or(usize::MAX)
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
