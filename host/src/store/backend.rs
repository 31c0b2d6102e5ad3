//! Every piece of host state on one backend: the embedded sled database in the data
//! directory (one host), or a PostgreSQL database several host nodes share
//! (`serve --store postgres://…`). The host is built from a [`Backend`] and sees only its
//! traits.

use super::connector_state::SledStateStore;
use super::postgres::{PgAutomations, PgJournal, PgKeys, PgLedger, PgStateStore, PgStore};
use super::{SecretBox, SledStore, Store, StoreError};
use crate::api::auth::{KeyTable, SledKeys};
use crate::automations::outbox::{Outbox, SledOutbox};
use crate::automations::storage::{AutomationStore, SledAutomationStore};
use crate::runtime::state::StateStore;
use crate::webhooks::ledger::{Ledger, SledLedger};
use crate::writes::journal::{Journal, SledJournal};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Which database holds the host's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreLocation {
    /// sled in `DATA_DIR/store` (the default).
    #[default]
    Embedded,
    /// A PostgreSQL URL (`postgres://user:password@host:port/database`).
    Postgres(String),
}

impl StoreLocation {
    /// `sled` (or nothing) is the embedded store; a `postgres://` or `postgresql://` URL
    /// is PostgreSQL.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() || value == "sled" {
            Ok(StoreLocation::Embedded)
        } else if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Ok(StoreLocation::Postgres(value.to_string()))
        } else {
            Err(format!(
                "`{}` is not a store: use `sled` (the embedded store in the data directory) or a postgres://user:password@host:port/database URL",
                super::postgres::redacted(value)
            ))
        }
    }

    /// Several nodes can share it.
    pub fn is_shared(&self) -> bool {
        matches!(self, StoreLocation::Postgres(_))
    }
}

/// The host's state, each part behind its trait.
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub state: Arc<dyn StateStore>,
    pub keys: Arc<dyn KeyTable>,
    pub journal: Journal,
    pub ledger: Ledger,
    pub automations: Arc<dyn AutomationStore>,
    pub outbox: Arc<dyn Outbox>,
}

/// Why the backend could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot open the {part} in the store: {reason}")]
    Part { part: &'static str, reason: String },
}

/// The error of opening `part` of the state, for `map_err`.
fn part<E: std::fmt::Display>(part: &'static str) -> impl Fn(E) -> BackendError {
    move |error| BackendError::Part { part, reason: error.to_string() }
}

impl Backend {
    /// Opens the state at `location` (sled under `data_dir` when embedded).
    /// Claims in the write journal hold for `write_claim_lease` without progress.
    pub async fn open(
        location: &StoreLocation,
        data_dir: &Path,
        secret_box: SecretBox,
        write_claim_lease: Duration,
    ) -> Result<Backend, BackendError> {
        match location {
            StoreLocation::Embedded => {
                Self::sled(&data_dir.join("store"), secret_box, write_claim_lease)
            }
            StoreLocation::Postgres(url) => {
                Self::postgres(url, secret_box, write_claim_lease).await
            }
        }
    }

    fn sled(
        dir: &Path,
        secret_box: SecretBox,
        write_claim_lease: Duration,
    ) -> Result<Backend, BackendError> {
        let store = SledStore::open(dir, secret_box.clone())?;
        let db = store.db().clone();
        Ok(Backend {
            state: Arc::new(
                SledStateStore::open(&db, secret_box.clone()).map_err(part("connector state"))?,
            ),
            keys: Arc::new(SledKeys::open(&db).map_err(part("API keys"))?),
            journal: Arc::new(
                SledJournal::open(&db)
                    .map_err(part("write journal"))?
                    .with_lease(write_claim_lease),
            ),
            ledger: Arc::new(SledLedger::open(&db, secret_box).map_err(part("webhook ledger"))?),
            automations: Arc::new(SledAutomationStore::open(&db).map_err(part("automations"))?),
            outbox: Arc::new(SledOutbox::open(&db).map_err(part("automation outbox"))?),
            store: Arc::new(store),
        })
    }

    async fn postgres(
        url: &str,
        secret_box: SecretBox,
        write_claim_lease: Duration,
    ) -> Result<Backend, BackendError> {
        let store = PgStore::connect(url, secret_box.clone()).await?;
        let pool = store.pool().clone();
        let automations = Arc::new(PgAutomations::new(pool.clone()));
        Ok(Backend {
            state: Arc::new(PgStateStore::new(pool.clone(), secret_box.clone())),
            keys: Arc::new(PgKeys::new(pool.clone())),
            journal: Arc::new(PgJournal::new(pool.clone()).with_lease(write_claim_lease)),
            ledger: Arc::new(PgLedger::new(pool, secret_box)),
            automations: automations.clone(),
            outbox: automations,
            store: Arc::new(store),
        })
    }
}
