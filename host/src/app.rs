//! Assembles a running host from its parts: its state on one [`Backend`] (sled in the data
//! directory, or PostgreSQL shared by several nodes), API keys,
//! the write journal, the sync engine with its scheduler, the webhook worker and its
//! fan-out from the event log, the automation engine, and the API router. `serve` and the
//! end-to-end tests build the host the same way.
//!
//! New events (a sync page, a result posted, a push) are signalled once on
//! `SyncEngine::events_appended`; a relay passes each signal on to the webhook fan-out and
//! to the automation engine, so both react at once instead of at their next tick.

use crate::api::{self, AppState};
use crate::automations::engine::{Engine, RetryPolicy};
use crate::automations::host_effects::{HostEffects, HostEngine};
use crate::runtime::registry::{DEFAULT_KEPT_VERSIONS, Phase};
use crate::runtime::{Limits, Registry, Runtime};
use crate::store::backend::{Backend, StoreLocation};
use crate::store::{SecretBox, Store};
use crate::sync::{SyncConfig, SyncEngine};
use crate::webhooks::dispatcher::{DeliveryPolicy, Dispatcher};

use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub struct HostOptions {
    pub data_dir: PathBuf,
    pub connectors_dir: Option<PathBuf>,
    pub operator_key: Option<String>,
    /// Base64 key for secrets at rest (else `DATA_DIR/secret.key`).
    pub secret_key: Option<String>,
    pub sync: SyncConfig,
    pub webhooks: DeliveryPolicy,
    /// Start the scheduler (tests drive syncs by hand when false).
    pub run_scheduler: bool,
    /// Where compiled connectors are cached [default: `DATA_DIR/compiled`]. Entries are
    /// keyed by the wasm's sha256 and the engine's compatibility hash and written
    /// atomically, so hosts on one machine may share a directory.
    pub compiled_cache: Option<PathBuf>,
    /// Where the state lives [default: sled in `DATA_DIR/store`].
    pub store: StoreLocation,
}

/// How the automation engine runs.
#[derive(Debug, Clone)]
pub struct AutomationOptions {
    /// The worker's round when nothing wakes it (due retries, paused connections, order
    /// expiry); new events wake it at once.
    pub tick: Duration,
    /// Retries of failed actions.
    pub retry: RetryPolicy,
}

impl Default for AutomationOptions {
    /// A round every second; [`RetryPolicy::default`].
    fn default() -> Self {
        AutomationOptions { tick: Duration::from_secs(1), retry: RetryPolicy::default() }
    }
}

pub struct Host {
    pub state: AppState,
    pub store: Arc<dyn Store>,
    pub sync: Arc<SyncEngine>,
    pub webhooks: Arc<Dispatcher>,
    pub automations: Arc<HostEngine>,
    /// The operator key, when this start generated it.
    pub generated_operator_key: Option<String>,
}

impl Host {
    /// Opens the store in the data directory, creates the runtime (compiled-artifact cache
    /// in `DATA_DIR/compiled`, connector state in the store) and starts the workers; the
    /// automation engine runs with [`AutomationOptions::default`].
    pub async fn start(limits: Limits, options: HostOptions) -> anyhow::Result<Host> {
        Self::start_with_automations(limits, options, AutomationOptions::default()).await
    }

