//! A whole host API in-process for end-to-end tests: runtime with the bundled connectors,
//! a temporary data directory with its sled store, API keys, and the webhook worker with
//! fast retries allowed to deliver to loopback receivers.

use ats_host::app::{Host, HostOptions};
use ats_host::runtime::{Limits, Registry, Runtime};
use ats_host::sync::{SyncConfig, SyncEngine};
use ats_host::webhooks::dispatcher::{DeliveryPolicy, Dispatcher};
use std::sync::Arc;
use std::time::Duration;

pub struct ApiHost {
    pub base: String,
    pub operator_key: String,
    pub http: reqwest::Client,
    pub webhooks: Arc<Dispatcher>,
    pub registry: Arc<Registry>,
    pub runtime: Arc<Runtime>,
    pub sync: Arc<SyncEngine>,
    pub store: Arc<dyn ats_host::store::Store>,
    /// The automation engine (its stores), for tests that set up a state directly.
    pub automations: Arc<ats_host::automations::host_effects::HostEngine>,
    pub data_dir: tempfile::TempDir,
}

/// Webhook retries fast enough for tests: 4 attempts, 50 ms doubling.
pub fn fast_delivery_policy() -> DeliveryPolicy {
    DeliveryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        timeout: Duration::from_secs(2),
        allow_private_networks: true,
    }
}

impl ApiHost {
    /// A host on a fresh data directory with the bundled connectors, syncs driven by hand.
    pub async fn start() -> Self {
        Self::start_with(SyncConfig {
            retry_base: Duration::from_millis(20),
            retry_max: Duration::from_millis(100),
            ..SyncConfig::default()
        })
        .await
    }

    pub async fn start_with(sync: SyncConfig) -> Self {
        Self::start_with_limits(crate::test_limits(), sync).await
    }

    /// A host with sandbox `limits` of the test's own.
    pub async fn start_with_limits(limits: Limits, sync: SyncConfig) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let host = Host::start(
            limits,
            HostOptions {
                data_dir: data_dir.path().to_path_buf(),
                connectors_dir: Some(data_dir.path().join("connectors")),
                operator_key: None,
                secret_key: None,
                sync,
                webhooks: fast_delivery_policy(),
                run_scheduler: false,
                store: Default::default(),
                compiled_cache: Some(crate::shared_artifact_cache()),
            },
        )
        .await
        .expect("host starts");
        host.load_bundled().await;
        let operator_key =
            host.generated_operator_key.clone().expect("a new data dir generates the operator key");
        let addr = crate::serve(host.router()).await;
        ApiHost {
            base: format!("http://{addr}"),
            operator_key,
            http: reqwest::Client::new(),
            webhooks: host.webhooks.clone(),
            registry: host.state.registry.clone(),
            runtime: host.state.runtime.clone(),
            sync: host.sync.clone(),
            store: host.store.clone(),
            automations: host.automations.clone(),
            data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the operator key.
    pub fn op(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.with_key(&self.operator_key, method, path)
    }

    pub fn with_key(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(key)
    }

    /// Mints a tenant key through the API.
    pub async fn tenant_key(&self, tenant: &str) -> String {
        let answer: serde_json::Value = self
            .op(reqwest::Method::POST, &format!("/v1/tenants/{tenant}/keys"))
            .json(&serde_json::json!({"label": "test"}))
            .send()
            .await
            .expect("mint key")
            .json()
            .await
            .expect("json");
        answer["key"].as_str().expect("key in answer").to_string()
    }
}

/// Sends and returns (status, JSON body or Null).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.expect("request reaches the host");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}
