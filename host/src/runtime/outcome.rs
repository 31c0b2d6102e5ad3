//! How a call ended, in the host's terms: a trap classified as timeout, memory limit,
//! state quota, pool exhaustion, stack overflow or a plain trap; a full admission queue as
//! `busy`; a host panic as a `host` failure; and the call's guest log lines forwarded to
//! tracing, escaped.

use super::call::CallError;
use super::call_state::{CallIdentity, LogLines};
use crate::model::Manifest;
use std::collections::HashMap;
use std::time::Duration;

/// The typed failure of a call during which the host panicked (a dependency's assertion, a
/// bug): the call fails, the process and the caller carry on.
pub(super) fn host_panicked(panic: &(dyn std::any::Any + Send)) -> CallError {
    let message = crate::panic_message(panic);
    tracing::error!(%message, "the host panicked while serving a connector call");
    CallError::Host(format!("the host failed while serving this call: {message}"))
}

pub(super) fn classify_trap(
    error: wasmtime::Error,
    memory_limit_hit: bool,
    limits: &super::Limits,
    timeout: Duration,
    stderr_tail: Option<String>,
    identity: &CallIdentity,
) -> CallError {
    let trap = error.downcast_ref::<wasmtime::Trap>().copied();
    if trap == Some(wasmtime::Trap::Interrupt) {
        return CallError::Timeout { limit: timeout };
    }
    if memory_limit_hit {
        return CallError::MemoryLimit { limit: limits.memory_bytes };
    }
    if let Some(full) = error.downcast_ref::<super::state::StateFull>() {
        return CallError::StateFull(full.to_string());
    }
    if let Some(pool) = error.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
        return CallError::Busy {
            connector: identity.connector_id.clone(),
            message: format!(
                "the sandbox's instance pool is full ({pool}); retry shortly, or raise limits.pooling_instances"
            ),
        };
    }
    if trap.is_none() && is_handle_limit(&error) {
        return CallError::TooManyHandles { limit: limits.max_handles_per_call as u64 };
    }
    if trap.is_none() && is_transfer_fuel_exhausted(&error) {
        return CallError::TransferTooLarge { limit: limits.transfer_fuel() as u64 };
    }
    if trap == Some(wasmtime::Trap::AllocationTooLarge) {
        return CallError::Host(format!("{error:#}"));
    }
    if trap == Some(wasmtime::Trap::StackOverflow) {
        return CallError::StackOverflow { detail: None };
    }
    // The wasm backtrace of a stripped guest says little; keep it at debug level and
    // report the trap reason plus what the guest printed (a Rust panic message).
    tracing::debug!(error = format!("{error:?}"), "connector trap details");
    if trap == Some(wasmtime::Trap::MemoryOutOfBounds) && looks_like_recursion(&error) {
        // A Rust guest keeps its data stack in linear memory, below its static data: deep
        // recursion runs it past address 0 and the access traps out of bounds. The wasm
        // call stack shows what happened.
        return CallError::StackOverflow {
            detail: Some("the guest's stack in linear memory ran out".into()),
        };
    }
    let mut message = match trap {
        Some(trap) => trap.to_string(),
        None => error.root_cause().to_string(),
    };
    if let Some(tail) = stderr_tail {
        message.push_str(&format!(" (guest stderr: {tail})"));
    }
    CallError::Trap { message: super::bounds::cap_text(message, limits.max_error_bytes) }
}

/// Whether the call ran out of resource handles: the host's table is full (a typed error)
/// or the guest's handle table reached the store's limit (wasmtime 48 says so only in text;
/// `tests/all/sandbox_limits.rs` pins it).
fn is_handle_limit(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<wasmtime::component::ResourceTableError>(),
            Some(wasmtime::component::ResourceTableError::Full)
        ) || cause.to_string().ends_with("store handle limit exceeded")
    })
}

/// Whether wasmtime stopped copying values out of the guest because the store's hostcall
/// fuel ([`super::Limits::transfer_fuel`]) ran out. wasmtime 48 keeps that error's type
/// private, so its text is matched; `tests/all/sandbox_limits.rs` pins it against the real engine.
fn is_transfer_fuel_exhausted(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .to_string()
            .starts_with("too much data is being copied between the host and the guest")
    })
}

/// Whether the wasm call stack of a trap is one function calling itself most of the time
/// (the engine keeps up to [`super::engine::BACKTRACE_FRAMES`] frames of it).
fn looks_like_recursion(error: &wasmtime::Error) -> bool {
    const DEEP: usize = super::engine::BACKTRACE_FRAMES;
    let Some(backtrace) = error.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return false;
    };
    let frames = backtrace.frames();
    if frames.len() < DEEP {
        return false;
    }
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for frame in frames {
        *counts.entry(frame.func_index()).or_default() += 1;
    }
    counts.values().any(|n| *n >= DEEP / 2)
}

/// What a `busy` admission answers: whose slots are taken, and what to do.
pub(super) fn busy_error(
    manifest: &Manifest,
    connection: &str,
    busy: super::gate::Busy,
) -> CallError {
    use super::gate::BusyScope;
    let waited = busy.waited.as_millis();
    let connector = format!("{} {}", manifest.id, manifest.connector_version);
    let message = match busy.scope {
        BusyScope::Connector => format!(
            "busy: connector {connector} already runs {} calls at once (limits.max_concurrent_calls_per_connector); this call waited {waited} ms for one of its slots",
            busy.limit
        ),
        BusyScope::Connection => format!(
            "busy: connection `{connection}` already runs {} calls at once (limits.max_concurrent_calls_per_connection); this call waited {waited} ms",
            busy.limit
        ),
        BusyScope::Pool => format!(
            "busy: all {} instance slots of the sandbox are in use (limits.pooling_instances); this call waited {waited} ms",
            busy.limit
        ),
    };
    CallError::Busy { connector: manifest.id.clone(), message }
}

pub(super) fn forward_logs(identity: &CallIdentity, logs: LogLines) {
    use super::bounds::escape_controls;
    use super::call_state::LineSource;
    use crate::model::egress::Level;
    let (connector, connection) = (&identity.connector_id, &identity.connection_id);
    // Guest text is escaped: a `\n` cannot start a forged log line of its own, in any
    // log format.
    for (level, source, message) in logs.lines {
        let message = escape_controls(&message);
        let source = match source {
            LineSource::Guest => "guest",
            LineSource::Host => "host",
        };
        match level {
            Level::Trace => tracing::trace!(%connector, %connection, source, "{message}"),
            Level::Debug => tracing::debug!(%connector, %connection, source, "{message}"),
            Level::Info => tracing::info!(%connector, %connection, source, "{message}"),
            Level::Warn => tracing::warn!(%connector, %connection, source, "{message}"),
            Level::Error => tracing::error!(%connector, %connection, source, "{message}"),
        }
    }
    for line in String::from_utf8_lossy(&logs.stderr).lines().filter(|l| !l.trim().is_empty()) {
        let line = escape_controls(line);
        tracing::info!(%connector, %connection, stream = "stderr", "{line}");
    }
    if logs.dropped_bytes > 0 {
        tracing::warn!(%connector, %connection, dropped_bytes = logs.dropped_bytes, "connector log output over the per-call cap was dropped");
    }
}
