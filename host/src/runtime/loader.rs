//! Loading a connector version: validate (is it a component, does it implement our world,
//! does `describe()` answer with a sane manifest) → compile (or load from the cache) →
//! `instantiate_pre`. Only a version that passes every step is returned; the caller swaps it
//! into the registry.

use super::Runtime;
use super::cache::CompileOrigin;
use super::call::{Invocation, Output};
use super::call_state::CallIdentity;
use super::contract::ContractVersion;
use super::contract::guest::GuestPre;
use super::egress::{AllowedHost, EgressPolicy};
use crate::model::{ConfigField, Manifest};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use thiserror::Error;

/// The WIT world a connector must implement (at one of the served versions).
pub const WORLD: &str = "ats:connector/connector-world";

/// A validated, compiled connector version, ready to instantiate per call.
pub struct LoadedConnector {
    pub manifest: Manifest,
    /// sha256 of the wasm bytes (hex): the content address of this version.
    pub sha256: String,
    /// Where it came from: a file path, `bundled:<name>` or `upload`.
    pub origin: String,
    pub loaded_at: SystemTime,
    pub compile_origin: CompileOrigin,
    pub load_time: Duration,
    pub size_bytes: u64,
    /// The contract version the component implements, e.g. `0.2.0`.
    pub contract: &'static str,
    pub(super) pre: Arc<GuestPre>,
}

impl std::fmt::Debug for LoadedConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedConnector")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.connector_version)
            .field("sha256", &self.sha256)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A summary for listings (`GET /connectors`, `connector inspect`).
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub id: String,
    pub ats_name: String,
    pub version: String,
    pub sha256: String,
    pub origin: String,
    pub operations: Vec<&'static str>,
    pub size_bytes: u64,
    pub compile: CompileOrigin,
    pub load_ms: u64,
    pub loaded_at_unix: u64,
    /// The `ats:connector` contract version the component implements.
    pub contract: &'static str,
}

/// The manifest as JSON for people: operations by their WIT names.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestView {
    pub id: String,
    pub ats_name: String,
    pub connector_version: String,
    pub operations: Vec<&'static str>,
    pub config_fields: Vec<ConfigField>,
    pub egress_hosts: Vec<String>,
    /// How `write-result` stores a result natively (`score-field`, `link-field`, `note`,
    /// `attachment`); empty for a 0.1.0 connector.
    pub result_modes: Vec<&'static str>,
    pub application_attachments: bool,
}

impl From<&Manifest> for ManifestView {
    fn from(m: &Manifest) -> Self {
        Self {
            id: m.id.clone(),
            ats_name: m.ats_name.clone(),
            connector_version: m.connector_version.clone(),
            operations: m.operations.iter().map(|op| op.wit_name()).collect(),
            config_fields: m.config_fields.clone(),
            egress_hosts: m.egress_hosts.clone(),
            result_modes: m.result_modes.iter().map(|mode| mode.name()).collect(),
            application_attachments: m.application_attachments,
        }
    }
}

impl LoadedConnector {
    /// The contract version the component implements.
    pub fn contract_version(&self) -> ContractVersion {
        self.pre.version()
    }

    pub fn info(&self) -> VersionInfo {
        VersionInfo {
            id: self.manifest.id.clone(),
            ats_name: self.manifest.ats_name.clone(),
            version: self.manifest.connector_version.clone(),
            sha256: self.sha256.clone(),
            origin: self.origin.clone(),
            operations: self.manifest.operations.iter().map(|op| op.wit_name()).collect(),
            size_bytes: self.size_bytes,
            compile: self.compile_origin,
            load_ms: u64::try_from(self.load_time.as_millis()).unwrap_or(u64::MAX),
            loaded_at_unix: self
                .loaded_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            contract: self.contract,
        }
    }
}

/// Why a connector version was rejected. Every message names the origin and says what to do.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read {origin}: {reason}")]
    Read { origin: String, reason: String },
    #[error(
        "{origin}: is {size} bytes, over the limit of {limit} bytes (limits.max_component_bytes)"
    )]
    TooLarge { origin: String, size: u64, limit: u64 },
    #[error(
        "{origin}: not a WebAssembly file (it does not start with the \\0asm header); expected a component built with `--target wasm32-wasip2`"
    )]
    NotWasm { origin: String },
    #[error(
        "{origin}: is a core WebAssembly module, not a component; build the connector with `--target wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule { origin: String },
    #[error("{origin}: is not a valid component: {reason}")]
    Invalid { origin: String, reason: String },
    #[error(
        "{origin}: does not implement an `ats:connector` contract this host serves ({WORLD}): {reason}"
    )]
    WrongWorld { origin: String, reason: String },
    #[error("{origin}: describe() failed: {reason}")]
    Describe { origin: String, reason: String },
    #[error("{origin}: the manifest is invalid: {reason}")]
    Manifest { origin: String, reason: String },
    #[error("{origin}: {reason}")]
    Resources { origin: String, reason: String },
    #[error("{origin}: refused: {reason}")]
    Refused { origin: String, reason: String },
}

