//! One connector call: a fresh `Store` and instance from the version's `InstancePre`, the
//! CPU (epoch) and wall-clock deadlines, the memory cap, the output cap, and the mapping of
//! every way a call can end onto [`CallError`].

use super::call_state::{CallIdentity, CallSetup, CallState};
use super::contract::guest::GuestPre;
use super::engine::ticks_for;
use super::loader::LoadedConnector;
use super::state::StateQuota;
use super::{CallContext, Runtime};
use crate::model::*;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};
use thiserror::Error;
use tracing::Instrument;
use wasmtime::{Store, UpdateDeadline};

/// One operation with its input. Serialised as `{"operation": "list-jobs", "input": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "operation", content = "input", rename_all = "kebab-case")]
pub enum Invocation {
    Describe,
    ListJobs(PageRequest),
    ListStages {
        job_id: Option<String>,
        #[serde(default = "first_page")]
        page: PageRequest,
    },
    ListApplications(PageRequest),
    GetCandidate {
        candidate_id: String,
    },
    FindCandidates {
        lookup: CandidateLookup,
        #[serde(default = "first_page")]
        page: PageRequest,
    },
    UpsertCandidate(CandidateInput),
    CreateApplication(ApplicationInput),
    MoveApplication {
        application_id: String,
        stage_id: String,
    },
    AddNote(NoteInput),
    AddTag(TagInput),
    AddAttachment(AttachmentInput),
    RejectApplication(RejectInput),
    WriteResult(ResultInput),
    ParseWebhook(WebhookRequest),
    Check,
    ListTags(#[serde(default = "first_page")] PageRequest),
    ListRejectionReasons(#[serde(default = "first_page")] PageRequest),
    ListUsers(#[serde(default = "first_page")] PageRequest),
    GetApplication {
        application_id: String,
    },
    RemoveTag(TagInput),
    RegisterWebhook(WebhookSubscription),
    UnregisterWebhook {
        remote_id: String,
    },
}

/// The first page, no filter.
pub fn first_page() -> PageRequest {
    PageRequest::first()
}

impl Invocation {
    /// The declared operation this invocation needs; `None` for `describe`.
    pub fn operation(&self) -> Option<Operation> {
        Some(match self {
            Invocation::Describe => return None,
            Invocation::ListJobs(_) => Operation::ListJobs,
            Invocation::ListStages { .. } => Operation::ListStages,
            Invocation::ListApplications(_) => Operation::ListApplications,
            Invocation::GetCandidate { .. } => Operation::GetCandidate,
            Invocation::FindCandidates { .. } => Operation::FindCandidates,
            Invocation::UpsertCandidate(_) => Operation::UpsertCandidate,
            Invocation::CreateApplication(_) => Operation::CreateApplication,
            Invocation::MoveApplication { .. } => Operation::MoveApplication,
            Invocation::AddNote(_) => Operation::AddNote,
            Invocation::AddTag(_) => Operation::AddTag,
            Invocation::AddAttachment(_) => Operation::AddAttachment,
            Invocation::RejectApplication(_) => Operation::RejectApplication,
            Invocation::WriteResult(_) => Operation::WriteResult,
            Invocation::ParseWebhook(_) => Operation::ParseWebhook,
            Invocation::Check => Operation::Check,
            Invocation::ListTags(_) => Operation::ListTags,
            Invocation::ListRejectionReasons(_) => Operation::ListRejectionReasons,
            Invocation::ListUsers(_) => Operation::ListUsers,
            Invocation::GetApplication { .. } => Operation::GetApplication,
            Invocation::RemoveTag(_) => Operation::RemoveTag,
            Invocation::RegisterWebhook(_) => Operation::RegisterWebhook,
            Invocation::UnregisterWebhook { .. } => Operation::UnregisterWebhook,
        })
    }

    fn name(&self) -> &'static str {
        self.operation().map_or("describe", Operation::wit_name)
    }
}

/// What a successful call returned.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    Manifest(Manifest),
    Jobs(JobPage),
    Stages(StagePage),
    Applications(ApplicationPage),
    Candidate(Candidate),
    Candidates(CandidatePage),
    Upserted(UpsertResult),
    Application(Application),
    Receipt(WriteReceipt),
    Webhook(WebhookOutcome),
    Account(Account),
    Tags(TagPage),
    RejectionReasons(RejectionReasonPage),
    Users(UserPage),
}

/// How a call can fail. The connector's own typed answer is [`CallError::Connector`];
/// everything else is the sandbox stopping or refusing the call.
#[derive(Debug, Error)]
pub enum CallError {
    #[error("{}", describe_ats_error(.0))]
    Connector(AtsError),
    #[error("connector {connector} does not declare `{operation}` in its manifest")]
    NotDeclared { connector: String, operation: String },
    #[error("call exceeded its time limit of {}ms", limit.as_millis())]
    Timeout { limit: Duration },
    #[error("connector exceeded its memory limit of {limit} bytes")]
    MemoryLimit { limit: u64 },
    #[error("connector output of {size} bytes exceeds the cap of {limit} bytes")]
    OutputTooLarge { size: u64, limit: u64 },
    /// The guest handed the host more than [`super::Limits::transfer_fuel`] bytes in one
    /// crossing (a result or an import's arguments); the copy stopped there.
    #[error(
        "connector tried to hand the host more than {limit} bytes at once (results repeating the same bytes count each time); return results in pages under limits.max_output_bytes"
    )]
    TransferTooLarge { limit: u64 },
    /// The guest held more resource handles at once than `limits.max_handles_per_call`.
    #[error(
        "connector held more than {limit} resource handles at once (streams, pollables ...); a connector must drop the handles it no longer uses"
    )]
    TooManyHandles { limit: u64 },
    #[error("connector trapped: {message}")]
    Trap { message: String },
    #[error(
        "connector overflowed its stack (deep or unbounded recursion){}",
        .detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    StackOverflow { detail: Option<String> },
    #[error("{0}")]
    StateFull(String),
    #[error("{message}")]
    Busy { connector: String, message: String },
    /// The call failed after the host's egress policy denied one of its requests (not on
    /// the allow-list, or a private address the connection may not reach).
    #[error("egress denied by the host: {reason}")]
    EgressDenied { reason: String },
    #[error("host could not run the call: {0}")]
    Host(String),
}

