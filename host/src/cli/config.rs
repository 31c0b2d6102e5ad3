//! The `serve` configuration file (TOML). Precedence, highest first: command-line flag,
//! environment variable (`ATS_*`), the file, the built-in default. Unknown keys are errors
//! that name the key and the file, so a typo never silently falls back to a default.
//!
//! The file format is [`FILE_FORMAT`] (also printed by `ats-host serve --help`).

use crate::runtime::AllocatorChoice;
use crate::webhooks::dispatcher::DeliveryPolicy;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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

[sync]
page_size = 100
max_pages_per_run = 10000
overlap = 300000                 # milliseconds
calls_per_second = 10.0

[webhooks]
max_attempts = 8
base_delay = 30000               # milliseconds
max_delay = 7200000
timeout = 20000
allow_private_networks = false
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
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
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
