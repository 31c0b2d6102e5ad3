//! The connector conformance kit as any author runs it (`ats-host connector test`): a
//! connector component against a live ATS account or fake, with no control over that ATS.
//! Read checks always; write checks (they create a candidate, an application, a note, a
//! tag, a file, a result and a rejection) only when allowed. One verdict per check, named
//! by its operation, with what was seen and how long it took.
//!
//! The repository's own kit (`tests/src/conformance`) runs this kit against every fake and
//! adds what only a fake allows: seeding, fault injection and looking inside the ATS.

mod reads;
mod report;
pub mod samples;
mod writes;

use crate::model::{Application, Operation, Stage};
use crate::runtime::{CallContext, CallError, Invocation, LoadedConnector, Output, Runtime};
use serde::Serialize;
use std::collections::HashSet;
use std::time::Instant;

pub use ats_declarative::Gaps;
pub use report::render;

/// What the kit may do.
#[derive(Debug, Clone)]
pub struct KitOptions {
    /// Skip every check that writes to the ATS.
    pub read_only: bool,
    /// Stop paging a list after this many pages (a real account can be large).
    pub max_pages: u32,
    /// The page size asked for.
    pub page_size: u32,
    /// What the connector declares its ATS cannot do (a manifest's `[gaps]`): those checks
    /// must fail, and are reported as known gaps.
    pub gaps: Gaps,
}

impl Default for KitOptions {
    fn default() -> Self {
        KitOptions { read_only: false, max_pages: 200, page_size: 100, gaps: Gaps::default() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Passed,
    Failed,
    /// A check that could not run: an earlier one found nothing to work on, or writes were
    /// not allowed.
    Skipped,
    /// The operation is not declared (and answered `unsupported`, as it must).
    NotDeclared,
    /// The check failed as the connector declares it must (`[gaps]`): the ATS cannot.
    KnownGap,
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The operation (WIT name) the check is about.
    pub operation: &'static str,
    pub check: &'static str,
    pub verdict: Verdict,
    /// What was seen, or why it failed or was skipped.
    pub detail: String,
    pub millis: u64,
}

/// Every check's outcome, in the order they ran.
#[derive(Debug, Clone, Serialize)]
pub struct KitReport {
    pub connector: String,
    pub version: String,
    pub read_only: bool,
    pub results: Vec<CheckResult>,
}

impl KitReport {
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| r.verdict == Verdict::Failed)
    }

    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }
}

/// What the read checks found, for the checks after them.
#[derive(Debug, Default)]
struct Found {
    /// Listed job ids, open ones first.
    job_ids: Vec<String>,
    /// The `updated_at` values of the listed jobs.
    job_updated: Vec<String>,
    stages: Vec<Stage>,
    application: Option<Application>,
    rejection_reason: Option<(String, String)>,
    /// An e-mail address of a listed candidate, for `find-candidates`.
    candidate_email: Option<(String, String)>,
    written: writes::Written,
}

/// A running kit: the connector, the connection's context and the outcomes so far.
pub(crate) struct Kit<'a> {
    runtime: &'a Runtime,
    connector: &'a LoadedConnector,
    context: &'a CallContext,
    options: KitOptions,
    results: Vec<CheckResult>,
    found: Found,
    /// Operations some check has covered.
    covered: HashSet<Operation>,
}

/// A check's verdict and detail, before timing.
type Outcome = (Verdict, String);

fn passed(detail: impl Into<String>) -> Outcome {
    (Verdict::Passed, detail.into())
}

fn failed(detail: impl Into<String>) -> Outcome {
    (Verdict::Failed, detail.into())
}

fn skipped(detail: impl Into<String>) -> Outcome {
    (Verdict::Skipped, detail.into())
}

impl<'a> Kit<'a> {
    fn declares(&self, operation: Operation) -> bool {
        self.connector.manifest.operations.contains(&operation)
    }

    async fn call(&self, invocation: Invocation) -> Result<Output, CallError> {
        self.runtime.call(self.connector, self.context, invocation).await
    }