impl CallError {
    /// A short machine-readable kind, e.g. for metrics and API errors.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Connector(AtsError::Unauthorized(_)) => "unauthorized",
            CallError::Connector(AtsError::Forbidden(_)) => "forbidden",
            CallError::Connector(AtsError::NotFound(_)) => "not-found",
            CallError::Connector(AtsError::Conflict(_)) => "conflict",
            CallError::Connector(AtsError::RateLimited(_)) => "rate-limited",
            CallError::Connector(AtsError::InvalidInput(_)) => "invalid-input",
            CallError::Connector(AtsError::Unsupported(_)) | CallError::NotDeclared { .. } => {
                "unsupported"
            }
            CallError::Connector(AtsError::Transient(_)) => "transient",
            CallError::Connector(AtsError::Remote(_)) => "remote",
            CallError::Timeout { .. } => "timeout",
            CallError::MemoryLimit { .. } => "memory-limit",
            CallError::OutputTooLarge { .. } | CallError::TransferTooLarge { .. } => {
                "output-too-large"
            }
            CallError::TooManyHandles { .. } => "handle-limit",
            CallError::Trap { .. } => "trap",
            CallError::StackOverflow { .. } => "stack-overflow",
            CallError::StateFull(_) => "state-full",
            CallError::Busy { .. } => "busy",
            CallError::EgressDenied { .. } => "egress-denied",
            CallError::Host(_) => "host",
        }
    }
}

