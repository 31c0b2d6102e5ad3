//! Watches a connectors directory and hot-loads `*.wasm` files: at start every file, then
//! each new or changed file once it has stopped changing (same size and mtime on two
//! consecutive polls, so a half-copied file is not loaded). A file that fails validation is
//! reported with the reason and the version already serving keeps serving.
//!
//! Polling (default every 500 ms) is used instead of OS notifications: it behaves the same
//! on every filesystem (bind mounts, NFS, overlay) and costs one `readdir` per interval.
//! Removing a file does not unload its connector: connections may still use it; a restart
//! (or loading another version) replaces it.
//!
//! Files go through the registry's one way in ([`Registry::prepare`], then
//! [`Registry::commit`]): bytes already loaded (an uploaded file the API saved here, a copy
//! of a bundled connector) change nothing. The start-up scan installs in [`Phase::Start`],
//! so a restart restores the saved active version instead of activating whichever file
//! name sorts last; later polls install in [`Phase::Live`].

use super::Runtime;
use super::loader::LoadError;
use super::registry::{InstallError, Phase, Prepared, Registry};
use futures::StreamExt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Size and modification time: what "changed" means.
type Stamp = (u64, Option<SystemTime>);

/// What one scan did.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Files loaded: (path, connector id, version).
    pub loaded: Vec<(PathBuf, String, String)>,
    pub rejected: Vec<(PathBuf, LoadError)>,
}

pub struct DirectoryWatcher {
    dir: PathBuf,
    runtime: Arc<Runtime>,
    registry: Arc<Registry>,
    /// The stamp each file had when last loaded (or rejected).
    handled: HashMap<PathBuf, Stamp>,
    /// Files seen changed on the previous poll, with the stamp seen then.
    settling: HashMap<PathBuf, Stamp>,
}

impl DirectoryWatcher {
    pub fn new(dir: impl Into<PathBuf>, runtime: Arc<Runtime>, registry: Arc<Registry>) -> Self {
        Self {
            dir: dir.into(),
            runtime,
            registry,
            handled: HashMap::new(),
            settling: HashMap::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads every `.wasm` file now, without waiting for files to settle (start-up).
    pub async fn load_all(&mut self) -> ScanReport {
        self.scan(Phase::Start).await
    }

    /// One poll: loads files that changed and have settled since the previous poll.
    pub async fn poll(&mut self) -> ScanReport {
        self.scan(Phase::Live).await
    }

    /// Polls forever every `interval`.
    pub fn spawn(mut self, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                self.poll().await;
            }
        })
    }

    async fn scan(&mut self, phase: Phase) -> ScanReport {
        let wait_for_settle = phase == Phase::Live;
        let mut due = Vec::new();
        for (path, stamp) in list_wasm_files(&self.dir) {
            if self.handled.get(&path) == Some(&stamp) {
                continue;
            }
            if wait_for_settle && self.settling.get(&path) != Some(&stamp) {
                self.settling.insert(path, stamp);
                continue;
            }
            self.settling.remove(&path);
            self.handled.insert(path.clone(), stamp);
            due.push(path);
        }
        // Files load (compile + `describe()`, each within its own deadline) as many at a
        // time as there are cores, so one slow or hanging file does not hold up the others
        // (and no compile is slowed by more than the cores can run); they are installed in
        // file-name order, so the version active afterwards does not depend on timing.
        let concurrent = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (runtime, registry) = (&self.runtime, &self.registry);
        let loads = futures::stream::iter(due.into_iter().map(|path| async move {
            let loaded = load_file(runtime, registry, &path).await;
            (path, loaded)
        }))
        .buffered(concurrent)
        .collect::<Vec<_>>()
        .await;
        let mut report = ScanReport::default();
        for (path, loaded) in loads {
            self.install(&path, loaded, phase, &mut report).await;
        }
        report
    }

    async fn install(
        &self,
        path: &Path,
        loaded: Result<Prepared, LoadError>,
        phase: Phase,
        report: &mut ScanReport,
    ) {
        let origin = path.display().to_string();
        let installed = match loaded {
            Ok(prepared) => self.registry.commit(prepared, &origin, phase).await,
            Err(error) => Err(InstallError::from(error)),
        };
        match installed {
            Ok(installation) => {
                let manifest = &installation.build.manifest;
                report.loaded.push((
                    path.to_path_buf(),
                    manifest.id.clone(),
                    manifest.connector_version.clone(),
                ));
            }
            Err(error) => {
                let error = match error {
                    InstallError::Rejected(error) => {
                        tracing::error!(%error, "connector file rejected; the version already serving (if any) keeps serving");
                        error
                    }
                    InstallError::Refused { origin, source } => {
                        LoadError::Refused { origin, reason: source.to_string() }
                    }
                };
                report.rejected.push((path.to_path_buf(), error));
            }
        }
    }
}

async fn load_file(
    runtime: &Runtime,
    registry: &Registry,
    path: &Path,
) -> Result<Prepared, LoadError> {
    let bytes =
        super::loader::read_component_file(path, runtime.limits().max_component_bytes).await?;
    registry.prepare(runtime, bytes, &path.display().to_string()).await
}

fn list_wasm_files(dir: &Path) -> Vec<(PathBuf, Stamp)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, Stamp)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .filter_map(|path| {
            let meta = std::fs::metadata(&path).ok()?;
            meta.is_file().then(|| (path, (meta.len(), meta.modified().ok())))
        })
        .collect();
    files.sort();
    files
}
