//! The demo that `serve --demo` runs: the in-process sandbox ATS on a free loopback port and
//! a demo connection using the bundled example connector. Every interval it pages through
//! the sandbox's jobs through the wasm connector and pushes one candidate (created the first
//! time, matched after), logging what happened; `GET /demo` shows the latest result.

use crate::runtime::{CallContext, Field, Invocation, Output, Registry, Runtime};
use crate::sandbox_ats;
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The connector the demo uses.
pub const DEMO_CONNECTOR: &str = "minimal";

#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoSnapshot {
    pub sandbox_url: String,
    pub rounds: u64,
    pub connector_version: Option<String>,
    pub jobs: Vec<DemoJob>,
    pub last_push: Option<String>,
    pub last_error: Option<String>,
    pub last_round_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoJob {
    pub id: String,
    pub code: Option<String>,
    pub title: String,
    pub status: String,
    pub location: Option<String>,
}

#[derive(Default)]
pub struct DemoStatus(Mutex<DemoSnapshot>);

impl DemoStatus {
    pub fn snapshot(&self) -> DemoSnapshot {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn update(&self, f: impl FnOnce(&mut DemoSnapshot)) {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// Starts the sandbox ATS and the demo loop.
pub async fn start(host: &crate::app::Host, interval: Duration) -> anyhow::Result<Arc<DemoStatus>> {
    let runtime = host.state.runtime.clone();
    let registry = host.state.registry.clone();
    let addr =
        sandbox_ats::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), sandbox_ats::DEMO_API_KEY)
            .await?;
    let sandbox_url = format!("http://{addr}");
    tracing::info!(%sandbox_url, "demo: sandbox ATS listening");
    let status = Arc::new(DemoStatus::default());
    status.update(|s| s.sandbox_url = sandbox_url.clone());
    let mut context = CallContext::new(
        "demo-connection",
        vec![field("base-url", &sandbox_url), field("api-key", sandbox_ats::DEMO_API_KEY)],
    );
    context.allow_private_networks = true;
    let shared = status.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            round(&runtime, &registry, &context, &shared).await;
        }
    });
    Ok(status)
}

fn field(name: &str, value: &str) -> Field {
    Field { name: name.into(), value: value.into() }
}

async fn round(runtime: &Runtime, registry: &Registry, context: &CallContext, status: &DemoStatus) {
    let Some(connector) = registry.active(DEMO_CONNECTOR) else {
        status
            .update(|s| s.last_error = Some(format!("connector `{DEMO_CONNECTOR}` is not loaded")));
        return;
    };
    let started = Instant::now();
    let mut jobs = Vec::new();
    let mut page = crate::runtime::call::first_page();
    page.limit = Some(5);
    let outcome: Result<String, String> = async {
        loop {
            match runtime.call(&connector, context, Invocation::ListJobs(page.clone())).await {
                Ok(Output::Jobs(result)) => {
                    jobs.extend(result.items.into_iter().map(|job| DemoJob {
                        id: job.id,
                        code: job.code,
                        title: job.title,
                        status: format!("{:?}", job.status).to_lowercase(),
                        location: job.location,
                    }));
                    match result.next_page_token {
                        Some(token) => page.page_token = Some(token),
                        None => break,
                    }
                }
                Ok(other) => return Err(format!("unexpected output {other:?}")),
                Err(e) => return Err(e.to_string()),
            }
        }
        let push = Invocation::UpsertCandidate(crate::runtime::bindings::CandidateInput {
            first_name: "Sanne".into(),
            last_name: "de Vries".into(),
            emails: vec!["sanne.devries@example.com".into()],
            phones: vec!["+31612345678".into()],
            source: Some("ats-host demo".into()),
            custom_fields: Vec::new(),
        });
        match runtime.call(&connector, context, push).await {
            Ok(Output::Upserted(r)) => {
                Ok(format!("candidate {} {:?}", r.candidate_id, r.outcome).to_lowercase())
            }
            Ok(other) => Err(format!("unexpected output {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }
    .await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let version = connector.manifest.connector_version.clone();
    match &outcome {
        Ok(push) => tracing::info!(
            jobs = jobs.len(),
            open = jobs.iter().filter(|j| j.status == "open").count(),
            push = %push,
            connector = DEMO_CONNECTOR,
            %version,
            elapsed_ms,
            "demo: synced jobs from the sandbox ATS through the wasm connector"
        ),
        Err(error) => tracing::warn!(%error, "demo round failed"),
    }
    status.update(|s| {
        s.rounds += 1;
        s.connector_version = Some(version);
        s.last_round_ms = Some(elapsed_ms);
        match outcome {
            Ok(push) => {
                s.jobs = jobs;
                s.last_push = Some(push);
                s.last_error = None;
            }
            Err(error) => s.last_error = Some(error),
        }
    });
}
