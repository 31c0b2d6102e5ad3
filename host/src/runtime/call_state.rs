//! Per-call state: what one `Store` holds while a connector call runs, and what the guest's
//! imports (`http`, `log`, `state`) do, in the host's own types. Each contract version's
//! binding module (`contract::v0_1`, `v0_2`) implements its import traits on top of these.
//!
//! Nothing here outlives the call. WASI is present only because `wasm32-wasip2` guests
//! import it; the context grants nothing: no files, no env, no args, no sockets, and stderr
//! is captured (capped) and forwarded to tracing.

use super::egress::EgressPolicy;
use super::http::EgressClient;
use super::state::{StateFull, StateQuota, StateStore};
use crate::model::egress::{HttpError, Level, Request, Response};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, format_err};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Who is calling: used for state scoping and log fields.
#[derive(Debug, Clone)]
pub struct CallIdentity {
    pub connector_id: String,
    pub connector_version: String,
    pub connection_id: String,
    /// The journaled write this call performs, if any (see [`CallContext::write_key`]).
    ///
    /// [`CallContext::write_key`]: super::CallContext::write_key
    pub write_key: Option<String>,
}

/// The data of one call's `Store`.
pub struct CallState {
    /// Built at the guest's first WASI call: most calls make none (a connector reaches out
    /// through the `http` import), and building the context (its random sources, stdio,
    /// clocks) was a twentieth of a small call.
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    pub(super) limiter: CallLimiter,
    pub(super) logs: LogBuffer,
    identity: Arc<CallIdentity>,
    egress: Arc<EgressClient>,
    policy: Arc<EgressPolicy>,
    state: Arc<dyn StateStore>,
    max_state_value_bytes: usize,
    state_quota: StateQuota,
    http_requests_left: u32,
    /// Writing requests sent so far, by method and URL (numbers repeats of the same one).
    writes_sent: std::collections::BTreeMap<String, u32>,
    /// The first request the host's egress policy denied during this call, with the reason:
    /// a failed call that had one is reported as [`super::CallError::EgressDenied`], whatever
    /// error the connector made of it.
    pub(super) egress_denied: Option<String>,
}

/// Inputs to build a [`CallState`].
pub(super) struct CallSetup {
    pub identity: Arc<CallIdentity>,
    pub egress: Arc<EgressClient>,
    pub policy: Arc<EgressPolicy>,
    pub state: Arc<dyn StateStore>,
    pub memory_bytes: u64,
    pub max_memories: u32,
    pub max_tables: u32,
    pub max_log_bytes: usize,
    pub max_state_value_bytes: usize,
    pub state_quota: StateQuota,
    pub max_http_requests: u32,
    /// Entries of the host's resource table (see `Limits::max_handles_per_call`).
    pub max_handles: usize,
}