impl Runtime {
    /// Validates and compiles `wasm` (see the module doc). `origin` names the source in
    /// messages. Compilation runs on a blocking thread.
    pub async fn load(
        &self,
        wasm: Vec<u8>,
        origin: &str,
    ) -> Result<Arc<LoadedConnector>, LoadError> {
        let started = Instant::now();
        let origin = origin.to_string();
        let size = wasm.len() as u64;
        check_header(&wasm, size, self.limits.max_component_bytes, &origin)?;
        let sha256 = hex::encode(Sha256::digest(&wasm));

        let engine = self.engine.clone();
        let cache = self.cache.clone();
        let digest = sha256.clone();
        let compiled = tokio::task::spawn_blocking(move || match &cache {
            Some(cache) => cache.load_or_compile(&engine, &wasm, &digest),
            None => wasmtime::component::Component::new(&engine, &wasm)
                .map(|c| (c, CompileOrigin::Compiled)),
        })
        .await
        .map_err(|e| LoadError::Invalid { origin: origin.clone(), reason: e.to_string() })?;
        let (component, compile_origin) = compiled.map_err(|e| {
            let reason = format!("{e:#}");
            // The pooling allocator checks a component's memories and tables while it
            // compiles, before `check_resources` can see it.
            if reason.contains("pooling allocator") {
                LoadError::Resources {
                    origin: origin.clone(),
                    reason: format!(
                        "defines more memories or tables than a connector may (limits.max_memories_per_component = {}, limits.max_tables_per_component = {}, one memory per module): {reason}",
                        self.limits.max_memories_per_component,
                        self.limits.max_tables_per_component
                    ),
                }
            } else {
                LoadError::Invalid { origin: origin.clone(), reason }
            }
        })?;
        let checked = self.check_and_describe(&component, &origin, &sha256).await;
        let (pre, manifest, contract) = match checked {
            Ok(done) => done,
            Err(error) => {
                // A rejected component does not keep its compiled artifact on disk.
                if let Some(cache) = &self.cache {
                    cache.remove(&sha256);
                }
                return Err(error);
            }
        };

        Ok(Arc::new(LoadedConnector {
            manifest,
            sha256,
            origin,
            loaded_at: SystemTime::now(),
            compile_origin,
            load_time: started.elapsed(),
            size_bytes: size,
            contract,
            pre,
        }))
    }

    /// Everything after compilation: the resource check, the world check, `describe()`
    /// within its own deadline and state scope, and the manifest check.
    async fn check_and_describe(
        &self,
        component: &wasmtime::component::Component,
        origin: &str,
        sha256: &str,
    ) -> Result<(Arc<GuestPre>, Manifest, &'static str), LoadError> {
        let origin = origin.to_string();
        check_resources(component, &self.limits)
            .map_err(|reason| LoadError::Resources { origin: origin.clone(), reason })?;
        let contract = super::contract::detect(component, &self.engine)
            .map_err(|reason| LoadError::WrongWorld { origin: origin.clone(), reason })?;

        let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld {
            origin: origin.clone(),
            reason: format!("{e:#}"),
        };
        let instance_pre = self.linker.instantiate_pre(component).map_err(wrong_world)?;
        let pre = Arc::new(
            GuestPre::new(contract, instance_pre)
                .map_err(|reason| LoadError::WrongWorld { origin: origin.clone(), reason })?,
        );

        // `describe()` gets a state scope of this build's own: one connector cannot read
        // what another left there while loading.
        let identity = Arc::new(CallIdentity {
            connector_id: origin.clone(),
            connector_version: "(loading)".into(),
            connection_id: format!("describe:{sha256}"),
            write_key: None,
        });
        let described = self
            .execute(
                pre.clone(),
                identity,
                Arc::new(EgressPolicy::default()),
                Vec::new(),
                Invocation::Describe,
                self.limits.describe_timeout,
            )
            .await;
        let manifest = match described {
            Ok(Output::Manifest(manifest)) => manifest,
            Ok(other) => {
                return Err(LoadError::Describe {
                    origin,
                    reason: format!("returned {other:?} instead of a manifest"),
                });
            }
            Err(e) => return Err(LoadError::Describe { origin, reason: e.to_string() }),
        };
        validate_manifest(&manifest)
            .map_err(|reason| LoadError::Manifest { origin: origin.clone(), reason })?;
        Ok((pre, manifest, contract.name()))
    }
}

