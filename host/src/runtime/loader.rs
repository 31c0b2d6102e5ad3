//! Loading a connector version: validate (is it a component, does it implement our world,
//! does `describe()` answer with a sane manifest) → compile (or load from the cache) →
//! `instantiate_pre`. Only a version that passes every step is returned; the caller swaps it
//! into the registry.

use super::Runtime;
use super::bindings::{ConnectorWorldPre, Manifest};
use super::cache::CompileOrigin;
use super::call::{Invocation, Output};
use super::call_state::CallIdentity;
use super::egress::{AllowedHost, EgressPolicy};
use super::exports::GuestPre;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use thiserror::Error;

/// The WIT world a connector must implement.
pub const WORLD: &str = "ats:connector/connector-world@0.1.0";

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
    pub(super) pre: GuestPre,
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
}

/// The manifest as JSON for people: operations by their WIT names.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestView {
    pub id: String,
    pub ats_name: String,
    pub connector_version: String,
    pub operations: Vec<&'static str>,
    pub config_fields: Vec<super::bindings::ats::connector::types::ConfigField>,
    pub egress_hosts: Vec<String>,
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
        }
    }
}

impl LoadedConnector {
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
        }
    }
}

/// Why a connector version was rejected. Every message names the origin and says what to do.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("{origin}: cannot read the file: {reason}")]
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
    #[error("{origin}: does not implement the world {WORLD}: {reason}")]
    WrongWorld { origin: String, reason: String },
    #[error("{origin}: describe() failed: {reason}")]
    Describe { origin: String, reason: String },
    #[error("{origin}: the manifest is invalid: {reason}")]
    Manifest { origin: String, reason: String },
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
        let (component, compile_origin) = compiled
            .map_err(|e| LoadError::Invalid { origin: origin.clone(), reason: format!("{e:#}") })?;

        let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld {
            origin: origin.clone(),
            reason: format!("{e:#}"),
        };
        let instance_pre = self.linker.instantiate_pre(&component).map_err(wrong_world)?;
        let world = ConnectorWorldPre::new(instance_pre).map_err(wrong_world)?;
        let pre = GuestPre::new(&world)
            .map_err(|reason| LoadError::WrongWorld { origin: origin.clone(), reason })?;

        let identity = Arc::new(CallIdentity {
            connector_id: origin.clone(),
            connector_version: "(loading)".into(),
            connection_id: "describe".into(),
        });
        let manifest = match self
            .run(
                &pre,
                identity,
                Arc::new(EgressPolicy::default()),
                &Vec::new(),
                Invocation::Describe,
            )
            .await
        {
            Ok(Output::Manifest(manifest)) => manifest,
            Ok(_) => unreachable!("describe returns a manifest"),
            Err(e) => return Err(LoadError::Describe { origin, reason: e.to_string() }),
        };
        validate_manifest(&manifest)
            .map_err(|reason| LoadError::Manifest { origin: origin.clone(), reason })?;

        Ok(Arc::new(LoadedConnector {
            manifest,
            sha256,
            origin,
            loaded_at: SystemTime::now(),
            compile_origin,
            load_time: started.elapsed(),
            size_bytes: size,
            pre,
        }))
    }
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

fn validate_manifest(manifest: &Manifest) -> Result<(), String> {
    let id_ok = !manifest.id.is_empty()
        && manifest.id.len() <= 64
        && manifest.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        return Err(format!("id `{}` must be 1-64 characters of [a-z0-9-]", manifest.id));
    }
    if manifest.connector_version.trim().is_empty() {
        return Err("connector-version is empty".into());
    }
    for (i, field) in manifest.config_fields.iter().enumerate() {
        if field.name.is_empty() || manifest.config_fields[..i].iter().any(|f| f.name == field.name)
        {
            return Err(format!("config field `{}` is empty or declared twice", field.name));
        }
    }
    for entry in &manifest.egress_hosts {
        // Templated entries are checked once rendered, per connection.
        if !entry.contains('{') {
            AllowedHost::parse(entry).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