impl CallState {
    pub(super) fn new(setup: CallSetup) -> Self {
        let logs = LogBuffer::new(setup.max_log_bytes);
        Self {
            wasi: None,
            table: {
                let mut table = ResourceTable::new();
                table.set_max_capacity(setup.max_handles);
                table
            },
            limiter: CallLimiter::new(setup.memory_bytes, setup.max_memories, setup.max_tables),
            logs,
            identity: setup.identity,
            egress: setup.egress,
            policy: setup.policy,
            state: setup.state,
            max_state_value_bytes: setup.max_state_value_bytes,
            state_quota: setup.state_quota,
            http_requests_left: setup.max_http_requests,
            writes_sent: std::collections::BTreeMap::new(),
            egress_denied: None,
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let logs = &self.logs;
        let ctx = self.wasi.get_or_insert_with(|| WasiCtx::builder().stderr(logs.clone()).build());
        WasiCtxView { ctx, table: &mut self.table }
    }
}

/// Memory and table caps of one call, over **all** of its memories and tables together (a
/// component with sixteen memories gets the same budget as one with one); remembers whether
/// the cap was hit so the resulting trap can be reported as `memory limit`, not as a
/// generic trap.
pub struct CallLimiter {
    memory_bytes: usize,
    max_memories: usize,
    max_tables: usize,
    /// Bytes of every memory plus every table element of this call.
    used_bytes: usize,
    table_elements: usize,
    pub(super) memory_limit_hit: bool,
}

/// Table elements one call may hold over all its tables.
const MAX_TABLE_ELEMENTS: usize = 100_000;
/// What one table element is counted as against the memory budget (a funcref slot).
const TABLE_ELEMENT_BYTES: usize = 16;
/// Core instances one call may create (a component is a handful).
const MAX_CORE_INSTANCES: usize = 64;

impl CallLimiter {
    pub(super) fn new(memory_bytes: u64, max_memories: u32, max_tables: u32) -> Self {
        Self {
            memory_bytes: usize::try_from(memory_bytes).unwrap_or(usize::MAX),
            max_memories: usize::try_from(max_memories).unwrap_or(usize::MAX),
            max_tables: usize::try_from(max_tables).unwrap_or(usize::MAX),
            used_bytes: 0,
            table_elements: 0,
            memory_limit_hit: false,
        }
    }

    /// Bytes of memory and tables this call holds now.
    pub fn used_bytes(&self) -> usize {
        self.used_bytes
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<()> {
        let next = self.used_bytes.saturating_sub(current).saturating_add(desired);
        if next > self.memory_bytes {
            self.memory_limit_hit = true;
            return Err(format_err!(
                "memory limit of {} bytes reached over all of the call's memories and tables (they would hold {next})",
                self.memory_bytes
            ));
        }
        self.used_bytes = next;
        Ok(())
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)?;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let elements = self.table_elements.saturating_sub(current).saturating_add(desired);
        if elements > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        )?;
        self.table_elements = elements;
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_CORE_INSTANCES
    }

    fn memories(&self) -> usize {
        self.max_memories
    }

    fn tables(&self) -> usize {
        self.max_tables
    }
}

/// The guest's log lines and stderr of one call, capped at a byte budget. What does not fit
/// is counted, not kept. Shared (cheaply cloned) so it can be read after a timeout dropped
/// the store.
#[derive(Clone)]
pub struct LogBuffer(Arc<Mutex<LogLines>>);

/// Who wrote a log line: the guest (its `log` import) or the host on the guest's behalf
/// (an egress denial, a refused request). Both count against the call's log budget, so a
/// guest cannot make the host write without bound either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LineSource {
    Guest,
    Host,
}

#[derive(Default)]
pub(super) struct LogLines {
    budget: usize,
    pub lines: Vec<(Level, LineSource, String)>,
    pub stderr: Vec<u8>,
    pub dropped_bytes: usize,
}

impl LogLines {
    /// What the guest said last on stderr: a Rust panic's location and message when there
    /// was one, otherwise the last line.
    pub(super) fn stderr_tail(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.stderr);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if let Some(start) = lines.iter().rposition(|l| l.contains("panicked at")) {
            let panic: Vec<&str> = lines[start..]
                .iter()
                .copied()
                .take_while(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
                .collect();
            return Some(panic.join(" "));
        }
        lines.last().map(|l| l.to_string())
    }
}

/// Longest single log line kept (bytes); longer ones are cut.
const MAX_LOG_LINE_BYTES: usize = 4096;

impl LogBuffer {
    fn new(budget: usize) -> Self {
        Self(Arc::new(Mutex::new(LogLines { budget, ..LogLines::default() })))
    }

    fn push_line(&self, level: Level, source: LineSource, mut message: String) {
        let mut logs = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if message.len() > MAX_LOG_LINE_BYTES {
            let cut =
                (0..=MAX_LOG_LINE_BYTES).rev().find(|i| message.is_char_boundary(*i)).unwrap_or(0);
            logs.dropped_bytes += message.len() - cut;
            message.truncate(cut);
            message.push('…');
        }
        if message.len() > logs.budget {
            logs.dropped_bytes += message.len();
            return;
        }
        logs.budget -= message.len();
        logs.lines.push((level, source, message));
    }

