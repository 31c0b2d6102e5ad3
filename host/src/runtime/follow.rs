//! Connector versions across the nodes of a shared store: every node follows the registry
//! records the others save (which builds exist, in which order, which one is active) and
//! loads the builds it lacks from the database, where an upload to any node is kept by its
//! sha256. An upload, activation or rollback on one node so serves on every node within a
//! poll. A build the database does not have (a file dropped in one node's watched
//! directory) is skipped, with one warning.

use super::Runtime;
use super::registry::{Phase, Registry};
use crate::store::Store;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// How often a node looks at the others' connector versions.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Builds remembered as missing from the database (bounds the skip list).
const MAX_MISSING: usize = 1024;

/// Follows the shared registry records until the process ends.
pub fn spawn(store: Arc<dyn Store>, registry: Arc<Registry>, runtime: Arc<Runtime>) {
    tokio::spawn(async move {
        let mut missing: HashSet<String> = HashSet::new();
        loop {
            tokio::time::sleep(FOLLOW_EVERY).await;
            if let Err(error) = follow_once(&*store, &registry, &runtime, &mut missing).await {
                tracing::warn!(%error, "cannot read the connector versions other nodes saved");
            }
        }
    });
}

/// One look: adopt every saved record, then load the builds it names that are not loaded.
pub async fn follow_once(
    store: &dyn Store,
    registry: &Registry,
    runtime: &Runtime,
    missing: &mut HashSet<String>,
) -> Result<(), crate::store::StoreError> {
    for record in store.connector_versions().await? {
        let wanted: Vec<String> = record
            .builds
            .iter()
            .map(|b| b.sha256.clone())
            .filter(|sha| registry.build(sha).is_none() && !missing.contains(sha))
            .collect();
        registry.follow(record.clone()).await;
        // The active build first: it is what new calls need.
        let mut wanted = wanted;
        wanted.sort_by_key(|sha| *sha != record.active_sha256);
        for sha256 in wanted.into_iter().take(4) {
            let Some(wasm) = store.connector_build(&sha256).await? else {
                if missing.len() < MAX_MISSING && missing.insert(sha256.clone()) {
                    tracing::warn!(connector = %record.connector_id, sha256 = %&sha256[..12.min(sha256.len())], "another node runs a build this node cannot load (not uploaded through the API); put the same file in every node's connectors directory");
                }
                continue;
            };
            let origin = format!("shared store ({})", &sha256[..12.min(sha256.len())]);
            if registry.load_and_install(runtime, wasm, &origin, Phase::Start).await.is_err() {
                missing.insert(sha256);
            }
        }
    }
    Ok(())
}
