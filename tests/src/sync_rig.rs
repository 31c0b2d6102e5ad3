//! A sync test rig: the host's sandbox ATS on loopback (with its fault switches), a host on
//! a temporary data directory with the bundled `sandbox` connector, and one tenant +
//! connection to the sandbox. Syncs are driven by hand (no scheduler) unless a test starts it.

use ats_host::app::{Host, HostOptions};
use ats_host::sandbox_ats::{self, SandboxHandle};
use ats_host::store::{
    Connection, ConnectionStatus, Event, RecordFilter, Run, Schedules, Secrets, Store,
    StoredApplication, StoredJob, SyncKind, Tenant,
};
use ats_host::sync::SyncConfig;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

pub const KEY: &str = "rig-key";
pub const CONNECTION: &str = "conn_rig";
pub const TENANT: &str = "rig";

/// Sync settings for tests: small pages, fast retries, short inline waits.
pub fn test_sync_config() -> SyncConfig {
    SyncConfig {
        page_size: 50,
        retry_base: std::time::Duration::from_millis(10),
        retry_max: std::time::Duration::from_millis(50),
        inline_retry_after_max: std::time::Duration::from_secs(2),
        calls_per_second: 10_000.0,
        first_run_jitter: std::time::Duration::from_millis(10),
        scheduler_tick: std::time::Duration::from_millis(20),
        ..SyncConfig::default()
    }
}

pub struct SyncRig {
    pub sandbox: SandboxHandle,
    pub sandbox_url: String,
    pub host: Host,
    pub data_dir: tempfile::TempDir,
}

/// Starts a sandbox ATS on a free loopback port.
pub async fn start_sandbox() -> (String, SandboxHandle) {
    let (addr, handle) = sandbox_ats::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), KEY)
        .await
        .expect("sandbox starts");
    (format!("http://{addr}"), handle)
}

/// Opens a host on `dir` and makes sure the rig's tenant and connection exist.
pub async fn open_host(dir: &Path, sandbox_url: &str, config: SyncConfig) -> Host {
    open_host_with(dir, sandbox_url, config, crate::test_limits()).await
}

/// [`open_host`] with other sandbox limits.
pub async fn open_host_with(
    dir: &Path,
    sandbox_url: &str,
    config: SyncConfig,
    limits: ats_host::runtime::Limits,
) -> Host {
    open_host_on(dir, sandbox_url, config, limits, Default::default()).await
}

/// [`open_host_with`] with its state at `store` (sled in `dir`, or PostgreSQL).
pub async fn open_host_on(
    dir: &Path,
    sandbox_url: &str,
    config: SyncConfig,
    limits: ats_host::runtime::Limits,
    store: ats_host::store::backend::StoreLocation,
) -> Host {
    let host = Host::start(
        limits,
        HostOptions {
            data_dir: dir.to_path_buf(),
            connectors_dir: None,
            operator_key: None,
            secret_key: None,
            sync: config,
            webhooks: crate::api_host::fast_delivery_policy(),
            run_scheduler: false,
            store,
            compiled_cache: Some(crate::shared_artifact_cache()),
        },
    )
    .await
    .expect("host starts");
    host.load_bundled().await;
    if host.store.connection(CONNECTION).await.expect("store").is_none() {
        host.store
            .put_tenant(&Tenant { id: TENANT.into(), name: "Rig".into(), created_at: 0 })
            .await
            .expect("tenant");
        let connection = Connection {
            id: CONNECTION.into(),
            tenant_id: TENANT.into(),
            connector_id: "sandbox".into(),
            pinned_version: None,
            pinned_sha256: None,
            private_grant: Default::default(),
            name: "rig".into(),
            config: BTreeMap::from([("base-url".to_string(), sandbox_url.to_string())]),
            secret_names: vec!["api-key".into()],
            allow_private_networks: true,
            status: ConnectionStatus::Active,
            status_detail: None,
            schedules: Schedules::default(),
            ats_webhook: None,
            rate_budget: None,
            created_at: 0,
            updated_at: 0,
        };
        let secrets = Secrets(BTreeMap::from([("api-key".to_string(), KEY.to_string())]));
        host.store.put_connection(&connection, Some(&secrets)).await.expect("connection");
    }
    host
}

impl SyncRig {
    pub async fn start() -> Self {
        Self::start_with(test_sync_config()).await
    }

    pub async fn start_with(config: SyncConfig) -> Self {
        let (sandbox_url, sandbox) = start_sandbox().await;
        let data_dir = tempfile::tempdir().expect("temp dir");
        let host = open_host(data_dir.path(), &sandbox_url, config).await;
        SyncRig { sandbox, sandbox_url, host, data_dir }
    }

    pub async fn run(&self, kind: SyncKind) -> Run {
        self.host.sync.run_and_wait(CONNECTION, kind).await.expect("run")
    }

    pub async fn jobs(&self) -> Vec<StoredJob> {
        jobs_of(self.host.store.as_ref()).await
    }

    pub async fn job(&self, id: &str) -> StoredJob {
        self.host
            .store
            .job(CONNECTION, id)
            .await
            .expect("store")
            .unwrap_or_else(|| panic!("job {id} not stored"))
    }

    pub async fn applications(&self) -> Vec<StoredApplication> {
        let filter = RecordFilter {
            connection_id: Some(CONNECTION.into()),
            limit: usize::MAX,
            ..RecordFilter::default()
        };
        self.host.store.applications(&filter).await.expect("store")
    }

    pub async fn events(&self) -> Vec<Event> {
        events_of(self.host.store.as_ref()).await
    }

    /// Events of one type.
    pub async fn events_of_type(&self, event_type: &str) -> Vec<Event> {
        self.events().await.into_iter().filter(|e| e.event_type == event_type).collect()
    }

    /// Adds a connection of the rig's tenant to a fake ATS, through the fake's bundled
    /// connector; config values that are the fake's secrets are stored as secrets.
    pub async fn connect_fake(&self, id: &str, fake: &dyn crate::fakes::FakeAts) {
        let (config, secrets) = crate::fakes::config_and_secrets(fake);
        let connector_id = fake.connector_package().trim_start_matches("connector-").to_string();
        let connection = Connection {
            id: id.into(),
            connector_id,
            name: id.into(),
            config: config.into_iter().collect(),
            secret_names: secrets.iter().map(|(name, _)| name.clone()).collect(),
            ..self.connection().await
        };
        let secrets = Secrets(secrets.into_iter().collect());
        self.host.store.put_connection(&connection, Some(&secrets)).await.expect("connection");
    }

    pub async fn connection(&self) -> Connection {
        self.host.store.connection(CONNECTION).await.expect("store").expect("connection")
    }
}

pub async fn jobs_of(store: &dyn Store) -> Vec<StoredJob> {
    let filter = RecordFilter {
        connection_id: Some(CONNECTION.into()),
        limit: usize::MAX,
        ..RecordFilter::default()
    };
    store.jobs(&filter).await.expect("store")
}

pub async fn events_of(store: &dyn Store) -> Vec<Event> {
    store.events(None, None, usize::MAX).await.expect("store")
}