    fn push_stderr(&self, bytes: &[u8]) {
        let mut logs = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let keep = bytes.len().min(logs.budget);
        logs.budget -= keep;
        logs.dropped_bytes += bytes.len() - keep;
        logs.stderr.extend_from_slice(&bytes[..keep]);
    }

    pub(super) fn take(&self) -> LogLines {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl IsTerminal for LogBuffer {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogBuffer {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for LogBuffer {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push_stderr(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Why the host refused a `state.set`.
#[derive(Debug, thiserror::Error)]
pub enum StateRefused {
    #[error(
        "state entry too large: key {key} bytes (cap {MAX_STATE_KEY_BYTES}), value {value} bytes (cap {cap})"
    )]
    TooLarge { key: usize, value: usize, cap: usize },
    #[error(transparent)]
    Full(#[from] StateFull),
}

impl StateRefused {
    /// As a trap, for contract versions whose `state.set` cannot answer an error: the call
    /// fails, and a full quota is reported as `CallError::StateFull`.
    pub(super) fn into_trap(self) -> wasmtime::Error {
        match self {
            StateRefused::Full(full) => wasmtime::Error::new(full),
            too_large => wasmtime::Error::msg(too_large.to_string()),
        }
    }
}

impl CallState {
    /// `http.send`: one outbound request under the call's egress policy and request budget.
    pub(super) async fn send_http(&mut self, mut request: Request) -> Result<Response, HttpError> {
        if self.http_requests_left == 0 {
            return Err(HttpError::Denied(
                "this call made too many HTTP requests (see limits.max_http_requests_per_call)"
                    .into(),
            ));
        }
        self.http_requests_left -= 1;
        self.add_idempotency_key(&mut request);
        let started = std::time::Instant::now();
        let method = request.method.clone();
        let url = redact_query(&request.url).to_string();
        let result = self.egress.send(&self.policy, request).await;
        if let Err(HttpError::Denied(reason)) = &result
            && self.egress_denied.is_none()
        {
            self.egress_denied = Some(reason.clone());
        }
        let status = match &result {
            Ok(response) => response.status.to_string(),
            Err(HttpError::Denied(_)) => "denied".to_string(),
            Err(HttpError::Timeout(_)) => "timeout".to_string(),
            Err(_) => "error".to_string(),
        };
        crate::metrics::global().egress_request(&self.identity.connector_id, &status);
        match &result {
            Ok(response) => tracing::debug!(
                connector = %self.identity.connector_id,
                connection = %self.identity.connection_id,
                %method, %url, status = response.status,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "egress request"
            ),
            // A failure is the guest's doing (its URL, its headers): the line goes through
            // the call's capped log buffer, not straight to the host log.
            Err(error) => self.logs.push_line(
                Level::Info,
                LineSource::Host,
                format!("egress request failed: {method} {url}: {error:?}"),
            ),
        }
        result
    }

    /// On a journaled write's writing requests (`POST`, `PUT`, `PATCH`, `DELETE`), the
    /// `Idempotency-Key` header, unless the connector set one: the write's key, a short hash
    /// of the method and URL (query left out), and `.n` for the n-th repeat of that request
    /// in the call. A write repeated after a crash makes the same requests, so an ATS that
    /// honours the header applies each once, whether or not the repeat also had to fetch a
    /// token or log in first (those requests have their own URLs); an ATS that does not
    /// honour it ignores it.
    fn add_idempotency_key(&mut self, request: &mut Request) {
        use sha2::{Digest, Sha256};
        let Some(key) = &self.identity.write_key else { return };
        let writing = ["POST", "PUT", "PATCH", "DELETE"];
        if !writing.iter().any(|m| request.method.eq_ignore_ascii_case(m)) {
            return;
        }
        let target =
            format!("{} {}", request.method.to_ascii_uppercase(), redact_query(&request.url));
        let repeat = self.writes_sent.entry(target.clone()).or_insert(0);
        let ordinal = *repeat;
        *repeat = repeat.saturating_add(1);
        if request.headers.iter().any(|h| h.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY)) {
            return;
        }
        let request_hash = hex::encode(&Sha256::digest(target.as_bytes())[..4]);
        let value = match ordinal {
            0 => format!("{key}.{request_hash}"),
            n => format!("{key}.{request_hash}.{n}"),
        };
        request.headers.push(crate::model::Field { name: IDEMPOTENCY_KEY.into(), value });
    }

    /// `log.log`: one guest line into the call's capped buffer.
    pub(super) fn guest_log(&mut self, level: Level, message: String) {
        self.logs.push_line(level, LineSource::Guest, message);
    }

    pub(super) async fn state_get(&mut self, key: &str) -> Option<String> {
        self.state.get(&self.identity.connection_id, key).await
    }

    /// `state.set` under the entry size caps and the connection's quota.
    pub(super) async fn state_set(
        &mut self,
        key: String,
        value: String,
        ttl_seconds: Option<u32>,
    ) -> Result<(), StateRefused> {
        if key.len() > MAX_STATE_KEY_BYTES || value.len() > self.max_state_value_bytes {
            return Err(StateRefused::TooLarge {
                key: key.len(),
                value: value.len(),
                cap: self.max_state_value_bytes,
            });
        }
        self.state_quota
            .admit(self.state.as_ref(), &self.identity.connection_id, &key, &value)
            .await?;
        let ttl = ttl_seconds.map(|s| Duration::from_secs(u64::from(s)));
        self.state.set(&self.identity.connection_id, &key, value, ttl).await;
        Ok(())
    }

    pub(super) async fn state_delete(&mut self, key: &str) {
        self.state.delete(&self.identity.connection_id, key).await;
    }
}

/// The URL without its query string, which may carry keys or session ids.
fn redact_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
}

const MAX_STATE_KEY_BYTES: usize = 256;
/// The header a journaled write's requests carry.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

#[cfg(test)]
mod tests {
    use super::*;

    /// `memories`: two memories share one budget; the second cannot grow past what the
    /// first already holds.
    #[test]
    fn the_memory_limit_covers_every_memory_of_a_call_together() {
        let wasm = wat::parse_str(
            r#"(module
                (memory 1) (memory $b 1)
                (func (export "grow_a") (param i32) (result i32) (memory.grow 0 (local.get 0)))
                (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0))))"#,
        )
        .expect("test module");
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, wasm).expect("compiles");
        // 4 MiB for the whole call: 64 pages.
        let mut store = wasmtime::Store::new(&engine, CallLimiter::new(4 << 20, 2, 8));
        store.limiter(|limiter| limiter);
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instantiates");
        let grow = |store: &mut wasmtime::Store<CallLimiter>, name: &str, pages: i32| {
            instance
                .get_typed_func::<i32, i32>(&mut *store, name)
                .expect("export")
                .call(&mut *store, pages)
        };
        assert_eq!(grow(&mut store, "grow_a", 40).expect("within the budget"), 1);
        assert!(grow(&mut store, "grow_b", 40).is_err(), "80 pages of 64 over two memories");
        assert!(store.data().memory_limit_hit);
        assert!(store.data().used_bytes() <= 4 << 20);

        let mut store = wasmtime::Store::new(&engine, CallLimiter::new(4 << 20, 1, 8));
        store.limiter(|limiter| limiter);
        assert!(
            wasmtime::Instance::new(&mut store, &module, &[]).is_err(),
            "two memories over a cap of one"
        );
    }
}
