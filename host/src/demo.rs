//! The demo that `serve --demo` runs, with no ATS account: the in-process sandbox ATS on a
//! free loopback port, a `demo` tenant with a connection to it through the bundled
//! `sandbox` connector (stored in the data dir like any other), its syncs started at once,
//! and simulated recruiter activity (an application moved to the next stage, now and then a
//! new or closed job) every interval, followed by a sync — so runs complete and events
//! appear within seconds. `GET /demo` summarises connection, runs and events.

use crate::app::Host;
use crate::sandbox_ats::{self, SandboxHandle};
use crate::store::{
    Connection, ConnectionStatus, RecordFilter, RunFilter, Schedules, Secrets, Store, SyncKind,
};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub const DEMO_TENANT: &str = "demo";
pub const DEMO_CONNECTION: &str = "conn_demo";
/// The connector the demo uses.
pub const DEMO_CONNECTOR: &str = "sandbox";

pub struct DemoStatus {
    store: Arc<dyn Store>,
    sandbox_url: String,
}

#[derive(Debug, Serialize)]
pub struct DemoSnapshot {
    pub sandbox_url: String,
    pub connection: Option<Connection>,
    pub jobs_synced: usize,
    pub applications_synced: usize,
    pub recent_runs: Vec<Value>,
    pub recent_events: Vec<Value>,
    pub try_next: Vec<&'static str>,
}

impl DemoStatus {
    pub async fn snapshot(&self) -> DemoSnapshot {
        let store = self.store.as_ref();
        let filter = RecordFilter {
            connection_id: Some(DEMO_CONNECTION.into()),
            limit: 100_000,
            ..RecordFilter::default()
        };
        let runs = store
            .runs(&RunFilter {
                connection_id: Some(DEMO_CONNECTION.into()),
                limit: 5,
                ..RunFilter::default()
            })
            .await
            .unwrap_or_default();
        let events = store.events(Some(DEMO_TENANT), None, 100_000).await.unwrap_or_default();
        DemoSnapshot {
            sandbox_url: self.sandbox_url.clone(),
            connection: store.connection(DEMO_CONNECTION).await.ok().flatten(),
            jobs_synced: store.jobs(&filter).await.map(|j| j.len()).unwrap_or(0),
            applications_synced: store.applications(&filter).await.map(|a| a.len()).unwrap_or(0),
            recent_runs: runs
                .iter()
                .map(|r| json!({"id": r.id, "kind": r.kind, "state": r.state, "counts": r.counts, "error": r.error}))
                .collect(),
            recent_events: events
                .iter()
                .rev()
                .take(10)
                .map(|e| json!({"id": e.id, "type": e.event_type, "subject": e.subject_id, "data": e.data}))
                .collect(),
            try_next: vec![
                "GET /v1/openapi.json",
                "ats-host connection list",
                "ats-host runs",
                "ats-host events tail --follow",
                "ats-host sync now conn_demo",
            ],
        }
    }
}

/// Starts the sandbox ATS, the demo connection and the recruiter-activity loop.
pub async fn start(host: &Host, interval: Duration) -> anyhow::Result<Arc<DemoStatus>> {
    let (addr, sandbox) =
        sandbox_ats::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), sandbox_ats::DEMO_API_KEY)
            .await?;
    let sandbox_url = format!("http://{addr}");
    tracing::info!(%sandbox_url, "demo: sandbox ATS listening");
    let store = host.state.store.clone();
    if host.state.registry.active(DEMO_CONNECTOR).is_none() {
        anyhow::bail!(
            "the demo needs the bundled `{DEMO_CONNECTOR}` connector; do not pass --no-bundled with --demo"
        );
    }
    ensure_connection(store.as_ref(), &sandbox_url).await?;
    let connection = store
        .connection(DEMO_CONNECTION)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo connection was not stored"))?;
    host.sync.schedule(&connection).await;
    host.sync.sync_now(DEMO_CONNECTION, SyncKind::Jobs, crate::store::Trigger::Manual).await?;
    tracing::info!(
        connection = DEMO_CONNECTION,
        "demo: connection ready; first syncs started (GET /demo shows runs and events)"
    );
    let sync = host.sync.clone();
    tokio::spawn(async move {
        // Applications after the first jobs sync has had a moment.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = sync
            .sync_now(DEMO_CONNECTION, SyncKind::Applications, crate::store::Trigger::Manual)
            .await;
        let mut round = 0u64;
        loop {
            tokio::time::sleep(interval).await;
            round += 1;
            recruiter_activity(&sandbox, round);
            let _ = sync
                .sync_now(DEMO_CONNECTION, SyncKind::Applications, crate::store::Trigger::Manual)
                .await;
            if round.is_multiple_of(4) {
                let _ = sync
                    .sync_now(DEMO_CONNECTION, SyncKind::Jobs, crate::store::Trigger::Manual)
                    .await;
            }
        }
    });
    Ok(Arc::new(DemoStatus { store, sandbox_url }))
}

/// Creates (first start) or re-points (later starts: the sandbox port changes) the demo
/// tenant and connection.
async fn ensure_connection(store: &dyn Store, sandbox_url: &str) -> anyhow::Result<()> {
    let now = crate::time::now_ms();
    crate::connections::ensure_tenant(store, DEMO_TENANT, "Demo").await?;
    let mut connection = store.connection(DEMO_CONNECTION).await?.unwrap_or(Connection {
        id: DEMO_CONNECTION.into(),
        tenant_id: DEMO_TENANT.into(),
        connector_id: DEMO_CONNECTOR.into(),
        pinned_version: None,
        pinned_sha256: None,
        private_grant: Default::default(),
        name: "Demo: sandbox ATS".into(),
        config: BTreeMap::new(),
        secret_names: vec!["api-key".into()],
        allow_private_networks: true,
        status: ConnectionStatus::Active,
        status_detail: None,
        schedules: Schedules { jobs_every_secs: 300, applications_every_secs: 60, enabled: true },
        ats_webhook: None,
        rate_budget: None,
        created_at: now,
        updated_at: now,
    });
    connection.config.insert("base-url".into(), sandbox_url.to_string());
    connection.status = ConnectionStatus::Active;
    connection.updated_at = now;
    let secrets =
        Secrets(BTreeMap::from([("api-key".into(), sandbox_ats::DEMO_API_KEY.to_string())]));
    store.put_connection(&connection, Some(&secrets)).await?;
    Ok(())
}

/// One simulated recruiter action in the sandbox.
fn recruiter_activity(sandbox: &SandboxHandle, round: u64) {
    let applications = sandbox.applications();
    let stages: Vec<String> =
        sandbox.stages().iter().filter_map(|s| s["id"].as_str().map(str::to_string)).collect();
    if !applications.is_empty() && !stages.is_empty() {
        let application = &applications[(round as usize) % applications.len()];
        let current = application["stage_id"].as_str().unwrap_or_default();
        let position = stages.iter().position(|s| s == current).unwrap_or(0);
        let next = &stages[(position + 1) % stages.len()];
        if let Some(id) = application["id"].as_str() {
            sandbox.move_application(id, next);
            tracing::info!(application = id, stage = %next, "demo: a recruiter moved an application");
        }
    }
    if round.is_multiple_of(3) {
        let id = format!("demo-job-{round}");
        let updated = crate::sync::time::format_ms(crate::time::now_ms());
        sandbox.upsert_job(&id, &format!("Demo vacancy #{round}"), "open", &updated);
        tracing::info!(job = %id, "demo: a recruiter opened a new vacancy");
    }
}
