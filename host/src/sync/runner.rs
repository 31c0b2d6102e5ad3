//! One sync run: resumes or starts a pass from the checkpoint, pages through the ATS via the
//! connector, detects changes, and commits each page with its events and the advanced
//! checkpoint atomically. Guards: a page cap per run, repeated page tokens, a deadline on
//! every call (the sandbox's wall-clock limit), retries with backoff for transient failures,
//! `Retry-After` honoured (short waits inline, long waits end the run `partial`), and
//! `unauthorized` pausing the connection instead of retrying.

use super::SyncEngine;
use super::detect::{self, Scope};
use crate::model::{AtsError, PageRequest};
use crate::runtime::{CallContext, CallError, Invocation, LoadedConnector, Output};
use crate::store::{
    Checkpoint, ConnectionStatus, ConnectionWithSecrets, PageCommit, PartOutcome, Run, RunPart,
    RunState, StoreError, SyncKind, Trigger,
};
use crate::time::{format_ms, parse_ms};
use futures::FutureExt;
use rand::Rng;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Why a run stopped before finishing its pass.
pub(super) enum Stop {
    /// Ends the run `partial`: the checkpoint is kept and the next run resumes.
    Partial(String),
    /// Ends the run `failed`.
    Failed(String),
    /// The ATS refused the credentials: `failed`, and the connection needs re-authorisation.
    Unauthorized(String),
    /// The ATS does not know the record asked for: `failed` unless the caller expects it.
    NotFound(String),
    /// The connector does not offer the operation: a skipped part (an optional part, or a
    /// declared read this connection's config does not offer); `failed` elsewhere.
    Unsupported(String),
    /// The host's own store failed: `failed`, whatever part of the run it was.
    Store(String),
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Stop::Store(format!("store: {error}"))
    }
}

/// One page of a pass turned into a commit.
struct AppliedPage {
    /// The ATS's token of the next page; none after the last.
    next_token: Option<String>,
    commit: PageCommit,
    /// The highest `updated_at` among the page's records (the watermark candidate).
    max_updated: Option<String>,
}

/// What `run.error` keeps of a reason (a connector's message can be megabytes): stored,
/// logged and served by `GET /v1/runs`, so it is cut, with the cut size noted.
pub const MAX_RUN_ERROR_BYTES: usize = 4 << 10;

pub(super) struct RunContext {
    pub connection: ConnectionWithSecrets,
    pub connector: Arc<LoadedConnector>,
    pub call: CallContext,
}

impl SyncEngine {
    /// Executes `run` to its end and returns it finished.
    pub(super) async fn execute(&self, run: Run) -> Run {
        let span = tracing::info_span!(
            "sync_run",
            run = %run.id,
            tenant = %run.tenant_id,
            connection = %run.connection_id,
            kind = run.kind.as_str(),
            connector = tracing::field::Empty,
            version = tracing::field::Empty,
        );
        self.execute_in_span(run).instrument(span).await
    }

