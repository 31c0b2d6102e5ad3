//! The registry of loaded connector versions: which version of each connector serves new
//! calls, and the earlier versions kept for rollback and per-connection pinning.
//!
//! Swapping is a pointer change under a short lock. A call clones the `Arc` of the version
//! it starts on, so calls in flight finish on that version while new calls see the new one.

use super::loader::{LoadedConnector, VersionInfo};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use thiserror::Error;

/// Versions kept per connector (the active one included).
pub const DEFAULT_KEPT_VERSIONS: usize = 5;

#[derive(Default)]
struct Versions {
    /// Oldest first.
    loaded: Vec<Arc<LoadedConnector>>,
    active: usize,
}

pub struct Registry {
    connectors: RwLock<BTreeMap<String, Versions>>,
    keep: usize,
}

/// What [`Registry::install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// A new version became active; `replaced` is the version it replaced, if any.
    Activated { replaced: Option<String> },
    /// The same bytes were already loaded; that version is now active.
    AlreadyLoaded,
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

impl Registry {
    pub fn new(keep: usize) -> Self {
        Self { connectors: RwLock::new(BTreeMap::new()), keep: keep.max(1) }
    }

    /// Makes `connector` the active version of its id. A version string names one build:
    /// other bytes under a version string already loaded are refused, so a pin or an
    /// activation by version can never be redirected to a different build.
    pub fn install(&self, connector: Arc<LoadedConnector>) -> Result<Installed, RegistryError> {
        let mut all = self.connectors.write().unwrap_or_else(PoisonError::into_inner);
        let versions = all.entry(connector.manifest.id.clone()).or_default();
        if let Some(index) = versions.loaded.iter().position(|v| v.sha256 == connector.sha256) {
            versions.active = index;
            return Ok(Installed::AlreadyLoaded);
        }
        let version = &connector.manifest.connector_version;
        if let Some(taken) =
            versions.loaded.iter().find(|v| &v.manifest.connector_version == version)
        {
            return Err(RegistryError::VersionTaken {
                id: connector.manifest.id.clone(),
                version: version.clone(),
                loaded: taken.sha256[..12].to_string(),
                offered: connector.sha256[..12].to_string(),
            });
        }
        let replaced =
            versions.loaded.get(versions.active).map(|v| v.manifest.connector_version.clone());
        versions.loaded.push(connector);
        if versions.loaded.len() > self.keep {
            versions.loaded.remove(0);
        }
        versions.active = versions.loaded.len() - 1;
        Ok(Installed::Activated { replaced })
    }

    /// The version new calls of `id` should use.
    pub fn active(&self, id: &str) -> Option<Arc<LoadedConnector>> {
        let all = self.connectors.read().unwrap_or_else(PoisonError::into_inner);
        let versions = all.get(id)?;
        versions.loaded.get(versions.active).cloned()
    }

    /// A specific kept version, by connector version or sha256 (or a unique sha256 prefix).
    pub fn version(&self, id: &str, version: &str) -> Result<Arc<LoadedConnector>, RegistryError> {
        let all = self.connectors.read().unwrap_or_else(PoisonError::into_inner);
        let versions = all.get(id).ok_or_else(|| RegistryError::UnknownConnector(id.into()))?;
        find_version(versions, version)
            .map(|i| versions.loaded[i].clone())
            .ok_or_else(|| unknown_version(id, version, versions))
    }

    /// Makes a kept version active again (by version or sha256).
    pub fn activate(&self, id: &str, version: &str) -> Result<Arc<LoadedConnector>, RegistryError> {
        let mut all = self.connectors.write().unwrap_or_else(PoisonError::into_inner);
        let versions = all.get_mut(id).ok_or_else(|| RegistryError::UnknownConnector(id.into()))?;
        let index = find_version(versions, version)
            .ok_or_else(|| unknown_version(id, version, versions))?;
        versions.active = index;
        Ok(versions.loaded[index].clone())
    }

    /// Activates the version loaded before the active one.
    pub fn rollback(&self, id: &str) -> Result<Arc<LoadedConnector>, RegistryError> {
        let mut all = self.connectors.write().unwrap_or_else(PoisonError::into_inner);
        let versions = all.get_mut(id).ok_or_else(|| RegistryError::UnknownConnector(id.into()))?;
        if versions.active == 0 {
            return Err(RegistryError::NoEarlierVersion(id.into()));
        }
        versions.active -= 1;
        Ok(versions.loaded[versions.active].clone())
    }

    pub fn list(&self) -> Vec<ConnectorListing> {
        let all = self.connectors.read().unwrap_or_else(PoisonError::into_inner);
        all.iter()
            .filter_map(|(id, versions)| {
                Some(ConnectorListing {
                    id: id.clone(),
                    active: versions.loaded.get(versions.active)?.info(),
                    versions: versions.loaded.iter().map(|v| v.info()).collect(),
                })
            })
            .collect()
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
