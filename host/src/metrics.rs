//! Process metrics in the Prometheus / OpenMetrics text format (`GET /metrics`), kept with
//! the `prometheus-client` library: sync runs by state, connector call latency per connector
//! and operation, egress requests by status, rate-limit waits, webhook deliveries by
//! outcome, API requests by status class, automation firings and their actions by outcome. One process-wide registry, like the default
//! registry of the Prometheus client libraries, so the sandbox records without being handed
//! a handle. The metric names are the ones the host has always exported.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// Label pairs, in the order they are rendered. Values are borrowed where they are the
/// host's own names (operations, outcomes), so the per-call counters allocate only for the
/// connector's id.
type Labels = Vec<(&'static str, Cow<'static, str>)>;

/// A label value the caller does not keep.
fn owned(value: &str) -> Cow<'static, str> {
    Cow::Owned(value.to_string())
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The registry and its metric families. Use [`global`].
pub struct Metrics {
    registry: Registry,
    sync_runs: Family<Labels, Counter>,
    sync_running: Family<Labels, Gauge>,
    call_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    calls: Family<Labels, Counter>,
    egress_requests: Family<Labels, Counter>,
    rate_limit_waits: Family<Labels, Counter>,
    rate_limit_wait_seconds: Family<Labels, Counter<f64, AtomicU64>>,
    webhook_deliveries: Family<Labels, Counter>,
    api_requests: Family<Labels, Counter>,
    automation_firings: Family<Labels, Counter>,
    automation_actions: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let metrics = Metrics {
            sync_runs: Family::default(),
            sync_running: Family::default(),
            call_seconds: Family::new_with_constructor(latency_histogram),
            calls: Family::default(),
            egress_requests: Family::default(),
            rate_limit_waits: Family::default(),
            rate_limit_wait_seconds: Family::default(),
            webhook_deliveries: Family::default(),
            api_requests: Family::default(),
            automation_firings: Family::default(),
            automation_actions: Family::default(),
            registry: Registry::default(),
        };
        // Counters are registered without `_total`; the encoder appends it.
        registry.register(
            "ats_sync_runs",
            "Finished sync runs by kind and final state",
            metrics.sync_runs.clone(),
        );
        registry.register(
            "ats_sync_runs_running",
            "Sync runs running now, by kind",
            metrics.sync_running.clone(),
        );
        registry.register(
            "ats_connector_call_seconds",
            "Connector call latency",
            metrics.call_seconds.clone(),
        );
        registry.register(
            "ats_connector_calls",
            "Connector calls by outcome",
            metrics.calls.clone(),
        );
        registry.register(
            "ats_egress_requests",
            "Outbound connector HTTP requests by status",
            metrics.egress_requests.clone(),
        );
        registry.register(
            "ats_rate_limit_waits",
            "Times a connection waited for its rate budget",
            metrics.rate_limit_waits.clone(),
        );
        registry.register(
            "ats_rate_limit_wait_seconds",
            "Seconds spent waiting for rate budgets",
            metrics.rate_limit_wait_seconds.clone(),
        );
        registry.register(
            "ats_webhook_deliveries",
            "Webhook delivery attempts by outcome",
            metrics.webhook_deliveries.clone(),
        );
        registry.register(
            "ats_api_requests",
            "HTTP API requests by status class",
            metrics.api_requests.clone(),
        );
        registry.register(
            "ats_automation_firings",
            "Automation firings by outcome: done, failed, skipped, retrying (an action will be tried again)",
            metrics.automation_firings.clone(),
        );
        registry.register(
            "ats_automation_actions",
            "Automation actions by action and outcome: done, failed, skipped, retrying",
            metrics.automation_actions.clone(),
        );
        Metrics { registry, ..metrics }
    }
}

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    /// A sync run of `kind` started (`+1`) or ended (`-1`).
    pub fn sync_running(&self, kind: &str, by: i64) {
        self.sync_running.get_or_create(&vec![("kind", owned(kind))]).inc_by(by);
    }

    pub fn sync_run(&self, kind: &str, state: &str) {
        self.sync_runs.get_or_create(&vec![("kind", owned(kind)), ("state", owned(state))]).inc();
    }

    pub fn connector_call(
        &self,
        connector: &str,
        operation: &'static str,
        outcome: &'static str,
        took: Duration,
    ) {
        let mut labels = Vec::with_capacity(3);
        labels.push(("connector", owned(connector)));
        labels.push(("operation", Cow::Borrowed(operation)));
        self.call_seconds.get_or_create(&labels).observe(took.as_secs_f64());
        let mut with_outcome = labels;
        with_outcome.push(("outcome", Cow::Borrowed(outcome)));
        self.calls.get_or_create(&with_outcome).inc();
    }

    pub fn egress_request(&self, connector: &str, status: &str) {
        self.egress_requests
            .get_or_create(&vec![("connector", owned(connector)), ("status", owned(status))])
            .inc();
    }

    pub fn rate_limit_wait(&self, connector: &str, waited: Duration) {
        let labels = vec![("connector", owned(connector))];
        self.rate_limit_waits.get_or_create(&labels).inc();
        self.rate_limit_wait_seconds.get_or_create(&labels).inc_by(waited.as_secs_f64());
    }

    pub fn webhook_delivery(&self, outcome: &str) {
        self.webhook_deliveries.get_or_create(&vec![("outcome", owned(outcome))]).inc();
    }

    pub fn api_request(&self, status: u16) {
        self.api_requests
            .get_or_create(&vec![("status", Cow::Owned(format!("{}xx", status / 100)))])
            .inc();
    }

    /// A firing ended a run (`done`, `failed`, `skipped`) or will retry an action (`retrying`).
    pub fn automation_firing(&self, outcome: &str) {
        self.automation_firings.get_or_create(&vec![("outcome", owned(outcome))]).inc();
    }

    /// One attempt of an automation action ended with `outcome`.
    pub fn automation_action(&self, action: &str, outcome: &str) {
        self.automation_actions
            .get_or_create(&vec![("action", owned(action)), ("outcome", owned(outcome))])
            .inc();
    }

    /// The OpenMetrics text exposition of everything recorded so far.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(error) = encode(&mut out, &self.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        out
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let metrics = Metrics::default();
        metrics.sync_run("jobs", "success");
        metrics.sync_run("jobs", "success");
        metrics.sync_running("jobs", 1);
        metrics.sync_running("jobs", 1);
        metrics.sync_running("jobs", -1);
        metrics.connector_call("otys", "list-jobs", "ok", Duration::from_millis(3));
        metrics.connector_call("otys", "list-jobs", "ok", Duration::from_millis(300));
        metrics.rate_limit_wait("otys", Duration::from_millis(1500));
        metrics.automation_firing("done");
        metrics.automation_action("add-tag", "retrying");
        let text = metrics.render();
        assert!(text.contains("ats_automation_firings_total{outcome=\"done\"} 1"), "{text}");
        assert!(
            text.contains(
                "ats_automation_actions_total{action=\"add-tag\",outcome=\"retrying\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("ats_sync_runs_total{kind=\"jobs\",state=\"success\"} 2"), "{text}");
        assert!(
            text.contains(
                "ats_connector_call_seconds_bucket{le=\"0.005\",connector=\"otys\",operation=\"list-jobs\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "ats_connector_call_seconds_bucket{le=\"+Inf\",connector=\"otys\",operation=\"list-jobs\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("ats_sync_runs_running{kind=\"jobs\"} 1"), "{text}");
        assert!(
            text.contains("ats_rate_limit_wait_seconds_total{connector=\"otys\"} 1.5"),
            "{text}"
        );
        assert!(text.contains("# TYPE ats_connector_call_seconds histogram"), "{text}");
    }
}
