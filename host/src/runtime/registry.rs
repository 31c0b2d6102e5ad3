//! The registry of loaded connector versions: which version of each connector serves new
//! calls, and the earlier versions kept for rollback and per-connection pinning.
//!
//! Swapping is a pointer change under a short lock. A call clones the `Arc` of the version
//! it starts on, so calls in flight finish on that version while new calls see the new one.
//!
//! **One way in.** Bundled connectors, files in the watched directory and uploads all enter
//! through [`Registry::prepare`] + [`Registry::commit`] (or both at once,
//! [`Registry::load_and_install`]): bytes already loaded change nothing (not even which
//! version is active, and they are not compiled again); other bytes are validated by the
//! loader, then installed.
//!
//! **Across restarts.** With a store ([`Registry::with_store`]) every change of a
//! connector's active build (an install, [`Registry::activate`], [`Registry::rollback`]) is
//! saved first, as a [`ConnectorVersions`] record: the active build by sha256 and the builds
//! installed, oldest first. While the host starts ([`Phase::Start`]) a build it installed
//! before goes back to its place in that order and the saved active build is active again,
//! whatever order the files load in; a build it never saw (a new file, a new bundled build
//! after an upgrade) becomes active as if installed while running. Kept versions beyond
//! the limit are evicted oldest first, except the active one and builds a connection is
//! pinned to, so pins resolve after a restart as long as their file is still there.

use super::Runtime;
use super::loader::{LoadError, LoadedConnector, VersionInfo};
use crate::store::{ConnectorVersions, KnownBuild, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use thiserror::Error;

/// Versions kept per connector (the active one included; pinned builds come on top).
pub const DEFAULT_KEPT_VERSIONS: usize = 5;

/// Builds remembered per connector, loaded or not: what tells an old file from a new one
/// when the host starts.
pub const REMEMBERED_BUILDS: usize = 256;

#[derive(Clone)]
struct Versions {
    /// Kept builds in the order of `record.builds` (oldest first).
    loaded: Vec<Arc<LoadedConnector>>,
    active: usize,
    /// What is saved: the active build and the order of every build installed.
    record: ConnectorVersions,
}

pub struct Registry {
    connectors: RwLock<BTreeMap<String, Versions>>,
    keep: usize,
    /// Where changes are saved; `None` keeps them in memory only.
    store: Option<Arc<dyn Store>>,
    /// Held by each change from reading the current versions to publishing the new ones,
    /// across the save: changes are saved in the order they are made visible, and calls
    /// never wait on it (they read `connectors`).
    changes: tokio::sync::Mutex<()>,
}

/// When an install happens, which decides what installing a build seen before means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// While the host starts (bundled connectors, the first scan of the directory): a build
    /// installed before is restored to its place and the saved active build is active
    /// again; a build never seen becomes active.
    Start,
    /// While the host runs (a new file in the directory, an upload): a build not loaded
    /// becomes active.
    Live,
}

/// What an install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// A new version became active; `replaced` is the version it replaced, if any.
    Activated { replaced: Option<String> },
    /// The same bytes were already loaded: nothing changed.
    AlreadyLoaded,
    /// At start, a build installed before went back to its place; `active` when it is the
    /// saved active build.
    Restored { active: bool },
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("no connector `{0}` is loaded")]
    UnknownConnector(String),
    #[error("connector `{id}` has no loaded version `{version}` (loaded: {loaded})")]
    UnknownVersion { id: String, version: String, loaded: String },
    #[error("connector `{0}` has no earlier version to roll back to")]
    NoEarlierVersion(String),
    #[error(
        "connector `{id}` version `{version}` is already loaded with other bytes (sha256 {loaded}…, this file {offered}…); give the new build a new connector-version"
    )]
    VersionTaken { id: String, version: String, loaded: String, offered: String },
    #[error("cannot save the versions of connector `{id}`, so nothing changed: {reason}")]
    Persist { id: String, reason: String },
}