/// Reads a connector file, checking its size before reading and reading no more than
/// `limit` + 1 bytes (a huge or sparse file costs nothing).
pub async fn read_component_file(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, LoadError> {
    use tokio::io::AsyncReadExt;
    let origin = path.display().to_string();
    let read_error =
        |e: std::io::Error| LoadError::Read { origin: origin.clone(), reason: e.to_string() };
    let file = tokio::fs::File::open(path).await.map_err(read_error)?;
    let size = file.metadata().await.map_err(read_error)?.len();
    if size > limit {
        return Err(LoadError::TooLarge { origin, size, limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).await.map_err(read_error)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(LoadError::TooLarge { origin, size: read, limit });
    }
    Ok(bytes)
}

/// What a component asks of the sandbox, checked before anything is instantiated: a
/// connector needs one linear memory and a few tables; a component with sixteen memories
/// would take sixteen pool slots (and sixteen times the memory limit, were it per memory).
fn check_resources(
    component: &wasmtime::component::Component,
    limits: &super::Limits,
) -> Result<(), String> {
    let Some(needs) = component.resources_required() else {
        return Err("instantiates core modules it imports; a connector must define its own (build it with `--target wasm32-wasip2`)".into());
    };
    if needs.num_memories > limits.max_memories_per_component {
        return Err(format!(
            "defines {} linear memories; a connector may define at most {} (limits.max_memories_per_component)",
            needs.num_memories, limits.max_memories_per_component
        ));
    }
    if needs.num_tables > limits.max_tables_per_component {
        return Err(format!(
            "defines {} tables; a connector may define at most {} (limits.max_tables_per_component)",
            needs.num_tables, limits.max_tables_per_component
        ));
    }
    let initial_bytes = needs.max_initial_memory_size.unwrap_or(0).saturating_mul(64 << 10);
    if initial_bytes > limits.memory_bytes {
        return Err(format!(
            "asks for {initial_bytes} bytes of initial memory, over the call memory limit of {} bytes (limits.memory_bytes)",
            limits.memory_bytes
        ));
    }
    Ok(())
}

/// The binary header tells a component (`\0asm`, version 0x0d, layer 1) from a core module
/// (version 1, layer 0) before anything is compiled.
fn check_header(wasm: &[u8], size: u64, limit: u64, origin: &str) -> Result<(), LoadError> {
    if size > limit {
        return Err(LoadError::TooLarge { origin: origin.into(), size, limit });
    }
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err(LoadError::NotWasm { origin: origin.into() });
    }
    match wasm[6..8] {
        [0, 0] => Err(LoadError::CoreModule { origin: origin.into() }),
        [1, 0] => Ok(()),
        _ => Err(LoadError::Invalid {
            origin: origin.into(),
            reason: format!("unknown WebAssembly layer {:?}", &wasm[4..8]),
        }),
    }
}

/// Bounds of a manifest: it is served to every tenant and checked on every load.
pub mod manifest_limits {
    /// The manifest as JSON.
    pub const MAX_BYTES: u64 = 256 << 10;
    pub const MAX_CONFIG_FIELDS: usize = 200;
    pub const MAX_EGRESS_HOSTS: usize = 64;
    pub const MAX_ATS_NAME_BYTES: usize = 200;
    pub const MAX_VERSION_BYTES: usize = 64;
    pub const MAX_FIELD_NAME_BYTES: usize = 64;
    pub const MAX_HELP_BYTES: usize = 2000;
    pub const MAX_EGRESS_ENTRY_BYTES: usize = 300;
}

/// Checks a manifest in time linear in its size; the first problem is the answer.
fn validate_manifest(manifest: &Manifest) -> Result<(), String> {
    use manifest_limits::*;
    let size = super::json_size::json_size(manifest);
    if size > MAX_BYTES {
        return Err(format!("is {size} bytes as JSON, over the limit of {MAX_BYTES}"));
    }
    let id_ok = !manifest.id.is_empty()
        && manifest.id.len() <= 64
        && manifest.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        return Err(format!("id `{}` must be 1-64 characters of [a-z0-9-]", cut(&manifest.id)));
    }
    let bounded = |what: &str, text: &str, max: usize| {
        if text.len() > max {
            Err(format!("{what} is {} bytes, over the limit of {max}", text.len()))
        } else {
            Ok(())
        }
    };
    bounded("ats-name", &manifest.ats_name, MAX_ATS_NAME_BYTES)?;
    bounded("connector-version", &manifest.connector_version, MAX_VERSION_BYTES)?;
    if manifest.connector_version.trim().is_empty() {
        return Err("connector-version is empty".into());
    }
    let mut operations = HashSet::new();
    for operation in &manifest.operations {
        if !operations.insert(operation.wit_name()) {
            return Err(format!("operation `{}` is declared twice", operation.wit_name()));
        }
    }
    if manifest.config_fields.len() > MAX_CONFIG_FIELDS {
        return Err(format!(
            "declares {} config fields, over the limit of {MAX_CONFIG_FIELDS}",
            manifest.config_fields.len()
        ));
    }
    let mut names = HashSet::new();
    for field in &manifest.config_fields {
        bounded("a config field name", &field.name, MAX_FIELD_NAME_BYTES)?;
        bounded(
            &format!("the help of config field `{}`", field.name),
            &field.help,
            MAX_HELP_BYTES,
        )?;
        if field.name.is_empty() || !names.insert(field.name.as_str()) {
            return Err(format!("config field `{}` is empty or declared twice", field.name));
        }
    }
    if manifest.egress_hosts.len() > MAX_EGRESS_HOSTS {
        return Err(format!(
            "declares {} egress hosts, over the limit of {MAX_EGRESS_HOSTS}",
            manifest.egress_hosts.len()
        ));
    }
    for entry in &manifest.egress_hosts {
        bounded("an egress entry", entry, MAX_EGRESS_ENTRY_BYTES)?;
        // Templated entries are checked once rendered, per connection.
        if !entry.contains('{') {
            AllowedHost::parse(entry).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The start of a possibly huge guest string, for a message.
fn cut(text: &str) -> String {
    super::bounds::cap_text(text.to_string(), 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(fields: usize) -> Manifest {
        Manifest {
            id: "big".into(),
            ats_name: "Big".into(),
            connector_version: "1.0.0".into(),
            operations: vec![super::super::Operation::ListJobs],
            config_fields: (0..fields)
                .map(|i| ConfigField {
                    name: format!("f{i}"),
                    secret: false,
                    required: false,
                    help: String::new(),
                })
                .collect(),
            egress_hosts: Vec::new(),
            result_modes: Vec::new(),
            application_attachments: true,
        }
    }

    /// `manifest_size`: the check is linear (50,000 fields once took 14 s) and bounded.
    #[test]
    fn manifest_size_is_bounded_and_checked_in_linear_time() {
        assert!(validate_manifest(&manifest(manifest_limits::MAX_CONFIG_FIELDS)).is_ok());
        let started = Instant::now();
        let err = validate_manifest(&manifest(50_000)).expect_err("too many fields");
        assert!(err.contains("over the limit"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5), "the check must stay linear");
        let err = validate_manifest(&manifest(manifest_limits::MAX_CONFIG_FIELDS + 1))
            .expect_err("one field too many");
        assert!(err.contains("config fields, over the limit"), "{err}");
        let mut named = manifest(1);
        named.ats_name = "x".repeat(1 << 20);
        assert!(validate_manifest(&named).expect_err("huge name").contains("bytes as JSON"));
        named.ats_name = "x".repeat(1000);
        assert!(validate_manifest(&named).expect_err("long name").contains("ats-name"));
        let mut twice = manifest(1);
        twice.operations.push(super::super::Operation::ListJobs);
        assert!(validate_manifest(&twice).expect_err("twice").contains("declared twice"));
        let mut dup = manifest(3);
        dup.config_fields[2].name = "f0".into();
        assert!(validate_manifest(&dup).expect_err("dup field").contains("declared twice"));
    }

    #[test]
    fn header_distinguishes_garbage_modules_and_components() {
        let limit = 1 << 20;
        let check = |bytes: &[u8]| check_header(bytes, bytes.len() as u64, limit, "f.wasm");
        assert!(matches!(check(b"hello world"), Err(LoadError::NotWasm { .. })));
        assert!(matches!(check(b"\0asm\x01\0\0\0"), Err(LoadError::CoreModule { .. })));
        assert!(check(b"\0asm\x0d\0\x01\0").is_ok());
        let err = check_header(&[0; 16], 2 << 20, limit, "big.wasm").expect_err("too large");
        assert!(err.to_string().contains("big.wasm"));
    }
}
