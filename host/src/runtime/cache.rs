//! On-disk cache of compiled components, keyed by sha256 of the wasm bytes and the engine's
//! compatibility hash (a different wasmtime version or engine configuration misses the
//! cache instead of loading an incompatible artifact). The cache has a size bound: after a
//! write, the least recently used artifacts are evicted until it fits; the artifact of a
//! component the loader then rejects is removed at once.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompileOrigin {
    Compiled,
    Cached,
}

pub struct ArtifactCache {
    dir: PathBuf,
    engine_hash: String,
    max_bytes: u64,
}

impl ArtifactCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine, max_bytes: u64) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self { dir: dir.into(), engine_hash: format!("{:016x}", hasher.finish()), max_bytes }
    }

    /// Removes the artifact of `sha256` (a component the loader rejected after compiling).
    pub fn remove(&self, sha256: &str) {
        let _ = std::fs::remove_file(self.path_for(sha256));
    }

    /// Evicts the least recently used artifacts (by modification time; a cache hit touches
    /// its file) until the cache holds at most `max_bytes`. Returns how many were removed.
    pub fn evict(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return 0 };
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        files.sort();
        let mut removed = 0;
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
                removed += 1;
            }
        }
        removed
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_for(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_hash))
    }

    /// Loads the compiled form of `wasm` from the cache, or compiles and stores it. A cache
    /// entry that fails to load is recompiled and overwritten; a cache that cannot be
    /// written only costs a recompile next time.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CompileOrigin)> {
        let path = self.path_for(sha256);
        // Read into memory rather than mmap the file: a cache file truncated by someone
        // else while mapped would crash the process (SIGBUS); a copy costs microseconds.
        if let Ok(bytes) = std::fs::read(&path) {
            // SAFETY: only this cache writes files under this name, atomically (temp file
            // + rename), from `Component::serialize` of the same engine configuration; the
            // engine hash in the name rejects artifacts of another engine, and wasmtime
            // checks the artifact header and its compatibility before use.
            match unsafe { Component::deserialize(engine, &bytes) } {
                Ok(component) => {
                    // Recently used: the eviction order is by modification time.
                    let _ = std::fs::File::options()
                        .append(true)
                        .open(&path)
                        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
                    return Ok((component, CompileOrigin::Cached));
                }
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "discarding unusable cached artifact")
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(error) = self.store(&path, &component) {
            tracing::warn!(dir = %self.dir.display(), %error, "cannot write compiled-artifact cache");
        }
        let evicted = self.evict();
        if evicted > 0 {
            tracing::info!(
                evicted,
                max_bytes = self.max_bytes,
                "compiled-artifact cache over its bound; least recently used artifacts removed"
            );
        }
        Ok((component, CompileOrigin::Compiled))
    }

    fn store(&self, path: &Path, component: &Component) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = component.serialize().map_err(|e| anyhow::anyhow!("{e}"))?;
        // Unique per write: two loads of one component (threads or processes) never share
        // a temp file, so a rename only ever publishes a completely written artifact.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, path)?;
        Ok(())
    }
}