/// Why a build did not get into the registry.
#[derive(Debug, Error)]
pub enum InstallError {
    /// The loader refused the bytes (not a component, wrong world, bad manifest, ...).
    #[error(transparent)]
    Rejected(#[from] LoadError),
    /// The registry refused a valid build (a version string taken, the store failing).
    #[error("{origin}: refused: {source}")]
    Refused {
        origin: String,
        #[source]
        source: RegistryError,
    },
}

/// A build read and checked by [`Registry::prepare`], ready for [`Registry::commit`].
pub enum Prepared {
    /// Bytes not loaded before: validated and compiled.
    New(Arc<LoadedConnector>),
    /// The same bytes are loaded already (nothing was compiled).
    Loaded(Arc<LoadedConnector>),
}

/// What [`Registry::commit`] did with which build.
pub struct Installation {
    pub build: Arc<LoadedConnector>,
    pub installed: Installed,
}

/// One connector in a listing.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorListing {
    pub id: String,
    pub active: VersionInfo,
    /// Every kept version, oldest first (the active one included).
    pub versions: Vec<VersionInfo>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(DEFAULT_KEPT_VERSIONS)
    }
}

impl Versions {
    fn new(id: &str) -> Self {
        Versions {
            loaded: Vec::new(),
            active: 0,
            record: ConnectorVersions { connector_id: id.to_string(), ..Default::default() },
        }
    }

    fn restored(record: ConnectorVersions) -> Self {
        Versions { loaded: Vec::new(), active: 0, record }
    }

    fn active_build(&self) -> Option<&Arc<LoadedConnector>> {
        self.loaded.get(self.active)
    }

    fn position(&self, sha256: &str) -> Option<usize> {
        self.record.builds.iter().position(|b| b.sha256 == sha256)
    }

    /// Inserts a build the record knows at its place among the loaded ones.
    fn insert_in_order(&mut self, build: Arc<LoadedConnector>) {
        let at = self.position(&build.sha256).unwrap_or(usize::MAX);
        let index = self
            .loaded
            .iter()
            .position(|v| self.position(&v.sha256).unwrap_or(usize::MAX) > at)
            .unwrap_or(self.loaded.len());
        self.loaded.insert(index, build);
    }

    /// Records `build` as the newest build and the active one.
    fn remember_as_newest(&mut self, build: &LoadedConnector) {
        self.record.builds.retain(|b| b.sha256 != build.sha256);
        self.record.builds.push(KnownBuild {
            sha256: build.sha256.clone(),
            version: build.manifest.connector_version.clone(),
        });
        self.record.active_sha256 = build.sha256.clone();
        while self.record.builds.len() > REMEMBERED_BUILDS {
            let loaded = |sha: &str| self.loaded.iter().any(|v| v.sha256 == sha);
            match self.record.builds.iter().position(|b| !loaded(&b.sha256)) {
                Some(oldest) => {
                    self.record.builds.remove(oldest);
                }
                None => break,
            }
        }
    }

    /// Points `active` at the saved active build when it is loaded, else at the newest.
    fn settle(&mut self) {
        self.active = self
            .loaded
            .iter()
            .position(|v| v.sha256 == self.record.active_sha256)
            .unwrap_or(self.loaded.len().saturating_sub(1));
    }

    /// Drops the oldest kept builds over `keep`, never the active one nor a pinned one.
    fn evict(&mut self, keep: usize, pinned: impl Fn(&LoadedConnector) -> bool) {
        while self.loaded.len() > keep {
            let Some(victim) =
                (0..self.loaded.len()).find(|&i| i != self.active && !pinned(&self.loaded[i]))
            else {
                break;
            };
            self.loaded.remove(victim);
            if victim < self.active {
                self.active -= 1;
            }
        }
    }
}

impl Registry {
    /// A registry that keeps its state in memory only.
    pub fn new(keep: usize) -> Self {
        Self {
            connectors: RwLock::new(BTreeMap::new()),
            keep: keep.max(1),
            store: None,
            changes: tokio::sync::Mutex::new(()),
        }
    }

