//! A whole host API in-process for end-to-end tests: runtime with the bundled connectors,
//! a temporary data directory with its sled store, API keys, and the webhook worker with
//! fast retries allowed to deliver to loopback receivers.

use ats_host::api::{self, AppState};
use ats_host::runtime::Registry;
use ats_host::webhooks::dispatcher::{DeliveryPolicy, Dispatcher};
use ats_host::webhooks::ledger::Ledger;
use std::sync::Arc;
use std::time::Duration;

pub struct ApiHost {
    pub base: String,
    pub operator_key: String,
    pub http: reqwest::Client,
    pub webhooks: Arc<Dispatcher>,
    pub registry: Arc<Registry>,
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
    pub async fn start() -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let runtime = crate::runtime(crate::test_limits());
        let registry = Arc::new(Registry::default());
        for (package, wasm) in ats_host::bundled::BUNDLED {
            let connector = runtime.load(wasm.to_vec(), package).await.expect("bundled loads");
            registry.install(connector);
        }
        let db = sled::open(data_dir.path().join("db")).expect("sled opens");
        let (keys, generated) =
            api::auth::KeyStore::open(&db, data_dir.path(), None).expect("key store");
        let operator_key = generated.expect("a new data dir generates the operator key");
        let webhooks = Arc::new(
            Dispatcher::new(Ledger::open(&db).expect("ledger"), fast_delivery_policy())
                .expect("dispatcher"),
        );
        webhooks.clone().spawn(Duration::from_millis(20));
        let state = AppState {
            runtime,
            registry: registry.clone(),
            keys,
            webhooks: webhooks.clone(),
            connectors_dir: Some(data_dir.path().join("connectors")),
            demo: None,
        };
        let addr = crate::serve(api::router(state)).await;
        ApiHost {
            base: format!("http://{addr}"),
            operator_key,
            http: reqwest::Client::new(),
            webhooks,
            registry,
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
