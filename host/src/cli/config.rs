//! The `serve` configuration file (TOML). Precedence, highest first: command-line flag,
//! environment variable (`ATS_*`), the file, the built-in default. Unknown keys are errors
//! that name the key and the file, so a typo never silently falls back to a default.
//!
//! The file format is [`FILE_FORMAT`] (also printed by `ats-host serve --help`).

use crate::runtime::{AllocatorChoice, Limits};
use crate::webhooks::dispatcher::DeliveryPolicy;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The config file format, with every key and its default (shown by `serve --help`).
pub const FILE_FORMAT: &str = "\
CONFIG FILE (--config FILE, TOML; flag > ATS_* variable > file > default; unknown keys are errors):

listen = \"127.0.0.1:8080\"
data_dir = \"data\"
connectors_dir = \"data/connectors\"
poll_ms = 500
demo = false

[api]
operator_key = \"ats_op_...\"      # else DATA_DIR/operator.key is used or created

[limits]
call_timeout_ms = 60000
memory_mb = 128
allocator = \"auto\"               # auto | pooling | on-demand
max_output_mb = 32                 # largest result of one call (JSON)
max_component_mb = 50              # largest connector file
max_log_kb_per_call = 64           # guest log + stderr kept per call
max_http_requests_per_call = 500
http_connect_timeout_ms = 10000
http_request_timeout_ms = 30000
max_request_body_mb = 25
max_response_body_mb = 16
pooling_instances = 1000           # concurrent instances the pooling allocator reserves
max_request_headers = 100          # headers of one outbound request
max_request_header_kb = 64         # their names and values together
max_concurrent_calls_per_connector = 64   # per connector version, over all connections
max_concurrent_calls_per_connection = 8
call_queue_timeout_ms = 10000      # wait for a free slot, then the call fails `busy`
describe_timeout_ms = 10000        # deadline of describe() while a connector loads
max_state_entries_per_connection = 1000
max_state_kb_per_connection = 1024
max_handles_per_call = 4096        # resource handles (streams, pollables) one call holds at once
max_compiled_cache_mb = 2048       # compiled-artifact cache on disk; oldest evicted

[sync]
page_size = 100
max_pages_per_run = 10000
overlap = 300000                 # milliseconds
calls_per_second = 10.0          # per connection, unless it sets its own (PUT /v1/connections/{id}/rate-budget)
write_budget_wait = 10000        # ms a write waits for its turn in that budget, then 429 + Retry-After
run_lease = 60000                # ms; several nodes: a run whose node died is taken over after this
write_claim_lease = 120000       # ms; a write whose node died mid-way is resumed by a retry after this

[webhooks]
max_attempts = 8
base_delay = 30000               # milliseconds
max_delay = 7200000
timeout = 20000
allow_private_networks = false

[automations]
tick_ms = 1000                   # the engine's round when nothing wakes it (new events do)
max_attempts = 8                 # attempts of a failing action (transient, rate limited) before its firing fails
retry_base_ms = 30000            # delay before the second attempt; doubles with each further one
retry_max_ms = 3600000
paused_wait_ms = 300000          # how often a firing on a paused connection looks again
firing_lease_ms = 300000         # several nodes: a firing whose node died runs elsewhere after this
";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub connectors_dir: Option<PathBuf>,
    pub poll_ms: Option<u64>,
    pub demo: Option<bool>,
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub limits: LimitsSection,
    pub webhooks: Option<DeliveryPolicy>,
    pub sync: Option<crate::sync::SyncConfig>,
    #[serde(default)]
    pub automations: AutomationsSection,
}

/// `[automations]`: how the automation engine runs and retries.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationsSection {
    pub tick_ms: Option<u64>,
    pub max_attempts: Option<u32>,
    pub retry_base_ms: Option<u64>,
    pub retry_max_ms: Option<u64>,
    pub paused_wait_ms: Option<u64>,
    pub firing_lease_ms: Option<u64>,
}

