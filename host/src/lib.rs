//! The ATS connector host: a WebAssembly sandbox that runs one connector component per
//! applicant tracking system behind the typed `ats:connector` WIT contract.
//!
//! | module | owns |
//! |---|---|
//! | [`app`] | assembles a running host (store, keys, sync engine, webhooks, API) |
//! | [`automations`] | "when this happens in the ATS, do that": triggers, conditions, actions, firings, orders |
//! | [`ats_webhook`] | a connection's ATS-side webhook subscription (register, unregister) |
//! | [`model`] | the host's own model of an ATS; every contract version converts into it |
//! | [`runtime`] | the sandbox: engine, loading, hot swap, calls, egress |
//! | [`api`] | the HTTP API (axum) |
//! | [`connections`] | the rules of tenants and connections (fields, schedules, status, grants) |
//! | [`cli`] | the `ats-host` command line |
//! | [`sandbox_ats`] | a small in-process ATS for the demo and for trying connectors |
//! | [`bundled`] | connectors compiled into the binary |
//! | [`webhooks`] | outbound webhooks: subscriptions, signed deliveries, retries, dead letters |
//! | [`metrics`] | Prometheus metrics |
//! | [`store`] | persistent state: the `Store` trait and its sled implementation |
//! | [`sync`] | the sync engine: schedules, runs, checkpoints, change detection |
//! | [`time`] | the clock and RFC 3339 ⇄ unix milliseconds |
//! | [`ids`] | random ids of the host's records |
//! | [`writes`] | writes to an ATS: push candidate, single writes, idempotency journal |

pub mod api;
pub mod app;
pub mod ats_webhook;
pub mod automations;
pub mod bundled;
pub mod cli;
pub mod connections;
pub mod declarative;
pub mod demo;
pub mod ids;
pub mod kit;
pub mod metrics;
pub mod model;
pub mod runtime;
pub mod sandbox_ats;
pub mod store;
pub mod sync;
pub mod time;
pub mod webhooks;
pub mod writes;

/// The text of a caught panic (`catch_unwind`), for the typed failure that replaces it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// An error with its causes, `outer: cause: root cause` (drivers put what went wrong, e.g.
/// an unverifiable certificate, in the causes).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