    async fn execute_in_span(&self, mut run: Run) -> Run {
        run.state = RunState::Running;
        run.started_at = Some(crate::time::now_ms());
        let _ = self.store.put_run(&run).await;
        tracing::info!(run = %run.id, connection = %run.connection_id, kind = run.kind.as_str(), "sync run started");
        crate::metrics::global().sync_running(run.kind.as_str(), 1);
        let outcome = match self.prepare(&run).await {
            Ok(context) => {
                let span = tracing::Span::current();
                span.record("connector", context.connector.manifest.id.as_str());
                span.record("version", context.connector.manifest.connector_version.as_str());
                // A panic anywhere in the pass (host code, a dependency) fails this run with
                // the reason; it never unwinds past the run and leaves it `running`.
                std::panic::AssertUnwindSafe(self.pass(&mut run, &context))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| {
                        Err(Stop::Failed(format!(
                            "the host failed during this run: {}",
                            crate::panic_message(panic.as_ref())
                        )))
                    })
            }
            Err(stop) => Err(stop),
        };
        run.end(crate::time::now_ms());
        match outcome {
            Ok(()) => match run.parts.iter().find(|p| p.outcome == PartOutcome::Failed) {
                Some(failed) => {
                    run.state = RunState::Partial;
                    run.error = Some(format!("{} failed: {}", failed.part, failed.reason));
                }
                None => run.state = RunState::Success,
            },
            Err(Stop::Partial(reason)) => {
                run.state = RunState::Partial;
                run.error = Some(reason);
            }
            Err(Stop::Failed(reason)) => {
                run.state = RunState::Failed;
                run.error = Some(reason);
            }
            Err(Stop::NotFound(reason)) => {
                run.state = RunState::Failed;
                run.error = Some(format!("not found: {reason}"));
            }
            Err(Stop::Unsupported(reason) | Stop::Store(reason)) => {
                run.state = RunState::Failed;
                run.error = Some(reason);
            }
            Err(Stop::Unauthorized(reason)) => {
                run.state = RunState::Failed;
                run.error = Some(format!("unauthorized: {reason}"));
                self.mark_needs_reauth(&run.connection_id, &reason).await;
            }
        }
        run.error =
            run.error.take().map(|e| crate::runtime::bounds::cap_text(e, MAX_RUN_ERROR_BYTES));
        self.record_outcome(&run).await;
        run
    }

    async fn prepare(&self, run: &Run) -> Result<RunContext, Stop> {
        let connection =
            self.store.connection_with_secrets(&run.connection_id).await?.ok_or_else(|| {
                Stop::Failed(format!("connection `{}` no longer exists", run.connection_id))
            })?;
        let connector = self.resolve_connector(&connection.connection).map_err(Stop::Failed)?;
        let call = super::call_context(&connection);
        Ok(RunContext { connection, connector, call })
    }

    /// Records the end of a run: the run, the checkpoint's failure count, metrics, logs.
    async fn record_outcome(&self, run: &Run) {
        // What the run stored is on disk before the run shows as ended: a crash later never
        // makes the next run see it as new (pages of a run cut short are simply read
        // again). Flushed first, so the run's slot is freed as soon as its end is visible.
        if let Err(error) = self.store.flush().await {
            tracing::error!(%error, run = %run.id, "cannot flush the finished run");
        }
        // The checkpoint first: on a shared store the saved end frees the slot, and a node
        // that wins it next must see this run in the checkpoint.
        if let Ok(mut checkpoint) = self.store.checkpoint(&run.connection_id, run.kind).await {
            checkpoint.last_run_at = run.started_at;
            checkpoint.consecutive_failures =
                if run.state == RunState::Failed { checkpoint.consecutive_failures + 1 } else { 0 };
            let _ = self.store.put_checkpoint(&run.connection_id, run.kind, &checkpoint).await;
        }
        if let Err(error) = self.store.put_run(run).await {
            tracing::error!(%error, run = %run.id, "cannot save the finished run");
        }
        crate::metrics::global().sync_running(run.kind.as_str(), -1);
        crate::metrics::global().sync_run(run.kind.as_str(), run.state.as_str());
        macro_rules! ended {
            ($level:ident) => {
                tracing::$level!(
                    run = %run.id, connection = %run.connection_id, kind = run.kind.as_str(), state = run.state.as_str(),
                    seen = run.counts.seen, created = run.counts.created, updated = run.counts.updated,
                    pages = run.progress.pages, error = run.error.as_deref().unwrap_or(""), "sync run ended"
                )
            };
        }
        // A failed run is something for the operator to look at; a partial one resumes.
        match run.state {
            RunState::Failed => ended!(warn),
            _ => ended!(info),
        }
    }

    async fn mark_needs_reauth(&self, connection_id: &str, reason: &str) {
        if let Ok(Some(mut connection)) = self.store.connection(connection_id).await {
            connection.status = ConnectionStatus::NeedsReauth;
            connection.status_detail = Some(format!(
                "the ATS refused the credentials ({reason}); update the connection's secrets to resume its schedules"
            ));
            connection.updated_at = crate::time::now_ms();
            let _ = self.store.put_connection(&connection, None).await;
            self.unschedule(connection_id);
            tracing::warn!(connection = %connection_id, "connection needs re-authorisation; its schedules are paused");
        }
    }

    /// Pages through one pass (resuming an interrupted one) and commits page by page.
    async fn pass(&self, run: &mut Run, ctx: &RunContext) -> Result<(), Stop> {
        let kind = run.kind;
        let connection_id = run.connection_id.clone();
        let mut checkpoint = self.store.checkpoint(&connection_id, kind).await?;
        if checkpoint.run_id.is_none() || checkpoint.page_token.is_none() {
            self.begin_pass(&mut checkpoint, run);
        }
        run.full_scan = checkpoint.pass_full_scan;
        if kind == SyncKind::Jobs && checkpoint.page_token.is_none() {
            let stages = self.sync_stages(run, ctx, &checkpoint).await;
            self.optional_part(run, "stages", stages)?;
            self.sync_reference(run, ctx).await?;
        }
        let mut tokens_seen: HashSet<String> = checkpoint.page_token.iter().cloned().collect();
        let mut pages_this_run = 0u64;
        loop {
            if pages_this_run >= self.config.max_pages_per_run {
                return Err(Stop::Partial(format!(
                    "stopped after {pages_this_run} pages (sync.max_pages_per_run); the next run continues from here"
                )));
            }
            let page = PageRequest {
                page_token: checkpoint.page_token.clone(),
                since: checkpoint.pass_since.clone(),
                limit: Some(self.config.page_size),
            };
            let invocation = match kind {
                SyncKind::Jobs => Invocation::ListJobs(page),
                SyncKind::Applications => Invocation::ListApplications(page),
            };
            let output = match self.call(ctx, invocation).await {
                // The connector declares the read, but this connection's config does not
                // offer it (e.g. an unmapped Salesforce object): the run records the read as
                // skipped, with the connector's reason, instead of failing at every tick.
                Err(Stop::Unsupported(reason)) if checkpoint.page_token.is_none() => {
                    let part = match kind {
                        SyncKind::Jobs => "jobs",
                        SyncKind::Applications => "applications",
                    };
                    return self.optional_part(run, part, Err(Stop::Unsupported(reason)));
                }
                other => other?,
            };
            let AppliedPage { next_token, mut commit, max_updated } =
                self.apply_page(run, &checkpoint, output).await?;
            if kind == SyncKind::Applications && !run.parts.iter().any(|p| p.part == "candidates") {
                let candidates = self.refresh_candidates(run, ctx, &mut commit).await;
                self.optional_part(run, "candidates", candidates)?;
            }
            pages_this_run += 1;
            checkpoint.pages_in_pass += 1;
            checkpoint.pass_max_updated =
                max_timestamp(checkpoint.pass_max_updated.take(), max_updated);
            let repeated = next_token.as_ref().is_some_and(|t| !tokens_seen.insert(t.clone()));
            if repeated {
                // Keep what this page brought, but end the pass without advancing the
                // watermark: the next run starts the pass again.
                checkpoint.page_token = None;
                checkpoint.run_id = None;
                self.commit(run, commit, &checkpoint).await?;
                return Err(Stop::Partial(
                    "the ATS returned a page token it had already returned (a paging loop); the pass will be retried from its start".into(),
                ));
            }
            checkpoint.page_token = next_token.clone();
            if next_token.is_none() {
                self.finish_pass(run, &mut checkpoint, &mut commit).await?;
                self.commit(run, commit, &checkpoint).await?;
                return Ok(());
            }
            self.commit(run, commit, &checkpoint).await?;
        }
    }

    /// The outcome of an optional part of a run: the connector not offering it is a skipped
    /// part, any other failure a failed part (the run ends `partial`), and the run goes on
    /// either way. Only what stops every call (credentials refused, a rate limit to wait out,
    /// the store failing) still stops the run.
    pub(super) fn optional_part(
        &self,
        run: &mut Run,
        part: &str,
        result: Result<(), Stop>,
    ) -> Result<(), Stop> {
        let (outcome, reason) = match result {
            Ok(()) => return Ok(()),
            Err(stop @ (Stop::Unauthorized(_) | Stop::Partial(_) | Stop::Store(_))) => {
                return Err(stop);
            }
            Err(Stop::Unsupported(reason)) => (PartOutcome::Skipped, reason),
            Err(Stop::Failed(reason) | Stop::NotFound(reason)) => (PartOutcome::Failed, reason),
        };
        let reason = crate::runtime::bounds::cap_text(reason, MAX_RUN_ERROR_BYTES);
        tracing::warn!(run = %run.id, connection = %run.connection_id, part, ?outcome, %reason, "optional part of a sync run did not happen; the run goes on");
        run.parts.push(RunPart { part: part.to_string(), outcome, reason });
        Ok(())
    }

    /// Reads the candidates behind a page of applications (when the connector can) and adds
    /// the changed ones, with their `candidate.updated` events, to the page's commit.
    async fn refresh_candidates(
        &self,
        run: &mut Run,
        ctx: &RunContext,
        commit: &mut PageCommit,
    ) -> Result<(), Stop> {
        if !ctx.connector.manifest.operations.contains(&crate::runtime::Operation::GetCandidate) {
            return Ok(());
        }
        let ids: std::collections::BTreeSet<String> =
            commit.applications.iter().map(|a| a.candidate_id.clone()).collect();
        for candidate_id in ids.into_iter().filter(|id| !id.is_empty()) {
            let invocation = Invocation::GetCandidate { candidate_id: candidate_id.clone() };
            let candidate = match self.call(ctx, invocation).await {
                Ok(Output::Candidate(candidate)) => candidate,
                Ok(_) => return Err(Stop::Failed("get-candidate returned another shape".into())),
                // Gone since the application was listed: nothing to compare with.
                Err(Stop::NotFound(_)) => continue,
                Err(stop) => return Err(stop),
            };
            let existing = self.store.candidate(&run.connection_id, &candidate_id).await?;
            let mut counts = run.counts.clone();
            if let Some((stored, event)) =
                detect::candidate(&self.scope(run), existing, &candidate, &mut counts)
            {
                commit.candidates.push(stored);
                commit.events.extend(event);
            }
            run.counts = counts;
        }
        commit.run = run.clone();
        Ok(())
    }

    fn begin_pass(&self, checkpoint: &mut Checkpoint, run: &Run) {
        let now = crate::time::now_ms();
        let full_due = checkpoint
            .last_full_scan_at
            .is_none_or(|at| now - at >= ms(self.config.full_scan_every));
        let full = run.kind == SyncKind::Jobs
            && (checkpoint.watermark.is_none() || full_due || run.trigger == Trigger::FullScan);
        checkpoint.run_id = Some(run.id.clone());
        checkpoint.page_token = None;
        checkpoint.pass_full_scan = full;
        checkpoint.pass_max_updated = None;
        checkpoint.pages_in_pass = 0;
        checkpoint.pass_since = if full {
            None
        } else {
            checkpoint
                .watermark
                .as_deref()
                .and_then(parse_ms)
                .map(|mark| format_ms(mark - ms(self.config.overlap)))
        };
    }

    async fn sync_stages(
        &self,
        run: &mut Run,
        ctx: &RunContext,
        checkpoint: &Checkpoint,
    ) -> Result<(), Stop> {
        if !ctx.connector.manifest.operations.contains(&crate::runtime::Operation::ListStages) {
            return Ok(());
        }
        let scope = self.scope(run);
        let mut token = None;
        let mut seen = HashSet::new();
        let known = self.store.stages(&run.connection_id).await?;
        let existing = |id: &str| known.iter().find(|s| s.remote_id == id);
        loop {
            let page = PageRequest {
                page_token: token.clone(),
                since: None,
                limit: Some(self.config.page_size),
            };
            let Output::Stages(stages) =
                self.call(ctx, Invocation::ListStages { job_id: None, page }).await?
            else {
                return Err(Stop::Failed("list-stages returned another shape".into()));
            };
            let mut commit = self.empty_commit(run, checkpoint);
            commit.stages =
                stages.items.iter().map(|s| detect::stage(&scope, existing(&s.id), s)).collect();
            self.store.commit_page(commit).await?;
            match stages.next_page_token {
                Some(next) if seen.insert(next.clone()) => token = Some(next),
                _ => return Ok(()),
            }
        }
    }

    fn scope<'a>(&self, run: &'a Run) -> Scope<'a> {
        Scope {
            tenant_id: &run.tenant_id,
            connection_id: &run.connection_id,
            now: crate::time::now_ms(),
        }
    }

    fn empty_commit(&self, run: &Run, checkpoint: &Checkpoint) -> PageCommit {
        PageCommit {
            connection_id: run.connection_id.clone(),
            tenant_id: run.tenant_id.clone(),
            kind: run.kind,
            jobs: Vec::new(),
            stages: Vec::new(),
            applications: Vec::new(),
            candidates: Vec::new(),
            events: Vec::new(),
            checkpoint: checkpoint.clone(),
            run: run.clone(),
        }
    }

    /// Turns one page into a commit.
    async fn apply_page(
        &self,
        run: &mut Run,
        checkpoint: &Checkpoint,
        output: Output,
    ) -> Result<AppliedPage, Stop> {
        let scope = self.scope(run);
        let mut commit = self.empty_commit(run, checkpoint);
        let mut max_updated: Option<String> = None;
        let mut counts = run.counts.clone();
        let next = match output {
            Output::Jobs(page) => {
                let scan_id = checkpoint
                    .pass_full_scan
                    .then(|| checkpoint.run_id.clone().unwrap_or_default());
                let ids: Vec<&str> = page.items.iter().map(|job| job.id.as_str()).collect();
                let stored_jobs = self.store.jobs_by_id(&run.connection_id, &ids).await?;
                for job in &page.items {
                    let existing = stored_jobs.get(&job.id).cloned();
                    let (stored, events) =
                        detect::job(&scope, existing, job, scan_id.as_deref(), &mut counts);
                    max_updated = max_timestamp(max_updated, job.updated_at.clone());
                    commit.jobs.push(stored);
                    commit.events.extend(events);
                }
                run.progress.records += page.items.len() as u64;
                page.next_page_token
            }
            Output::Applications(page) => {
                let stages = self.store.stages(&run.connection_id).await?;
                let stage_name =
                    |id: &str| stages.iter().find(|s| s.remote_id == id).map(|s| s.name.clone());
                let ids: Vec<&str> = page.items.iter().map(|a| a.id.as_str()).collect();
                let stored_applications =
                    self.store.applications_by_id(&run.connection_id, &ids).await?;
                for application in &page.items {
                    let existing = stored_applications.get(&application.id).cloned();
                    let (stored, events) =
                        detect::application(&scope, existing, application, stage_name, &mut counts);
                    max_updated = max_timestamp(max_updated, application.updated_at.clone());
                    commit.applications.push(stored);
                    commit.events.extend(events);
                }
                run.progress.records += page.items.len() as u64;
                page.next_page_token
            }
            _ => {
                return Err(Stop::Failed(
                    "the connector returned another shape than a page".into(),
                ));
            }
        };
        run.counts = counts;
        run.progress.pages += 1;
        Ok(AppliedPage { next_token: next, commit, max_updated })
    }

    /// End of a pass: deletions after a complete full scan, the new watermark.
    async fn finish_pass(
        &self,
        run: &mut Run,
        checkpoint: &mut Checkpoint,
        commit: &mut PageCommit,
    ) -> Result<(), Stop> {
        let now = crate::time::now_ms();
        if checkpoint.pass_full_scan {
            let scan_id = checkpoint.run_id.clone().unwrap_or_default();
            let scope = self.scope(run);
            let mut counts = run.counts.clone();
            let already: HashSet<String> =
                commit.jobs.iter().map(|j| j.remote_id.clone()).collect();
            for job in self.store.jobs_missing_from_scan(&run.connection_id, &scan_id).await? {
                if !already.contains(&job.remote_id) {
                    let (stored, event) = detect::job_missing_from_scan(&scope, job, &mut counts);
                    commit.jobs.push(stored);
                    commit.events.push(event);
                }
            }
            run.counts = counts;
            checkpoint.last_full_scan_at = Some(now);
        }
        checkpoint.watermark =
            max_timestamp(checkpoint.watermark.take(), checkpoint.pass_max_updated.take());
        checkpoint.run_id = None;
        checkpoint.page_token = None;
        checkpoint.pass_since = None;
        checkpoint.pass_full_scan = false;
        checkpoint.pages_in_pass = 0;
        Ok(())
    }

    /// Writes the page (taken, not copied: a page holds every record it brought).
    async fn commit(
        &self,
        run: &Run,
        mut commit: PageCommit,
        checkpoint: &Checkpoint,
    ) -> Result<(), Stop> {
        commit.checkpoint = checkpoint.clone();
        commit.run = run.clone();
        let appended = self.store.commit_page(commit).await?;
        if !appended.is_empty() {
            self.events_appended.notify_one();
        }
        Ok(())
    }

    /// One connector call under the connection's rate budget, with retries.
    pub(super) async fn call(
        &self,
        ctx: &RunContext,
        invocation: Invocation,
    ) -> Result<Output, Stop> {
        let connection_id = &ctx.connection.connection.id;
        let connector_id = &ctx.connector.manifest.id;
        let mut transient_failures = 0u32;
        let mut rate_limit_waits = 0u32;
        loop {
            if let Some(left) = self.budgets.cool_down_left(connection_id)
                && left > self.config.inline_retry_after_max
            {
                return Err(Stop::Partial(format!(
                    "rate limited by the ATS: retry after {}s; the next run resumes from the checkpoint",
                    left.as_secs()
                )));
            }
            self.budgets.acquire(connection_id, connector_id).await;
            let error =
                match self.transport.call(&ctx.connector, &ctx.call, invocation.clone()).await {
                    Ok(output) => return Ok(output),
                    Err(error) => error,
                };
            match &error {
                CallError::Connector(AtsError::RateLimited(limit)) => {
                    let wait = Duration::from_secs(u64::from(
                        limit.retry_after_seconds.unwrap_or(self.config.default_retry_after_secs),
                    ));
                    self.budgets.cool_down(connection_id, wait);
                    rate_limit_waits += 1;
                    if wait > self.config.inline_retry_after_max
                        || rate_limit_waits > self.config.max_rate_limit_waits
                    {
                        return Err(Stop::Partial(format!(
                            "rate limited by the ATS: retry after {}s; the next run resumes from the checkpoint",
                            wait.as_secs()
                        )));
                    }
                    tracing::info!(connection = %connection_id, wait_secs = wait.as_secs(), "rate limited; waiting inline");
                }
                CallError::Connector(AtsError::Unauthorized(message)) => {
                    return Err(Stop::Unauthorized(message.clone()));
                }
                CallError::Connector(AtsError::NotFound(message)) => {
                    return Err(Stop::NotFound(message.clone()));
                }
                CallError::Connector(AtsError::Unsupported(_)) | CallError::NotDeclared { .. } => {
                    return Err(Stop::Unsupported(error.to_string()));
                }
                CallError::Busy { message, .. } => {
                    // Nothing is wrong with the ATS: the next run resumes from the checkpoint.
                    return Err(Stop::Partial(message.clone()));
                }
                _ if is_transient(&error) && transient_failures < self.config.transient_retries => {
                    transient_failures += 1;
                    let delay = self.backoff(transient_failures);
                    tracing::info!(connection = %connection_id, attempt = transient_failures, %error, delay_ms = delay.as_millis() as u64, "transient failure; retrying");
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(Stop::Failed(error.to_string())),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.retry_base.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        base.min(self.config.retry_max).mul_f64(rand::rng().random_range(0.5..1.0))
    }
}

/// Failures worth retrying: the ATS or the network hiccuped.
pub fn is_transient(error: &CallError) -> bool {
    match error {
        CallError::Connector(AtsError::Transient(_)) | CallError::Timeout { .. } => true,
        CallError::Connector(AtsError::Remote(remote)) => remote.status >= 500,
        _ => false,
    }
}

fn max_timestamp(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => match (parse_ms(&a), parse_ms(&b)) {
            (Some(x), Some(y)) => Some(if y > x { b } else { a }),
            (Some(_), None) => Some(a),
            (None, Some(_)) => Some(b),
            (None, None) => Some(a.max(b)),
        },
        (a, b) => a.or(b),
    }
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
