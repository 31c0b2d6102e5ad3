//! The PostgreSQL backend: one database shared by several host nodes.
//!
//! | module | owns |
//! |---|---|
//! | this file | the connection pool, versioned migrations, error mapping, row helpers |
//! | [`store`] | [`Store`](super::Store) on PostgreSQL |
//! | `rows` | the row helpers and shared statements of [`store`] |
//! | [`journal`] | the idempotency journal of writes ([`crate::writes::journal::WriteJournal`]) |
//! | [`docs`] | JSON documents by id and the queues among them (claims with leases) |
//! | [`automations`] | automations, mappings, defaults, orders and the outbox of firings |
//! | [`listen`] | `LISTEN`/`NOTIFY`: other nodes' new events wake this node |
//! | [`state`] | the connectors' `state` import ([`crate::runtime::state::StateStore`]) |
//! | [`keys`] | API key hashes ([`crate::api::auth::KeyTable`]) |
//! | `tls` | the URL's `sslmode` / `sslrootcert`: plain or verified TLS (rustls) |
//! | [`webhooks`] | webhook subscriptions and deliveries ([`crate::webhooks::ledger::DeliveryLedger`]) |
//!
//! Everything lives in the schema `ats`, so the host can share an existing database with
//! other applications. Values are JSON (`jsonb`) of the same records sled stores; the
//! columns beside them (tenant, connection, `updated_at`, run state) are what queries filter
//! and order on. Key columns use the `C` collation: cursors and "newest first" order are
//! byte order, as on sled, whatever the database's locale.
//!
//! **Migrations** are SQL files embedded in the binary (`migrations/NNNN_name.sql`), applied
//! at start in one transaction under an advisory lock, so nodes starting together apply
//! each once; a database migrated by a newer build is refused with both versions.
//!
//! Driver: `tokio-postgres` with the `deadpool-postgres` pool (both widely used and kept;
//! sqlx's compile-time checks would need a database at build time, and its macros cost the
//! 2-core CI build more than the two crates do).

pub mod automations;
pub mod docs;
pub mod journal;
pub mod keys;
pub mod listen;
mod rows;
pub mod state;
pub mod store;
mod tls;
pub mod webhooks;

pub use automations::PgAutomations;
pub use journal::PgJournal;
pub use keys::PgKeys;
pub use state::PgStateStore;
pub use store::PgStore;
pub use webhooks::PgLedger;

use super::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

/// The migrations this build knows, in order: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "store", include_str!("migrations/0001_store.sql")),
    (2, "write journal", include_str!("migrations/0002_write_journal.sql")),
    (3, "documents", include_str!("migrations/0003_documents.sql")),
    (4, "connector state and API keys", include_str!("migrations/0004_state_and_keys.sql")),
    (5, "run claims", include_str!("migrations/0005_run_claims.sql")),
    (6, "connector builds", include_str!("migrations/0006_connector_builds.sql")),
];

/// Arbitrary constant naming the migration lock (`pg_advisory_xact_lock`).
const MIGRATION_LOCK: i64 = 0x4154_535f_4d49_4752;
/// The lock that orders event appends (see `migrations/0001_store.sql`).
pub(crate) const EVENT_LOG_LOCK: i64 = 0x4154_535f_4556_4e54;

/// Connections a node keeps open.
const POOL_SIZE: usize = 16;

/// A `postgres://` URL with its password replaced, safe for messages and logs.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Opens a pool on `url` and brings the schema to this build's version.
pub async fn connect(url: &str) -> Result<Pool, StoreError> {
    let shown = redacted(url);
    let target = tls::target(url)?;
    let manager = Manager::from_config(
        target.config,
        target.tls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .map_err(|e| StoreError::Connect { url: shown.clone(), reason: e.to_string() })?;
    let mut client = pool
        .get()
        .await
        .map_err(|e| StoreError::Connect { url: shown.clone(), reason: crate::error_chain(&e) })?;
    migrate(&mut client, &shown).await?;
    Ok(pool)
}

/// Applies the migrations the database has not seen yet.
async fn migrate(client: &mut deadpool_postgres::Client, shown: &str) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS ats;
         CREATE TABLE IF NOT EXISTS ats.schema_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );",
    )
    .await?;
    let applied: i32 = tx
        .query_one("SELECT COALESCE(max(version), 0) FROM ats.schema_migrations", &[])
        .await?
        .try_get(0)?;
    let known = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    if applied > known {
        return Err(StoreError::Format {
            dir: shown.to_string(),
            found: applied.to_string(),
            expected: known as u32,
        });
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > applied) {
        tx.batch_execute(sql).await.map_err(|e| StoreError::Backend {
            backend: "postgres",
            message: format!("migration {version} ({name}) failed: {e}"),
        })?;
        tx.execute(
            "INSERT INTO ats.schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await?;
        tracing::info!(version, name, "applied a PostgreSQL migration");
    }
    tx.commit().await?;
    Ok(())
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        // The driver's Display is terse ("db error"); the source holds the server's message.
        let message = match error.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => error.to_string(),
        };
        StoreError::Backend { backend: "postgres", message }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        StoreError::Backend {
            backend: "postgres",
            message: format!("no database connection: {error}"),
        }
    }
}
