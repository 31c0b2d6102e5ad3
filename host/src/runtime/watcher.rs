//! Watches a connectors directory and hot-loads `*.wasm` files: at start every file, then
//! each new or changed file once it has stopped changing (same size and mtime on two
//! consecutive polls, so a half-copied file is not loaded). A file that fails validation is
//! reported with the reason and the version already serving keeps serving.
//!
//! Polling (default every 500 ms) is used instead of OS notifications: it behaves the same
//! on every filesystem (bind mounts, NFS, overlay) and costs one `readdir` per interval.
//! Removing a file does not unload its connector: connections may still use it; a restart
//! (or loading another version) replaces it.

use super::Runtime;
use super::loader::LoadError;
use super::registry::{Installed, Registry};
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
        self.scan(false).await
    }

    /// One poll: loads files that changed and have settled since the previous poll.
    pub async fn poll(&mut self) -> ScanReport {
        self.scan(true).await
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

    async fn scan(&mut self, wait_for_settle: bool) -> ScanReport {
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
        let runtime = &self.runtime;
        let loads = futures::stream::iter(due.into_iter().map(|path| async move {
            let loaded = load_file(runtime, &path).await;
            (path, loaded)
        }))
        .buffered(concurrent)
        .collect::<Vec<_>>()
        .await;
        let mut report = ScanReport::default();
        for (path, loaded) in loads {
            self.install(&path, loaded, &mut report);
        }
        report
    }

    fn install(
        &self,
        path: &Path,
        loaded: Result<Arc<super::LoadedConnector>, LoadError>,
        report: &mut ScanReport,
    ) {
        let installed = loaded.and_then(|connector| {
            let id = connector.manifest.id.clone();
            let version = connector.manifest.connector_version.clone();
            self.registry.install(connector).map(|installed| (id, version, installed)).map_err(
                |e| LoadError::Refused {
                    origin: path.display().to_string(),
                    reason: e.to_string(),
                },
            )
        });
        match installed {
            Ok((id, version, installed)) => {
                match installed {
                    Installed::Activated { replaced } => tracing::info!(
                        file = %path.display(), connector = %id, %version, ?replaced,
                        "connector version loaded and active"
                    ),
                    Installed::AlreadyLoaded => tracing::info!(
                        file = %path.display(), connector = %id, %version,
                        "connector version already loaded; made active"
                    ),
                }
                report.loaded.push((path.to_path_buf(), id, version));
            }
            Err(error) => {
                tracing::error!(%error, "connector file rejected; the version already serving (if any) keeps serving");
                report.rejected.push((path.to_path_buf(), error));
            }
        }
    }
}

async fn load_file(
    runtime: &Runtime,
    path: &Path,
) -> Result<Arc<super::LoadedConnector>, LoadError> {
    let bytes =
        super::loader::read_component_file(path, runtime.limits().max_component_bytes).await?;
    runtime.load(bytes, &path.display().to_string()).await
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