    /// [`Host::start`] with the automation engine's own options.
    pub async fn start_with_automations(
        limits: Limits,
        options: HostOptions,
        automation_options: AutomationOptions,
    ) -> anyhow::Result<Host> {
        std::fs::create_dir_all(&options.data_dir).with_context(|| {
            format!("cannot create the data directory {}", options.data_dir.display())
        })?;
        let secret_box = SecretBox::open(&options.data_dir, options.secret_key.as_deref())?;
        let compiled_cache =
            options.compiled_cache.clone().unwrap_or_else(|| options.data_dir.join("compiled"));
        let backend = Backend::open(
            &options.store,
            &options.data_dir,
            secret_box,
            options.sync.write_claim_lease,
        )
        .await?;
        let store = backend.store.clone();
        let runtime = Arc::new(Runtime::new(limits, backend.state, Some(compiled_cache))?);
        // The registry restores each connector's saved active version and history as its
        // builds are installed (bundled first, then the watched directory).
        let registry = Arc::new(Registry::with_store(DEFAULT_KEPT_VERSIONS, store.clone()).await?);
        let (keys, generated) = api::auth::KeyStore::open(
            backend.keys,
            &options.data_dir,
            options.operator_key.as_deref(),
        )?;
        let journal = backend.journal;
        let webhook_tick =
            options.webhooks.base_delay.clamp(Duration::from_millis(10), Duration::from_secs(1));
        let webhooks = Arc::new(Dispatcher::new(backend.ledger, options.webhooks)?);
        let dyn_store: Arc<dyn Store> = store.clone();
        let sync =
            SyncEngine::new(dyn_store.clone(), runtime.clone(), registry.clone(), options.sync);
        sync.recover_and_schedule().await?;
        if store.is_shared() {
            crate::runtime::follow::spawn(store.clone(), registry.clone(), runtime.clone());
            store.wake_on_changes(sync.events_appended.clone());
        }
        if options.run_scheduler {
            sync.spawn_scheduler();
        }
        webhooks.clone().spawn(webhook_tick);
        let automations: Arc<HostEngine> = Arc::new(Engine::new(
            dyn_store.clone(),
            backend.automations,
            backend.outbox,
            HostEffects {
                store: dyn_store.clone(),
                runtime: runtime.clone(),
                sync: sync.clone(),
                journal: journal.clone(),
                webhooks: webhooks.clone(),
            },
            automation_options.retry,
        ));
        let fan_out_wake = Arc::new(tokio::sync::Notify::new());
        webhooks.clone().spawn_fan_out(
            dyn_store.clone(),
            fan_out_wake.clone(),
            Duration::from_millis(500),
        );
        automations.clone().spawn(automation_options.tick);
        relay_new_events(sync.events_appended.clone(), fan_out_wake, automations.clone());
        let state = AppState {
            runtime,
            registry,
            keys,
            webhooks: webhooks.clone(),
            store: dyn_store,
            sync: sync.clone(),
            journal,
            automations: automations.clone(),
            connectors_dir: options.connectors_dir,
            demo: None,
        };
        Ok(Host { state, store, sync, webhooks, automations, generated_operator_key: generated })
    }

    /// Loads the connectors compiled into the binary, one after the other (each compiled
    /// artifact is cached as soon as it exists, so an interrupted start keeps what it did),
    /// through the registry's one way in, as part of the start ([`Phase::Start`]: a build
    /// installed before keeps its saved place); returns how many were loaded.
    pub async fn load_bundled(&self) -> usize {
        let mut loaded = 0;
        for component in crate::bundled::components() {
            let component = match component {
                Ok(component) => component,
                Err(problem) => {
                    tracing::warn!(%problem, "bundled manifest connector left out");
                    continue;
                }
            };
            let origin = format!("bundled:{}", component.name);
            let registry = &self.state.registry;
            if registry
                .load_and_install(
                    &self.state.runtime,
                    component.wasm.into_owned(),
                    &origin,
                    Phase::Start,
                )
                .await
                .is_ok()
            {
                loaded += 1;
            }
        }
        loaded
    }

    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }
}

/// Passes each "new events" signal on to the webhook fan-out and the automation engine
/// (a `Notify` wakes one waiter; both must wake).
fn relay_new_events(
    appended: Arc<tokio::sync::Notify>,
    fan_out: Arc<tokio::sync::Notify>,
    automations: Arc<HostEngine>,
) {
    tokio::spawn(async move {
        loop {
            appended.notified().await;
            fan_out.notify_one();
            automations.wake();
        }
    });
}