    /// A registry that saves every change of an active build to `store` and restores what
    /// it saved there (see the module doc); the builds themselves are installed as usual.
    pub async fn with_store(
        keep: usize,
        store: Arc<dyn Store>,
    ) -> Result<Self, crate::store::StoreError> {
        let saved = store.connector_versions().await?;
        let connectors = saved
            .into_iter()
            .map(|record| (record.connector_id.clone(), Versions::restored(record)))
            .collect();
        Ok(Self {
            connectors: RwLock::new(connectors),
            keep: keep.max(1),
            store: Some(store),
            changes: tokio::sync::Mutex::new(()),
        })
    }

    /// Installs `connector` while the host runs ([`Phase::Live`]): it becomes the active
    /// version of its id. A version string names one build: other bytes under a version
    /// string already loaded are refused, so a pin or an activation by version can never be
    /// redirected to a different build.
    pub async fn install(
        &self,
        connector: Arc<LoadedConnector>,
    ) -> Result<Installed, RegistryError> {
        self.install_in(connector, Phase::Live).await
    }

    /// Installs `connector` in `phase` (see [`Phase`]).
    pub async fn install_in(
        &self,
        connector: Arc<LoadedConnector>,
        phase: Phase,
    ) -> Result<Installed, RegistryError> {
        let _turn = self.changes.lock().await;
        let id = connector.manifest.id.clone();
        let current = self.current(&id).unwrap_or_else(|| Versions::new(&id));
        if current.loaded.iter().any(|v| v.sha256 == connector.sha256) {
            return Ok(Installed::AlreadyLoaded);
        }
        let version = &connector.manifest.connector_version;
        if let Some(taken) =
            current.loaded.iter().find(|v| &v.manifest.connector_version == version)
        {
            return Err(RegistryError::VersionTaken {
                id,
                version: version.clone(),
                loaded: taken.sha256[..12].to_string(),
                offered: connector.sha256[..12].to_string(),
            });
        }
        let mut next = current.clone();
        let installed = match (phase, next.position(&connector.sha256)) {
            (Phase::Start, Some(_)) => {
                let active = next.record.active_sha256 == connector.sha256;
                next.insert_in_order(connector);
                Installed::Restored { active }
            }
            _ => {
                let replaced = next.active_build().map(|v| v.manifest.connector_version.clone());
                next.remember_as_newest(&connector);
                next.loaded.push(connector);
                Installed::Activated { replaced }
            }
        };
        next.settle();
        if next.loaded.len() > self.keep {
            let pins = self.pins(&id).await;
            next.evict(self.keep, |build| pins.iter().any(|pin| pin.matches(build)));
        }
        if matches!(installed, Installed::Activated { .. }) {
            self.save(&mut next.record).await?;
        }
        self.publish(id, next);
        Ok(installed)
    }

    /// A copy of the versions of `id` (changes are made on a copy, then published).
    fn current(&self, id: &str) -> Option<Versions> {
        self.connectors.read().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }

    /// Makes `versions` the ones new calls of `id` see.
    fn publish(&self, id: String, versions: Versions) {
        self.connectors.write().unwrap_or_else(PoisonError::into_inner).insert(id, versions);
    }

    /// Adopts the record another node of a shared store saved for a connector (the order
    /// of its builds and which one is active) without saving it again; returns whether the
    /// active build changed. Builds of the record this registry has not loaded are then
    /// installed with [`Phase::Start`], which puts them at their place (see
    /// `runtime::follow`).
    pub async fn follow(&self, record: ConnectorVersions) -> bool {
        let _turn = self.changes.lock().await;
        let id = record.connector_id.clone();
        let mut versions = self.current(&id).unwrap_or_else(|| Versions::new(&id));
        if versions.record.active_sha256 == record.active_sha256
            && versions.record.builds == record.builds
        {
            return false;
        }
        let before = versions.active_build().map(|b| b.sha256.clone());
        versions.record = record;
        for build in std::mem::take(&mut versions.loaded) {
            versions.insert_in_order(build);
        }
        versions.settle();
        let after = versions.active_build().map(|b| b.sha256.clone());
        if before != after {
            tracing::info!(connector = %id, active = ?after, "following the active version another node chose");
        }
        self.publish(id, versions);
        before != after
    }