/// A readable one-line form of the connector's typed error.
pub fn describe_ats_error(error: &AtsError) -> String {
    match error {
        AtsError::Unauthorized(m) => format!("unauthorized: {m}"),
        AtsError::Forbidden(m) => format!("forbidden: {m}"),
        AtsError::NotFound(m) => format!("not found: {m}"),
        AtsError::Conflict(m) => format!("conflict: {m}"),
        AtsError::RateLimited(r) => match r.retry_after_seconds {
            Some(s) => format!("rate limited, retry after {s}s: {}", r.message),
            None => format!("rate limited: {}", r.message),
        },
        AtsError::InvalidInput(m) => format!("invalid input: {m}"),
        AtsError::Unsupported(m) => format!("unsupported: {m}"),
        AtsError::Transient(m) => format!("transient failure: {m}"),
        AtsError::Remote(r) => format!("remote error {}: {}", r.status, r.body_excerpt),
    }
}

impl Runtime {
    /// Runs `invocation` on `connector` in a fresh instance under this runtime's limits.
    pub async fn call(
        &self,
        connector: &LoadedConnector,
        context: &CallContext,
        invocation: Invocation,
    ) -> Result<Output, CallError> {
        let manifest = &connector.manifest;
        if let Some(operation) = invocation.operation()
            && !connector.contract_version().operations().contains(&operation)
        {
            return Err(CallError::Connector(connector.contract_version().lacks(operation)));
        }
        if let Some(operation) = invocation.operation()
            && !manifest.operations.contains(&operation)
        {
            return Err(CallError::NotDeclared {
                connector: manifest.id.clone(),
                operation: operation.wit_name().to_string(),
            });
        }
        let identity = Arc::new(CallIdentity {
            connector_id: manifest.id.clone(),
            connector_version: manifest.connector_version.clone(),
            connection_id: context.connection_id.clone(),
            write_key: context.write_key.clone(),
        });
        let span = tracing::info_span!(
            "connector_call",
            connector = %identity.connector_id,
            version = %identity.connector_version,
            connection = %identity.connection_id,
            tenant = %context.tenant_id,
            operation = invocation.name(),
        );
        let policy = self.egress_policy(manifest, context);
        let operation = invocation.name();
        let started = Instant::now();
        let result = async {
            let _admission =
                self.gates.admit(&connector.sha256, &context.connection_id).await.map_err(
                    |busy| super::outcome::busy_error(manifest, &context.connection_id, busy),
                )?;
            self.execute(
                connector.pre.clone(),
                identity,
                policy,
                context.config.clone(),
                invocation,
                self.limits.call_timeout,
            )
            .await
        }
        .instrument(span)
        .await;
        let outcome = result.as_ref().map_or_else(CallError::kind, |_| "ok");
        crate::metrics::global().connector_call(
            &manifest.id,
            operation,
            outcome,
            started.elapsed(),
        );
        result
    }

