//! The connector conformance kit: one generic suite every connector must pass against its
//! fake ATS, and the seed scenario (a sourcing product pushing an interested candidate).
//!
//! To run it on your own connector: make your connector a `cdylib` under `connectors/` (it is
//! then bundled into the host), implement [`FakeAts`] for a fake of your ATS, and add
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn conformance() {
//!     let fake = MyFake::start().await;
//!     ats_tests::conformance::run_kit(&fake).await;
//!     ats_tests::conformance::seed_scenario(&fake).await;
//! }
//! ```
//!
//! What [`run_kit`] checks (each failure names the connector and the check):
//! - every operation the manifest leaves out answers `unsupported`; every declared one
//!   round-trips against the fake, and what was written is visible in the fake;
//! - paging through more than 1,000 jobs returns each exactly once;
//! - incremental `since` returns only changed records, including records sharing one
//!   timestamp across a page boundary;
//! - upserting the same candidate twice (same e-mail, then same phone) keeps one candidate
//!   and the second call reports `matched`;
//! - 429 → `rate-limited` with the right retry-after (seconds and HTTP-date); an expired
//!   session or token → exactly one re-authentication, then success; 5xx → `transient`; bad
//!   credentials → `unauthorized`;
//! - the connection's secrets never appear in host logs or in error messages;
//! - the authors' kit (`ats-host connector test`, [`ats_host::kit`]) passes too.
//!
//! An ATS whose API cannot do what a check asks (no phone look-up, no "changed since"
//! filter) declares it in its manifest's `[gaps]`, with the reason: [`run_kit`] reads them
//! from the connector, and those checks must then fail, for that reason, so the gap stays
//! true to the connector and its README.

use crate::fakes::{FakeAts, FakeCandidate};
use crate::log_capture;
use ats_host::model::*;
use ats_host::runtime::{
    CallContext, CallError, Field, Invocation, Limits, LoadedConnector, Output, Runtime,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

mod faults;
mod newer;
mod operations;
mod records;
mod seed;

pub use faults::*;
pub use newer::*;
pub use operations::*;
pub use records::*;
pub use seed::*;

/// Timestamps the kit seeds with; everything else the kit seeds is older than these.
const BASELINE: &str = "2025-01-01T00:00:00Z";
const BULK: &str = "2025-06-01T00:00:00Z";
const SAME_INSTANT: &str = "2026-03-01T10:00:00Z";
const TOUCHED: &str = "2026-04-01T10:00:00Z";
const PAGE: u32 = 100;

pub use ats_host::kit::samples::{SAMPLE_PDF, attachment, candidate_input, unique, unique_phone};

static CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

/// One connector loaded in a sandbox runtime, talking to one fake.
pub struct Kit<'a> {
    fake: &'a dyn FakeAts,
    runtime: Arc<Runtime>,
    connector: Arc<LoadedConnector>,
    connection: String,
    errors: Mutex<Vec<String>>,
}

impl<'a> Kit<'a> {
    /// Loads the fake's connector from the host's bundled connectors.
    pub async fn new(fake: &'a dyn FakeAts) -> Kit<'a> {
        log_capture::install();
        let limits = Limits {
            call_timeout: Duration::from_secs(20),
            pooling_instances: 32,
            ..Limits::default()
        };
        let runtime = crate::runtime(limits);
        let connector = crate::bundled_connector(&runtime, fake.connector_package()).await;
        Kit {
            fake,
            runtime,
            connector,
            connection: new_connection_id(fake.connector_package()),
            errors: Mutex::new(Vec::new()),
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.connector.manifest
    }

    pub fn supports(&self, operation: Operation) -> bool {
        self.manifest().operations.contains(&operation)
    }

    fn name(&self) -> &str {
        &self.manifest().id
    }

    fn context_for(&self, connection: &str, config: Vec<(String, String)>) -> CallContext {
        let config = config.into_iter().map(|(name, value)| Field { name, value }).collect();
        let mut context = CallContext::new(connection, config);
        context.allow_private_networks = true; // the fake listens on 127.0.0.1
        context
    }

    /// Calls the connector with the fake's valid config; every error is remembered for the
    /// secrets check.
    pub async fn call(&self, invocation: Invocation) -> Result<Output, CallError> {
        let context = self.context_for(&self.connection, self.fake.config());
        self.call_with(&context, invocation).await
    }

    async fn call_with(
        &self,
        context: &CallContext,
        invocation: Invocation,
    ) -> Result<Output, CallError> {
        let result = self.runtime.call(&self.connector, context, invocation).await;
        if let Err(error) = &result {
            self.errors.lock().unwrap_or_else(PoisonError::into_inner).push(error.to_string());
        }
        result
    }

    /// Calls and expects success, failing the test with the check's name otherwise.
    pub async fn expect(&self, check: &str, invocation: Invocation) -> Output {
        match self.call(invocation).await {
            Ok(output) => output,
            Err(error) => panic!("[{}] {check}: call failed: {error}", self.name()),
        }
    }

    /// Every job the connector lists (following page tokens), as (id, title) in order.
    pub async fn all_jobs(&self, check: &str, since: Option<&str>) -> Vec<(String, String)> {
        let mut jobs = Vec::new();
        let mut token: Option<String> = None;
        let mut seen_tokens = HashSet::new();
        for _ in 0..500 {
            let page = PageRequest {
                page_token: token.clone(),
                since: since.map(str::to_string),
                limit: Some(PAGE),
            };
            let Output::Jobs(page) = self.expect(check, Invocation::ListJobs(page)).await else {
                panic!("[{}] {check}: list-jobs returned something else", self.name());
            };
            jobs.extend(page.items.into_iter().map(|job| (job.id, job.title)));
            match page.next_page_token {
                None => return jobs,
                Some(next) => {
                    assert!(
                        seen_tokens.insert(next.clone()),
                        "[{}] {check}: page token `{next}` repeated",
                        self.name()
                    );
                    token = Some(next);
                }
            }
        }
        panic!("[{}] {check}: more than 500 pages", self.name());
    }

    async fn all_applications(&self, check: &str) -> Vec<Application> {
        let mut applications = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..500 {
            let page = PageRequest { page_token: token.clone(), since: None, limit: Some(PAGE) };
            let Output::Applications(page) =
                self.expect(check, Invocation::ListApplications(page)).await
            else {
                panic!("[{}] {check}: list-applications returned something else", self.name());
            };
            applications.extend(page.items);
            match page.next_page_token {
                None => return applications,
                Some(next) if Some(&next) == token.as_ref() => {
                    panic!("[{}] {check}: page token repeated", self.name())
                }
                Some(next) => token = Some(next),
            }
        }
        panic!("[{}] {check}: more than 500 pages", self.name());
    }

    /// The stages of the global pipeline, or of `job_id` when the ATS keeps them per job.
    pub async fn stages(&self, check: &str, job_id: &str) -> Vec<Stage> {
        let first = PageRequest { page_token: None, since: None, limit: Some(PAGE) };
        let global = Invocation::ListStages { job_id: None, page: first.clone() };
        let output = match self.call(global).await {
            Ok(output) => output,
            Err(_) => {
                self.expect(
                    check,
                    Invocation::ListStages { job_id: Some(job_id.to_string()), page: first },
                )
                .await
            }
        };
        let Output::Stages(page) = output else {
            panic!("[{}] {check}: list-stages returned something else", self.name())
        };
        assert!(
            !page.items.is_empty(),
            "[{}] {check}: the fake has a pipeline but no stage was listed",
            self.name()
        );
        page.items
    }

    /// The fake's candidates with `email`.
    pub fn candidates_with_email(&self, email: &str) -> Vec<FakeCandidate> {
        self.fake
            .candidates()
            .into_iter()
            .filter(|c| c.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
            .collect()
    }

    fn fail(&self, check: &str, what: impl std::fmt::Display) -> ! {
        panic!("[{}] {check}: {what}", self.name())
    }
}

fn new_connection_id(package: &str) -> String {
    format!("kit-{package}-{}", CONNECTIONS.fetch_add(1, Ordering::SeqCst))
}

/// Runs every generic check against `fake`. Panics on the first failure, naming the
/// connector and the check.
///
/// What the ATS's API cannot do comes from the connector itself (a manifest's `[gaps]`,
/// named with its reason in the connector's README). A declared gap is still checked: the
/// check must fail, and for that reason, so a gap that closes (or a connector that fails
/// otherwise) fails the run.
pub async fn run_kit(fake: &dyn FakeAts) {
    let gaps = ats_host::declarative::declared_gaps(&crate::bundled_wasm(fake.connector_package()));
    let kit = Kit::new(fake).await;
    unsupported_operations_answer_unsupported(&kit).await;
    supported_operations_round_trip(&kit).await;
    newer_operations_round_trip(&kit).await;
    paging_returns_every_job_once(&kit).await;
    if gaps.job_since_filter.is_some() {
        let gap = panic_message(incremental_since_returns_only_changed_jobs(&kit)).await;
        expect_gap(&kit, gap, "incremental: older jobs were returned");
    } else {
        incremental_since_returns_only_changed_jobs(&kit).await;
    }
    if gaps.phone_lookup.is_some() {
        let gap = panic_message(upsert_twice_keeps_one_candidate(&kit)).await;
        expect_gap(&kit, gap, "same phone must match");
    } else {
        upsert_twice_keeps_one_candidate(&kit).await;
    }
    rate_limits_carry_the_retry_after(&kit).await;
    expired_session_reauthenticates_exactly_once(&kit).await;
    server_errors_are_transient(&kit).await;
    bad_credentials_are_unauthorized(&kit).await;
    the_authors_kit_passes(&kit, gaps).await;
    secrets_never_leak(&kit);
}

fn expect_gap(kit: &Kit<'_>, gap: Option<String>, reason: &str) {
    match gap {
        Some(message) if message.contains(reason) => {}
        Some(message) => {
            kit.fail("gap", format!("expected `{reason}`, failed otherwise: {message}"))
        }
        None => kit.fail(
            "gap",
            format!("a declared gap (`{reason}`) passed: remove it from the manifest's [gaps] and the README"),
        ),
    }
}

/// The panic message of `future`, or `None` when it completes.
pub async fn panic_message(future: impl std::future::Future<Output = ()>) -> Option<String> {
    use futures::FutureExt as _;
    let panic = std::panic::AssertUnwindSafe(future).catch_unwind().await.err()?;
    Some(
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

/// The kit authors run (`ats-host connector test`, [`ats_host::kit`]) passes against the
/// fake too, with writes, given the connector's declared gaps.
async fn the_authors_kit_passes(kit: &Kit<'_>, gaps: ats_host::kit::Gaps) {
    let context = kit.context_for(&kit.connection, kit.fake.config());
    // Paging to the end was checked above on the same fake (which now holds over 1,000 jobs):
    // three pages are enough here.
    let options = ats_host::kit::KitOptions { max_pages: 3, gaps, ..Default::default() };
    let report = ats_host::kit::run(&kit.runtime, &kit.connector, &context, options).await;
    for failure in report.failures() {
        kit.errors.lock().unwrap_or_else(PoisonError::into_inner).push(failure.detail.clone());
    }
    assert!(
        report.passed(),
        "[{}] connector test failed:\n{}",
        kit.name(),
        ats_host::kit::render(&report)
    );
}

/// Calls a write that may land on the application or, where the ATS keeps it there, on the
/// candidate: tries the application first.
async fn write_on_either(
    kit: &Kit<'_>,
    check: &str,
    application_id: Option<&str>,
    candidate_id: &str,
    make: impl Fn(Target) -> Invocation,
) -> WriteReceipt {
    let mut last_error = None;
    let targets = application_id
        .map(|id| Target::Application(id.to_string()))
        .into_iter()
        .chain([Target::Candidate(candidate_id.to_string())]);
    for target in targets {
        match kit.call(make(target)).await {
            Ok(Output::Receipt(receipt)) => return receipt,
            Ok(other) => kit.fail(check, format!("expected a write receipt, got {other:?}")),
            Err(error) => last_error = Some(error),
        }
    }
    kit.fail(check, format!("failed on both the application and the candidate: {last_error:?}"))
}