impl AutomationsSection {
    /// The engine's options: the file's values over the defaults; zero is an error naming
    /// the key.
    pub fn options(&self) -> Result<crate::app::AutomationOptions, ConfigError> {
        let defaults = crate::app::AutomationOptions::default();
        let positive = |key: &str, value: Option<u64>| match value {
            Some(0) => Err(ConfigError::Value {
                key: format!("automations.{key}"),
                message: "must be at least 1".into(),
            }),
            other => Ok(other),
        };
        let ms = |key: &str, value: Option<u64>, default: Duration| {
            positive(key, value).map(|v| v.map_or(default, Duration::from_millis))
        };
        let retry = &defaults.retry;
        Ok(crate::app::AutomationOptions {
            tick: ms("tick_ms", self.tick_ms, defaults.tick)?,
            retry: crate::automations::engine::RetryPolicy {
                max_attempts: positive("max_attempts", self.max_attempts.map(u64::from))?
                    .map_or(retry.max_attempts, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                base_delay: ms("retry_base_ms", self.retry_base_ms, retry.base_delay)?,
                max_delay: ms("retry_max_ms", self.retry_max_ms, retry.max_delay)?,
                paused_wait: ms("paused_wait_ms", self.paused_wait_ms, retry.paused_wait)?,
                firing_lease: ms("firing_lease_ms", self.firing_lease_ms, retry.firing_lease)?,
            },
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    pub operator_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub call_timeout_ms: Option<u64>,
    pub memory_mb: Option<u64>,
    pub allocator: Option<AllocatorChoice>,
    pub max_output_mb: Option<u64>,
    pub max_component_mb: Option<u64>,
    pub max_log_kb_per_call: Option<usize>,
    pub max_http_requests_per_call: Option<u32>,
    pub http_connect_timeout_ms: Option<u64>,
    pub http_request_timeout_ms: Option<u64>,
    pub max_request_body_mb: Option<u64>,
    pub max_response_body_mb: Option<u64>,
    pub pooling_instances: Option<u32>,
    pub max_request_headers: Option<usize>,
    pub max_request_header_kb: Option<usize>,
    pub max_concurrent_calls_per_connector: Option<usize>,
    pub max_concurrent_calls_per_connection: Option<usize>,
    pub call_queue_timeout_ms: Option<u64>,
    pub describe_timeout_ms: Option<u64>,
    pub max_state_entries_per_connection: Option<usize>,
    pub max_state_kb_per_connection: Option<usize>,
    pub max_compiled_cache_mb: Option<u64>,
    pub max_handles_per_call: Option<usize>,
}

impl LimitsSection {
    /// The sandbox limits: the file's values over the defaults. Zero for a limit is an
    /// error naming the key (it would make every call fail).
    pub fn limits(&self) -> Result<Limits, ConfigError> {
        let defaults = Limits::default();
        let positive = |key: &str, value: Option<u64>| -> Result<Option<u64>, ConfigError> {
            match value {
                Some(0) => Err(ConfigError::Value {
                    key: format!("limits.{key}"),
                    message: "must be at least 1".into(),
                }),
                other => Ok(other),
            }
        };
        let ms = |key: &str, value: Option<u64>, default: Duration| {
            positive(key, value).map(|v| v.map_or(default, Duration::from_millis))
        };
        let mb = |key: &str, value: Option<u64>, default: u64| {
            positive(key, value).map(|v| v.map_or(default, |mb| mb << 20))
        };
        let count = |key: &str, value: Option<u64>, default: u64| {
            positive(key, value).map(|v| v.unwrap_or(default))
        };
        // A count in the file times `unit` (1 for a count, 1024 for KiB), as a usize.
        let size = |key: &str, value: Option<usize>, default: usize, unit: usize| {
            positive(key, value.map(|v| v as u64)).map(|v| {
                v.map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX).saturating_mul(unit))
            })
        };
        Ok(Limits {
            call_timeout: ms("call_timeout_ms", self.call_timeout_ms, defaults.call_timeout)?,
            memory_bytes: mb("memory_mb", self.memory_mb, defaults.memory_bytes)?,
            allocator: self.allocator.unwrap_or(defaults.allocator),
            max_output_bytes: mb("max_output_mb", self.max_output_mb, defaults.max_output_bytes)?,
            max_component_bytes: mb(
                "max_component_mb",
                self.max_component_mb,
                defaults.max_component_bytes,
            )?,
            max_log_bytes_per_call: usize::try_from(count(
                "max_log_kb_per_call",
                self.max_log_kb_per_call.map(|kb| kb as u64 * 1024),
                defaults.max_log_bytes_per_call as u64,
            )?)
            .unwrap_or(usize::MAX),
            max_http_requests_per_call: u32::try_from(count(
                "max_http_requests_per_call",
                self.max_http_requests_per_call.map(u64::from),
                u64::from(defaults.max_http_requests_per_call),
            )?)
            .unwrap_or(u32::MAX),
            http_connect_timeout: ms(
                "http_connect_timeout_ms",
                self.http_connect_timeout_ms,
                defaults.http_connect_timeout,
            )?,
            http_request_timeout: ms(
                "http_request_timeout_ms",
                self.http_request_timeout_ms,
                defaults.http_request_timeout,
            )?,
            max_request_body_bytes: mb(
                "max_request_body_mb",
                self.max_request_body_mb,
                defaults.max_request_body_bytes,
            )?,
            max_response_body_bytes: mb(
                "max_response_body_mb",
                self.max_response_body_mb,
                defaults.max_response_body_bytes,
            )?,
            pooling_instances: u32::try_from(count(
                "pooling_instances",
                self.pooling_instances.map(u64::from),
                u64::from(defaults.pooling_instances),
            )?)
            .unwrap_or(u32::MAX),
            max_request_headers: size(
                "max_request_headers",
                self.max_request_headers,
                defaults.max_request_headers,
                1,
            )?,
            max_request_header_bytes: size(
                "max_request_header_kb",
                self.max_request_header_kb,
                defaults.max_request_header_bytes,
                1024,
            )?,
            max_concurrent_calls_per_connector: size(
                "max_concurrent_calls_per_connector",
                self.max_concurrent_calls_per_connector,
                defaults.max_concurrent_calls_per_connector,
                1,
            )?,
            max_concurrent_calls_per_connection: size(
                "max_concurrent_calls_per_connection",
                self.max_concurrent_calls_per_connection,
                defaults.max_concurrent_calls_per_connection,
                1,
            )?,
            call_queue_timeout: ms(
                "call_queue_timeout_ms",
                self.call_queue_timeout_ms,
                defaults.call_queue_timeout,
            )?,
            describe_timeout: ms(
                "describe_timeout_ms",
                self.describe_timeout_ms,
                defaults.describe_timeout,
            )?,
            max_state_entries_per_connection: size(
                "max_state_entries_per_connection",
                self.max_state_entries_per_connection,
                defaults.max_state_entries_per_connection,
                1,
            )?,
            max_state_bytes_per_connection: size(
                "max_state_kb_per_connection",
                self.max_state_kb_per_connection,
                defaults.max_state_bytes_per_connection,
                1024,
            )?,
            max_compiled_cache_bytes: mb(
                "max_compiled_cache_mb",
                self.max_compiled_cache_mb,
                defaults.max_compiled_cache_bytes,
            )?,
            max_handles_per_call: size(
                "max_handles_per_call",
                self.max_handles_per_call,
                defaults.max_handles_per_call,
                1,
            )?,
            ..defaults
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config `{key}`: {message}")]
    Value { key: String, message: String },
}

impl FileConfig {
    /// Reads `path`; `None` gives the empty config.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else { return Ok(FileConfig::default()) };
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
            .map_err(|message| ConfigError::Parse { path: path.display().to_string(), message })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses() {
        let config = FileConfig::parse(
            "listen = \"127.0.0.1:9000\"\ndemo = true\n[limits]\nmemory_mb = 64\nallocator = \"on-demand\"\n[webhooks]\nmax_attempts = 3\n",
        )
        .expect("parses");
        assert_eq!(config.listen, Some("127.0.0.1:9000".parse().expect("addr")));
        assert_eq!(config.limits.memory_mb, Some(64));
        assert_eq!(config.limits.allocator, Some(AllocatorChoice::OnDemand));
        let webhooks = config.webhooks.expect("section");
        assert_eq!(webhooks.max_attempts, 3);
        assert_eq!(
            webhooks.base_delay,
            DeliveryPolicy::default().base_delay,
            "defaults fill the rest"
        );
    }

    #[test]
    fn the_documented_file_format_parses() {
        let example = FILE_FORMAT.split_once("\n\n").map_or("", |(_, toml)| toml);
        let config = FileConfig::parse(example).expect("the documented example parses");
        assert_eq!(config.poll_ms, Some(500));
        assert_eq!(config.sync.map(|s| s.page_size), Some(100));
        let automations = config.automations.options().expect("valid");
        assert_eq!(automations.tick, Duration::from_secs(1));
        assert_eq!(automations.retry.max_attempts, 8);
        let zero = FileConfig::parse("[automations]\nmax_attempts = 0\n").expect("parses");
        let error = zero.automations.options().expect_err("zero is refused").to_string();
        assert!(error.contains("automations.max_attempts"), "{error}");
    }

    #[test]
    fn every_limit_can_be_set_and_zero_is_refused_by_name() {
        let config = FileConfig::parse(
            "[limits]\nmax_output_mb = 4\nhttp_request_timeout_ms = 5000\npooling_instances = 16\nmax_log_kb_per_call = 8\nmax_handles_per_call = 64\n",
        )
        .expect("parses");
        let limits = config.limits.limits().expect("valid");
        assert_eq!(limits.max_output_bytes, 4 << 20);
        assert_eq!(limits.http_request_timeout, Duration::from_secs(5));
        assert_eq!(limits.pooling_instances, 16);
        assert_eq!(limits.max_log_bytes_per_call, 8 << 10);
        assert_eq!(limits.max_handles_per_call, 64);
        assert_eq!(limits.memory_bytes, Limits::default().memory_bytes, "defaults fill the rest");
        let zero = FileConfig::parse("[limits]\nhttp_connect_timeout_ms = 0\n").expect("parses");
        let error = zero.limits.limits().expect_err("zero is refused").to_string();
        assert!(error.contains("limits.http_connect_timeout_ms"), "{error}");
    }

    #[test]
    fn typos_and_wrong_types_name_the_key() {
        let error = FileConfig::parse("listn = \"x\"").expect_err("unknown key");
        assert!(error.contains("listn"), "{error}");
        let error = FileConfig::parse("[limits]\nmemory_mb = \"lots\"").expect_err("wrong type");
        assert!(error.contains("memory_mb"), "{error}");
        let error = FileConfig::parse("listen = \"not an address\"").expect_err("bad addr");
        assert!(error.contains("listen"), "{error}");
    }
}
