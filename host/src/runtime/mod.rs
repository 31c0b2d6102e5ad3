//! The sandbox: one wasmtime engine, connector loading and validation, a fresh instance per
//! call under CPU, wall-clock, memory and output limits, and the mediated host imports.
//!
//! | module | owns |
//! |---|---|
//! | [`contract`] | the contract versions served, one binding module each, converted to [`crate::model`]; which one a component implements |
//! | [`engine`] | `Engine` config, pooling with on-demand fallback, the epoch ticker |
//! | [`limits`] | every limit and its default |
//! | [`cache`] | compiled artifacts on disk, keyed by sha256 + engine hash |
//! | [`loader`] | validate → compile → `instantiate_pre` → `describe()` |
//! | [`registry`] | active and earlier versions per connector; atomic swap, rollback |
//! | [`watcher`] | hot loading from a directory |
//! | [`gate`] | admission: calls per connection, per connector version, per pool; `busy` |
//! | [`call`] | one call: fresh store, deadlines (yielding CPU budget), error mapping |
//! | [`pool`] | the threads guest code runs on, apart from the API's |
//! | [`outcome`] | how a call ended → `CallError`; guest log lines forwarded, escaped |
//! | [`bounds`] | caps on error text and `raw` fields; guest log text escaped |
//! | `json_size` | an output's JSON size for the output cap, counted without writing it |
//! | [`call_state`] | per-call store data and the `http`/`log`/`state` imports |
//! | [`egress`] | the egress allow-list and private-network block |
//! | [`http`] | outbound HTTP for guests (reqwest), size caps, timeouts |
//! | [`state`] | per-connection key/value state with TTL |

pub mod bounds;
pub mod cache;
pub mod call;
pub mod call_state;
pub mod contract;
pub mod egress;
pub mod engine;
pub mod follow;
pub mod gate;
pub mod http;
mod json_size;
pub mod limits;
pub mod loader;
pub mod outcome;
pub mod pool;
pub mod registry;
pub mod state;
pub mod watcher;

pub use crate::model::{Field, Manifest, Operation};
pub use call::{CallError, Invocation, Output};
pub use engine::AllocatorKind;
pub use limits::{AllocatorChoice, Limits};
pub use loader::{LoadError, LoadedConnector};
pub use registry::Registry;

use cache::ArtifactCache;
use call_state::CallState;
use egress::EgressPolicy;
use engine::EpochTicker;
use state::StateStore;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;
use wasmtime::Engine;
use wasmtime::component::Linker;

/// How one call is made: on behalf of which connection, with which config.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// Scopes the connector's `state`, and tags logs.
    pub connection_id: String,
    /// The tenant owning the connection (tags logs and spans; empty for ad-hoc calls).
    pub tenant_id: String,
    pub config: Vec<Field>,
    /// Lets this connection reach loopback and private networks (tests, the demo, an ATS
    /// on the customer's own network). Off by default.
    pub allow_private_networks: bool,
    /// Set when the call performs one part of a journaled write: a key derived from the
    /// write's `Idempotency-Key` and the part, the same on every attempt. The host sends it
    /// as the `Idempotency-Key` header of the call's writing requests, so a write repeated
    /// after a crash is applied once by an ATS that honours the header.
    pub write_key: Option<String>,
}

impl CallContext {
    pub fn new(connection_id: impl Into<String>, config: Vec<Field>) -> Self {
        Self {
            connection_id: connection_id.into(),
            tenant_id: String::new(),
            config,
            allow_private_networks: false,
            write_key: None,
        }
    }
}

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("cannot create the wasm engine: {0}")]
    Engine(String),
    #[error("cannot link host interfaces: {0}")]
    Link(String),
    #[error("cannot create the HTTP client: {0}")]
    Http(String),
    #[error("cannot start the threads that run connectors: {0}")]
    Pool(String),
}

/// The connector sandbox. Cheap to share behind an `Arc`.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
    allocator: AllocatorKind,
    state: Arc<dyn StateStore>,
    cache: Option<Arc<ArtifactCache>>,
    gates: gate::CallGates,
    calls: Arc<call::CallRunner>,
    pool: pool::WasmPool,
    _ticker: EpochTicker,
}

impl Runtime {
    /// A runtime with `limits`, connector state in `state`, and (optionally) compiled
    /// artifacts cached in `cache_dir`.
    pub fn new(
        limits: Limits,
        state: Arc<dyn StateStore>,
        cache_dir: Option<PathBuf>,
    ) -> Result<Self, RuntimeError> {
        let (engine, allocator) =
            engine::build_engine(&limits).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        contract::add_to_linker(&mut linker).map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        let egress =
            http::EgressClient::new(&limits).map_err(|e| RuntimeError::Http(e.to_string()))?;
        let cache = cache_dir
            .map(|dir| Arc::new(ArtifactCache::new(dir, &engine, limits.max_compiled_cache_bytes)));
        let ticker = EpochTicker::start(&engine, limits.epoch_tick);
        let gates = gate::CallGates::new(&limits);
        let egress = Arc::new(egress);
        let calls = Arc::new(call::CallRunner {
            engine: engine.clone(),
            limits: limits.clone(),
            egress,
            state: state.clone(),
        });
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = pool::WasmPool::new(threads).map_err(|e| RuntimeError::Pool(e.to_string()))?;
        Ok(Self {
            engine,
            linker,
            limits,
            allocator,
            state,
            cache,
            gates,
            calls,
            pool,
            _ticker: ticker,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn allocator(&self) -> AllocatorKind {
        self.allocator
    }

    /// The connectors' `state` store.
    pub fn state_store(&self) -> &Arc<dyn StateStore> {
        &self.state
    }

    /// Forgets every `state` entry of a connection (it was deleted).
    pub async fn clear_state(&self, connection_id: &str) {
        self.state.clear(connection_id).await;
    }

    /// The egress allow-list of one call: the manifest's entries rendered with the config.
    fn egress_policy(&self, manifest: &Manifest, context: &CallContext) -> Arc<EgressPolicy> {
        let (policy, warnings) = EgressPolicy::from_manifest(
            &manifest.egress_hosts,
            &context.config,
            context.allow_private_networks,
        );
        for warning in warnings {
            tracing::warn!(connector = %manifest.id, connection = %context.connection_id, "{warning}");
        }
        Arc::new(policy)
    }
}