    /// Runs one call. It starts on the caller's task, where a call that does its work in
    /// less than one epoch tick of CPU (nearly all: tens of microseconds, plus waits on
    /// host I/O) finishes without a thread hop. At its first CPU yield, a call that keeps
    /// computing moves, as it is, to the guest threads ([`super::pool`]), so a spinning guest
    /// holds the caller's runtime for one tick at most and the API and the scheduler keep
    /// answering. A panic anywhere in the call is this call's typed failure.
    pub(super) async fn execute(
        &self,
        pre: Arc<GuestPre>,
        identity: Arc<CallIdentity>,
        policy: Arc<super::egress::EgressPolicy>,
        config: Config,
        invocation: Invocation,
        timeout: Duration,
    ) -> Result<Output, CallError> {
        let calls = self.calls.clone();
        let cpu_yielded = Arc::new(AtomicBool::new(false));
        let flag = cpu_yielded.clone();
        let mut call: std::pin::Pin<Box<dyn Future<Output = Result<Output, CallError>> + Send>> =
            Box::pin(
                async move {
                    let deadline = Deadline { timeout, cpu_yielded: flag };
                    calls.run(&pre, identity, policy, &config, invocation, deadline).await
                }
                .instrument(tracing::Span::current()),
            );
        let inline = std::future::poll_fn(|cx| {
            let polled =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call.as_mut().poll(cx)));
            match polled {
                Ok(Poll::Ready(result)) => Poll::Ready(Some(result)),
                Ok(Poll::Pending) if cpu_yielded.swap(false, Ordering::Relaxed) => {
                    Poll::Ready(None)
                }
                Ok(Poll::Pending) => Poll::Pending,
                Err(panic) => Poll::Ready(Some(Err(super::outcome::host_panicked(panic.as_ref())))),
            }
        })
        .await;
        if let Some(result) = inline {
            return result;
        }
        match self.pool.spawn(call).await {
            Ok(result) => result,
            Err(error) if error.is_panic() => {
                Err(super::outcome::host_panicked(error.into_panic().as_ref()))
            }
            Err(error) => Err(CallError::Host(format!("the call was cancelled: {error}"))),
        }
    }
}

/// A call's time limits: its CPU and wall-clock budget, and the flag its epoch callback sets
/// when the guest yields after a whole tick of CPU (the call then moves to the guest pool).
pub(super) struct Deadline {
    pub timeout: Duration,
    pub cpu_yielded: Arc<AtomicBool>,
}

/// What a call needs on the guest threads: the engine, the limits and the host imports'
/// shared parts. Shared behind an `Arc`, so a call moves to the pool without copying.
pub(super) struct CallRunner {
    pub engine: wasmtime::Engine,
    pub limits: super::Limits,
    pub egress: Arc<super::http::EgressClient>,
    pub state: Arc<dyn super::state::StateStore>,
}

impl CallRunner {
    pub(super) async fn run(
        &self,
        pre: &GuestPre,
        identity: Arc<CallIdentity>,
        policy: Arc<super::egress::EgressPolicy>,
        config: &Config,
        invocation: Invocation,
        deadline: Deadline,
    ) -> Result<Output, CallError> {
        let limits = &self.limits;
        let timeout = deadline.timeout;
        let (mut store, logs) = self.new_store(identity.clone(), policy, deadline);
        let outcome = tokio::time::timeout(timeout, async {
            let instance = pre.instantiate(&mut store).await?;
            pre.call(&instance, &mut store, config, invocation).await
        })
        .await;
        let memory_limit_hit = store.data().limiter.memory_limit_hit;
        let egress_denied = store.data_mut().egress_denied.take();
        drop(store);
        let logs = logs.take();
        let stderr_tail = logs.stderr_tail();
        super::outcome::forward_logs(&identity, logs);

        let result = match outcome {
            Err(_elapsed) => Err(CallError::Timeout { limit: timeout }),
            Ok(Err(trap)) => Err(super::outcome::classify_trap(
                trap,
                memory_limit_hit,
                limits,
                timeout,
                stderr_tail,
                &identity,
            )),
            // The connector's error came from a request the host refused: say so, typed.
            Ok(Ok(Err(_))) if let Some(reason) = egress_denied => Err(CallError::EgressDenied {
                reason: super::bounds::cap_text(reason, limits.max_error_bytes),
            }),
            Ok(Ok(Err(ats_error))) => {
                Err(CallError::Connector(super::bounds::cap_ats_error(ats_error, limits)))
            }
            Ok(Ok(Ok(output))) => Ok(output),
        };
        let mut output = result?;
        if let Some(size) = super::json_size::json_size_over(&output, limits.max_output_bytes) {
            return Err(CallError::OutputTooLarge { size, limit: limits.max_output_bytes });
        }
        super::bounds::cap_raw_fields(&mut output, limits.max_raw_bytes);
        Ok(output)
    }
}