    /// The version new calls of `id` should use.
    pub fn active(&self, id: &str) -> Option<Arc<LoadedConnector>> {
        let all = self.connectors.read().unwrap_or_else(PoisonError::into_inner);
        all.get(id)?.active_build().cloned()
    }

    /// The loaded build with this sha256 (of any connector).
    pub fn build(&self, sha256: &str) -> Option<Arc<LoadedConnector>> {
        let all = self.connectors.read().unwrap_or_else(PoisonError::into_inner);
        all.values().flat_map(|v| v.loaded.iter()).find(|v| v.sha256 == sha256).cloned()
    }

    /// A specific kept version, by connector version or sha256 (or a unique sha256 prefix).
    pub fn version(&self, id: &str, version: &str) -> Result<Arc<LoadedConnector>, RegistryError> {
        let all = self.connectors.read().unwrap_or_else(PoisonError::into_inner);
        let versions = all.get(id).ok_or_else(|| RegistryError::UnknownConnector(id.into()))?;
        find_version(versions, version)
            .map(|i| versions.loaded[i].clone())
            .ok_or_else(|| unknown_version(id, version, versions))
    }

    /// Makes a kept version active again (by version or sha256); saved first.
    pub async fn activate(
        &self,
        id: &str,
        version: &str,
    ) -> Result<Arc<LoadedConnector>, RegistryError> {
        self.switch(id, |versions| {
            find_version(versions, version).ok_or_else(|| unknown_version(id, version, versions))
        })
        .await
    }

    /// Activates the version installed before the active one; saved first.
    pub async fn rollback(&self, id: &str) -> Result<Arc<LoadedConnector>, RegistryError> {
        self.switch(id, |versions| {
            versions.active.checked_sub(1).ok_or_else(|| RegistryError::NoEarlierVersion(id.into()))
        })
        .await
    }

    /// Makes the kept build `pick` chooses active: saved, then swapped.
    async fn switch(
        &self,
        id: &str,
        pick: impl FnOnce(&Versions) -> Result<usize, RegistryError>,
    ) -> Result<Arc<LoadedConnector>, RegistryError> {
        let _turn = self.changes.lock().await;
        let mut versions = self
            .current(id)
            .filter(|v| !v.loaded.is_empty())
            .ok_or_else(|| RegistryError::UnknownConnector(id.into()))?;
        let index = pick(&versions)?;
        let build = versions.loaded[index].clone();
        versions.record.active_sha256 = build.sha256.clone();
        self.save(&mut versions.record).await?;
        versions.active = index;
        self.publish(id.to_string(), versions);
        Ok(build)
    }

    /// Saves `record` (stamped now) when the registry has a store.
    async fn save(&self, record: &mut ConnectorVersions) -> Result<(), RegistryError> {
        let Some(store) = &self.store else { return Ok(()) };
        record.updated_at = crate::time::now_ms();
        store.put_connector_versions(record).await.map_err(|e| RegistryError::Persist {
            id: record.connector_id.clone(),
            reason: e.to_string(),
        })
    }

    /// The pins of connections to connector `id`. When the store cannot say, every build
    /// counts as pinned (keeping one too many beats breaking a pin).
    async fn pins(&self, id: &str) -> Vec<Pin> {
        let Some(store) = &self.store else { return Vec::new() };
        match store.connections(None).await {
            Ok(connections) => connections
                .into_iter()
                .filter(|c| c.connector_id == id)
                .filter_map(|c| match (c.pinned_sha256, c.pinned_version) {
                    (Some(sha256), _) => Some(Pin::Build(sha256)),
                    (None, Some(version)) => Some(Pin::Version(version)),
                    (None, None) => None,
                })
                .collect(),
            Err(error) => {
                tracing::warn!(%error, connector = %id, "cannot read pins; evicting no version");
                vec![Pin::Everything]
            }
        }
    }

