//! A bundled connector loaded in a sandbox runtime and pointed at its fake ATS: what a
//! connector's protocol tests need to call it with the fake's config, or with a variant
//! of that config, and to read the answers without boilerplate.

use crate::fakes::FakeAts;
use ats_host::model::*;
use ats_host::runtime::{
    CallContext, CallError, Field, Invocation, Limits, LoadedConnector, Output, Runtime,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

pub struct Harness<F: FakeAts> {
    pub fake: F,
    pub runtime: Arc<Runtime>,
    pub connector: Arc<LoadedConnector>,
    pub context: CallContext,
}

/// A call context on a new connection id (so no state, such as a cached token, is shared).
pub fn context_for(config: &[(String, String)]) -> CallContext {
    let connection = format!("harness-{}", CONNECTIONS.fetch_add(1, Ordering::SeqCst));
    let config =
        config.iter().map(|(name, value)| Field { name: name.clone(), value: value.clone() });
    let mut context = CallContext::new(&connection, config.collect());
    context.allow_private_networks = true; // the fakes listen on 127.0.0.1
    context
}

/// `config` with `name` set to `value` (replaced or added).
pub fn with(config: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    let mut config: Vec<_> = config.into_iter().filter(|(n, _)| n != name).collect();
    config.push((name.into(), value.into()));
    config
}

pub fn page(limit: Option<u32>, token: Option<String>, since: Option<&str>) -> PageRequest {
    PageRequest { page_token: token, since: since.map(str::to_string), limit }
}

impl<F: FakeAts> Harness<F> {
    pub async fn start(fake: F) -> Self {
        let runtime =
            crate::runtime(Limits { call_timeout: Duration::from_secs(20), ..Limits::default() });
        let connector = crate::bundled_connector(&runtime, fake.connector_package()).await;
        let context = context_for(&fake.config());
        Self { fake, runtime, connector, context }
    }

    pub async fn call(&self, invocation: Invocation) -> Result<Output, CallError> {
        self.runtime.call(&self.connector, &self.context, invocation).await
    }

    /// Calls with another config, on a fresh connection.
    pub async fn call_with(
        &self,
        config: &[(String, String)],
        invocation: Invocation,
    ) -> Result<Output, CallError> {
        self.runtime.call(&self.connector, &context_for(config), invocation).await
    }

    pub async fn ok(&self, invocation: Invocation) -> Output {
        self.call(invocation).await.unwrap_or_else(|error| panic!("call failed: {error}"))
    }

    pub async fn jobs(&self, request: PageRequest) -> JobPage {
        match self.ok(Invocation::ListJobs(request)).await {
            Output::Jobs(page) => page,
            other => panic!("list-jobs returned {other:?}"),
        }
    }

    pub async fn applications(&self, request: PageRequest) -> ApplicationPage {
        match self.ok(Invocation::ListApplications(request)).await {
            Output::Applications(page) => page,
            other => panic!("list-applications returned {other:?}"),
        }
    }

    pub async fn stages(&self) -> Vec<Stage> {
        match self.ok(Invocation::ListStages { job_id: None, page: page(None, None, None) }).await {
            Output::Stages(page) => page.items,
            other => panic!("list-stages returned {other:?}"),
        }
    }

    /// Upserts "Anna de Vries" with `email` and `phone`.
    pub async fn upsert(&self, email: &str, phone: &str) -> UpsertResult {
        let input = CandidateInput {
            first_name: "Anna".into(),
            last_name: "de Vries".into(),
            emails: vec![email.into()],
            phones: vec![phone.into()],
            source: Some("Sourcy".into()),
            custom_fields: vec![],
            ..Default::default()
        };
        match self.ok(Invocation::UpsertCandidate(input)).await {
            Output::Upserted(result) => result,
            other => panic!("upsert returned {other:?}"),
        }
    }

    pub async fn apply(
        &self,
        candidate: &str,
        job: &str,
        stage: Option<&str>,
    ) -> Result<Output, CallError> {
        self.call(Invocation::CreateApplication(ApplicationInput {
            candidate_id: candidate.into(),
            job_id: job.into(),
            stage_id: stage.map(str::to_string),
            source: Some("Sourcy".into()),
            answers: vec![Answer {
                question: "Start date?".into(),
                answer: "1 March".into(),
                ..Default::default()
            }],
        }))
        .await
    }
}