impl CallRunner {
    /// A fresh store for one call, with the memory limiter and the CPU deadline installed.
    fn new_store(
        &self,
        identity: Arc<CallIdentity>,
        policy: Arc<super::egress::EgressPolicy>,
        deadline: Deadline,
    ) -> (Store<CallState>, super::call_state::LogBuffer) {
        let Deadline { timeout, cpu_yielded } = deadline;
        let limits = &self.limits;
        let state = CallState::new(CallSetup {
            identity,
            egress: self.egress.clone(),
            policy,
            state: self.state.clone(),
            memory_bytes: limits.memory_bytes,
            max_memories: limits.max_memories_per_component,
            max_tables: limits.max_tables_per_component,
            max_log_bytes: limits.max_log_bytes_per_call,
            max_state_value_bytes: limits.max_state_value_bytes,
            state_quota: StateQuota {
                max_entries: limits.max_state_entries_per_connection,
                max_bytes: limits.max_state_bytes_per_connection,
            },
            max_http_requests: limits.max_http_requests_per_call,
            max_handles: limits.max_handles_per_call,
        });
        let logs = state.logs.clone();
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(limits.transfer_fuel());
        store.set_max_component_handles(limits.max_handles_per_call);
        // Guest code yields to the async runtime at every epoch tick (and says so in
        // `cpu_yielded`, which moves the call to the guest threads), and traps once it has
        // run for its whole CPU budget.
        let budget_ticks = ticks_for(timeout, limits.epoch_tick);
        let mut ticks_run = 0u64;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            ticks_run += 1;
            if ticks_run >= budget_ticks {
                return Ok(UpdateDeadline::Interrupt);
            }
            cpu_yielded.store(true, Ordering::Relaxed);
            Ok(UpdateDeadline::Yield(1))
        });
        (store, logs)
    }
}

impl Runtime {
    /// Average time of each phase of a fresh-instance `describe()` call over `iterations`
    /// calls: for benchmarks and diagnostics ("where does the per-call time go").
    pub async fn measure_call_phases(
        &self,
        connector: &LoadedConnector,
        iterations: u32,
    ) -> Result<CallPhases, CallError> {
        let identity = Arc::new(CallIdentity {
            connector_id: connector.manifest.id.clone(),
            connector_version: connector.manifest.connector_version.clone(),
            connection_id: "measure".into(),
            write_key: None,
        });
        let mut phases = CallPhases::default();
        let host_error = |e: wasmtime::Error| CallError::Host(format!("{e:#}"));
        for _ in 0..iterations {
            let started = Instant::now();
            let deadline =
                Deadline { timeout: self.limits.call_timeout, cpu_yielded: Arc::default() };
            let (mut store, _logs) =
                self.calls.new_store(identity.clone(), Arc::default(), deadline);
            let stored = Instant::now();
            let instance = connector.pre.instantiate(&mut store).await.map_err(host_error)?;
            let instantiated = Instant::now();
            connector
                .pre
                .call(&instance, &mut store, &Vec::new(), Invocation::Describe)
                .await
                .map_err(host_error)?
                .map_err(CallError::Connector)?;
            let called = Instant::now();
            drop(store);
            let dropped = Instant::now();
            phases.store += stored - started;
            phases.instantiate += instantiated - stored;
            phases.call += called - instantiated;
            phases.drop += dropped - called;
        }
        let n = iterations.max(1);
        Ok(CallPhases {
            store: phases.store / n,
            instantiate: phases.instantiate / n,
            call: phases.call / n,
            drop: phases.drop / n,
        })
    }
}

/// See [`Runtime::measure_call_phases`].
#[derive(Debug, Default, Clone, Copy)]
pub struct CallPhases {
    pub store: Duration,
    pub instantiate: Duration,
    pub call: Duration,
    pub drop: Duration,
}
