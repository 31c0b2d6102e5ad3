//! Process metrics in the Prometheus text format (`GET /metrics`): sync runs by state,
//! connector call latency per connector and operation, egress requests by status, rate-limit
//! waits, webhook deliveries by outcome. One process-wide registry, like the default registry
//! of the Prometheus client libraries, so the sandbox records without being handed a handle.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The registry. Use [`global`].
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, Labels), u64>>,
    histograms: Mutex<BTreeMap<(&'static str, Labels), Histogram>>,
    gauges: Mutex<BTreeMap<(&'static str, Labels), i64>>,
}

/// Help texts, in render order.
const HELP: &[(&str, &str, &str)] = &[
    ("ats_sync_runs_total", "counter", "Finished sync runs by kind and final state."),
    ("ats_sync_runs_running", "gauge", "Sync runs running now, by kind."),
    ("ats_connector_call_seconds", "histogram", "Connector call latency."),
    ("ats_connector_calls_total", "counter", "Connector calls by outcome."),
    ("ats_egress_requests_total", "counter", "Outbound connector HTTP requests by status."),
    ("ats_rate_limit_waits_total", "counter", "Times a connection waited for its rate budget."),
    ("ats_rate_limit_wait_seconds_total", "counter", "Seconds spent waiting for rate budgets."),
    ("ats_webhook_deliveries_total", "counter", "Webhook delivery attempts by outcome."),
    ("ats_api_requests_total", "counter", "HTTP API requests by status class."),
];

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    pub fn inc(&self, name: &'static str, labels: Labels, by: u64) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        *counters.entry((name, labels)).or_default() += by;
    }

    pub fn observe(&self, name: &'static str, labels: Labels, value: Duration) {
        let seconds = value.as_secs_f64();
        let mut histograms = self.histograms.lock().unwrap_or_else(PoisonError::into_inner);
        let histogram = histograms.entry((name, labels)).or_default();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    pub fn add_gauge(&self, name: &'static str, labels: Labels, by: i64) {
        let mut gauges = self.gauges.lock().unwrap_or_else(PoisonError::into_inner);
        *gauges.entry((name, labels)).or_default() += by;
    }

    /// A sync run of `kind` started (`+1`) or ended (`-1`).
    pub fn sync_running(&self, kind: &str, by: i64) {
        self.add_gauge("ats_sync_runs_running", vec![("kind", kind.into())], by);
    }

    pub fn sync_run(&self, kind: &str, state: &str) {
        self.inc("ats_sync_runs_total", vec![("kind", kind.into()), ("state", state.into())], 1);
    }

    pub fn connector_call(&self, connector: &str, operation: &str, outcome: &str, took: Duration) {
        let labels = vec![("connector", connector.to_string()), ("operation", operation.into())];
        self.observe("ats_connector_call_seconds", labels.clone(), took);
        let mut with_outcome = labels;
        with_outcome.push(("outcome", outcome.into()));
        self.inc("ats_connector_calls_total", with_outcome, 1);
    }

    pub fn egress_request(&self, connector: &str, status: &str) {
        self.inc(
            "ats_egress_requests_total",
            vec![("connector", connector.into()), ("status", status.into())],
            1,
        );
    }

    pub fn rate_limit_wait(&self, connector: &str, waited: Duration) {
        let labels = vec![("connector", connector.to_string())];
        self.inc("ats_rate_limit_waits_total", labels.clone(), 1);
        let millis = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        // Kept in milliseconds internally, rendered in seconds.
        self.inc("ats_rate_limit_wait_seconds_total", labels, millis);
    }

    pub fn webhook_delivery(&self, outcome: &str) {
        self.inc("ats_webhook_deliveries_total", vec![("outcome", outcome.into())], 1);
    }

    pub fn api_request(&self, status: u16) {
        let class = format!("{}xx", status / 100);
        self.inc("ats_api_requests_total", vec![("status", class)], 1);
    }

    /// The Prometheus text exposition of everything recorded so far.
    pub fn render(&self) -> String {
        let counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let histograms = self.histograms.lock().unwrap_or_else(PoisonError::into_inner);
        let gauges = self.gauges.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for ((metric, labels), value) in counters.iter().filter(|((n, _), _)| n == name) {
                if *metric == "ats_rate_limit_wait_seconds_total" {
                    let seconds = *value as f64 / 1000.0;
                    let _ = writeln!(out, "{metric}{} {seconds}", render_labels(labels, None));
                } else {
                    let _ = writeln!(out, "{metric}{} {value}", render_labels(labels, None));
                }
            }
            for ((metric, labels), value) in gauges.iter().filter(|((n, _), _)| n == name) {
                let _ = writeln!(out, "{metric}{} {value}", render_labels(labels, None));
            }
            for ((metric, labels), histogram) in histograms.iter().filter(|((n, _), _)| n == name) {
                for (count, bound) in histogram.buckets.iter().zip(LATENCY_BUCKETS) {
                    let le = bound.to_string();
                    let _ = writeln!(
                        out,
                        "{metric}_bucket{} {count}",
                        render_labels(labels, Some(&le))
                    );
                }
                let all = render_labels(labels, Some("+Inf"));
                let _ = writeln!(out, "{metric}_bucket{all} {}", histogram.count);
                let plain = render_labels(labels, None);
                let _ = writeln!(out, "{metric}_sum{plain} {}", histogram.sum);
                let _ = writeln!(out, "{metric}_count{plain} {}", histogram.count);
            }
        }
        out
    }
}

fn render_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> =
        labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() { String::new() } else { format!("{{{}}}", parts.join(",")) }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

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
        let text = metrics.render();
        assert!(text.contains("ats_sync_runs_total{kind=\"jobs\",state=\"success\"} 2"), "{text}");
        assert!(text.contains(
            "ats_connector_call_seconds_bucket{connector=\"otys\",operation=\"list-jobs\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "ats_connector_call_seconds_bucket{connector=\"otys\",operation=\"list-jobs\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("ats_sync_runs_running{kind=\"jobs\"} 1"), "{text}");
    }
}