    fn record(
        &mut self,
        operation: Operation,
        check: &'static str,
        started: Instant,
        outcome: Outcome,
    ) {
        let (verdict, detail) = outcome;
        self.covered.insert(operation);
        self.results.push(CheckResult {
            operation: operation.wit_name(),
            check,
            verdict,
            detail,
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }

    /// Runs `body` as check `check` of `operation` when the connector declares it; records
    /// `not-declared` otherwise (after checking the call answers `unsupported`).
    async fn check<F>(&mut self, operation: Operation, check: &'static str, body: F)
    where
        F: AsyncFnOnce(&mut Kit<'a>) -> Outcome,
    {
        let started = Instant::now();
        if !self.declares(operation) {
            let outcome = self.undeclared(operation).await;
            self.record(operation, check, started, outcome);
            return;
        }
        let outcome = body(self).await;
        let outcome = self.excuse(check, outcome);
        self.record(operation, check, started, outcome);
    }

    /// A failure of a check the connector declares a gap is a known gap; a pass of one is a
    /// failure (the declaration is out of date).
    fn excuse(&self, check: &str, (verdict, detail): Outcome) -> Outcome {
        let Some(key) = gap_of(check) else { return (verdict, detail) };
        let declared = self.options.gaps.declared();
        let Some((_, reason)) = declared.iter().find(|(name, _)| *name == key) else {
            return (verdict, detail);
        };
        match verdict {
            Verdict::Failed => (Verdict::KnownGap, format!("{reason} ([gaps] {key}); {detail}")),
            Verdict::Passed => failed(format!(
                "declared a gap ([gaps] {key}) but it passed ({detail}): remove the gap from the manifest"
            )),
            other => (other, detail),
        }
    }

    /// An undeclared operation must answer `unsupported`, whatever its input.
    async fn undeclared(&self, operation: Operation) -> Outcome {
        let Some(invocation) = samples::invocation(operation) else {
            return (Verdict::NotDeclared, "not declared".into());
        };
        match self.call(invocation).await {
            Err(error) if error.kind() == "unsupported" => {
                (Verdict::NotDeclared, "not declared; answers `unsupported`".into())
            }
            other => failed(format!(
                "not declared, but a call answered {} instead of `unsupported`",
                summary(&other)
            )),
        }
    }
}

/// The `[gaps]` key that excuses `check` (`phone_lookup` excuses none of these checks: this
/// kit matches a person by e-mail).
fn gap_of(check: &str) -> Option<&'static str> {
    match check {
        "since returns only changed jobs" => Some("job_since_filter"),
        "pages through applications" => Some("applications_without_job"),
        _ => None,
    }
}

/// A call's result in a few words, for details.
fn summary(result: &Result<Output, CallError>) -> String {
    match result {
        Ok(output) => format!("success ({})", output_kind(output)),
        Err(error) => format!("{} error: {error}", error.kind()),
    }
}

fn output_kind(output: &Output) -> &'static str {
    match output {
        Output::Manifest(_) => "a manifest",
        Output::Jobs(_) => "jobs",
        Output::Stages(_) => "stages",
        Output::Applications(_) => "applications",
        Output::Candidate(_) => "a candidate",
        Output::Candidates(_) => "candidates",
        Output::Upserted(_) => "an upsert result",
        Output::Application(_) => "an application",
        Output::Receipt(_) => "a write receipt",
        Output::Webhook(_) => "a webhook outcome",
        Output::Account(_) => "an account",
        Output::Tags(_) => "tags",
        Output::RejectionReasons(_) => "rejection reasons",
        Output::Users(_) => "users",
    }
}

/// Runs the kit: the read checks, then (unless `read_only`) the write checks.
pub async fn run(
    runtime: &Runtime,
    connector: &LoadedConnector,
    context: &CallContext,
    options: KitOptions,
) -> KitReport {
    let read_only = options.read_only;
    let mut kit = Kit {
        runtime,
        connector,
        context,
        options,
        results: Vec::new(),
        found: Found::default(),
        covered: HashSet::new(),
    };
    reads::run(&mut kit).await;
    if !read_only {
        writes::run(&mut kit).await;
    }
    // What no check covered: undeclared operations must answer `unsupported`; declared
    // ones were writes under --read-only, or parse-webhook (its body is the ATS's own).
    for operation in Operation::ALL {
        if kit.covered.contains(&operation) {
            continue;
        }
        let why = if operation == Operation::ParseWebhook {
            "needs a webhook request from the ATS; test it with a recorded one"
        } else {
            "a write: not run under --read-only"
        };
        kit.check(operation, "left over", async |_| skipped(why)).await;
    }
    KitReport {
        connector: connector.manifest.id.clone(),
        version: connector.manifest.connector_version.clone(),
        read_only,
        results: kit.results,
    }
}