    pub fn list(&self) -> Vec<ConnectorListing> {
        let all = self.connectors.read().unwrap_or_else(PoisonError::into_inner);
        all.iter()
            .filter_map(|(id, versions)| {
                Some(ConnectorListing {
                    id: id.clone(),
                    active: versions.active_build()?.info(),
                    versions: versions.loaded.iter().map(|v| v.info()).collect(),
                })
            })
            .collect()
    }

    /// Checks `wasm` for [`Registry::commit`]: bytes already loaded are found by their
    /// sha256 (and not compiled again); others go through the loader's validation.
    pub async fn prepare(
        &self,
        runtime: &Runtime,
        wasm: Vec<u8>,
        origin: &str,
    ) -> Result<Prepared, LoadError> {
        let sha256 = hex::encode(Sha256::digest(&wasm));
        if let Some(build) = self.build(&sha256) {
            return Ok(Prepared::Loaded(build));
        }
        runtime.load(wasm, origin).await.map(Prepared::New)
    }

    /// Installs a prepared build in `phase` and logs what happened, naming `origin`.
    pub async fn commit(
        &self,
        prepared: Prepared,
        origin: &str,
        phase: Phase,
    ) -> Result<Installation, InstallError> {
        let (build, installed) = match prepared {
            Prepared::Loaded(build) => (build, Installed::AlreadyLoaded),
            Prepared::New(build) => match self.install_in(build.clone(), phase).await {
                Ok(installed) => (build, installed),
                Err(source) => {
                    tracing::error!(%origin, error = %source, "connector refused; the version already serving (if any) keeps serving");
                    return Err(InstallError::Refused { origin: origin.to_string(), source });
                }
            },
        };
        let (connector, version, sha256) =
            (&build.manifest.id, &build.manifest.connector_version, &build.sha256[..12]);
        match &installed {
            Installed::Activated { replaced } => tracing::info!(
                %origin, %connector, %version, %sha256, ?replaced, "connector version installed and active"
            ),
            Installed::AlreadyLoaded => tracing::info!(
                %origin, %connector, %version, %sha256, "connector version already loaded; nothing changed"
            ),
            Installed::Restored { active } => tracing::info!(
                %origin, %connector, %version, %sha256, active, "connector version restored to its saved place"
            ),
        }
        Ok(Installation { build, installed })
    }

    /// [`Registry::prepare`] then [`Registry::commit`]: the path of bundled connectors and
    /// uploads (the watcher runs the two steps itself, to load files side by side).
    pub async fn load_and_install(
        &self,
        runtime: &Runtime,
        wasm: Vec<u8>,
        origin: &str,
        phase: Phase,
    ) -> Result<Installation, InstallError> {
        let prepared = self.prepare(runtime, wasm, origin).await.inspect_err(|error| {
            tracing::error!(%error, "connector rejected; the version already serving (if any) keeps serving");
        })?;
        self.commit(prepared, origin, phase).await
    }
}

/// A connection's pin, as far as eviction is concerned.
enum Pin {
    Build(String),
    /// A pin made before pins recorded the build.
    Version(String),
    /// The pins could not be read.
    Everything,
}

impl Pin {
    fn matches(&self, build: &LoadedConnector) -> bool {
        match self {
            Pin::Build(sha256) => *sha256 == build.sha256,
            Pin::Version(version) => *version == build.manifest.connector_version,
            Pin::Everything => true,
        }
    }
}

fn find_version(versions: &Versions, wanted: &str) -> Option<usize> {
    let by_version = versions.loaded.iter().rposition(|v| v.manifest.connector_version == wanted);
    by_version.or_else(|| {
        let matches: Vec<usize> = (0..versions.loaded.len())
            .filter(|&i| wanted.len() >= 8 && versions.loaded[i].sha256.starts_with(wanted))
            .collect();
        (matches.len() == 1).then(|| matches[0])
    })
}

fn unknown_version(id: &str, version: &str, versions: &Versions) -> RegistryError {
    RegistryError::UnknownVersion {
        id: id.into(),
        version: version.into(),
        loaded: versions
            .loaded
            .iter()
            .map(|v| format!("{} ({})", v.manifest.connector_version, &v.sha256[..12]))
            .collect::<Vec<_>>()
            .join(", "),
    }
}
